//! Softmax over the last axis: `yᵢ = e^{xᵢ−max} / Σⱼ e^{xⱼ−max}`.
//! Backward: `dx = y ⊙ (g − Σ g ⊙ y)` per row.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::{Result, shape_err};
use crate::float::Float;
use crate::tensor::Tensor;

/// Softmax of each row of length `c` (shared with log-softmax and cross-entropy).
pub(crate) fn softmax_rows<T: Float>(x: &[T], c: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(x.len());
    for row in x.chunks(c) {
        let m = row.iter().fold(row[0], |m, &v| m.max_of(v));
        let start = out.len();
        out.extend(row.iter().map(|&v| (v - m).exp()));
        let s: T = out[start..].iter().copied().sum();
        out[start..].iter_mut().for_each(|v| *v /= s);
    }
    out
}

/// Length of the last axis, which must exist and be non-empty.
pub(crate) fn last_axis(shape: &[usize], op: &str) -> Result<usize> {
    match shape.last() {
        Some(&c) if c > 0 => Ok(c),
        _ => shape_err(format!(
            "{op} needs a non-empty last axis, got shape {shape:?}"
        )),
    }
}

impl<T: Float> Tape<T> {
    pub fn softmax(&mut self, x: Var) -> Result<Var> {
        let c = last_axis(self.shape(x), "softmax")?;
        let y = Tensor::new(self.shape(x), softmax_rows(self.value(x).data(), c))?;
        Ok(self.push(y, Op::Softmax(x)))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, x: Var) -> Contribs<T> {
    let n = last_axis(c.out.shape(), "softmax")?;
    let mut dx = Vec::with_capacity(c.out.len());
    for (y, g) in c.out.data().chunks(n).zip(c.g.data().chunks(n)) {
        let dot: T = y.iter().zip(g).map(|(&a, &b)| a * b).sum();
        dx.extend(y.iter().zip(g).map(|(&y, &g)| y * (g - dot)));
    }
    Ok(vec![(x, Tensor::new(c.out.shape(), dx)?)])
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck() {
        assert_gradcheck(
            |t, v| t.softmax(v[0]),
            &[test_input(&[3, 5], 1, 0.0).map(|v| 3.0 * v)],
        );
    }
}
