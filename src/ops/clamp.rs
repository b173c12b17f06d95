//! `clamp(x, lo, hi)`. Backward: `dx = g · 1[lo ≤ x ≤ hi]` (bounds inclusive, as PyTorch).

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::float::Float;

impl<T: Float> Tape<T> {
    pub fn clamp(&mut self, x: Var, lo: f64, hi: f64) -> Var {
        let (l, h) = (T::from_f64_lossy(lo), T::from_f64_lossy(hi));
        self.unary(x, |v| v.max_of(l).min_of(h), Op::Clamp { x, lo, hi })
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, x: Var, lo: f64, hi: f64) -> Contribs<T> {
    let (l, h) = (T::from_f64_lossy(lo), T::from_f64_lossy(hi));
    super::elementwise_backward(c, x, |x, _| {
        if x >= l && x <= h {
            T::one()
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
    fn gradcheck_away_from_bounds() {
        assert_gradcheck(
            |t, v| Ok(t.clamp(v[0], -0.5, 0.5)),
            &[test_input(&[20], 1, 0.0)
                .map(|v| if (v.abs() - 0.5).abs() < 0.01 { 0.1 } else { v })],
        );
    }

    #[test]
    fn gradient_at_the_bounds_passes() {
        let mut t = Tape::<f64>::new();
        let x = t.leaf(Tensor::from_f64(&[4], &[-1.0, -0.5, 0.5, 1.0]).unwrap());
        let y = t.clamp(x, -0.5, 0.5);
        let s = t.sum_all(y);
        assert_eq!(t.backward(s).unwrap().get(x).data(), &[0.0, 1.0, 1.0, 0.0]);
    }
}
