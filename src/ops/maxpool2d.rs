//! Max-pooling over k×k windows with a stride (no padding, floor mode).
//! Backward: each output's gradient goes to the FIRST maximum of its window in
//! row-major order, as PyTorch does on ties (deconvnet pictures depend on this).

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::{Result, invalid, shape_err};
use crate::float::Float;
use crate::tensor::pool::{maxpool_backward, maxpool2d, pooled};
use crate::tensor::{Tensor, fmt_shape};

impl<T: Float> Tape<T> {
    pub fn maxpool2d(&mut self, x: Var, k: usize, stride: usize) -> Result<Var> {
        let (n, c, h, w) = super::expect_4d(self.shape(x), "maxpool2d")?;
        if k == 0 || stride == 0 {
            return invalid("maxpool2d kernel and stride must be at least 1");
        }
        if h < k || w < k {
            return shape_err(format!(
                "maxpool2d window {k} larger than input {}",
                fmt_shape(self.shape(x))
            ));
        }
        // indices are only needed for a backward pass
        let want_arg = self.wants_grad(&[x]);
        let (y, argmax) = maxpool2d(self.value(x).data(), n * c, [h, w, k, stride], want_arg);
        let y = Tensor::new(&[n, c, pooled(h, k, stride), pooled(w, k, stride)], y)?;
        Ok(self.push(
            y,
            Op::MaxPool2d {
                x,
                k,
                stride,
                argmax,
            },
        ))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, x: Var, argmax: &[usize]) -> Contribs<T> {
    let shape = c.val(x).shape();
    let dims = [shape[0] * shape[1], shape[2] * shape[3]];
    let dx = maxpool_backward(c.g.data(), argmax, dims, |_, _, _| {});
    Ok(vec![(x, Tensor::new(shape, dx)?)])
}

#[cfg(test)]
mod tests {
    use crate::autodiff::Tape;
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};
    use crate::tensor::Tensor;

    #[test]
    fn gradcheck_without_ties() {
        assert_gradcheck(
            |t, v| t.maxpool2d(v[0], 2, 2),
            &[test_input(&[2, 2, 4, 6], 1, 0.0)],
        );
        assert_gradcheck(
            |t, v| t.maxpool2d(v[0], 3, 1),
            &[test_input(&[1, 2, 5, 5], 2, 0.0)],
        );
    }

    /// Without a gradient to compute, no indices are kept and the values are the same.
    #[test]
    fn no_grad_pooling_keeps_no_indices_and_the_same_values() {
        for (k, s) in [(2, 2), (3, 1)] {
            let x = test_input(&[3, 2, 7, 6], 3, 0.0);
            let mut taped = Tape::<f64>::new();
            let xv = taped.leaf(x.clone());
            let y = taped.maxpool2d(xv, k, s).unwrap();
            let mut free = Tape::<f64>::no_grad();
            let xf = free.constant(x);
            let yf = free.maxpool2d(xf, k, s).unwrap();
            assert_eq!(taped.value(y), free.value(yf));
            match (taped.op(y), free.op(yf)) {
                (crate::autodiff::Op::MaxPool2d { argmax, .. }, crate::autodiff::Op::Leaf) => {
                    assert_eq!(argmax.len(), taped.value(y).len())
                }
                other => panic!("unexpected ops {other:?}"),
            }
        }
    }

    #[test]
    fn ties_send_the_gradient_to_the_first_maximum() {
        let mut t = Tape::<f64>::new();
        let x = t.leaf(Tensor::from_f64(&[1, 1, 2, 2], &[1.0, 3.0, 3.0, 3.0]).unwrap());
        let y = t.maxpool2d(x, 2, 2).unwrap();
        let s = t.sum_all(y);
        assert_eq!(t.backward(s).unwrap().get(x).data(), &[0.0, 1.0, 0.0, 0.0]);
    }
}
