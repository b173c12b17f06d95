//! Occlusion (Zeiler & Fergus 2014).
//!
//! *Question:* if this patch were hidden, how much would the class score drop?
//! A window of shape `(c, h, w)` slides with the given strides (positions `k·stride`,
//! `k = 0 … ⌈(D − W)/s⌉`, clipped at the border) and is filled with a value; each input
//! value's attribution is the mean, over the windows covering it, of
//! `y_c(x) − y_c(x with the window filled)` (Captum's `Occlusion`). The lecture's
//! probability map, `P(c)` with the patch at each position, is the extra
//! `probability_map` (`[N, positions_h, positions_w]`, channel windows averaged).
//!
//! Pinned by `tests/captum.rs` (Captum's `Occlusion`, window (1,4,4), strides (1,2,2), to 1e-5).

use crate::error::{Result, invalid};
use crate::explain::attribution::{Attribution, AttributionMethod, check_batch, softmax_prob};
use crate::explain::batched::predict_rows;
use crate::float::Float;
use crate::nn::Model;
use crate::tensor::Tensor;

#[derive(Clone, Debug, PartialEq)]
pub struct Occlusion {
    /// Window over (channels, height, width).
    pub window: [usize; 3],
    pub strides: [usize; 3],
    pub fill: f64,
}

impl Default for Occlusion {
    fn default() -> Self {
        Occlusion {
            window: [1, 4, 4],
            strides: [1, 2, 2],
            fill: 0.0,
        }
    }
}

/// Window start positions along an axis of length `d`.
fn starts(d: usize, w: usize, s: usize) -> Vec<usize> {
    (0..(d - w).div_ceil(s) + 1).map(|k| k * s).collect()
}

impl<T: Float> AttributionMethod<T> for Occlusion {
    fn name(&self) -> &'static str {
        "occlusion"
    }
    fn attribute(
        &self,
        model: &Model<T>,
        x: &Tensor<T>,
        targets: &[usize],
    ) -> Result<Attribution<T>> {
        check_batch(model, x, targets)?;
        let (n, c, h, w) = crate::ops::expect_4d(x.shape(), "occlusion")?;
        let dims = [c, h, w];
        let fits =
            (0..3).all(|k| self.window[k] > 0 && self.window[k] <= dims[k] && self.strides[k] > 0);
        if !fits {
            return invalid(format!(
                "occlusion window {:?} / strides {:?} do not fit input [{c}, {h}, {w}]",
                self.window, self.strides
            ));
        }
        let pos: Vec<Vec<usize>> = (0..3)
            .map(|k| starts(dims[k], self.window[k], self.strides[k]))
            .collect();
        let mut windows: Vec<[usize; 3]> = Vec::new();
        for &a in &pos[0] {
            for &b in &pos[1] {
                windows.extend(pos[2].iter().map(|&d| [a, b, d]));
            }
        }
        let per = c * h * w;
        let logits = model.predict(x)?;
        let k = logits.shape()[1];
        let fill = T::from_f64_lossy(self.fill);
        let (mut total, mut count) = (vec![T::zero(); x.len()], vec![0usize; per]);
        let mut prob = vec![T::zero(); n * pos[1].len() * pos[2].len()];
        let win = self.window;
        // the flat indices a window covers, row by row: (start, length) runs
        let runs = |o: &[usize; 3]| {
            let o = *o;
            (o[0]..o[0] + win[0]).flat_map(move |ch| {
                (o[1]..o[1] + win[1]).map(move |i| ((ch * h + i) * w + o[2], win[2]))
            })
        };
        // one row per (window, example), in shared batched passes
        let out = predict_rows(model, &x.shape()[1..], windows.len() * n, |r, row| {
            let (o, ex) = (&windows[r / n], r % n);
            row.copy_from_slice(&x.data()[ex * per..(ex + 1) * per]);
            for (start, len) in runs(o) {
                row[start..start + len].fill(fill);
            }
        })?;
        for (gi, o) in windows.iter().enumerate() {
            for (start, len) in runs(o) {
                count[start..start + len].iter_mut().for_each(|c| *c += 1);
            }
            for ex in 0..n {
                let row = &out.data()[(gi * n + ex) * k..(gi * n + ex + 1) * k];
                let drop = logits.data()[ex * k + targets[ex]] - row[targets[ex]];
                let p = softmax_prob(row, targets[ex]);
                let (pi, pj) = (o[1] / self.strides[1], o[2] / self.strides[2]);
                let cell = &mut prob[(ex * pos[1].len() + pi) * pos[2].len() + pj];
                *cell += p / T::from_usize(pos[0].len()).unwrap_or(T::one());
                let t = &mut total[ex * per..(ex + 1) * per];
                for (start, len) in runs(o) {
                    t[start..start + len].iter_mut().for_each(|v| *v += drop);
                }
            }
        }
        let attr: Vec<T> = total
            .iter()
            .enumerate()
            .map(|(i, &t)| t / T::from_usize(count[i % per].max(1)).unwrap_or(T::one()))
            .collect();
        let map = Tensor::new(x.shape(), attr)?;
        let pm = Tensor::new(&[n, pos[1].len(), pos[2].len()], prob)?;
        Ok(Attribution {
            map,
            extras: vec![("probability_map".into(), pm)],
        })
    }
}
