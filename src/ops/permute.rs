//! Permute axes (`transpose` swaps two). Output axis i is input axis `perm[i]`.
//! Backward: permute `g` by the inverse permutation.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::{Result, shape_err};
use crate::float::Float;
use crate::tensor::{Tensor, fmt_shape, strides_of};

/// Copies `x` into the permuted layout.
pub(crate) fn permute_tensor<T: Float>(x: &Tensor<T>, perm: &[usize]) -> Result<Tensor<T>> {
    let nd = x.ndim();
    let mut seen = vec![false; nd];
    if perm.len() != nd
        || perm
            .iter()
            .any(|&p| p >= nd || std::mem::replace(&mut seen[p], true))
    {
        return shape_err(format!(
            "{perm:?} is not a permutation of the axes of {}",
            fmt_shape(x.shape())
        ));
    }
    let shape: Vec<usize> = perm.iter().map(|&p| x.shape()[p]).collect();
    let src_strides = strides_of(x.shape());
    let st: Vec<usize> = perm.iter().map(|&p| src_strides[p]).collect();
    let mut out = Vec::with_capacity(x.len());
    let mut idx = vec![0usize; nd];
    let xd = x.data();
    for _ in 0..x.len() {
        out.push(xd[idx.iter().zip(&st).map(|(i, s)| i * s).sum::<usize>()]);
        for d in (0..nd).rev() {
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    Tensor::new(&shape, out)
}

impl<T: Float> Tape<T> {
    pub fn permute(&mut self, x: Var, perm: &[usize]) -> Result<Var> {
        let y = permute_tensor(self.value(x), perm)?;
        Ok(self.push(y, Op::Permute(x, perm.to_vec())))
    }

    pub fn transpose(&mut self, x: Var, a: usize, b: usize) -> Result<Var> {
        let mut perm: Vec<usize> = (0..self.shape(x).len()).collect();
        if a >= perm.len() || b >= perm.len() {
            return shape_err(format!(
                "transpose axes {a},{b} out of range for {}",
                fmt_shape(self.shape(x))
            ));
        }
        perm.swap(a, b);
        self.permute(x, &perm)
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, x: Var, perm: &[usize]) -> Contribs<T> {
    let mut inv = vec![0; perm.len()];
    for (i, &p) in perm.iter().enumerate() {
        inv[p] = i;
    }
    Ok(vec![(x, permute_tensor(c.g, &inv)?)])
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck() {
        assert_gradcheck(
            |t, v| t.permute(v[0], &[2, 0, 1]),
            &[test_input(&[2, 3, 4], 1, 0.0)],
        );
        assert_gradcheck(
            |t, v| t.transpose(v[0], 0, 1),
            &[test_input(&[3, 4], 1, 0.0)],
        );
    }
}
