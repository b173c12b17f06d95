//! `√x`. Backward: `dx = g / (2y)`.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::float::Float;

impl<T: Float> Tape<T> {
    pub fn sqrt(&mut self, x: Var) -> Var {
        self.unary(x, |v| v.sqrt(), Op::Sqrt(x))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, x: Var) -> Contribs<T> {
    super::elementwise_backward(c, x, |_, y| T::one() / (y + y))
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck() {
        let pos = test_input(&[3, 4], 1, 0.2).map(|v| v.abs());
        assert_gradcheck(|t, v| Ok(t.sqrt(v[0])), &[pos]);
    }
}
