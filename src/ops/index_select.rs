//! `index_select(x, axis, idx)`: the slices `idx[0], idx[1], …` of one axis (repeats allowed).
//! Backward: scatter-add `g` back to the selected slices.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::{Result, shape_err};
use crate::float::Float;
use crate::tensor::{Tensor, fmt_shape};

impl<T: Float> Tape<T> {
    pub fn index_select(&mut self, x: Var, axis: usize, indices: &[usize]) -> Result<Var> {
        let (outer, len, inner) = super::split_at_axis(self.shape(x), axis)?;
        if let Some(&i) = indices.iter().find(|&&i| i >= len) {
            return shape_err(format!(
                "index {i} out of range on axis {axis} of {}",
                fmt_shape(self.shape(x))
            ));
        }
        let xd = self.value(x).data();
        let mut out = Vec::with_capacity(outer * indices.len() * inner);
        for o in 0..outer {
            for &i in indices {
                out.extend_from_slice(&xd[(o * len + i) * inner..(o * len + i + 1) * inner]);
            }
        }
        let mut shape = self.shape(x).to_vec();
        shape[axis] = indices.len();
        let y = Tensor::new(&shape, out)?;
        Ok(self.push(
            y,
            Op::IndexSelect {
                x,
                axis,
                indices: indices.to_vec(),
            },
        ))
    }
}

pub(crate) fn backward<T: Float>(
    c: &Ctx<T>,
    x: Var,
    axis: usize,
    indices: &[usize],
) -> Contribs<T> {
    let (outer, len, inner) = super::split_at_axis(c.val(x).shape(), axis)?;
    let mut dx = Tensor::zeros(c.val(x).shape());
    let g = c.g.data();
    let dd = dx.data_mut();
    for o in 0..outer {
        for (k, &i) in indices.iter().enumerate() {
            let src = &g[(o * indices.len() + k) * inner..][..inner];
            for (d, &s) in dd[(o * len + i) * inner..][..inner].iter_mut().zip(src) {
                *d += s;
            }
        }
    }
    Ok(vec![(x, dx)])
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck_with_repeats() {
        assert_gradcheck(
            |t, v| t.index_select(v[0], 1, &[2, 0, 2]),
            &[test_input(&[2, 3, 2], 1, 0.0)],
        );
    }
}
