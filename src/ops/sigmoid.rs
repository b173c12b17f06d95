//! Logistic sigmoid `σ(x) = 1/(1+e⁻ˣ)`. Backward: `g · y(1−y)`.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::float::Float;

impl<T: Float> Tape<T> {
    pub fn sigmoid(&mut self, x: Var) -> Var {
        let y = self.value(x).sigmoid();
        self.push(y, Op::Sigmoid(x))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, x: Var) -> Contribs<T> {
    super::elementwise_backward(c, x, |_, y| y * (T::one() - y))
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck() {
        assert_gradcheck(
            |t, v| Ok(t.sigmoid(v[0])),
            &[test_input(&[3, 4], 1, 0.0).map(|v| 4.0 * v)],
        );
    }
}
