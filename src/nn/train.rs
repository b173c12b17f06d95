//! One supervised training step: forward, mean cross-entropy (or squared error),
//! backward, optimizer step.

use super::model::Model;
use crate::autodiff::{Tape, Var};
use crate::error::Result;
use crate::float::Float;
use crate::optim::Optimizer;
use crate::tensor::Tensor;

/// Trains on one batch and returns the batch's mean loss (before the update).
pub fn train_step<T: Float>(
    model: &mut Model<T>,
    opt: &mut (impl Optimizer<T> + ?Sized),
    x: &Tensor<T>,
    y: &[usize],
) -> Result<f64> {
    Ok(train_step_logits(model, opt, x, y)?.0)
}

/// [`train_step`], also returning the batch's logits from the forward pass the loss was
/// computed on (before the update).
pub fn train_step_logits<T: Float>(
    model: &mut Model<T>,
    opt: &mut (impl Optimizer<T> + ?Sized),
    x: &Tensor<T>,
    y: &[usize],
) -> Result<(f64, Tensor<T>)> {
    crate::runtime::on_pool_for(model.pass_work(x.shape()[0]), || {
        let mut tape = Tape::new();
        let xv = tape.constant(x.clone());
        let params = model.bind(&mut tape, true);
        let logits = model.logits(&mut tape, xv, &params)?;
        let loss = tape.cross_entropy(logits, y)?;
        let logits = tape.value(logits).clone();
        Ok((descend(model, opt, tape, &params, loss)?, logits))
    })
}

/// One step under the mean squared error between the model's output and `target`
/// (same shape); returns the batch's loss before the update.
pub fn train_step_mse<T: Float>(
    model: &mut Model<T>,
    opt: &mut (impl Optimizer<T> + ?Sized),
    x: &Tensor<T>,
    target: &Tensor<T>,
) -> Result<f64> {
    crate::runtime::on_pool_for(model.pass_work(x.shape()[0]), || {
        let mut tape = Tape::new();
        let xv = tape.constant(x.clone());
        let tv = tape.constant(target.clone());
        let params = model.bind(&mut tape, true);
        let logits = model.logits(&mut tape, xv, &params)?;
        let loss = tape.mse(logits, tv)?;
        descend(model, opt, tape, &params, loss)
    })
}

/// The end of every training step: back-propagates the scalar `loss` from the tape on
/// which `params` (the model's parameters, bound in order) were used, applies one
/// optimizer step, and returns the loss's value before the update.
pub fn descend<T: Float>(
    model: &mut Model<T>,
    opt: &mut (impl Optimizer<T> + ?Sized),
    tape: Tape<T>,
    params: &[Var],
    loss: Var,
) -> Result<f64> {
    let value = tape.value(loss).item()?.to_f64();
    let mut grads = tape.backward(loss)?;
    let grads: Vec<Tensor<T>> = params.iter().map(|&p| grads.take(p)).collect();
    // the tape shares the parameters' values (bound without copying): drop it first,
    // or the update would copy every parameter before writing it
    drop(tape);
    opt.step(&mut model.param_tensors_mut(), &grads)?;
    Ok(value)
}
