//! Binary cross-entropy on logits, mean over elements:
//! `mean(max(x,0) − x·y + ln(1 + e^{−|x|}))` (stable for any x).
//! Backward: `dx = g(σ(x) − y)/n`, `dy = −g·x/n`.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::{Result, invalid};
use crate::float::Float;
use crate::tensor::Tensor;

impl<T: Float> Tape<T> {
    pub fn bce_with_logits(&mut self, logits: Var, targets: Var) -> Result<Var> {
        let l = self.value(logits).zip(self.value(targets), |x, y| {
            x.max_of(T::zero()) - x * y + (T::one() + (-x.abs()).exp()).ln()
        })?;
        if l.is_empty() {
            return invalid("bce_with_logits of empty tensors");
        }
        let y = Tensor::scalar(l.sum() / T::from_usize(l.len()).unwrap_or(T::one()));
        Ok(self.push(y, Op::BceWithLogits(logits, targets)))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, x: Var, y: Var) -> Contribs<T> {
    let k = c.g.data()[0] / T::from_usize(c.val(x).len()).unwrap_or(T::one());
    let mut out = Vec::new();
    if c.needs(x) {
        out.push((x, c.val(x).zip(c.val(y), |x, y| k * (x.sigmoid() - y))?));
    }
    if c.needs(y) {
        out.push((y, c.val(x).map(|x| -k * x)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck() {
        let y = test_input(&[3, 4], 2, 0.0).map(|v| (v + 1.0) / 2.0);
        assert_gradcheck(
            |t, v| t.bce_with_logits(v[0], v[1]),
            &[test_input(&[3, 4], 1, 0.0).map(|v| 5.0 * v), y],
        );
    }
}
