//! Concatenation along one axis. Backward: `g` split back into the pieces.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::{Result, invalid, shape_err};
use crate::float::Float;
use crate::tensor::{Tensor, fmt_shape};

impl<T: Float> Tape<T> {
    pub fn concat(&mut self, xs: &[Var], axis: usize) -> Result<Var> {
        let Some(&first) = xs.first() else {
            return invalid("concat of no tensors");
        };
        let base = self.shape(first).to_vec();
        let (outer, _, inner) = super::split_at_axis(&base, axis)?;
        let mut total = 0;
        for &x in xs {
            let s = self.shape(x);
            let same_elsewhere = s.len() == base.len()
                && s.iter()
                    .zip(&base)
                    .enumerate()
                    .all(|(i, (a, b))| i == axis || a == b);
            if !same_elsewhere {
                return shape_err(format!(
                    "concat along axis {axis}: {} and {} differ elsewhere",
                    fmt_shape(&base),
                    fmt_shape(s)
                ));
            }
            total += s[axis];
        }
        let mut out = Vec::with_capacity(outer * total * inner);
        for o in 0..outer {
            for &x in xs {
                let w = self.shape(x)[axis] * inner;
                out.extend_from_slice(&self.value(x).data()[o * w..(o + 1) * w]);
            }
        }
        let mut shape = base;
        shape[axis] = total;
        let y = Tensor::new(&shape, out)?;
        Ok(self.push(
            y,
            Op::Concat {
                xs: xs.to_vec(),
                axis,
            },
        ))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, xs: &[Var], axis: usize) -> Contribs<T> {
    let (outer, total, inner) = super::split_at_axis(c.g.shape(), axis)?;
    let mut out = Vec::new();
    let mut offset = 0;
    for &x in xs {
        let w = c.val(x).shape()[axis] * inner;
        let mut d = Vec::with_capacity(outer * w);
        for o in 0..outer {
            d.extend_from_slice(&c.g.data()[o * total * inner + offset..][..w]);
        }
        offset += w;
        out.push((x, Tensor::new(c.val(x).shape(), d)?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck() {
        assert_gradcheck(
            |t, v| t.concat(&[v[0], v[1]], 1),
            &[
                test_input(&[2, 3, 2], 1, 0.0),
                test_input(&[2, 1, 2], 2, 0.0),
            ],
        );
        assert_gradcheck(
            |t, v| t.concat(&[v[0], v[1], v[0]], 0),
            &[test_input(&[2, 3], 1, 0.0), test_input(&[1, 3], 2, 0.0)],
        );
    }
}
