//! SmoothGrad (Smilkov et al. 2017).
//!
//! *Question:* which input values matter, once the gradient's pixel-level noise is
//! averaged away? `SG(x) = (1/n) Σᵢ ∂y_c/∂x (x + εᵢ)`, `εᵢ ~ N(0, σ²)` with `σ` a fraction
//! (default 0.15) of each example's value range; seeded, each noisy copy from its own
//! stream (so copies are built in parallel and the result does not depend on batching). Options: SmoothGrad-squared
//! (mean of squared gradients) and VarGrad (their variance).
//!
//! Pinned by the tests below: with σ = 0 it is the gradient, and on a linear model it
//! is the weight for any σ.

use crate::autodiff::BackwardRule;
use crate::error::{Result, invalid};
use crate::explain::attribution::{Attribution, AttributionMethod, check_batch};
use crate::explain::batched::gradient_rows;
use crate::float::Float;
use crate::nn::Model;
use crate::tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmoothGradKind {
    Mean,
    Squared,
    VarGrad,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SmoothGrad {
    pub samples: usize,
    /// Noise standard deviation as a fraction of each example's (max − min).
    pub sigma: f64,
    pub seed: u64,
    pub kind: SmoothGradKind,
}

impl Default for SmoothGrad {
    fn default() -> Self {
        SmoothGrad {
            samples: 50,
            sigma: 0.15,
            seed: 0,
            kind: SmoothGradKind::Mean,
        }
    }
}

impl<T: Float> AttributionMethod<T> for SmoothGrad {
    fn name(&self) -> &'static str {
        match self.kind {
            SmoothGradKind::Mean => "smoothgrad",
            SmoothGradKind::Squared => "smoothgrad-squared",
            SmoothGradKind::VarGrad => "vargrad",
        }
    }
    fn attribute(
        &self,
        model: &Model<T>,
        x: &Tensor<T>,
        targets: &[usize],
    ) -> Result<Attribution<T>> {
        check_batch(model, x, targets)?;
        if self.samples == 0 || !(self.sigma >= 0.0 && self.sigma.is_finite()) {
            return invalid("smoothgrad needs --samples ≥ 1 and a non-negative --sigma");
        }
        let n = x.shape()[0];
        let per = x.len() / n;
        let (mut sum, mut sq) = (vec![T::zero(); x.len()], vec![T::zero(); x.len()]);
        let spread: Vec<f64> = x
            .data()
            .chunks(per)
            .map(|ex| {
                let lo = ex.iter().fold(ex[0], |a, &b| a.min_of(b)).to_f64();
                let hi = ex.iter().fold(ex[0], |a, &b| a.max_of(b)).to_f64();
                self.sigma * (hi - lo)
            })
            .collect();
        // row r = (sample r / n, example r % n), its noise from its own seeded stream, so
        // the rows can be built in parallel and in passes of any size
        gradient_rows(
            model,
            &x.shape()[1..],
            self.samples * n,
            |r, row| {
                let i = r % n;
                let mut rng = StdRng::seed_from_u64(
                    self.seed ^ (r as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                );
                let noise = Tensor::<T>::randn(&[per], spread[i], &mut rng);
                row.iter_mut()
                    .zip(&x.data()[i * per..(i + 1) * per])
                    .zip(noise.data())
                    .for_each(|((o, &a), &b)| *o = a + b);
            },
            |r| targets[r % n],
            BackwardRule::Standard,
            |r, g| {
                let i = r % n;
                for (j, &gv) in g.iter().enumerate() {
                    sum[i * per + j] += gv;
                    sq[i * per + j] += gv * gv;
                }
            },
        )?;
        let m = T::from_usize(self.samples).unwrap_or(T::one());
        let out: Vec<T> = match self.kind {
            SmoothGradKind::Mean => sum.iter().map(|&s| s / m).collect(),
            SmoothGradKind::Squared => sq.iter().map(|&s| s / m).collect(),
            SmoothGradKind::VarGrad => sum
                .iter()
                .zip(&sq)
                .map(|(&s, &q)| q / m - (s / m) * (s / m))
                .collect(),
        };
        Ok(Attribution::plain(Tensor::new(x.shape(), out)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Arch;

    #[test]
    fn zero_noise_is_the_gradient_and_linear_models_give_the_weights() {
        let model = Model::<f64>::init(Arch::from_name("seq:flatten,linear(6,2)").unwrap(), 1);
        let x = crate::autodiff::gradcheck::test_input(&[2, 6], 3, 0.0);
        let w = &model.params()[0].1;
        for sigma in [0.0, 0.5] {
            let a = SmoothGrad {
                samples: 7,
                sigma,
                ..Default::default()
            }
            .attribute(&model, &x, &[1, 0])
            .unwrap();
            for j in 0..6 {
                assert!((a.map.data()[j] - w.data()[6 + j]).abs() < 1e-12);
                assert!((a.map.data()[6 + j] - w.data()[j]).abs() < 1e-12);
            }
            let v = SmoothGrad {
                samples: 7,
                sigma,
                kind: SmoothGradKind::VarGrad,
                ..Default::default()
            }
            .attribute(&model, &x, &[1, 0])
            .unwrap();
            assert!(
                v.map.max_abs() < 1e-12,
                "constant gradients have no variance"
            );
        }
    }
}
