//! Local explanations: "why this prediction for this input?"
//!
//! Every method implements [`AttributionMethod`]: a batch of inputs and one target class
//! per example in, an attribution tensor out (plus method-specific extras such as the
//! Integrated Gradients completeness delta). Pixel methods return the input's layout;
//! CAM-style methods return raw `[N, h, w]` maps at the layer's resolution.

pub mod cam;
pub mod deconvnet;
pub mod grad_cam;
pub mod grad_x_input;
pub mod guided_backprop;
pub mod guided_grad_cam;
pub mod integrated_gradients;
pub mod occlusion;
pub mod saliency;

use crate::autodiff::{BackwardRule, Tape};
use crate::error::{Result, invalid, shape_err};
use crate::float::Float;
use crate::nn::Model;
use crate::tensor::Tensor;

/// An attribution and named extras (`delta`, `probability_map`, ...).
#[derive(Clone, Debug, PartialEq)]
pub struct Attribution<T> {
    pub map: Tensor<T>,
    pub extras: Vec<(String, Tensor<T>)>,
}

impl<T: Float> Attribution<T> {
    pub fn plain(map: Tensor<T>) -> Self {
        Attribution {
            map,
            extras: Vec::new(),
        }
    }
    pub fn extra(&self, name: &str) -> Option<&Tensor<T>> {
        self.extras.iter().find(|e| e.0 == name).map(|e| &e.1)
    }
}

/// One explanation method.
pub trait AttributionMethod<T: Float> {
    fn name(&self) -> &'static str;
    fn attribute(
        &self,
        model: &Model<T>,
        x: &Tensor<T>,
        targets: &[usize],
    ) -> Result<Attribution<T>>;
}

/// Checks a batch and its targets against the model.
pub(crate) fn check_batch<T: Float>(
    model: &Model<T>,
    x: &Tensor<T>,
    targets: &[usize],
) -> Result<()> {
    model.check_input(x.shape())?;
    x.check_finite("input")?;
    if targets.len() != x.shape()[0] {
        return shape_err(format!(
            "{} targets for a batch of {}",
            targets.len(),
            x.shape()[0]
        ));
    }
    let k = model.arch.num_classes();
    if let Some(&t) = targets.iter().find(|&&t| t >= k) {
        return invalid(format!(
            "target class {t} out of range: the model has {k} classes"
        ));
    }
    Ok(())
}

/// Logits and `∂ logit[target] / ∂ x` for each example, with ReLU following `rule`.
pub(crate) fn input_gradient<T: Float>(
    model: &Model<T>,
    x: &Tensor<T>,
    targets: &[usize],
    rule: BackwardRule,
) -> Result<(Tensor<T>, Tensor<T>)> {
    let mut tape = Tape::new();
    let xv = tape.leaf(x.clone());
    let params = model.bind(&mut tape, false);
    let f = model.forward(&mut tape, xv, &params)?;
    let k = tape.shape(f.logits)[1];
    let seed = Tensor::one_hot(targets, k)?;
    let g = tape.backward_with(f.logits, seed, rule)?;
    Ok((tape.value(f.logits).clone(), g.get(xv)))
}

/// The named layer's output and the gradient of `logit[target]` there.
pub(crate) fn layer_gradient<T: Float>(
    model: &Model<T>,
    x: &Tensor<T>,
    targets: &[usize],
    layer: &str,
) -> Result<(Tensor<T>, Tensor<T>)> {
    let mut tape = Tape::new();
    let xv = tape.leaf(x.clone());
    let params = model.bind(&mut tape, false);
    let f = model.forward(&mut tape, xv, &params)?;
    let a = f.activation(layer)?;
    let k = tape.shape(f.logits)[1];
    let g = tape.backward_with(
        f.logits,
        Tensor::one_hot(targets, k)?,
        BackwardRule::Standard,
    )?;
    Ok((tape.value(a).clone(), g.get(a)))
}

/// `logit[target]` of each example, without gradients.
pub(crate) fn target_scores<T: Float>(
    model: &Model<T>,
    x: &Tensor<T>,
    targets: &[usize],
) -> Result<Vec<T>> {
    let logits = model.predict(x)?;
    let k = logits.shape()[1];
    Ok(targets
        .iter()
        .enumerate()
        .map(|(i, &t)| logits.data()[i * k + t])
        .collect())
}
