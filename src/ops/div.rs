//! `a / b` with broadcasting. Backward: `da = reduce(g / b)`, `db = −reduce(g ⊙ a / b²)`.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::Result;
use crate::float::Float;
use crate::tensor::broadcast::{binary, reduce_to};

impl<T: Float> Tape<T> {
    pub fn div(&mut self, a: Var, b: Var) -> Result<Var> {
        let y = binary(self.value(a), self.value(b), |x, y| x / y)?;
        Ok(self.push(y, Op::Div(a, b)))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, a: Var, b: Var) -> Contribs<T> {
    let mut out = Vec::new();
    let g_over_b = binary(c.g, c.val(b), |g, b| g / b)?;
    if c.needs(a) {
        out.push((a, reduce_to(&g_over_b, c.val(a).shape())?));
    }
    if c.needs(b) {
        // −g·a/b² = −(g/b)·y
        let full = g_over_b.zip(c.out, |gb, y| -gb * y)?;
        out.push((b, reduce_to(&full, c.val(b).shape())?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck_with_broadcasting() {
        assert_gradcheck(
            |t, v| t.div(v[0], v[1]),
            &[test_input(&[2, 3], 1, 0.0), test_input(&[3], 2, 0.5)],
        );
    }
}
