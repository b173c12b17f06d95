//! `a − b` with broadcasting. Backward: `da = reduce(g)`, `db = −reduce(g)`.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::Result;
use crate::float::Float;
use crate::tensor::broadcast::{binary, reduce_to};

impl<T: Float> Tape<T> {
    pub fn sub(&mut self, a: Var, b: Var) -> Result<Var> {
        let y = binary(self.value(a), self.value(b), |x, y| x - y)?;
        Ok(self.push(y, Op::Sub(a, b)))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, a: Var, b: Var) -> Contribs<T> {
    let mut out = Vec::new();
    if c.needs(a) {
        out.push((a, reduce_to(c.g, c.val(a).shape())?));
    }
    if c.needs(b) {
        out.push((b, reduce_to(c.g, c.val(b).shape())?.map(|v| -v)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck_with_broadcasting() {
        assert_gradcheck(
            |t, v| t.sub(v[0], v[1]),
            &[test_input(&[4], 1, 0.0), test_input(&[2, 3, 4], 2, 0.0)],
        );
    }
}
