//! Reverse-mode automatic differentiation on a tape (a Wengert list).
//!
//! Every op appends one [`Node`] holding its output value and an [`Op`] that names its
//! inputs by [`Var`] index. Because inputs always come before outputs, backward is a
//! single loop from the last node to the first (see [`backward`]). There are no
//! reference-counted graph objects: a `Var` is just an index into the tape.

pub mod backward;
pub mod dual;
pub mod gradcheck;
pub mod hvp;

pub use backward::{BackwardRule, Gradients};

use crate::float::Float;
use crate::tensor::Tensor;

/// A handle to a node of a [`Tape`]: the index of the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Var(pub(crate) usize);

impl Var {
    pub fn index(self) -> usize {
        self.0
    }
}

/// What produced a node. The match over this enum in [`backward`] is exhaustive, so a
/// new op cannot compile without its backward rule.
#[derive(Clone, Debug)]
pub enum Op {
    /// An input or parameter (or anything recorded in no-grad mode).
    Leaf,
    Add(Var, Var),
    Sub(Var, Var),
    Mul(Var, Var),
    Div(Var, Var),
    Neg(Var),
    Abs(Var),
    Pow(Var, f64),
    Exp(Var),
    Log(Var),
    Sqrt(Var),
    Clamp {
        x: Var,
        lo: f64,
        hi: f64,
    },
    /// `a · b` (or `a · bᵀ`), batched over leading axes.
    MatMul {
        a: Var,
        b: Var,
        trans_b: bool,
    },
    /// A linear layer `x · Wᵀ + b`, with `relu` the ReLU after it.
    Linear {
        x: Var,
        w: Var,
        b: Var,
        relu: bool,
    },
    Conv2d {
        x: Var,
        w: Var,
        b: Option<Var>,
        stride: usize,
        pad: usize,
        /// The layers run with it, whose output this op's is.
        then: ConvThen,
    },
    MaxPool2d {
        x: Var,
        k: usize,
        stride: usize,
        argmax: Vec<usize>,
    },
    AvgPool2d {
        x: Var,
        k: usize,
        stride: usize,
    },
    GlobalAvgPool(Var),
    Relu(Var),
    LeakyRelu(Var, f64),
    Sigmoid(Var),
    Tanh(Var),
    Softmax(Var),
    LogSoftmax(Var),
    CrossEntropy {
        logits: Var,
        targets: Vec<usize>,
        mean: bool,
    },
    Mse(Var, Var),
    BceWithLogits(Var, Var),
    Sum {
        x: Var,
        axes: Vec<usize>,
    },
    Mean {
        x: Var,
        axes: Vec<usize>,
    },
    Max {
        x: Var,
        axis: usize,
        argmax: Vec<usize>,
    },
    Reshape(Var),
    Permute(Var, Vec<usize>),
    Slice {
        x: Var,
        axis: usize,
        start: usize,
    },
    Concat {
        xs: Vec<Var>,
        axis: usize,
    },
    IndexSelect {
        x: Var,
        axis: usize,
        indices: Vec<usize>,
    },
    /// `out[i] = x[i, idx[i]]` for a `[n, c]` input.
    Gather {
        x: Var,
        idx: Vec<usize>,
    },
    Dropout {
        x: Var,
        keep: Vec<bool>,
        scale: f64,
    },
    /// One GRU step's gates: projections `gi`, `gh` `[N, 3H]` and state `h` `[N, H]` to
    /// the next state; `saved` is the constant node holding r, z and n for backward.
    GruGates {
        gi: Var,
        gh: Var,
        h: Var,
        saved: Var,
    },
}

/// What a convolution op runs on its output before keeping it: the layers after it that
/// it fuses ([`Tape::conv2d_relu`], [`Tape::conv2d_relu_pool`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConvThen {
    Nothing,
    Relu,
    /// A ReLU, then max-pooling over `k × k` windows with a stride; `argmax` as
    /// [`Op::MaxPool2d`]'s (indices into the convolution's `[N, O, H, W]` output), empty
    /// where no gradient is wanted.
    ReluPool {
        k: usize,
        stride: usize,
        argmax: Vec<usize>,
    },
}

impl Op {
    /// The nodes this op reads.
    pub fn inputs(&self) -> Vec<Var> {
        use Op::*;
        match self {
            Leaf => vec![],
            Add(a, b) | Sub(a, b) | Mul(a, b) | Div(a, b) | Mse(a, b) | BceWithLogits(a, b) => {
                vec![*a, *b]
            }
            MatMul { a, b, .. } => vec![*a, *b],
            Neg(x)
            | Abs(x)
            | Pow(x, _)
            | Exp(x)
            | Log(x)
            | Sqrt(x)
            | Relu(x)
            | LeakyRelu(x, _)
            | Sigmoid(x)
            | Tanh(x)
            | Softmax(x)
            | LogSoftmax(x)
            | GlobalAvgPool(x)
            | Reshape(x)
            | Permute(x, _) => vec![*x],
            Clamp { x, .. }
            | MaxPool2d { x, .. }
            | AvgPool2d { x, .. }
            | Sum { x, .. }
            | Mean { x, .. }
            | Max { x, .. }
            | Slice { x, .. }
            | IndexSelect { x, .. }
            | Gather { x, .. }
            | Dropout { x, .. } => vec![*x],
            CrossEntropy { logits, .. } => vec![*logits],
            Linear { x, w, b, .. } => vec![*x, *w, *b],
            Conv2d { x, w, b, .. } => {
                let mut v = vec![*x, *w];
                v.extend(b);
                v
            }
            Concat { xs, .. } => xs.clone(),
            GruGates { gi, gh, h, .. } => vec![*gi, *gh, *h],
        }
    }
}

/// One entry of the tape.
#[derive(Clone, Debug)]
pub struct Node<T> {
    pub value: Tensor<T>,
    pub op: Op,
    pub requires_grad: bool,
}

/// The Wengert list.
#[derive(Clone, Debug)]
pub struct Tape<T> {
    pub(crate) nodes: Vec<Node<T>>,
    grad_enabled: bool,
}

impl<T: Float> Default for Tape<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Float> Tape<T> {
    /// A tape that records ops for backward.
    pub fn new() -> Self {
        Tape {
            nodes: Vec::new(),
            grad_enabled: true,
        }
    }

    /// A tape that records no ops: values are computed and kept (so `Var`s still work),
    /// but nothing is saved for backward and no node requires a gradient.
    pub fn no_grad() -> Self {
        Tape {
            nodes: Vec::new(),
            grad_enabled: false,
        }
    }

    pub fn grad_enabled(&self) -> bool {
        self.grad_enabled
    }

    /// A leaf whose gradient is wanted (a parameter, or an input being explained).
    pub fn leaf(&mut self, value: Tensor<T>) -> Var {
        let requires_grad = self.grad_enabled;
        self.nodes.push(Node {
            value,
            op: Op::Leaf,
            requires_grad,
        });
        Var(self.nodes.len() - 1)
    }

    /// A leaf that needs no gradient (data, targets).
    pub fn constant(&mut self, value: Tensor<T>) -> Var {
        self.nodes.push(Node {
            value,
            op: Op::Leaf,
            requires_grad: false,
        });
        Var(self.nodes.len() - 1)
    }

    /// Whether an op on `inputs` is kept for backward: in grad mode, when one of them
    /// needs a gradient. (Ops ask before computing what only backward reads.)
    pub(crate) fn wants_grad(&self, inputs: &[Var]) -> bool {
        self.grad_enabled && inputs.iter().any(|v| self.nodes[v.0].requires_grad)
    }

    /// Appends the result of an op. In no-grad mode, or when no input needs a gradient,
    /// the op is not kept.
    pub(crate) fn push(&mut self, value: Tensor<T>, op: Op) -> Var {
        let requires_grad = self.wants_grad(&op.inputs());
        let op = if requires_grad { op } else { Op::Leaf };
        self.nodes.push(Node {
            value,
            op,
            requires_grad,
        });
        Var(self.nodes.len() - 1)
    }

    pub fn value(&self, v: Var) -> &Tensor<T> {
        &self.nodes[v.0].value
    }

    pub fn shape(&self, v: Var) -> &[usize] {
        self.nodes[v.0].value.shape()
    }

    pub fn requires_grad(&self, v: Var) -> bool {
        self.nodes[v.0].requires_grad
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn op(&self, v: Var) -> &Op {
        &self.nodes[v.0].op
    }
}
