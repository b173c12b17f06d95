//! Sum over some axes (`keepdim` keeps them as size 1). Backward: `g` broadcast back.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::Result;
use crate::float::Float;
use crate::tensor::Tensor;
use crate::tensor::broadcast::{binary, reduce_to};

/// The output shape of a reduction over `axes`.
pub(crate) fn reduced_shape(shape: &[usize], axes: &[usize], keepdim: bool) -> Result<Vec<usize>> {
    let kd = super::keepdim_shape(shape, axes)?;
    Ok(if keepdim {
        kd
    } else {
        shape
            .iter()
            .enumerate()
            .filter(|(i, _)| !axes.contains(i))
            .map(|(_, &d)| d)
            .collect()
    })
}

/// Broadcasts a reduced gradient back to the input shape.
pub(crate) fn expand_back<T: Float>(
    g: &Tensor<T>,
    shape: &[usize],
    axes: &[usize],
) -> Result<Tensor<T>> {
    let g = g.clone().reshape(&super::keepdim_shape(shape, axes)?)?;
    binary(&g, &Tensor::zeros(shape), |g, _| g)
}

impl<T: Float> Tape<T> {
    pub fn sum(&mut self, x: Var, axes: &[usize], keepdim: bool) -> Result<Var> {
        let kd = super::keepdim_shape(self.shape(x), axes)?;
        let y = reduce_to(self.value(x), &kd)?.reshape(&reduced_shape(
            self.shape(x),
            axes,
            keepdim,
        )?)?;
        Ok(self.push(
            y,
            Op::Sum {
                x,
                axes: axes.to_vec(),
            },
        ))
    }

    /// Sum of all elements, a scalar.
    pub fn sum_all(&mut self, x: Var) -> Var {
        let axes: Vec<usize> = (0..self.shape(x).len()).collect();
        self.sum(x, &axes, false).expect("all axes are in range")
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, x: Var, axes: &[usize]) -> Contribs<T> {
    Ok(vec![(x, expand_back(c.g, c.val(x).shape(), axes)?)])
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck_some_and_all_axes() {
        assert_gradcheck(
            |t, v| t.sum(v[0], &[0, 2], false),
            &[test_input(&[2, 3, 4], 1, 0.0)],
        );
        assert_gradcheck(
            |t, v| t.sum(v[0], &[1], true),
            &[test_input(&[2, 3, 4], 1, 0.0)],
        );
        assert_gradcheck(|t, v| Ok(t.sum_all(v[0])), &[test_input(&[2, 3], 1, 0.0)]);
    }
}
