//! Natural logarithm `ln x`. Backward: `dx = g / x`.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::float::Float;

impl<T: Float> Tape<T> {
    pub fn log(&mut self, x: Var) -> Var {
        self.unary(x, |v| v.ln(), Op::Log(x))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, x: Var) -> Contribs<T> {
    super::elementwise_backward(c, x, |x, _| T::one() / x)
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck() {
        let pos = test_input(&[3, 4], 1, 0.2).map(|v| v.abs());
        assert_gradcheck(|t, v| Ok(t.log(v[0])), &[pos]);
    }
}
