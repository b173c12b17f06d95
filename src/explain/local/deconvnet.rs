//! Deconvnet (Zeiler & Fergus 2014).
//!
//! *Question:* what input pattern does the class's activation project back to? The
//! backward pass where every ReLU applies ReLU to the incoming gradient, `max(g, 0)`,
//! ignoring the forward activation ([`BackwardRule::Deconvnet`]); max-pooling routes
//! through the forward pass's switches (the first maximum of each window).
//!
//! Pinned by `tests/captum.rs` (Captum's `Deconvolution` to 1e-5).

use crate::autodiff::BackwardRule;
use crate::error::Result;
use crate::explain::attribution::{Attribution, AttributionMethod, check_batch, input_gradient};
use crate::float::Float;
use crate::nn::Model;
use crate::tensor::Tensor;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Deconvnet;

impl<T: Float> AttributionMethod<T> for Deconvnet {
    fn name(&self) -> &'static str {
        "deconvnet"
    }
    fn attribute(
        &self,
        model: &Model<T>,
        x: &Tensor<T>,
        targets: &[usize],
    ) -> Result<Attribution<T>> {
        check_batch(model, x, targets)?;
        Ok(Attribution::plain(
            input_gradient(model, x, targets, BackwardRule::Deconvnet)?.1,
        ))
    }
}
