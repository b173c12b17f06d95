//! RISE: Randomized Input Sampling for Explanation (Petsiuk, Das & Saenko 2018).
//!
//! *Question:* over many random partial views of the picture, which pixels are visible
//! when the class probability is high?
//!
//! *Formula.* `N` binary grids of `s × s` cells, each cell kept with probability `p1`,
//! are upsampled bilinearly (half-pixel centres) to `(s+1)·⌈H/s⌉` square and cropped at a
//! random shift in `[0, ⌈H/s⌉)` on each axis, giving soft masks `M_i ∈ [0,1]^{H×W}`. With
//! the masked input `x ⊙ M_i + fill·(1 − M_i)` (fill 0 by default),
//! `S_c = 1/(N·p1) Σ_i softmax(f(x ⊙ M_i))_c · M_i`, one value per pixel (`[N, H, W]`).
//! The masks are drawn once from the seed and shared by the batch, as in the paper.
//! Deletion and insertion ([`crate::explain::metrics::curves`]) were designed to score it.
//!
//! Pinned by `all_kept_masks_give_the_probability` below (with `p1 = 1` every mask is all
//! ones and the map is the class probability everywhere) and `tests/metrics.rs` (RISE beats
//! the random order on deletion for mnist-cnn).

use crate::error::{Result, invalid};
use crate::explain::attribution::{Attribution, AttributionMethod, check_batch, softmax_prob};
use crate::explain::batched::predict_rows;
use crate::float::Float;
use crate::nn::Model;
use crate::tensor::Tensor;
use crate::tensor::image::{Interpolation, upsample};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[derive(Clone, Debug, PartialEq)]
pub struct Rise {
    /// Number of masks `N`.
    pub samples: usize,
    /// Grid side `s` (cells per side).
    pub cells: usize,
    /// Probability `p1` that a cell is kept.
    pub keep: f64,
    pub fill: f64,
    pub seed: u64,
}

impl Default for Rise {
    fn default() -> Self {
        Rise {
            samples: 2000,
            cells: 7,
            keep: 0.5,
            fill: 0.0,
            seed: 0,
        }
    }
}

impl Rise {
    /// Checks the options that do not depend on the picture.
    pub fn check(&self) -> Result<()> {
        if self.samples == 0 || self.cells == 0 {
            return invalid("RISE needs at least one mask and one cell");
        }
        if !(self.keep > 0.0 && self.keep <= 1.0) {
            return invalid(format!(
                "--keep {}: give a probability in (0, 1]",
                self.keep
            ));
        }
        Ok(())
    }

    /// The `N` soft masks, `[N, H, W]` values in [0, 1].
    pub fn masks(&self, h: usize, w: usize) -> Result<Vec<f64>> {
        self.check()?;
        if self.cells > h.min(w) {
            return invalid(format!(
                "--cells {}: RISE's grid needs 1 to {} cells per side on a {h}×{w} picture",
                self.cells,
                h.min(w)
            ));
        }
        let s = self.cells;
        let (ch, cw) = (h.div_ceil(s), w.div_ceil(s));
        let (uh, uw) = ((s + 1) * ch, (s + 1) * cw);
        let mut rng = StdRng::seed_from_u64(self.seed);
        let mut out = Vec::with_capacity(self.samples * h * w);
        for _ in 0..self.samples {
            let grid: Vec<f64> = (0..s * s)
                .map(|_| if rng.gen_bool(self.keep) { 1.0 } else { 0.0 })
                .collect();
            let (dy, dx) = (rng.gen_range(0..ch), rng.gen_range(0..cw));
            let up = upsample(
                &Tensor::new(&[1, s, s], grid)?,
                uh,
                uw,
                Interpolation::Bilinear,
            )?;
            for y in 0..h {
                out.extend_from_slice(&up.data()[(y + dy) * uw + dx..(y + dy) * uw + dx + w]);
            }
        }
        Ok(out)
    }
}

impl<T: Float> AttributionMethod<T> for Rise {
    fn name(&self) -> &'static str {
        "rise"
    }
    fn attribute(
        &self,
        model: &Model<T>,
        x: &Tensor<T>,
        targets: &[usize],
    ) -> Result<Attribution<T>> {
        check_batch(model, x, targets)?;
        let (n, c, h, w) = crate::ops::expect_4d(x.shape(), "rise")?;
        let masks = self.masks(h, w)?;
        let (hw, m) = (h * w, self.samples);
        let fill = self.fill;
        let logits = predict_rows(model, &[c, h, w], n * m, |r, row: &mut [T]| {
            let (i, k) = (r / m, r % m);
            let src = &x.data()[i * c * hw..(i + 1) * c * hw];
            let mask = &masks[k * hw..(k + 1) * hw];
            for ch in 0..c {
                for p in 0..hw {
                    let v = src[ch * hw + p].to_f64() * mask[p] + fill * (1.0 - mask[p]);
                    row[ch * hw + p] = T::from_f64_lossy(v);
                }
            }
        })?;
        let k = logits.shape()[1];
        let mut map = vec![0.0f64; n * hw];
        for i in 0..n {
            let acc = &mut map[i * hw..(i + 1) * hw];
            for j in 0..m {
                let r = i * m + j;
                let p = softmax_prob(&logits.data()[r * k..(r + 1) * k], targets[i]).to_f64();
                acc.iter_mut()
                    .zip(&masks[j * hw..(j + 1) * hw])
                    .for_each(|(a, mk)| *a += p * mk);
            }
            acc.iter_mut().for_each(|a| *a /= m as f64 * self.keep);
        }
        Ok(Attribution::plain(Tensor::new(
            &[n, h, w],
            map.into_iter().map(T::from_f64_lossy).collect(),
        )?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Arch;

    #[test]
    fn all_kept_masks_give_the_probability() {
        let m = Model::<f64>::init(Arch::from_name("seq:flatten,linear(16,3)").unwrap(), 1);
        let x = Tensor::<f64>::from_f64(
            &[1, 1, 4, 4],
            &(0..16).map(|v| v as f64 / 16.0).collect::<Vec<_>>(),
        )
        .unwrap();
        let rise = Rise {
            samples: 5,
            cells: 2,
            keep: 1.0,
            ..Rise::default()
        };
        let a = AttributionMethod::<f64>::attribute(&rise, &m, &x, &[1]).unwrap();
        let logits = m.predict(&x).unwrap();
        let p = softmax_prob(logits.data(), 1);
        assert!(a.map.data().iter().all(|v| (v - p).abs() < 1e-12));
        // masks are soft, in [0, 1], seeded
        let r = Rise {
            samples: 3,
            cells: 2,
            ..Rise::default()
        };
        let k = r.masks(4, 4).unwrap();
        assert!(k.iter().all(|v| (0.0..=1.0).contains(v)));
        assert_eq!(k, r.masks(4, 4).unwrap());
        assert!(
            Rise {
                cells: 9,
                ..Rise::default()
            }
            .masks(4, 4)
            .is_err()
        );
    }
}
