//! `gather(x, idx)`: one entry per row of a `[N, C]` tensor, `out[i] = x[i, idx[i]]`
//! (PyTorch's `x.gather(1, idx[:, None])[:, 0]`; picks each example's target score).
//! Backward: `g[i]` to position `(i, idx[i])`.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::{Result, shape_err};
use crate::float::Float;
use crate::tensor::{Tensor, fmt_shape};

impl<T: Float> Tape<T> {
    pub fn gather(&mut self, x: Var, idx: &[usize]) -> Result<Var> {
        let &[n, c] = self.shape(x) else {
            return shape_err(format!(
                "gather needs [N, C], got {}",
                fmt_shape(self.shape(x))
            ));
        };
        if idx.len() != n || idx.iter().any(|&i| i >= c) {
            return shape_err(format!(
                "gather: {} indices (each < {c}) needed for {}",
                n,
                fmt_shape(self.shape(x))
            ));
        }
        let xd = self.value(x).data();
        let y = Tensor::new(
            &[n],
            idx.iter()
                .enumerate()
                .map(|(i, &j)| xd[i * c + j])
                .collect(),
        )?;
        Ok(self.push(
            y,
            Op::Gather {
                x,
                idx: idx.to_vec(),
            },
        ))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, x: Var, idx: &[usize]) -> Contribs<T> {
    let k = c.val(x).shape()[1];
    let mut dx = Tensor::zeros(c.val(x).shape());
    let d = dx.data_mut();
    for (i, (&j, &g)) in idx.iter().zip(c.g.data()).enumerate() {
        d[i * k + j] += g;
    }
    Ok(vec![(x, dx)])
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck() {
        assert_gradcheck(
            |t, v| t.gather(v[0], &[2, 0, 1]),
            &[test_input(&[3, 4], 1, 0.0)],
        );
    }
}
