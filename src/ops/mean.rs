//! Mean over some axes. Backward: `g / count` broadcast back.

use super::sum::{expand_back, reduced_shape};
use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::{Result, invalid};
use crate::float::Float;
use crate::tensor::broadcast::reduce_to;

fn count(shape: &[usize], axes: &[usize]) -> usize {
    axes.iter().map(|&a| shape[a]).product()
}

impl<T: Float> Tape<T> {
    pub fn mean(&mut self, x: Var, axes: &[usize], keepdim: bool) -> Result<Var> {
        let kd = super::keepdim_shape(self.shape(x), axes)?;
        let n = count(self.shape(x), axes);
        if n == 0 {
            return invalid("mean over an empty axis");
        }
        let inv = T::one() / T::from_usize(n).unwrap_or(T::one());
        let y = reduce_to(self.value(x), &kd)?.map(|v| v * inv);
        let y = y.reshape(&reduced_shape(self.shape(x), axes, keepdim)?)?;
        Ok(self.push(
            y,
            Op::Mean {
                x,
                axes: axes.to_vec(),
            },
        ))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, x: Var, axes: &[usize]) -> Contribs<T> {
    let inv = T::one() / T::from_usize(count(c.val(x).shape(), axes)).unwrap_or(T::one());
    Ok(vec![(
        x,
        expand_back(c.g, c.val(x).shape(), axes)?.map(|v| v * inv),
    )])
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck() {
        assert_gradcheck(
            |t, v| t.mean(v[0], &[1, 2], false),
            &[test_input(&[2, 3, 4], 1, 0.0)],
        );
    }
}
