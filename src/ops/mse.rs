//! Mean squared error `mean((a − b)²)` over equal shapes.
//! Backward: `da = 2g(a − b)/n`, `db = −da`.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::{Result, invalid};
use crate::float::Float;
use crate::tensor::Tensor;

impl<T: Float> Tape<T> {
    pub fn mse(&mut self, a: Var, b: Var) -> Result<Var> {
        let d = self.value(a).zip(self.value(b), |x, y| x - y)?;
        if d.is_empty() {
            return invalid("mse of empty tensors");
        }
        let n = T::from_usize(d.len()).unwrap_or(T::one());
        let y = Tensor::scalar(d.data().iter().map(|&v| v * v).sum::<T>() / n);
        Ok(self.push(y, Op::Mse(a, b)))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, a: Var, b: Var) -> Contribs<T> {
    let n = T::from_usize(c.val(a).len()).unwrap_or(T::one());
    let k = c.g.data()[0] * T::from_f64_lossy(2.0) / n;
    let da = c.val(a).zip(c.val(b), |x, y| k * (x - y))?;
    let mut out = Vec::new();
    if c.needs(b) {
        out.push((b, da.map(|v| -v)));
    }
    if c.needs(a) {
        out.push((a, da));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck() {
        assert_gradcheck(
            |t, v| t.mse(v[0], v[1]),
            &[test_input(&[3, 4], 1, 0.0), test_input(&[3, 4], 2, 0.0)],
        );
    }
}
