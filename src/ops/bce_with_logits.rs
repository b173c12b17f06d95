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
        let (x, y) = (self.value(logits), self.value(targets));
        // `ln(1 + e^{−|x|})` first, the costly part (libm's `exp` and `ln`, for f32 in
        // vector lanes with their bits: `tensor::vlibm`)
        let l = x
            .softplus_neg_abs()
            .zip3(x, y, |s, x, y| x.max_of(T::zero()) - x * y + s)?;
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
        // σ by `Tensor::sigmoid`: `Float::sigmoid`'s bits, eight lanes at a time
        let s = c.val(x).sigmoid();
        out.push((x, s.zip(c.val(y), |s, y| k * (s - y))?));
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
