//! `a ⊙ b` with broadcasting. Backward: `da = reduce(g ⊙ b)`, `db = reduce(g ⊙ a)`.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::Result;
use crate::float::Float;
use crate::tensor::broadcast::{binary, reduce_to};

impl<T: Float> Tape<T> {
    pub fn mul(&mut self, a: Var, b: Var) -> Result<Var> {
        let y = binary(self.value(a), self.value(b), |x, y| x * y)?;
        Ok(self.push(y, Op::Mul(a, b)))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, a: Var, b: Var) -> Contribs<T> {
    let mut out = Vec::new();
    for (v, other) in [(a, b), (b, a)] {
        if c.needs(v) {
            let full = binary(c.g, c.val(other), |g, o| g * o)?;
            out.push((v, reduce_to(&full, c.val(v).shape())?));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck_with_broadcasting() {
        assert_gradcheck(
            |t, v| t.mul(v[0], v[1]),
            &[
                test_input(&[2, 3, 4], 1, 0.0),
                test_input(&[2, 1, 4], 2, 0.0),
            ],
        );
    }

    #[test]
    fn same_var_twice_accumulates() {
        assert_gradcheck(|t, v| t.mul(v[0], v[0]), &[test_input(&[5], 3, 0.0)]);
    }
}
