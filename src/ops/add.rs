//! `a + b` with broadcasting. Backward: `da = reduce(g)`, `db = reduce(g)`, where reduce
//! sums over the broadcast axes.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::Result;
use crate::float::Float;
use crate::tensor::broadcast::{binary, reduce_to};

impl<T: Float> Tape<T> {
    pub fn add(&mut self, a: Var, b: Var) -> Result<Var> {
        let y = binary(self.value(a), self.value(b), |x, y| x + y)?;
        Ok(self.push(y, Op::Add(a, b)))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, a: Var, b: Var) -> Contribs<T> {
    let mut out = Vec::new();
    for v in [a, b] {
        if c.needs(v) {
            out.push((v, reduce_to(c.g, c.val(v).shape())?));
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
            |t, v| t.add(v[0], v[1]),
            &[test_input(&[2, 3, 4], 1, 0.0), test_input(&[3, 1], 2, 0.0)],
        );
    }

    #[test]
    fn shape_error_names_both_shapes() {
        let mut t = crate::autodiff::Tape::<f32>::new();
        let a = t.leaf(crate::tensor::Tensor::zeros(&[2, 3]));
        let b = t.leaf(crate::tensor::Tensor::zeros(&[4]));
        let e = t.add(a, b).unwrap_err().to_string();
        assert!(e.contains("[2, 3]") && e.contains("[4]"), "{e}");
    }
}
