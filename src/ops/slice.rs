//! `x[.., start..end, ..]` along one axis. Backward: `g` placed back, zeros elsewhere.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::{Result, shape_err};
use crate::float::Float;
use crate::tensor::{Tensor, fmt_shape};

impl<T: Float> Tape<T> {
    pub fn slice(&mut self, x: Var, axis: usize, start: usize, end: usize) -> Result<Var> {
        let (outer, len, inner) = super::split_at_axis(self.shape(x), axis)?;
        if start > end || end > len {
            return shape_err(format!(
                "slice {start}..{end} of axis {axis} out of range for {}",
                fmt_shape(self.shape(x))
            ));
        }
        let xd = self.value(x).data();
        let mut out = Vec::with_capacity(outer * (end - start) * inner);
        for o in 0..outer {
            out.extend_from_slice(&xd[(o * len + start) * inner..(o * len + end) * inner]);
        }
        let mut shape = self.shape(x).to_vec();
        shape[axis] = end - start;
        let y = Tensor::new(&shape, out)?;
        Ok(self.push(y, Op::Slice { x, axis, start }))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, x: Var, axis: usize, start: usize) -> Contribs<T> {
    let (outer, len, inner) = super::split_at_axis(c.val(x).shape(), axis)?;
    let w = c.g.shape()[axis] * inner;
    let mut dx = Tensor::zeros(c.val(x).shape());
    let d = dx.data_mut();
    for o in 0..outer {
        d[(o * len + start) * inner..][..w].copy_from_slice(&c.g.data()[o * w..(o + 1) * w]);
    }
    Ok(vec![(x, dx)])
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck() {
        assert_gradcheck(
            |t, v| t.slice(v[0], 1, 1, 3),
            &[test_input(&[2, 4, 3], 1, 0.0)],
        );
        assert_gradcheck(
            |t, v| t.slice(v[0], 2, 0, 1),
            &[test_input(&[2, 4, 3], 1, 0.0)],
        );
    }
}
