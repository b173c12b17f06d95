//! Shared mechanics of every method that evaluates a model many times: building many
//! perturbed inputs and running them in passes under one row budget, and a forward pass
//! that keeps a named layer's output (and, when asked, the gradient there).
//!
//! Perturbation methods (occlusion, Score-CAM, Ablation-CAM, LIME) call
//! [`predict_rows`]; path and noise methods (Integrated Gradients, SmoothGrad) call
//! [`gradient_rows`]; the evaluation metrics use the same two. Rows are built in
//! parallel but always in the same order, so results do not depend on the thread count.

use super::attribution::{in_gradient_passes, softmax_prob};
use crate::autodiff::{BackwardRule, Tape};
use crate::error::Result;
use crate::float::Float;
use crate::nn::Model;
use crate::tensor::Tensor;
use rayon::prelude::*;

/// Input values in one batched pass, and rows per pass: the same budget as
/// [`Model::predict`]'s passes (see [`crate::nn::model::PASS_VALUES`]).
pub use crate::nn::model::{PASS_VALUES as ROW_BUDGET, rows_per_pass};

pub use super::attribution::GRADIENT_ROW_BUDGET;

/// `[count, row_shape…]`, row `r` filled by `fill(r, row)` (in parallel).
fn build_rows<T: Float>(
    row_shape: &[usize],
    rows: std::ops::Range<usize>,
    fill: &(impl Fn(usize, &mut [T]) + Sync),
) -> Result<Tensor<T>> {
    let per: usize = row_shape.iter().product();
    let start = rows.start;
    let mut data = vec![T::zero(); rows.len() * per];
    data.par_chunks_mut(per.max(1))
        .enumerate()
        .for_each(|(r, row)| fill(start + r, row));
    let mut shape = vec![rows.len()];
    shape.extend_from_slice(row_shape);
    Tensor::new(&shape, data)
}

/// Logits `[count, K]` of `count` inputs of shape `row_shape`, row `r` built by
/// `fill(r, row)`, evaluated in passes of at most [`rows_per_pass`] rows.
pub fn predict_rows<T: Float>(
    model: &Model<T>,
    row_shape: &[usize],
    count: usize,
    fill: impl Fn(usize, &mut [T]) + Sync,
) -> Result<Tensor<T>> {
    rows_through(model, None, row_shape, count, fill)
}

/// As [`predict_rows`], but the rows are outputs of the named layer and only the rest
/// of the network runs (Ablation-CAM's edited maps).
pub fn predict_layer_rows<T: Float>(
    model: &Model<T>,
    layer: &str,
    row_shape: &[usize],
    count: usize,
    fill: impl Fn(usize, &mut [T]) + Sync,
) -> Result<Tensor<T>> {
    rows_through(model, Some(layer), row_shape, count, fill)
}

fn rows_through<T: Float>(
    model: &Model<T>,
    layer: Option<&str>,
    row_shape: &[usize],
    count: usize,
    fill: impl Fn(usize, &mut [T]) + Sync,
) -> Result<Tensor<T>> {
    let step = rows_per_pass(row_shape.iter().product());
    let mut out = Vec::new();
    let mut k = model.arch.num_classes();
    for start in (0..count).step_by(step) {
        let x = build_rows(row_shape, start..(start + step).min(count), &fill)?;
        let logits = match layer {
            None => model.predict(&x)?,
            Some(l) => model.predict_from(l, &x)?,
        };
        k = logits.shape()[1];
        out.extend_from_slice(logits.data());
    }
    Tensor::new(&[count, k], out)
}

/// `softmax(logits[r])[class_of(r)]` for each row of [`predict_rows`]' output.
pub fn probabilities<T: Float>(logits: &Tensor<T>, class_of: impl Fn(usize) -> usize) -> Vec<T> {
    let k = logits.shape()[1];
    logits
        .data()
        .chunks(k)
        .enumerate()
        .map(|(r, row)| softmax_prob(row, class_of(r)))
        .collect()
}

/// Input gradients `∂ logit[target_of(r)] / ∂ row_r` (ReLUs following `rule`) of `count`
/// inputs built by `fill`, in passes under [`GRADIENT_ROW_BUDGET`]; `consume(r, gradient)` is
/// called for every row in order.
pub fn gradient_rows<T: Float>(
    model: &Model<T>,
    row_shape: &[usize],
    count: usize,
    fill: impl Fn(usize, &mut [T]) + Sync,
    target_of: impl Fn(usize) -> usize,
    rule: BackwardRule,
    mut consume: impl FnMut(usize, &[T]),
) -> Result<()> {
    let per: usize = row_shape.iter().product();
    let step = (GRADIENT_ROW_BUDGET / per.max(1)).max(1);
    for start in (0..count).step_by(step) {
        let end = (start + step).min(count);
        let x = build_rows(row_shape, start..end, &fill)?;
        let t: Vec<usize> = (start..end).map(&target_of).collect();
        let (_, g) = super::attribution::input_gradient(model, &x, &t, rule)?;
        for (r, row) in g.data().chunks(per.max(1)).enumerate() {
            consume(start + r, row);
        }
    }
    Ok(())
}

/// A forward pass that kept one layer: the logits, the layer's output and, when targets
/// were given, `∂ logit[target] / ∂ layer`.
pub struct LayerPass<T> {
    pub logits: Tensor<T>,
    pub activation: Tensor<T>,
    pub gradient: Option<Tensor<T>>,
}

/// Runs `x` through `model`, keeping the output of `layer` (and its gradient for
/// `targets`), in passes of [`GRADIENT_ROW_BUDGET`] input values.
pub fn layer_pass<T: Float>(
    model: &Model<T>,
    x: &Tensor<T>,
    layer: &str,
    targets: Option<&[usize]>,
) -> Result<LayerPass<T>> {
    let n = x.shape().first().copied().unwrap_or(0);
    match targets {
        Some(t) => {
            let [logits, activation, gradient] = in_gradient_passes(x, t, |x, t| {
                let p = layer_pass_once(model, x, layer, Some(t))?;
                let g = p
                    .gradient
                    .unwrap_or_else(|| unreachable!("targets were given"));
                Ok([p.logits, p.activation, g])
            })?;
            Ok(LayerPass {
                logits,
                activation,
                gradient: Some(gradient),
            })
        }
        None => {
            let [logits, activation] = in_gradient_passes(x, &vec![0; n], |x, _| {
                let p = layer_pass_once(model, x, layer, None)?;
                Ok([p.logits, p.activation])
            })?;
            Ok(LayerPass {
                logits,
                activation,
                gradient: None,
            })
        }
    }
}

fn layer_pass_once<T: Float>(
    model: &Model<T>,
    x: &Tensor<T>,
    layer: &str,
    targets: Option<&[usize]>,
) -> Result<LayerPass<T>> {
    // hot for the pass's dozens of parallel ops, as `predict` (see `input_gradient_pass`)
    crate::runtime::on_pool_for(model.pass_work(x.shape()[0]), || {
        // with targets, the input is a leaf so that the backward pass reaches the layer
        let (mut tape, xv) = match targets {
            Some(_) => {
                let mut t = Tape::new();
                let v = t.leaf(x.clone());
                (t, v)
            }
            None => {
                let mut t = Tape::no_grad();
                let v = t.constant(x.clone());
                (t, v)
            }
        };
        let params = model.bind(&mut tape, false);
        let f = model.forward(&mut tape, xv, &params)?;
        let a = f.activation(layer)?;
        let gradient = match targets {
            Some(t) => {
                let k = tape.shape(f.logits)[1];
                let g =
                    tape.backward_with(f.logits, Tensor::one_hot(t, k)?, BackwardRule::Standard)?;
                Some(g.get(a))
            }
            None => None,
        };
        Ok(LayerPass {
            logits: tape.value(f.logits).clone(),
            activation: tape.value(a).clone(),
            gradient,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Arch;

    #[test]
    fn batched_rows_equal_one_pass() {
        // more rows than one pass holds: the chunked result equals a single predict
        let model = Model::<f64>::init(Arch::from_name("mnist-cnn").unwrap(), 3);
        let n = rows_per_pass(784) + 5;
        let fill = |r: usize, row: &mut [f64]| {
            row.iter_mut()
                .enumerate()
                .for_each(|(i, v)| *v = ((r * 31 + i) % 17) as f64 / 17.0)
        };
        let got = predict_rows(&model, &[1, 28, 28], n, fill).unwrap();
        let mut all = vec![0.0; n * 784];
        all.chunks_mut(784)
            .enumerate()
            .for_each(|(r, row)| fill(r, row));
        let want = model
            .predict(&Tensor::new(&[n, 1, 28, 28], all).unwrap())
            .unwrap();
        assert_eq!(got.shape(), want.shape());
        let err = got
            .data()
            .iter()
            .zip(want.data())
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(err < 1e-12, "max difference {err}");
    }

    #[test]
    fn gradient_passes_equal_one_pass() {
        // more rows than one gradient pass holds, ragged last pass
        let model = Model::<f64>::init(Arch::from_name("mnist-cnn").unwrap(), 4);
        let n = GRADIENT_ROW_BUDGET / 784 + 3;
        let fill = |r: usize, row: &mut [f64]| {
            row.iter_mut()
                .enumerate()
                .for_each(|(i, v)| *v = ((r * 13 + i) % 23) as f64 / 23.0 - 0.3)
        };
        let target = |r: usize| r % 10;
        let mut got = vec![0.0; n * 784];
        gradient_rows(
            &model,
            &[1, 28, 28],
            n,
            fill,
            target,
            BackwardRule::Standard,
            |r, g| got[r * 784..(r + 1) * 784].copy_from_slice(g),
        )
        .unwrap();
        let mut all = vec![0.0; n * 784];
        all.chunks_mut(784)
            .enumerate()
            .for_each(|(r, row)| fill(r, row));
        let x = Tensor::new(&[n, 1, 28, 28], all).unwrap();
        let t: Vec<usize> = (0..n).map(target).collect();
        // the reference: one tape over every row
        let mut tape = Tape::new();
        let xv = tape.leaf(x.clone());
        let params = model.bind(&mut tape, false);
        let f = model.forward(&mut tape, xv, &params).unwrap();
        let seed = Tensor::one_hot(&t, 10).unwrap();
        let want = tape
            .backward_with(f.logits, seed, BackwardRule::Standard)
            .unwrap()
            .get(xv);
        // input_gradient splits the same rows into passes too
        let (_, split) =
            crate::explain::attribution::input_gradient(&model, &x, &t, BackwardRule::Standard)
                .unwrap();
        assert_eq!(split.shape(), want.shape());
        let err_split = split
            .data()
            .iter()
            .zip(want.data())
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(
            err_split < 1e-12,
            "input_gradient: max difference {err_split}"
        );
        let err = got
            .iter()
            .zip(want.data())
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(err < 1e-12, "max difference {err}");
        assert!(want.data().iter().any(|&v| v != 0.0));
    }

    /// The layer pass, split over several passes, keeps what one pass over every row
    /// keeps: logits, the layer's output and its gradient.
    #[test]
    fn layer_passes_equal_one_pass() {
        let model = Model::<f64>::init(Arch::from_name("mnist-gap").unwrap(), 5);
        let n = GRADIENT_ROW_BUDGET / 784 + 2;
        let data: Vec<f64> = (0..n * 784).map(|i| ((i * 7) % 19) as f64 / 19.0).collect();
        let x = Tensor::new(&[n, 1, 28, 28], data).unwrap();
        let t: Vec<usize> = (0..n).map(|r| (r * 3) % 10).collect();
        let layer = "conv3.relu".to_string();
        let split = layer_pass(&model, &x, &layer, Some(&t)).unwrap();
        let whole = layer_pass_once(&model, &x, &layer, Some(&t)).unwrap();
        let no_grad = layer_pass(&model, &x, &layer, None).unwrap();
        let diff = |a: &Tensor<f64>, b: &Tensor<f64>| {
            assert_eq!(a.shape(), b.shape());
            a.data()
                .iter()
                .zip(b.data())
                .fold(0.0f64, |m, (p, q)| m.max((p - q).abs()))
        };
        assert!(diff(&split.logits, &whole.logits) < 1e-12);
        assert!(diff(&split.activation, &whole.activation) < 1e-12);
        assert!(
            diff(
                split.gradient.as_ref().unwrap(),
                whole.gradient.as_ref().unwrap()
            ) < 1e-12
        );
        assert!(diff(&no_grad.activation, &whole.activation) < 1e-12);
        assert!(no_grad.gradient.is_none());
    }
}
