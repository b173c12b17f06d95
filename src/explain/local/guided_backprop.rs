//! Guided backpropagation (Springenberg et al. 2015).
//!
//! *Question:* which input patterns excite the class, when only positive evidence is
//! allowed to flow back? The gradient of `y_c`, except that every ReLU passes
//! `g·1[x > 0]·1[g > 0]` ([`BackwardRule::GuidedBackprop`], chosen for this backward
//! call only).
//!
//! Pinned by `tests/captum.rs` (Captum's `GuidedBackprop` to 1e-5).

use crate::autodiff::BackwardRule;
use crate::error::Result;
use crate::explain::attribution::{Attribution, AttributionMethod, check_batch, input_gradient};
use crate::float::Float;
use crate::nn::Model;
use crate::tensor::Tensor;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GuidedBackprop;

impl<T: Float> AttributionMethod<T> for GuidedBackprop {
    fn name(&self) -> &'static str {
        "guided-backprop"
    }
    fn attribute(
        &self,
        model: &Model<T>,
        x: &Tensor<T>,
        targets: &[usize],
    ) -> Result<Attribution<T>> {
        check_batch(model, x, targets)?;
        Ok(Attribution::plain(
            input_gradient(model, x, targets, BackwardRule::GuidedBackprop)?.1,
        ))
    }
}
