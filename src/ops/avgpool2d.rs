//! Average pooling over k×k windows (no padding). Backward: `g / k²` spread over each window.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::{Result, invalid, shape_err};
use crate::float::Float;
use crate::tensor::pool::{avgpool2d, avgpool2d_backward, pooled};
use crate::tensor::{Tensor, fmt_shape};

impl<T: Float> Tape<T> {
    pub fn avgpool2d(&mut self, x: Var, k: usize, stride: usize) -> Result<Var> {
        let (n, c, h, w) = super::expect_4d(self.shape(x), "avgpool2d")?;
        if k == 0 || stride == 0 {
            return invalid("avgpool2d kernel and stride must be at least 1");
        }
        if h < k || w < k {
            return shape_err(format!(
                "avgpool2d window {k} larger than input {}",
                fmt_shape(self.shape(x))
            ));
        }
        let y = avgpool2d(self.value(x).data(), n * c, h, w, k, stride);
        let y = Tensor::new(&[n, c, pooled(h, k, stride), pooled(w, k, stride)], y)?;
        Ok(self.push(y, Op::AvgPool2d { x, k, stride }))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, x: Var, k: usize, stride: usize) -> Contribs<T> {
    let (n, ch, h, w) = super::expect_4d(c.val(x).shape(), "avgpool2d")?;
    let dx = avgpool2d_backward(c.g.data(), n * ch, h, w, k, stride);
    Ok(vec![(x, Tensor::new(c.val(x).shape(), dx)?)])
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck_overlapping_and_not() {
        assert_gradcheck(
            |t, v| t.avgpool2d(v[0], 2, 2),
            &[test_input(&[2, 2, 4, 5], 1, 0.0)],
        );
        assert_gradcheck(
            |t, v| t.avgpool2d(v[0], 3, 1),
            &[test_input(&[1, 1, 5, 5], 2, 0.0)],
        );
    }
}
