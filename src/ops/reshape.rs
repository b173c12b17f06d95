//! Reshape (same elements, new shape) and flatten. Backward: reshape `g` back.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::{Result, shape_err};
use crate::float::Float;
use crate::tensor::fmt_shape;

impl<T: Float> Tape<T> {
    pub fn reshape(&mut self, x: Var, shape: &[usize]) -> Result<Var> {
        let y = self.value(x).clone().reshape(shape)?;
        Ok(self.push(y, Op::Reshape(x)))
    }

    /// `[N, ...] → [N, prod(...)]` in C order (PyTorch's `flatten(1)`).
    pub fn flatten(&mut self, x: Var) -> Result<Var> {
        let s = self.shape(x);
        if s.is_empty() {
            return shape_err(format!("flatten needs a batch axis, got {}", fmt_shape(s)));
        }
        let shape = [s[0], s[1..].iter().product()];
        self.reshape(x, &shape)
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, x: Var) -> Contribs<T> {
    Ok(vec![(x, c.g.clone().reshape(c.val(x).shape())?)])
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck() {
        assert_gradcheck(
            |t, v| t.reshape(v[0], &[4, 6]),
            &[test_input(&[2, 3, 4], 1, 0.0)],
        );
        assert_gradcheck(|t, v| t.flatten(v[0]), &[test_input(&[2, 3, 4], 1, 0.0)]);
    }
}
