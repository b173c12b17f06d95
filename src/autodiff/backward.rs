//! The reverse loop: from the output node back to the first node, each node hands the
//! gradient of its output to its inputs by the rule of its [`Op`].

use super::{Op, Tape, Var};
use crate::error::{Result, invalid, shape_err};
use crate::float::Float;
use crate::ops;
use crate::tensor::{Tensor, fmt_shape};

/// How ReLU passes gradients back, chosen per backward call.
///
/// * `Standard`: `g · 1[x > 0]` (the true gradient; 0 at x = 0, as in PyTorch).
/// * `GuidedBackprop` (Springenberg et al. 2015): `g · 1[x > 0] · 1[g > 0]`.
/// * `Deconvnet` (Zeiler & Fergus 2014): `max(g, 0)`, ignoring the forward input.
///
/// Every other op uses its true gradient under every rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BackwardRule {
    #[default]
    Standard,
    GuidedBackprop,
    Deconvnet,
}

/// What an op's backward rule may look at.
pub(crate) struct Ctx<'a, T> {
    pub tape: &'a Tape<T>,
    /// The op's own output value.
    pub out: &'a Tensor<T>,
    /// The gradient flowing into the op's output.
    pub g: &'a Tensor<T>,
    pub rule: BackwardRule,
}

impl<T: Float> Ctx<'_, T> {
    pub fn val(&self, v: Var) -> &Tensor<T> {
        self.tape.value(v)
    }
    /// Whether the gradient of `v` is wanted at all.
    pub fn needs(&self, v: Var) -> bool {
        self.tape.requires_grad(v)
    }
}

/// Gradients of one backward call, for every node that requires one.
#[derive(Clone, Debug)]
pub struct Gradients<T> {
    grads: Vec<Option<Tensor<T>>>,
    shapes: Vec<Vec<usize>>,
}

impl<T: Float> Gradients<T> {
    /// The gradient at `v` (zeros if `v` does not influence the output).
    pub fn get(&self, v: Var) -> Tensor<T> {
        match &self.grads[v.0] {
            Some(t) => t.clone(),
            None => Tensor::zeros(&self.shapes[v.0]),
        }
    }

    /// The gradient at `v`, moved out (zeros if `v` does not influence the output).
    pub fn take(&mut self, v: Var) -> Tensor<T> {
        self.grads[v.0]
            .take()
            .unwrap_or_else(|| Tensor::zeros(&self.shapes[v.0]))
    }
}

impl<T: Float> Tape<T> {
    /// Gradient of a one-element output (a loss) with respect to every node.
    pub fn backward(&self, out: Var) -> Result<Gradients<T>> {
        let shape = self.shape(out).to_vec();
        if shape.iter().product::<usize>() != 1 {
            return shape_err(format!(
                "backward() needs a one-element output, got {}; use backward_with() and a seed",
                fmt_shape(&shape)
            ));
        }
        self.backward_with(out, Tensor::ones(&shape), BackwardRule::Standard)
    }

    /// Vector-Jacobian product: the gradient of `Σ seed ⊙ out` with respect to every
    /// node, with ReLU following `rule`. A one-hot seed on class c gives ∂y_c/∂(node).
    pub fn backward_with(
        &self,
        out: Var,
        seed: Tensor<T>,
        rule: BackwardRule,
    ) -> Result<Gradients<T>> {
        if !self.grad_enabled() {
            return invalid("backward on a no-grad tape: create it with Tape::new()");
        }
        if seed.shape() != self.shape(out) {
            return shape_err(format!(
                "seed shape {} does not match output shape {}",
                fmt_shape(seed.shape()),
                fmt_shape(self.shape(out))
            ));
        }
        if !self.requires_grad(out) {
            return invalid("the output does not depend on any leaf that requires a gradient");
        }
        let mut grads: Vec<Option<Tensor<T>>> = vec![None; out.0 + 1];
        grads[out.0] = Some(seed);
        for i in (0..=out.0).rev() {
            let Some(g) = grads[i].take() else { continue };
            let node = &self.nodes[i];
            let ctx = Ctx {
                tape: self,
                out: &node.value,
                g: &g,
                rule,
            };
            for (v, dv) in node_backward(&ctx, &node.op)? {
                if !self.requires_grad(v) {
                    continue;
                }
                match &mut grads[v.0] {
                    Some(acc) => acc.add_assign(&dv)?,
                    slot @ None => *slot = Some(dv),
                }
            }
            grads[i] = Some(g);
        }
        let shapes = self.nodes[..=out.0]
            .iter()
            .map(|n| n.value.shape().to_vec())
            .collect();
        Ok(Gradients { grads, shapes })
    }
}

/// Contributions of one node to the gradients of its inputs.
pub(crate) type Contribs<T> = Result<Vec<(Var, Tensor<T>)>>;

fn node_backward<T: Float>(c: &Ctx<T>, op: &Op) -> Contribs<T> {
    use Op::*;
    match op {
        Leaf => Ok(vec![]),
        Add(a, b) => ops::add::backward(c, *a, *b),
        Sub(a, b) => ops::sub::backward(c, *a, *b),
        Mul(a, b) => ops::mul::backward(c, *a, *b),
        Div(a, b) => ops::div::backward(c, *a, *b),
        Neg(x) => ops::neg::backward(c, *x),
        Abs(x) => ops::abs::backward(c, *x),
        Pow(x, p) => ops::pow::backward(c, *x, *p),
        Exp(x) => ops::exp::backward(c, *x),
        Log(x) => ops::log::backward(c, *x),
        Sqrt(x) => ops::sqrt::backward(c, *x),
        Clamp { x, lo, hi } => ops::clamp::backward(c, *x, *lo, *hi),
        MatMul { a, b, trans_b } => ops::matmul::backward(c, *a, *b, *trans_b),
        Linear { x, w, b, relu } => ops::linear::backward(c, *x, *w, *b, *relu),
        Conv2d {
            x,
            w,
            b,
            stride,
            pad,
            then,
        } => ops::conv2d::backward(c, [*x, *w], *b, [*stride, *pad], then),
        MaxPool2d { x, argmax, .. } => ops::maxpool2d::backward(c, *x, argmax),
        AvgPool2d { x, k, stride } => ops::avgpool2d::backward(c, *x, *k, *stride),
        GlobalAvgPool(x) => ops::global_avg_pool::backward(c, *x),
        Relu(x) => ops::relu::backward(c, *x),
        LeakyRelu(x, s) => ops::leaky_relu::backward(c, *x, *s),
        Sigmoid(x) => ops::sigmoid::backward(c, *x),
        Tanh(x) => ops::tanh::backward(c, *x),
        Softmax(x) => ops::softmax::backward(c, *x),
        LogSoftmax(x) => ops::log_softmax::backward(c, *x),
        CrossEntropy {
            logits,
            targets,
            mean,
        } => ops::cross_entropy::backward(c, *logits, targets, *mean),
        Mse(a, b) => ops::mse::backward(c, *a, *b),
        BceWithLogits(x, y) => ops::bce_with_logits::backward(c, *x, *y),
        Sum { x, axes } => ops::sum::backward(c, *x, axes),
        Mean { x, axes } => ops::mean::backward(c, *x, axes),
        Max { x, axis, argmax } => ops::max::backward(c, *x, *axis, argmax),
        Reshape(x) => ops::reshape::backward(c, *x),
        Permute(x, perm) => ops::permute::backward(c, *x, perm),
        Slice { x, axis, start } => ops::slice::backward(c, *x, *axis, *start),
        Concat { xs, axis } => ops::concat::backward(c, xs, *axis),
        IndexSelect { x, axis, indices } => ops::index_select::backward(c, *x, *axis, indices),
        Gather { x, idx } => ops::gather::backward(c, *x, idx),
        Dropout { x, keep, scale } => ops::dropout::backward(c, *x, keep, *scale),
        GruGates { gi, gh, h, saved } => ops::gru_gates::backward(c, *gi, *gh, *h, *saved),
    }
}
