//! Maximum over one axis. Backward: the gradient goes to the first maximum.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::{Result, invalid};
use crate::float::Float;
use crate::tensor::Tensor;

impl<T: Float> Tape<T> {
    pub fn max(&mut self, x: Var, axis: usize, keepdim: bool) -> Result<Var> {
        let (outer, len, inner) = super::split_at_axis(self.shape(x), axis)?;
        if len == 0 {
            return invalid("max over an empty axis");
        }
        let xd = self.value(x).data();
        let mut vals = Vec::with_capacity(outer * inner);
        let mut argmax = Vec::with_capacity(outer * inner);
        for o in 0..outer {
            for i in 0..inner {
                let mut best = o * len * inner + i;
                for l in 1..len {
                    let j = (o * len + l) * inner + i;
                    if xd[j] > xd[best] {
                        best = j;
                    }
                }
                vals.push(xd[best]);
                argmax.push(best);
            }
        }
        let shape = super::sum::reduced_shape(self.shape(x), &[axis], keepdim)?;
        Ok(self.push(Tensor::new(&shape, vals)?, Op::Max { x, axis, argmax }))
    }
}

pub(crate) fn backward<T: Float>(
    c: &Ctx<T>,
    x: Var,
    _axis: usize,
    argmax: &[usize],
) -> Contribs<T> {
    let mut dx = Tensor::zeros(c.val(x).shape());
    let d = dx.data_mut();
    for (&j, &g) in argmax.iter().zip(c.g.data()) {
        d[j] += g;
    }
    Ok(vec![(x, dx)])
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck_each_axis() {
        for axis in 0..3 {
            assert_gradcheck(
                |t, v| t.max(v[0], axis, false),
                &[test_input(&[2, 3, 4], 1, 0.0)],
            );
        }
    }
}
