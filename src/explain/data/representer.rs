//! Representer points (Yeh, Kim, Yen & Ravikumar, "Representer Point Selection for
//! Explaining Deep Neural Networks", NeurIPS 2018).
//!
//! **Question.** Which training examples does the last layer's decision rest on, and by
//! how much?
//!
//! **Formula.** Refit the last layer `Φ = W f` (no bias) on the training features `fᵢ`
//! with an L2 penalty, to stationarity:
//! `min_W (1/n) Σ ℓ(W fᵢ, yᵢ) + λ‖W‖²`. Then `W = Σᵢ αᵢ fᵢᵀ` with
//!
//! `αᵢ = −1/(2λn) · ∂ℓ(Φᵢ, yᵢ)/∂Φᵢ = (onehot(yᵢ) − softmax(Φᵢ)) / (2λn)`
//!
//! so every pre-softmax output is a sum over training examples:
//! `Φ(x_t) = Σᵢ αᵢ fᵢᵀ f_t`. The *representer value* of `zᵢ` for class `c` is
//! `α_ic fᵢᵀ f_t`: **positive = a proponent (excitatory)**, negative an opponent
//! (inhibitory), as in the paper.
//!
//! The refit starts from the model's own last layer and runs Newton's method
//! ([`SoftmaxRegression::fit`]) until the gradient norm is below `1e-10`.
//!
//! **Pinned by** `tests/training_data.rs::representer_points_reconstruct_outputs` (held-out
//! outputs reconstructed within 1e-6 after the refit).

use super::objective::SoftmaxRegression;
use crate::error::{Result, invalid};
use crate::tensor::Tensor;

/// The refit last layer's decomposition over the training examples.
pub struct Representer {
    /// `[n, k]`: `αᵢ` per training example.
    pub alpha: Vec<f64>,
    /// `[n, F]`: the training features.
    pub features: Tensor<f64>,
    pub classes: usize,
    /// The refit weight `[k, F]` and the gradient norm it was refit to.
    pub weight: Vec<f64>,
    pub grad_norm: f64,
}

impl Representer {
    /// Refits `W` (starting from `w0`, `[k, F]`) with penalty `λ‖W‖²` and derives `α`.
    pub fn fit(
        features: Tensor<f64>,
        labels: Vec<usize>,
        classes: usize,
        w0: &[f64],
        lambda: f64,
    ) -> Result<Representer> {
        if !(lambda > 0.0 && lambda.is_finite()) {
            return invalid(format!(
                "representer points need a positive --lambda (the L2 penalty of the refit), got {lambda}"
            ));
        }
        let mut reg = SoftmaxRegression::new(features, labels, classes, false, 2.0 * lambda)?;
        reg.set_layer(w0, None)?;
        let grad_norm = reg.fit(1e-10, 50)?;
        let n = reg.y.len();
        let nf = reg.features();
        let scale = -1.0 / (2.0 * lambda * n as f64);
        let mut alpha = Vec::with_capacity(n * classes);
        for (f, &y) in reg.x.data().chunks(nf).zip(&reg.y) {
            alpha.extend(reg.residual(f, y).iter().map(|d| scale * d));
        }
        Ok(Representer {
            alpha,
            weight: reg.theta.clone(),
            features: reg.x,
            classes,
            grad_norm,
        })
    }

    /// `fᵢᵀ f_t` for every training example.
    fn kernel(&self, f_t: &[f64]) -> Vec<f64> {
        let nf = self.features.shape()[1];
        self.features
            .data()
            .chunks(nf)
            .map(|f| f.iter().zip(f_t).map(|(a, b)| a * b).sum())
            .collect()
    }

    /// Representer values `α_ic fᵢᵀ f_t` of every training example for class `c`.
    pub fn values(&self, f_t: &[f64], c: usize) -> Vec<f64> {
        let k = self.classes;
        self.kernel(f_t)
            .iter()
            .enumerate()
            .map(|(i, kv)| self.alpha[i * k + c] * kv)
            .collect()
    }

    /// `Σᵢ αᵢ fᵢᵀ f_t`: the pre-softmax output rebuilt from the training examples.
    pub fn reconstruct(&self, f_t: &[f64]) -> Vec<f64> {
        let k = self.classes;
        let mut out = vec![0.0; k];
        for (i, kv) in self.kernel(f_t).iter().enumerate() {
            for (o, a) in out.iter_mut().zip(&self.alpha[i * k..(i + 1) * k]) {
                *o += a * kv;
            }
        }
        out
    }

    /// The refit layer's own output `W f_t`.
    pub fn output(&self, f_t: &[f64]) -> Vec<f64> {
        let nf = self.features.shape()[1];
        self.weight
            .chunks(nf)
            .map(|w| w.iter().zip(f_t).map(|(a, b)| a * b).sum())
            .collect()
    }
}
