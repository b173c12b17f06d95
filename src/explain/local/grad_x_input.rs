//! Gradient × input (Shrikumar et al. 2016; Captum's `InputXGradient`).
//!
//! *Question:* how much does each input value contribute, to first order, to the class
//! score? `A = x ⊙ ∂y_c/∂x`; for a linear model `y = wᵀx + b` it is exactly `wᵢxᵢ`.
//!
//! Pinned by `tests/captum.rs` (Captum's `InputXGradient` to 1e-5).

use crate::autodiff::BackwardRule;
use crate::error::Result;
use crate::explain::attribution::{Attribution, AttributionMethod, check_batch, input_gradient};
use crate::float::Float;
use crate::nn::Model;
use crate::tensor::Tensor;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GradXInput;

impl<T: Float> AttributionMethod<T> for GradXInput {
    fn name(&self) -> &'static str {
        "grad-x-input"
    }
    fn attribute(
        &self,
        model: &Model<T>,
        x: &Tensor<T>,
        targets: &[usize],
    ) -> Result<Attribution<T>> {
        check_batch(model, x, targets)?;
        let (_, g) = input_gradient(model, x, targets, BackwardRule::Standard)?;
        Ok(Attribution::plain(g.zip(x, |g, x| g * x)?))
    }
}
