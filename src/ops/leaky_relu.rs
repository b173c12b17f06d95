//! `x` if x > 0 else `slope·x`. Backward: `g` or `slope·g` (slope at x = 0, as PyTorch).

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::float::Float;

impl<T: Float> Tape<T> {
    pub fn leaky_relu(&mut self, x: Var, slope: f64) -> Var {
        let s = T::from_f64_lossy(slope);
        self.unary(
            x,
            |v| if v > T::zero() { v } else { s * v },
            Op::LeakyRelu(x, slope),
        )
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, x: Var, slope: f64) -> Contribs<T> {
    let s = T::from_f64_lossy(slope);
    super::elementwise_backward(c, x, |x, _| if x > T::zero() { T::one() } else { s })
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck_away_from_zero() {
        assert_gradcheck(
            |t, v| Ok(t.leaky_relu(v[0], 0.01)),
            &[test_input(&[3, 5], 1, 0.1)],
        );
    }

    #[test]
    fn subgradient_at_zero_is_the_slope() {
        let mut t = crate::autodiff::Tape::<f64>::new();
        let x = t.leaf(crate::tensor::Tensor::zeros(&[1]));
        let y = t.leaky_relu(x, 0.2);
        assert_eq!(t.backward(y).unwrap().get(x).data(), &[0.2]);
    }
}
