//! Log-softmax over the last axis: `yᵢ = xᵢ − max − ln Σⱼ e^{xⱼ−max}`.
//! Backward: `dx = g − softmax(x) · Σ g` per row.

use super::softmax::last_axis;
use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::Result;
use crate::float::Float;
use crate::tensor::Tensor;

/// Log-softmax of each row of length `c`.
pub(crate) fn log_softmax_rows<T: Float>(x: &[T], c: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(x.len());
    for row in x.chunks(c) {
        let m = row.iter().fold(row[0], |m, &v| m.max_of(v));
        let lse = row.iter().map(|&v| (v - m).exp()).sum::<T>().ln() + m;
        out.extend(row.iter().map(|&v| v - lse));
    }
    out
}

impl<T: Float> Tape<T> {
    pub fn log_softmax(&mut self, x: Var) -> Result<Var> {
        let c = last_axis(self.shape(x), "log_softmax")?;
        let y = Tensor::new(self.shape(x), log_softmax_rows(self.value(x).data(), c))?;
        Ok(self.push(y, Op::LogSoftmax(x)))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, x: Var) -> Contribs<T> {
    let n = last_axis(c.out.shape(), "log_softmax")?;
    let mut dx = Vec::with_capacity(c.out.len());
    for (y, g) in c.out.data().chunks(n).zip(c.g.data().chunks(n)) {
        let s: T = g.iter().copied().sum();
        dx.extend(y.iter().zip(g).map(|(&y, &g)| g - y.exp() * s));
    }
    Ok(vec![(x, Tensor::new(c.out.shape(), dx)?)])
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck() {
        assert_gradcheck(
            |t, v| t.log_softmax(v[0]),
            &[test_input(&[3, 5], 1, 0.0).map(|v| 3.0 * v)],
        );
    }
}
