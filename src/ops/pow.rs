//! `x^p` for a real exponent p. Backward: `dx = g · p · x^(p−1)`.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::float::Float;

impl<T: Float> Tape<T> {
    pub fn pow(&mut self, x: Var, p: f64) -> Var {
        self.unary(x, |v| v.powf(p), Op::Pow(x, p))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, x: Var, p: f64) -> Contribs<T> {
    let pt = T::from_f64_lossy(p);
    super::elementwise_backward(c, x, |x, _| {
        if p == 0.0 {
            T::zero()
        } else {
            pt * x.powf(p - 1.0)
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck_integer_and_fractional_powers() {
        assert_gradcheck(|t, v| Ok(t.pow(v[0], 3.0)), &[test_input(&[3, 4], 1, 0.0)]);
        let pos = test_input(&[5], 2, 0.2).map(|v| v.abs());
        assert_gradcheck(|t, v| Ok(t.pow(v[0], -1.5)), &[pos]);
    }
}
