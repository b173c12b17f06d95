//! Differentiable ops: one file per op, each holding the forward (a method on
//! [`Tape`](crate::autodiff::Tape)), the backward rule and the tests (a finite-difference
//! gradient check in f64, plus the subgradient at kinks where there is one).

pub mod abs;
pub mod add;
pub mod avgpool2d;
pub mod bce_with_logits;
pub mod clamp;
pub mod concat;
pub mod conv2d;
pub mod cross_entropy;
pub mod div;
pub mod dropout;
pub mod exp;
pub mod gather;
pub mod global_avg_pool;
pub mod gru_gates;
pub mod index_select;
pub mod leaky_relu;
pub mod linear;
pub mod log;
pub mod log_softmax;
pub mod matmul;
pub mod max;
pub mod maxpool2d;
pub mod mean;
pub mod mse;
pub mod mul;
pub mod neg;
pub mod permute;
pub mod pow;
pub mod relu;
pub mod reshape;
pub mod sigmoid;
pub mod slice;
pub mod softmax;
pub mod sqrt;
pub mod sub;
pub mod sum;
pub mod tanh;

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::{Result, shape_err};
use crate::float::Float;
use crate::tensor::{Tensor, fmt_shape};

impl<T: Float> Tape<T> {
    /// Records an elementwise op `y = f(x)`.
    pub(crate) fn unary(&mut self, x: Var, f: impl Fn(T) -> T + Sync, op: Op) -> Var {
        let y = self.value(x).map(f);
        self.push(y, op)
    }
}

/// Backward of an elementwise op: `dx = g · d(x, y)` where `d` is the local derivative.
pub(crate) fn elementwise_backward<T: Float>(
    c: &Ctx<T>,
    x: Var,
    d: impl Fn(T, T) -> T + Sync,
) -> Contribs<T> {
    let data = crate::tensor::par_map3(c.g.data(), c.val(x).data(), c.out.data(), |g, x, y| {
        g * d(x, y)
    });
    Ok(vec![(x, Tensor::new(c.g.shape(), data)?)])
}

/// Splits a shape at `axis` into (outer, length, inner) element counts.
pub(crate) fn split_at_axis(shape: &[usize], axis: usize) -> Result<(usize, usize, usize)> {
    if axis >= shape.len() {
        return shape_err(format!(
            "axis {axis} out of range for shape {}",
            fmt_shape(shape)
        ));
    }
    Ok((
        shape[..axis].iter().product(),
        shape[axis],
        shape[axis + 1..].iter().product(),
    ))
}

/// The shape with the given axes kept as size 1 (the "keepdim" shape of a reduction).
pub(crate) fn keepdim_shape(shape: &[usize], axes: &[usize]) -> Result<Vec<usize>> {
    let mut s = shape.to_vec();
    for &a in axes {
        if a >= shape.len() {
            return shape_err(format!(
                "axis {a} out of range for shape {}",
                fmt_shape(shape)
            ));
        }
        s[a] = 1;
    }
    Ok(s)
}

/// Checks that a tensor is 4-D `[N,C,H,W]`, naming the op in the error.
pub fn expect_4d(shape: &[usize], op: &str) -> Result<(usize, usize, usize, usize)> {
    match shape {
        &[n, c, h, w] => Ok((n, c, h, w)),
        _ => shape_err(format!(
            "{op} needs a 4-D [N,C,H,W] input, got {}",
            fmt_shape(shape)
        )),
    }
}
