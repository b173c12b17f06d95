//! `|x|`. Backward: `dx = g · sign(x)`, with sign(0) = 0 (PyTorch's subgradient).

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::float::Float;

impl<T: Float> Tape<T> {
    pub fn abs(&mut self, x: Var) -> Var {
        self.unary(x, |v| v.abs(), Op::Abs(x))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, x: Var) -> Contribs<T> {
    super::elementwise_backward(c, x, |x, _| {
        if x > T::zero() {
            T::one()
        } else if x < T::zero() {
            -T::one()
        } else {
            T::zero()
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::autodiff::Tape;
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};
    use crate::tensor::Tensor;

    #[test]
    fn gradcheck_away_from_zero() {
        assert_gradcheck(|t, v| Ok(t.abs(v[0])), &[test_input(&[3, 4], 1, 0.1)]);
    }

    #[test]
    fn subgradient_at_zero_is_zero() {
        let mut t = Tape::<f64>::new();
        let x = t.leaf(Tensor::from_f64(&[3], &[-2.0, 0.0, 2.0]).unwrap());
        let y = t.abs(x);
        let s = t.sum_all(y);
        assert_eq!(t.backward(s).unwrap().get(x).data(), &[-1.0, 0.0, 1.0]);
    }
}
