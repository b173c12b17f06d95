//! Optimizers with PyTorch's update formulas, penalty helpers and learning-rate schedules.

pub mod adam;
pub mod penalty;
pub mod schedule;
pub mod sgd;

pub use adam::Adam;
pub use schedule::Schedule;
pub use sgd::Sgd;

use crate::error::{Result, shape_err};
use crate::float::Float;
use crate::tensor::{Tensor, fmt_shape};

/// Updates parameters in place from their gradients (same order, same shapes).
pub trait Optimizer<T: Float> {
    fn step(&mut self, params: &mut [&mut Tensor<T>], grads: &[Tensor<T>]) -> Result<()>;
    fn lr(&self) -> f64;
    fn set_lr(&mut self, lr: f64);
}

/// Checks that gradients line up with parameters.
pub(crate) fn check_grads<T: Float>(params: &[&mut Tensor<T>], grads: &[Tensor<T>]) -> Result<()> {
    if params.len() != grads.len() {
        return shape_err(format!(
            "{} parameters but {} gradients",
            params.len(),
            grads.len()
        ));
    }
    for (p, g) in params.iter().zip(grads) {
        if p.shape() != g.shape() {
            return shape_err(format!(
                "gradient {} does not match parameter {}",
                fmt_shape(g.shape()),
                fmt_shape(p.shape())
            ));
        }
    }
    Ok(())
}

/// Per-parameter state buffers, created on the first step.
pub(crate) fn state_like<T: Float>(state: &mut Vec<Tensor<T>>, params: &[&mut Tensor<T>]) {
    if state.is_empty() {
        *state = params.iter().map(|p| Tensor::zeros(p.shape())).collect();
    }
}
