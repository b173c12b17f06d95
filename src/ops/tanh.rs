//! `tanh x`. Backward: `g · (1 − y²)`.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::float::Float;

impl<T: Float> Tape<T> {
    pub fn tanh(&mut self, x: Var) -> Var {
        let y = self.value(x).tanh();
        self.push(y, Op::Tanh(x))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, x: Var) -> Contribs<T> {
    super::elementwise_backward(c, x, |_, y| T::one() - y * y)
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck() {
        assert_gradcheck(
            |t, v| Ok(t.tanh(v[0])),
            &[test_input(&[3, 4], 1, 0.0).map(|v| 2.0 * v)],
        );
    }
}
