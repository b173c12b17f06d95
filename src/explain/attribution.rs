//! The attribution interface every method implements, and the gradient and score
//! helpers they share.
//!
//! A method takes a batch and one target class per example and returns an attribution
//! tensor plus named extras (the Integrated Gradients completeness `delta`, occlusion's
//! `probability_map`, ...). Pixel methods return the input's layout; CAM-style methods
//! return raw `[N, h, w]` maps at the layer's resolution (or the input's, for Score-CAM).

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
pub fn check_batch<T: Float>(model: &Model<T>, x: &Tensor<T>, targets: &[usize]) -> Result<()> {
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

/// Input values in one pass that also runs backward ([`input_gradient`],
/// [`super::batched::gradient_rows`], the CAM base's layer pass): such a pass keeps every
/// layer's output and its gradient until it ends, so it gets an eighth of
/// [`crate::nn::model::PASS_VALUES`] (83 digits, 5 Pokémon pictures). Measured with whole
/// `lamppost explain` processes on 64 digits (benches/compare_explain.py): integrated
/// gradients on mnist-cnn
/// 257 → 223 ms and on mnist-gap 951 → 753 ms against 2¹⁹, mostly fewer fresh pages for
/// the kernel to clear; 2¹⁵ was no better.
pub const GRADIENT_ROW_BUDGET: usize = crate::nn::model::PASS_VALUES / 8;

/// `f` on consecutive slices of `x`'s first axis of at most `GRADIENT_ROW_BUDGET` input
/// values (at least one row), with the targets alike, and each of its outputs joined
/// back along the first axis. For work that is per example (each row's outputs depend
/// only on that row), so the result is the one pass's; the memory is one slice's. A
/// method given a whole benchmark's perturbed copies at once (max-sensitivity: 160
/// Pokémon pictures) had held all their activations and gradients together: 490 MB.
pub fn in_gradient_passes<T: Float, const K: usize>(
    x: &Tensor<T>,
    targets: &[usize],
    mut f: impl FnMut(&Tensor<T>, &[usize]) -> Result<[Tensor<T>; K]>,
) -> Result<[Tensor<T>; K]> {
    let n = x.shape().first().copied().unwrap_or(0);
    if targets.len() != n {
        return invalid(format!("{} targets for {n} inputs", targets.len()));
    }
    let step = (GRADIENT_ROW_BUDGET / (x.len() / n.max(1)).max(1)).max(1);
    if n <= step {
        return f(x, targets);
    }
    let mut parts: Vec<[Tensor<T>; K]> = Vec::new();
    for start in (0..n).step_by(step) {
        let end = (start + step).min(n);
        parts.push(f(&x.slice_rows(start, end)?, &targets[start..end])?);
    }
    let joined: Vec<Tensor<T>> = (0..K)
        .map(|k| {
            let mut shape = parts[0][k].shape().to_vec();
            shape[0] = n;
            let data = parts
                .iter()
                .flat_map(|p| p[k].data().iter().copied())
                .collect();
            Tensor::new(&shape, data)
        })
        .collect::<Result<_>>()?;
    Ok(joined
        .try_into()
        .unwrap_or_else(|_| unreachable!("K outputs were joined")))
}

/// Logits and `∂ logit[target] / ∂ x` for each example, with ReLU following `rule`, in
/// passes of [`GRADIENT_ROW_BUDGET`] input values.
pub fn input_gradient<T: Float>(
    model: &Model<T>,
    x: &Tensor<T>,
    targets: &[usize],
    rule: BackwardRule,
) -> Result<(Tensor<T>, Tensor<T>)> {
    let [logits, g] = in_gradient_passes(x, targets, |x, t| {
        let (l, g) = input_gradient_pass(model, x, t, rule)?;
        Ok([l, g])
    })?;
    Ok((logits, g))
}

fn input_gradient_pass<T: Float>(
    model: &Model<T>,
    x: &Tensor<T>,
    targets: &[usize],
    rule: BackwardRule,
) -> Result<(Tensor<T>, Tensor<T>)> {
    // in a hot region, as `predict`: integrated gradients with 400 steps on 64 digits,
    // whole processes alternated three times, took 0.46 → 0.41 s on mnist-cnn and
    // 0.64–0.66 → 0.60–0.61 s on mnist-gap (200 steps), the same attributions
    crate::runtime::on_pool_for(model.pass_work(x.shape()[0]), || {
        let mut tape = Tape::new();
        let xv = tape.leaf(x.clone());
        let params = model.bind(&mut tape, false);
        let logits = model.logits(&mut tape, xv, &params)?;
        let k = tape.shape(logits)[1];
        let seed = Tensor::one_hot(targets, k)?;
        let g = tape.backward_with(logits, seed, rule)?;
        Ok((tape.value(logits).clone(), g.get(xv)))
    })
}

/// `softmax(row)[c]`, computed stably.
pub fn softmax_prob<T: Float>(row: &[T], c: usize) -> T {
    let m = row.iter().fold(row[0], |a, &b| a.max_of(b));
    let s: T = row.iter().map(|&v| (v - m).exp()).sum();
    (row[c] - m).exp() / s
}

/// `logit[target]` of each example, without gradients.
pub fn target_scores<T: Float>(
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

/// A method usable at both precisions: what the registry builds and the command line runs.
pub trait Method: AttributionMethod<f32> + AttributionMethod<f64> + Send + Sync {}
impl<M: AttributionMethod<f32> + AttributionMethod<f64> + Send + Sync> Method for M {}

/// The precisions a [`Method`] runs at (`f32`, and `f64` for reference numbers).
pub trait Precision: Float {
    fn run(
        m: &dyn Method,
        model: &Model<Self>,
        x: &Tensor<Self>,
        targets: &[usize],
    ) -> Result<Attribution<Self>>;
}

impl Precision for f32 {
    fn run(
        m: &dyn Method,
        model: &Model<f32>,
        x: &Tensor<f32>,
        targets: &[usize],
    ) -> Result<Attribution<f32>> {
        AttributionMethod::<f32>::attribute(m, model, x, targets)
    }
}

impl Precision for f64 {
    fn run(
        m: &dyn Method,
        model: &Model<f64>,
        x: &Tensor<f64>,
        targets: &[usize],
    ) -> Result<Attribution<f64>> {
        AttributionMethod::<f64>::attribute(m, model, x, targets)
    }
}
