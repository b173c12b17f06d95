//! The training objective that influence functions, TracIn and representer points
//! differentiate: `L(θ) = (1/n) Σᵢ mᵢ ℓ(zᵢ; θ) + (λ/2)‖θ‖²`, with `ℓ` the cross-entropy,
//! `λ` the weight decay and `mᵢ` an example's weight (1, or 0 once it is removed;
//! removal keeps the `1/n`, Koh & Liang's `ε = −1/n`).
//!
//! Two implementations:
//! - [`SoftmaxRegression`]: a linear layer on fixed features, in closed form (gradients,
//!   Hessian-vector products and the explicit Hessian). It is logistic regression on
//!   pixels (Koh & Liang's Figure 2), the last layer of any network (`--params last`:
//!   weight and bias; without the bias parameter, the bias held fixed, it is Captum's
//!   `TracInCPFast`) and the representer-point refit (Yeh et al.).
//! - [`ModelObjective`]: any model of the crate over a chosen set of its parameters, by
//!   the autodiff engine: per-example gradients by backward passes, `∇ℓᵢᵀv` for every
//!   example at once by one forward pass on dual numbers (forward mode), and exact
//!   Hessian-vector products by forward-over-reverse ([`crate::autodiff::hvp`]).
//!
//! Parameters are flattened in state-dict order (`weight` row-major, then `bias`), as
//! `torch.nn.utils.parameters_to_vector` does.

use super::blocks::{Block, GradBlocks};
use crate::autodiff::backward::BackwardRule;
use crate::autodiff::dual::Dual;
use crate::autodiff::{Tape, Var};
use crate::error::{Result, invalid};
use crate::nn::Model;
use crate::nn::arch::LayerSpec;
use crate::tensor::Tensor;
use crate::tensor::conv::{ConvGeom, im2col};
use crate::tensor::matmul::gemm;
use rayon::prelude::*;

/// What influence functions need of a training objective (see the module documentation).
pub trait Objective: Sync {
    /// The number of parameters θ.
    fn dim(&self) -> usize;
    /// The number of training examples `n`.
    fn len(&self) -> usize;
    /// Whether there are no training examples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// `H v` estimated on the training examples `rows` (all when `None`): the mean of
    /// their `mᵢ ∇²ℓᵢ v` plus `λ v`. Stochastic solvers (LiSSA) pass minibatches.
    fn hvp_rows(&self, rows: Option<&[usize]>, v: &[f64]) -> Result<Vec<f64>>;
    /// `H v` over every training example.
    fn hvp(&self, v: &[f64]) -> Result<Vec<f64>> {
        self.hvp_rows(None, v)
    }
    /// `∇ℓ(zᵢ)ᵀ v` for every training example `i`.
    fn train_dots(&self, v: &[f64]) -> Result<Vec<f64>>;
    /// `∇ℓ(zᵢ)` for the training examples `rows`.
    fn train_grads(&self, rows: &[usize]) -> Result<Vec<Vec<f64>>>;
    /// The same gradients as [`GradBlocks`] (linear layers kept factored where the
    /// objective can); by default one dense block.
    fn train_blocks(&self, rows: &[usize]) -> Result<GradBlocks> {
        GradBlocks::from_dense(&self.train_grads(rows)?)
    }
    /// The explicit Hessian `H` (row-major `dim × dim`); by default `dim` products.
    fn hessian(&self) -> Result<Vec<f64>> {
        let d = self.dim();
        let mut h = vec![0.0; d * d];
        let mut e = vec![0.0; d];
        for j in 0..d {
            e[j] = 1.0;
            let col = self.hvp(&e)?;
            e[j] = 0.0;
            for i in 0..d {
                h[i * d + j] = col[i];
            }
        }
        Ok(h)
    }
}

/// Refuses a direction whose length is not θ's.
fn check_direction(v: &[f64], dim: usize) -> Result<()> {
    if v.len() != dim {
        return invalid(format!("direction has {} values, θ has {dim}", v.len()));
    }
    Ok(())
}

/// Every index `0..n` when no rows were chosen (empty otherwise: nothing allocated).
fn all_rows(rows: Option<&[usize]>, n: usize) -> Vec<usize> {
    if rows.is_some() {
        Vec::new()
    } else {
        (0..n).collect()
    }
}

/// The softmax probabilities of one row of logits, in f64.
fn softmax(z: &[f64]) -> Vec<f64> {
    let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.into_iter().map(|v| v / s).collect()
}

/// A linear layer `z = W f + b` on fixed features `f` under the cross-entropy, in closed
/// form. `θ = [W (k × F, row-major), b (k)]`, or `W` alone without a bias.
#[derive(Clone, Debug)]
pub struct SoftmaxRegression {
    /// `[n, F]` features.
    pub x: Tensor<f64>,
    pub y: Vec<usize>,
    pub classes: usize,
    pub bias: bool,
    pub weight_decay: f64,
    /// `θ`, as above.
    pub theta: Vec<f64>,
    /// Per-example weights `mᵢ` (1 = present, 0 = removed).
    pub weights: Vec<f64>,
    /// Without a bias parameter: a fixed bias added to the logits, not differentiated
    /// (Captum's `TracInCPFast` differentiates the last layer's weight only).
    pub offset: Vec<f64>,
}

/// Examples per parallel chunk of the closed-form sums (fixed, so the order of the
/// additions, and the result, does not depend on the thread count).
const CHUNK: usize = 256;

impl SoftmaxRegression {
    /// `x` `[n, F]` features and labels; θ starts at zero.
    pub fn new(
        x: Tensor<f64>,
        y: Vec<usize>,
        classes: usize,
        bias: bool,
        weight_decay: f64,
    ) -> Result<Self> {
        if x.shape().len() != 2 || x.shape()[0] != y.len() || y.is_empty() {
            return invalid(format!(
                "softmax regression needs [n, F] features and n labels (n ≥ 1), got {:?} and {}",
                x.shape(),
                y.len()
            ));
        }
        if let Some(&bad) = y.iter().find(|&&c| c >= classes) {
            return invalid(format!("label {bad} but only {classes} classes"));
        }
        if x.data().iter().any(|v| !v.is_finite()) {
            return invalid("the features hold NaN or infinite values");
        }
        if !(weight_decay >= 0.0 && weight_decay.is_finite()) {
            return invalid(format!("weight decay must be ≥ 0, got {weight_decay}"));
        }
        let f = x.shape()[1];
        let n = y.len();
        Ok(SoftmaxRegression {
            x,
            y,
            classes,
            bias,
            weight_decay,
            theta: vec![0.0; classes * (f + bias as usize)],
            weights: vec![1.0; n],
            offset: vec![0.0; classes],
        })
    }

    /// Features per example.
    pub fn features(&self) -> usize {
        self.x.shape()[1]
    }

    /// Sets θ from a weight `[k, F]` and an optional bias `[k]` (a model's last layer);
    /// without a bias parameter, the bias becomes the fixed offset.
    pub fn set_layer(&mut self, weight: &[f64], bias: Option<&[f64]>) -> Result<()> {
        let (k, f) = (self.classes, self.features());
        if weight.len() != k * f || bias.map(<[f64]>::len).unwrap_or(k) != k {
            return invalid(format!(
                "the layer is not {k} × {f} (+ {k} bias), the features' and classes' sizes"
            ));
        }
        self.theta = weight.to_vec();
        let b = bias.map_or(vec![0.0; k], <[f64]>::to_vec);
        if self.bias {
            self.theta.extend(b);
        } else {
            self.offset = b;
        }
        Ok(())
    }

    /// The logits `W f + b` of one feature row.
    pub fn logits(&self, f: &[f64]) -> Vec<f64> {
        let nf = self.features();
        (0..self.classes)
            .map(|c| {
                let w = &self.theta[c * nf..(c + 1) * nf];
                let b = if self.bias {
                    self.theta[self.classes * nf + c]
                } else {
                    self.offset[c]
                };
                w.iter().zip(f).map(|(a, b)| a * b).sum::<f64>() + b
            })
            .collect()
    }

    /// `δ = softmax(z) − onehot(y)` for a feature row: `∂ℓ/∂z`.
    pub fn residual(&self, f: &[f64], y: usize) -> Vec<f64> {
        let mut p = softmax(&self.logits(f));
        p[y] -= 1.0;
        p
    }

    /// `∇ℓ = [δ fᵀ, δ]` from a residual and a feature row.
    fn grad_from(&self, d: &[f64], f: &[f64]) -> Vec<f64> {
        let mut g: Vec<f64> = d
            .iter()
            .flat_map(|&dc| f.iter().map(move |&v| dc * v))
            .collect();
        if self.bias {
            g.extend_from_slice(d);
        }
        g
    }

    /// `out += m · [δ fᵀ, δ]` without building the gradient (the sums' inner loops).
    fn add_grad(&self, d: &[f64], f: &[f64], m: f64, out: &mut [f64]) {
        let nf = f.len();
        for (c, &dc) in d.iter().enumerate() {
            for (o, &v) in out[c * nf..(c + 1) * nf].iter_mut().zip(f) {
                *o += m * (dc * v);
            }
        }
        if self.bias {
            let k = d.len();
            for (o, &dc) in out[k * nf..].iter_mut().zip(d) {
                *o += m * dc;
            }
        }
    }

    /// `[δ fᵀ, δ] · v`, summed in the order of the flattened gradient.
    fn grad_dot(&self, d: &[f64], f: &[f64], v: &[f64]) -> f64 {
        let nf = f.len();
        let mut s = 0.0;
        for (c, &dc) in d.iter().enumerate() {
            for (&x, &w) in f.iter().zip(&v[c * nf..(c + 1) * nf]) {
                s += dc * x * w;
            }
        }
        if self.bias {
            for (&dc, &w) in d.iter().zip(&v[d.len() * nf..]) {
                s += dc * w;
            }
        }
        s
    }

    /// `∇ℓ` of examples given by features and labels.
    pub fn grads_of(&self, x: &Tensor<f64>, y: &[usize]) -> Vec<Vec<f64>> {
        let nf = self.features();
        x.data()
            .chunks(nf)
            .zip(y)
            .map(|(f, &c)| self.grad_from(&self.residual(f, c), f))
            .collect()
    }

    /// `∇ℓ` of examples given by features and labels, as one factored block (residuals
    /// and features).
    pub fn blocks_of(&self, x: &Tensor<f64>, y: &[usize]) -> GradBlocks {
        let nf = self.features();
        let delta: Vec<f64> = x
            .data()
            .chunks(nf)
            .zip(y)
            .flat_map(|(f, &c)| self.residual(f, c))
            .collect();
        GradBlocks {
            n: y.len(),
            blocks: vec![Block::Outer {
                out: self.classes,
                inp: nf,
                delta,
                act: x.data().to_vec(),
                weight: true,
                bias: self.bias,
            }],
        }
    }

    /// The mean training loss (weights `mᵢ`, divided by `n`) plus `(λ/2)‖θ‖²`, and its
    /// gradient.
    pub fn loss_and_grad(&self) -> (f64, Vec<f64>) {
        let nf = self.features();
        let n = self.y.len();
        let parts: Vec<(f64, Vec<f64>)> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let mut g = vec![0.0; self.theta.len()];
                let mut loss = 0.0;
                for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                    if self.weights[i] == 0.0 {
                        continue;
                    }
                    let f = &self.x.data()[i * nf..(i + 1) * nf];
                    let z = self.logits(f);
                    let p = softmax(&z);
                    loss -= self.weights[i] * p[self.y[i]].max(1e-300).ln();
                    let mut d = p;
                    d[self.y[i]] -= 1.0;
                    self.add_grad(&d, f, self.weights[i], &mut g);
                }
                (loss, g)
            })
            .collect();
        let mut loss = 0.0;
        let mut g = vec![0.0; self.theta.len()];
        for (l, gc) in parts {
            loss += l;
            g.iter_mut().zip(gc).for_each(|(a, b)| *a += b);
        }
        let wd = self.weight_decay;
        let nn = n as f64;
        let reg: f64 = self.theta.iter().map(|t| t * t).sum::<f64>() * wd / 2.0;
        for (gj, t) in g.iter_mut().zip(&self.theta) {
            *gj = *gj / nn + wd * t;
        }
        (loss / nn + reg, g)
    }

    /// Minimizes the objective by Newton's method with the explicit Hessian (a convex
    /// problem: a few steps reach rounding level) until `‖∇L‖ ≤ tol`; returns the final
    /// gradient norm.
    pub fn fit(&mut self, tol: f64, max_steps: usize) -> Result<f64> {
        let d = self.theta.len();
        let mut norm = f64::INFINITY;
        for _ in 0..max_steps {
            let (_, g) = self.loss_and_grad();
            norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm <= tol {
                return Ok(norm);
            }
            let h = self.hessian()?;
            let l = crate::tensor::linalg::cholesky(&h, d).ok_or_else(|| {
                crate::error::Error::Invalid(
                    "the refit's Hessian is singular; use a positive weight decay (--damping)"
                        .into(),
                )
            })?;
            let step = crate::tensor::linalg::cholesky_solve(&l, d, &g);
            self.theta.iter_mut().zip(step).for_each(|(t, s)| *t -= s);
        }
        Ok(norm)
    }

    /// Refits after the weights changed, by the chord method: Newton steps with the fixed
    /// Cholesky factor `l` of the Hessian at the original optimum (the change is small,
    /// so this converges linearly and fast) until `‖∇L‖ ≤ tol`. Errors if it does not.
    pub fn refit_with(&mut self, l: &[f64], tol: f64, max_steps: usize) -> Result<f64> {
        let d = self.theta.len();
        let mut norm = f64::INFINITY;
        for _ in 0..max_steps {
            let (_, g) = self.loss_and_grad();
            norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm <= tol {
                return Ok(norm);
            }
            let step = crate::tensor::linalg::cholesky_solve(l, d, &g);
            self.theta.iter_mut().zip(step).for_each(|(t, s)| *t -= s);
        }
        invalid(format!(
            "the leave-one-out refit did not converge in {max_steps} steps (gradient norm {norm:.3e})"
        ))
    }
}

impl Objective for SoftmaxRegression {
    fn dim(&self) -> usize {
        self.theta.len()
    }

    fn len(&self) -> usize {
        self.y.len()
    }

    fn hvp_rows(&self, rows: Option<&[usize]>, v: &[f64]) -> Result<Vec<f64>> {
        check_direction(v, self.dim())?;
        let (k, nf) = (self.classes, self.features());
        let all = all_rows(rows, self.y.len());
        let rows = rows.unwrap_or(&all);
        // H v = (1/n) Σ mᵢ [r fᵀ, r] with u = V f + c, r = diag(p) u − p (pᵀu)
        let parts: Vec<Vec<f64>> = rows
            .par_chunks(CHUNK)
            .map(|chunk| {
                let mut out = vec![0.0; self.dim()];
                for &i in chunk {
                    if self.weights[i] == 0.0 {
                        continue;
                    }
                    let f = &self.x.data()[i * nf..(i + 1) * nf];
                    let p = softmax(&self.logits(f));
                    let u: Vec<f64> = (0..k)
                        .map(|c| {
                            let dot: f64 = v[c * nf..(c + 1) * nf]
                                .iter()
                                .zip(f)
                                .map(|(a, b)| a * b)
                                .sum();
                            dot + if self.bias { v[k * nf + c] } else { 0.0 }
                        })
                        .collect();
                    let pu: f64 = p.iter().zip(&u).map(|(a, b)| a * b).sum();
                    let r: Vec<f64> = (0..k).map(|c| p[c] * (u[c] - pu)).collect();
                    self.add_grad(&r, f, self.weights[i], &mut out);
                }
                out
            })
            .collect();
        let n = rows.len().max(1) as f64;
        let mut out = vec![0.0; self.dim()];
        for part in parts {
            out.iter_mut().zip(part).for_each(|(a, b)| *a += b);
        }
        Ok(out
            .into_iter()
            .zip(v)
            .map(|(h, vi)| h / n + self.weight_decay * vi)
            .collect())
    }

    fn train_dots(&self, v: &[f64]) -> Result<Vec<f64>> {
        let nf = self.features();
        Ok(self
            .x
            .data()
            .par_chunks(nf)
            .zip(&self.y)
            .map(|(f, &c)| self.grad_dot(&self.residual(f, c), f, v))
            .collect())
    }

    fn train_grads(&self, rows: &[usize]) -> Result<Vec<Vec<f64>>> {
        let nf = self.features();
        Ok(rows
            .iter()
            .map(|&i| {
                let f = &self.x.data()[i * nf..(i + 1) * nf];
                self.grad_from(&self.residual(f, self.y[i]), f)
            })
            .collect())
    }

    fn train_blocks(&self, rows: &[usize]) -> Result<GradBlocks> {
        let x = self.x.select_rows(rows)?;
        let y: Vec<usize> = rows.iter().map(|&i| self.y[i]).collect();
        Ok(self.blocks_of(&x, &y))
    }

    /// `H = (1/n) Σ mᵢ (diag pᵢ − pᵢpᵢᵀ) ⊗ f̃ᵢf̃ᵢᵀ + λI` (f̃ = [f, 1] with a bias): one
    /// `F̃ᵀ D F̃` GEMM per pair of classes.
    fn hessian(&self) -> Result<Vec<f64>> {
        let (k, nf, n) = (self.classes, self.features(), self.y.len());
        let fa = nf + self.bias as usize;
        let mut xa = vec![0.0; n * fa];
        let mut probs = vec![0.0; n * k];
        for i in 0..n {
            let f = &self.x.data()[i * nf..(i + 1) * nf];
            xa[i * fa..i * fa + nf].copy_from_slice(f);
            if self.bias {
                xa[i * fa + nf] = 1.0;
            }
            probs[i * k..(i + 1) * k].copy_from_slice(&softmax(&self.logits(f)));
        }
        let d = self.dim();
        let index = |c: usize, j: usize| if j < nf { c * nf + j } else { k * nf + c };
        let blocks: Vec<(usize, usize, Vec<f64>)> = (0..k)
            .flat_map(|a| (a..k).map(move |b| (a, b)))
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|(a, b)| {
                let mut scaled = xa.clone();
                for i in 0..n {
                    let (pa, pb) = (probs[i * k + a], probs[i * k + b]);
                    let w = self.weights[i] * (if a == b { pa } else { 0.0 } - pa * pb);
                    scaled[i * fa..(i + 1) * fa]
                        .iter_mut()
                        .for_each(|v| *v *= w);
                }
                let mut blk = vec![0.0; fa * fa];
                gemm(fa, n, fa, &scaled, true, &xa, false, &mut blk, false);
                (a, b, blk)
            })
            .collect();
        let mut h = vec![0.0; d * d];
        for (a, b, blk) in blocks {
            for j in 0..fa {
                for l in 0..fa {
                    let v = blk[j * fa + l] / n as f64;
                    h[index(a, j) * d + index(b, l)] = v;
                    h[index(b, l) * d + index(a, j)] = v;
                }
            }
        }
        for j in 0..d {
            h[j * d + j] += self.weight_decay;
        }
        Ok(h)
    }
}

/// Which parameters of a model an objective differentiates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamSet {
    /// Every parameter.
    All,
    /// The parameters of these layers (`fc2` → `fc2.weight`, `fc2.bias`).
    Layers(Vec<String>),
}

impl ParamSet {
    /// The indices (state-dict order) of the parameters of `model` this set selects; an
    /// unknown layer lists the layers with parameters.
    pub fn indices<T: crate::float::Float>(&self, model: &Model<T>) -> Result<Vec<usize>> {
        let params = model.params();
        match self {
            ParamSet::All => Ok((0..params.len()).collect()),
            ParamSet::Layers(names) => {
                let mut out = Vec::new();
                for name in names {
                    let found: Vec<usize> = (0..params.len())
                        .filter(|&i| {
                            params[i]
                                .0
                                .strip_prefix(name.as_str())
                                .is_some_and(|r| r.starts_with('.') && !r[1..].contains('.'))
                                || params[i].0 == *name
                        })
                        .collect();
                    if found.is_empty() {
                        let mut layers: Vec<&str> = params
                            .iter()
                            .map(|(n, _)| n.rsplit_once('.').map_or(n.as_str(), |p| p.0))
                            .collect();
                        layers.dedup();
                        return invalid(format!(
                            "{} has no parameters named '{name}'; layers with parameters: {}",
                            model.arch.name,
                            layers.join(", ")
                        ));
                    }
                    out.extend(found);
                }
                out.sort_unstable();
                out.dedup();
                Ok(out)
            }
        }
    }
}

/// A model's training objective over a [`ParamSet`], by the autodiff engine, in f64.
pub struct ModelObjective {
    pub model: Model<f64>,
    /// The same architecture on dual numbers (its weights are replaced per product).
    dual: Model<Dual<f64>>,
    selected: Vec<usize>,
    x: Tensor<f64>,
    y: Vec<usize>,
    weight_decay: f64,
}

/// Examples per forward or HVP pass of [`ModelObjective`] (fixed: results do not depend
/// on the thread count).
const MODEL_CHUNK: usize = 64;

impl ModelObjective {
    pub fn new(
        model: Model<f64>,
        params: &ParamSet,
        x: Tensor<f64>,
        y: Vec<usize>,
        weight_decay: f64,
    ) -> Result<Self> {
        if x.shape().first() != Some(&y.len()) || y.is_empty() {
            return invalid(format!(
                "{} training inputs but {} labels; need the same number, at least one",
                x.shape().first().unwrap_or(&0),
                y.len()
            ));
        }
        model.check_input(x.shape())?;
        let selected = params.indices(&model)?;
        Ok(ModelObjective {
            dual: model.cast(),
            model,
            selected,
            x,
            y,
            weight_decay,
        })
    }

    /// The selected parameters' names.
    pub fn names(&self) -> Vec<String> {
        self.selected
            .iter()
            .map(|&i| self.model.params()[i].0.clone())
            .collect()
    }

    /// The selected parameters, flattened.
    pub fn theta(&self) -> Vec<f64> {
        self.selected
            .iter()
            .flat_map(|&i| self.model.params()[i].1.data().to_vec())
            .collect()
    }

    /// Splits a flat vector into tensors shaped like the selected parameters.
    fn split(&self, v: &[f64]) -> Result<Vec<Tensor<f64>>> {
        let mut out = Vec::new();
        let mut at = 0;
        for &i in &self.selected {
            let p = &self.model.params()[i].1;
            out.push(Tensor::new(p.shape(), v[at..at + p.len()].to_vec())?);
            at += p.len();
        }
        Ok(out)
    }

    /// `∇ℓ` of each example of `x`, `y`, in state-dict order.
    pub fn grads_of(&self, x: &Tensor<f64>, y: &[usize]) -> Result<Vec<Vec<f64>>> {
        Ok(self.blocks_of(x, y)?.dense())
    }

    /// The selected parameters by layer (layer index, weight selected, bias selected),
    /// if every one belongs to a convolution or a linear layer; `None` otherwise.
    fn batched_layers(&self) -> Option<Vec<(usize, bool, bool)>> {
        let mut p = 0;
        let mut out = Vec::new();
        for (li, layer) in self.model.arch.layers.iter().enumerate() {
            let k = layer.params().len();
            let sel: Vec<bool> = (p..p + k).map(|j| self.selected.contains(&j)).collect();
            p += k;
            if !sel.contains(&true) {
                continue;
            }
            match layer {
                LayerSpec::Conv2d { .. } | LayerSpec::Linear { .. } => {
                    out.push((li, sel[0], sel[1]))
                }
                _ => return None,
            }
        }
        Some(out)
    }

    /// `∇ℓ` of each example of `x`, `y` as [`GradBlocks`].
    ///
    /// When every selected parameter belongs to a convolution or a linear layer, from one
    /// batched forward and backward pass per chunk of examples: no layer mixes examples,
    /// so the gradient of the summed loss at a layer's output holds each example's own
    /// `δᵢ = ∂ℓᵢ/∂z`, and with the layer's input `aᵢ` the weight gradient is `δᵢ aᵢᵀ`
    /// (linear, kept factored) or `δᵢ · im2col(aᵢ)ᵀ` (convolution), the bias gradient
    /// `δᵢ` summed over positions.
    /// Otherwise (a GRU or an attention layer selected) one backward pass per example.
    pub fn blocks_of(&self, x: &Tensor<f64>, y: &[usize]) -> Result<GradBlocks> {
        let Some(layers) = self.batched_layers() else {
            return GradBlocks::from_dense(&self.grads_one_by_one(x, y)?);
        };
        if x.shape().first() != Some(&y.len()) {
            return invalid(format!(
                "{} inputs but {} labels",
                x.shape().first().unwrap_or(&0),
                y.len()
            ));
        }
        let n = y.len();
        let per: usize = x.shape()[1..].iter().product();
        let arch = &self.model.arch;
        let parts: Vec<GradBlocks> = (0..n.div_ceil(MODEL_CHUNK))
            .into_par_iter()
            .map(|c| {
                let (a, b) = (c * MODEL_CHUNK, ((c + 1) * MODEL_CHUNK).min(n));
                let rows = b - a;
                let mut shape = vec![rows];
                shape.extend_from_slice(&x.shape()[1..]);
                let xc = Tensor::new(&shape, x.data()[a * per..b * per].to_vec())?;
                // the input is the leaf: every layer's output gets its gradient, and no
                // weight gradient summed over the chunk is computed
                let mut tape = Tape::new();
                let xv = tape.leaf(xc);
                let vars = self.model.bind(&mut tape, false);
                let f = self.model.forward(&mut tape, xv, &vars)?;
                let losses = tape.cross_entropy_per_example(f.logits, &y[a..b])?;
                let grads =
                    tape.backward_with(losses, Tensor::ones(&[rows]), BackwardRule::Standard)?;
                let mut blocks = Vec::with_capacity(layers.len());
                for &(li, weight, bias) in &layers {
                    let z = f.activation(arch.layers[li].name())?;
                    let input = match li {
                        0 => xv,
                        _ => f.activation(arch.layers[li - 1].name())?,
                    };
                    let delta = grads.get(z);
                    let act = tape.value(input);
                    blocks.push(layer_block(
                        &arch.layers[li],
                        act,
                        delta.data(),
                        rows,
                        weight,
                        bias,
                    )?);
                }
                Ok(GradBlocks { n: rows, blocks })
            })
            .collect::<Result<_>>()?;
        GradBlocks::concat(parts)
    }

    /// `∇ℓ` of each example by its own backward pass (any architecture), in parallel.
    fn grads_one_by_one(&self, x: &Tensor<f64>, y: &[usize]) -> Result<Vec<Vec<f64>>> {
        let per: usize = x.shape()[1..].iter().product();
        let mut row_shape = vec![1];
        row_shape.extend_from_slice(&x.shape()[1..]);
        (0..y.len())
            .into_par_iter()
            .map(|i| {
                let xi = Tensor::new(&row_shape, x.data()[i * per..(i + 1) * per].to_vec())?;
                let mut tape = Tape::new();
                let xv = tape.constant(xi);
                let vars: Vec<Var> = self
                    .model
                    .params()
                    .iter()
                    .enumerate()
                    .map(|(j, (_, t))| {
                        if self.selected.contains(&j) {
                            tape.leaf(t.clone())
                        } else {
                            tape.constant(t.clone())
                        }
                    })
                    .collect();
                let logits = self.model.logits(&mut tape, xv, &vars)?;
                let loss = tape.cross_entropy(logits, &y[i..i + 1])?;
                let grads = tape.backward(loss)?;
                Ok(self
                    .selected
                    .iter()
                    .flat_map(|&j| grads.get(vars[j]).data().to_vec())
                    .collect())
            })
            .collect()
    }

    /// `∇ℓᵀ v` for each example of `x`, `y`: one forward pass on dual numbers with the
    /// selected parameters at `θ + ε v`; the ε part of each example's loss.
    pub fn dots_of(&self, x: &Tensor<f64>, y: &[usize], v: &[f64]) -> Result<Vec<f64>> {
        let dir = self.split(v)?;
        let dual: Vec<Tensor<Dual<f64>>> = self
            .model
            .params()
            .iter()
            .enumerate()
            .map(|(j, (_, t))| {
                let d = self.selected.iter().position(|&s| s == j);
                let data = t
                    .data()
                    .iter()
                    .enumerate()
                    .map(|(k, &w)| Dual::new(w, d.map_or(0.0, |d| dir[d].data()[k])))
                    .collect();
                Tensor::new(t.shape(), data)
            })
            .collect::<Result<_>>()?;
        let dual_model = &self.dual;
        let n = y.len();
        let per: usize = x.shape()[1..].iter().product();
        let chunks: Vec<Vec<f64>> = (0..n.div_ceil(MODEL_CHUNK))
            .into_par_iter()
            .map(|c| {
                let (a, b) = (c * MODEL_CHUNK, ((c + 1) * MODEL_CHUNK).min(n));
                let mut shape = vec![b - a];
                shape.extend_from_slice(&x.shape()[1..]);
                let xd = Tensor::new(
                    &shape,
                    x.data()[a * per..b * per]
                        .iter()
                        .map(|&v| Dual::constant(v))
                        .collect(),
                )?;
                let mut tape = Tape::<Dual<f64>>::no_grad();
                let xv = tape.constant(xd);
                let vars: Vec<Var> = dual.iter().map(|t| tape.constant(t.clone())).collect();
                let f = dual_model.forward(&mut tape, xv, &vars)?;
                let losses = tape.cross_entropy_per_example(f.logits, &y[a..b])?;
                Ok(tape.value(losses).data().iter().map(|d| d.eps).collect())
            })
            .collect::<Result<_>>()?;
        Ok(chunks.concat())
    }
}

impl Objective for ModelObjective {
    fn dim(&self) -> usize {
        self.selected
            .iter()
            .map(|&i| self.model.params()[i].1.len())
            .sum()
    }

    fn len(&self) -> usize {
        self.y.len()
    }

    fn hvp_rows(&self, rows: Option<&[usize]>, v: &[f64]) -> Result<Vec<f64>> {
        check_direction(v, self.dim())?;
        let all = all_rows(rows, self.y.len());
        let rows = rows.unwrap_or(&all);
        let dir = self.split(v)?;
        let sel: Vec<Tensor<f64>> = self
            .selected
            .iter()
            .map(|&i| self.model.params()[i].1.clone())
            .collect();
        let dual_model = &self.dual;
        let per: usize = self.x.shape()[1..].iter().product();
        let parts: Vec<Vec<f64>> = rows
            .par_chunks(MODEL_CHUNK)
            .map(|chunk| {
                let mut shape = vec![chunk.len()];
                shape.extend_from_slice(&self.x.shape()[1..]);
                let data = chunk
                    .iter()
                    .flat_map(|&i| self.x.data()[i * per..(i + 1) * per].iter())
                    .map(|&v| Dual::constant(v))
                    .collect();
                let xd = Tensor::new(&shape, data)?;
                let labels: Vec<usize> = chunk.iter().map(|&i| self.y[i]).collect();
                let f = |tape: &mut Tape<Dual<f64>>, leaves: &[Var]| -> Result<Var> {
                    let xv = tape.constant(xd.clone());
                    let mut vars = Vec::new();
                    for (j, p) in dual_model.params().iter().enumerate() {
                        match self.selected.iter().position(|&s| s == j) {
                            Some(k) => vars.push(leaves[k]),
                            None => vars.push(tape.constant(p.1.clone())),
                        }
                    }
                    let out = dual_model.forward(tape, xv, &vars)?;
                    tape.cross_entropy(out.logits, &labels)
                };
                let (_, _, hv) = crate::autodiff::hvp::hvp(f, &sel, &dir)?;
                // the chunk's mean → its sum
                let m = chunk.len() as f64;
                Ok(hv
                    .iter()
                    .flat_map(|t| t.data().iter().map(move |&h| h * m).collect::<Vec<_>>())
                    .collect())
            })
            .collect::<Result<_>>()?;
        let mut out = vec![0.0; self.dim()];
        for p in parts {
            out.iter_mut().zip(p).for_each(|(a, b)| *a += b);
        }
        let n = rows.len().max(1) as f64;
        Ok(out
            .into_iter()
            .zip(v)
            .map(|(h, vi)| h / n + self.weight_decay * vi)
            .collect())
    }

    fn train_dots(&self, v: &[f64]) -> Result<Vec<f64>> {
        self.dots_of(&self.x, &self.y, v)
    }

    fn train_grads(&self, rows: &[usize]) -> Result<Vec<Vec<f64>>> {
        Ok(self.train_blocks(rows)?.dense())
    }

    fn train_blocks(&self, rows: &[usize]) -> Result<GradBlocks> {
        let x = self.x.select_rows(rows)?;
        let y: Vec<usize> = rows.iter().map(|&i| self.y[i]).collect();
        self.blocks_of(&x, &y)
    }
}

/// One layer's per-example gradients from its input `act` (`rows` examples) and the
/// gradient `delta` at its output (see [`ModelObjective::blocks_of`]).
fn layer_block(
    layer: &LayerSpec,
    act: &Tensor<f64>,
    delta: &[f64],
    rows: usize,
    weight: bool,
    bias: bool,
) -> Result<Block> {
    let a = act.data();
    let (o, geom) = match layer {
        LayerSpec::Linear { in_f, out_f, .. } if act.shape().len() == 2 => {
            return Ok(Block::Outer {
                out: *out_f,
                inp: *in_f,
                delta: delta.to_vec(),
                act: a.to_vec(),
                weight,
                bias,
            });
        }
        LayerSpec::Conv2d {
            out_ch,
            k,
            stride,
            pad,
            ..
        } => {
            let s = act.shape();
            let g = ConvGeom {
                n: 1,
                c: s[1],
                h: s[2],
                w: s[3],
                o: *out_ch,
                kh: *k,
                kw: *k,
                stride: *stride,
                pad: *pad,
            };
            (*out_ch, g)
        }
        other => {
            return invalid(format!(
                "no batched per-example gradient for layer {} on a {}-dimensional input",
                other.name(),
                act.shape().len()
            ));
        }
    };
    let (pos, ck) = (geom.ho() * geom.wo(), geom.ck());
    let d = o * (ck * weight as usize + bias as usize);
    let per_in = a.len() / rows.max(1);
    let mut g = vec![0.0; rows * d];
    let mut cols = vec![0.0; ck * pos];
    for i in 0..rows {
        let out = &mut g[i * d..(i + 1) * d];
        // δᵢ is [o, positions]
        let di = &delta[i * o * pos..(i + 1) * o * pos];
        if weight {
            im2col(&geom, &a[i * per_in..(i + 1) * per_in], &mut cols, pos);
            gemm(
                o,
                pos,
                ck,
                di,
                false,
                &cols,
                true,
                &mut out[..o * ck],
                false,
            );
        }
        if bias {
            let b = &mut out[o * ck * weight as usize..];
            for (c, bc) in b.iter_mut().enumerate() {
                *bc = di[c * pos..(c + 1) * pos].iter().sum();
            }
        }
    }
    Ok(Block::Dense { d, g })
}

/// The model's last linear layer as a [`SoftmaxRegression`] on the features that feed
/// it (computed for `x`), with its weights: `--params last`, Captum's `TracInCPFast`
/// layer. Also returns the layer's name.
pub fn last_layer(
    model: &Model<f32>,
    x: &Tensor<f32>,
    y: Vec<usize>,
    weight_decay: f64,
) -> Result<(SoftmaxRegression, String)> {
    use crate::nn::arch::LayerSpec;
    let layers = &model.arch.layers;
    let Some(LayerSpec::Linear { name, .. }) = layers.last() else {
        return invalid(format!(
            "{} does not end in a linear layer; use --params all",
            model.arch.name
        ));
    };
    let feed = match layers.len() {
        1 => crate::explain::inside::layers::INPUT.to_string(),
        l => layers[l - 2].name().to_string(),
    };
    let feats = crate::explain::inside::layers::features(model, x, &feed)?;
    let w = model.param(&format!("{name}.weight"))?;
    let b = model.param(&format!("{name}.bias")).ok();
    let mut reg = SoftmaxRegression::new(
        feats.cast(),
        y,
        model.arch.num_classes(),
        b.is_some(),
        weight_decay,
    )?;
    let to64 = |t: &Tensor<f32>| t.data().iter().map(|&v| v as f64).collect::<Vec<_>>();
    reg.set_layer(&to64(w), b.map(to64).as_deref())?;
    Ok((reg, name.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::arch::Arch;

    fn inputs(shape: &[usize], seed: u64) -> Tensor<f64> {
        let n: usize = shape.iter().product();
        let v = (0..n)
            .map(|i| ((i as u64 * 7919 + seed * 104_729) % 997) as f64 / 498.5 - 1.0)
            .collect();
        Tensor::new(shape, v).unwrap()
    }

    /// The batched per-example gradients equal one backward pass per example, for
    /// convolutions with and without padding and stride, linear layers, every parameter
    /// or some layers, over more than one chunk of examples.
    #[test]
    fn batched_per_example_gradients_equal_one_pass_each() {
        let n = MODEL_CHUNK + 5;
        for (arch, shape, sets) in [
            (
                "seq:conv2d(1,3,3,padding=1),relu,maxpool2d(2),conv2d(3,4,3,stride=2),relu,flatten,linear(16,5),relu,linear(5,3)",
                vec![n, 1, 10, 10],
                vec![
                    ParamSet::All,
                    ParamSet::Layers(vec!["3".into(), "8".into()]),
                    ParamSet::Layers(vec!["0".into()]),
                ],
            ),
            (
                "seq:conv2d(2,3,3),relu,adaptiveavgpool2d(1),flatten,linear(3,4)",
                vec![n, 2, 6, 6],
                vec![ParamSet::All],
            ),
        ] {
            let arch = Arch::from_name(arch).unwrap();
            let model = Model::<f64>::init(arch, 3);
            let x = inputs(&shape, 1);
            let y: Vec<usize> = (0..n).map(|i| (i * 7) % 3).collect();
            for set in sets {
                let obj =
                    ModelObjective::new(model.clone(), &set, x.clone(), y.clone(), 0.0).unwrap();
                let fast = obj.grads_of(&x, &y).unwrap();
                let slow = obj.grads_one_by_one(&x, &y).unwrap();
                let scale = slow.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
                assert!(scale > 0.0);
                for (a, b) in fast.iter().zip(&slow) {
                    assert_eq!(a.len(), b.len(), "{set:?}");
                    for (u, v) in a.iter().zip(b) {
                        assert!((u - v).abs() <= 1e-13 * scale, "{set:?}: {u} vs {v}");
                    }
                }
            }
        }
    }
}
