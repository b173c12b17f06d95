//! 2-D convolution (cross-correlation, as PyTorch): `x [N,C,H,W]`, `w [O,C,kh,kw]`,
//! optional bias `[O]`, stride and symmetric zero padding. im2col + GEMM.
//! Backward: `dx = col2im(Wᵀ · g)`, `dW = Σₙ g · colsᵀ`, `db = Σ g`.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::{Result, invalid, shape_err};
use crate::float::Float;
use crate::tensor::conv::{ConvGeom, conv2d_backward, conv2d_forward, conv2d_relu_pool_forward};
use crate::tensor::pool::pooled;
use crate::tensor::{Tensor, fmt_shape};

/// What runs with the convolution in one pass (only on tapes without gradients, where
/// its own output is not kept): nothing, the ReLU, or the ReLU and a max-pooling
/// (window, stride).
#[derive(Clone, Copy)]
enum Fused {
    No,
    Relu,
    ReluPool(usize, usize),
}

fn geometry(x: &[usize], w: &[usize], stride: usize, pad: usize) -> Result<ConvGeom> {
    let (n, c, h, wd) = super::expect_4d(x, "conv2d")?;
    let &[o, wc, kh, kw] = w else {
        return shape_err(format!(
            "conv2d weight must be [O,C,kh,kw], got {}",
            fmt_shape(w)
        ));
    };
    if wc != c {
        return shape_err(format!(
            "conv2d input {} has {c} channels but weight {} expects {wc}",
            fmt_shape(x),
            fmt_shape(w)
        ));
    }
    if stride == 0 {
        return invalid("conv2d stride must be at least 1");
    }
    if h + 2 * pad < kh || wd + 2 * pad < kw || kh == 0 || kw == 0 {
        return shape_err(format!(
            "conv2d kernel {} does not fit input {} with padding {pad}",
            fmt_shape(w),
            fmt_shape(x)
        ));
    }
    Ok(ConvGeom {
        n,
        c,
        h,
        w: wd,
        o,
        kh,
        kw,
        stride,
        pad,
    })
}

impl<T: Float> Tape<T> {
    pub fn conv2d(
        &mut self,
        x: Var,
        w: Var,
        b: Option<Var>,
        stride: usize,
        pad: usize,
    ) -> Result<Var> {
        self.conv2d_impl(x, w, b, stride, pad, Fused::No)
    }

    /// `relu(conv2d(x, w, b))`. On a tape without gradients the ReLU is applied as each
    /// sample's output is written (the same bits as the two ops, one pass fewer over
    /// the output), and the convolution's own output is never held; with gradients,
    /// the two ops.
    pub fn conv2d_relu(
        &mut self,
        x: Var,
        w: Var,
        b: Option<Var>,
        stride: usize,
        pad: usize,
    ) -> Result<Var> {
        if self.grad_enabled() {
            let y = self.conv2d(x, w, b, stride, pad)?;
            return Ok(self.relu(y));
        }
        self.conv2d_impl(x, w, b, stride, pad, Fused::Relu)
    }

    /// `maxpool2d(relu(conv2d(x, w, b)), k, pool_stride)`. On a tape without gradients
    /// each sample's output is pooled as soon as it is written, while in cache, and
    /// only the pooled values are kept (the same bits as the three ops:
    /// [`crate::tensor::conv::conv2d_relu_pool_forward`]); with gradients, the three ops.
    #[allow(clippy::too_many_arguments)]
    pub fn conv2d_relu_pool(
        &mut self,
        x: Var,
        w: Var,
        b: Option<Var>,
        stride: usize,
        pad: usize,
        k: usize,
        pool_stride: usize,
    ) -> Result<Var> {
        let g = geometry(self.shape(x), self.shape(w), stride, pad)?;
        if self.grad_enabled() || k == 0 || pool_stride == 0 || g.ho() < k || g.wo() < k {
            // the ops themselves, whose errors name a bad window
            let y = self.conv2d_relu(x, w, b, stride, pad)?;
            return self.maxpool2d(y, k, pool_stride);
        }
        self.conv2d_impl(x, w, b, stride, pad, Fused::ReluPool(k, pool_stride))
    }

    fn conv2d_impl(
        &mut self,
        x: Var,
        w: Var,
        b: Option<Var>,
        stride: usize,
        pad: usize,
        fused: Fused,
    ) -> Result<Var> {
        let g = geometry(self.shape(x), self.shape(w), stride, pad)?;
        if let Some(b) = b
            && self.shape(b) != [g.o]
        {
            return shape_err(format!(
                "conv2d bias must be [{}], got {}",
                g.o,
                fmt_shape(self.shape(b))
            ));
        }
        let (xs, ws) = (self.value(x).data(), self.value(w).data());
        let bs = b.map(|b| self.value(b).data());
        let (y, shape) = match fused {
            Fused::ReluPool(k, s) => (
                conv2d_relu_pool_forward(&g, xs, ws, bs, [k, s]),
                [g.n, g.o, pooled(g.ho(), k, s), pooled(g.wo(), k, s)],
            ),
            _ => (
                conv2d_forward(&g, xs, ws, bs, matches!(fused, Fused::Relu)),
                [g.n, g.o, g.ho(), g.wo()],
            ),
        };
        let y = Tensor::new(&shape, y)?;
        if !matches!(fused, Fused::No) {
            return Ok(self.constant(y));
        }
        Ok(self.push(
            y,
            Op::Conv2d {
                x,
                w,
                b,
                stride,
                pad,
            },
        ))
    }
}

pub(crate) fn backward<T: Float>(
    c: &Ctx<T>,
    x: Var,
    w: Var,
    b: Option<Var>,
    stride: usize,
    pad: usize,
) -> Contribs<T> {
    let g = geometry(c.val(x).shape(), c.val(w).shape(), stride, pad)?;
    let (dx, dw, db) = conv2d_backward(
        &g,
        c.val(x).data(),
        c.val(w).data(),
        c.g.data(),
        c.needs(x),
        c.needs(w),
    );
    let mut out = Vec::new();
    if let Some(dx) = dx {
        out.push((x, Tensor::new(c.val(x).shape(), dx)?));
    }
    if let Some(dw) = dw {
        out.push((w, Tensor::new(c.val(w).shape(), dw)?));
    }
    if let Some(b) = b {
        out.push((b, Tensor::new(&[g.o], db)?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck_padding_and_stride() {
        for (stride, pad) in [(1, 1), (2, 0), (2, 1)] {
            assert_gradcheck(
                |t, v| t.conv2d(v[0], v[1], Some(v[2]), stride, pad),
                &[
                    test_input(&[2, 2, 5, 6], 1, 0.0),
                    test_input(&[3, 2, 3, 3], 2, 0.0),
                    test_input(&[3], 3, 0.0),
                ],
            );
        }
    }

    #[test]
    fn channel_mismatch_is_an_error() {
        let mut t = crate::autodiff::Tape::<f32>::new();
        let x = t.leaf(crate::tensor::Tensor::zeros(&[1, 3, 8, 8]));
        let w = t.leaf(crate::tensor::Tensor::zeros(&[4, 1, 3, 3]));
        let e = t.conv2d(x, w, None, 1, 1).unwrap_err().to_string();
        assert!(
            e.contains("[1, 3, 8, 8]") && e.contains("[4, 1, 3, 3]"),
            "{e}"
        );
    }

    /// Without gradients the fused convolution, ReLU and pooling refuse what the three
    /// ops refuse, with their messages: a window larger than the map, a bad bias.
    #[test]
    fn fused_pooling_refuses_what_the_ops_refuse() {
        use crate::tensor::Tensor;
        let mut t = crate::autodiff::Tape::<f32>::no_grad();
        let x = t.constant(Tensor::zeros(&[1, 3, 4, 4]));
        let w = t.constant(Tensor::zeros(&[2, 3, 3, 3]));
        let e = t.conv2d_relu_pool(x, w, None, 1, 1, 5, 5).unwrap_err();
        assert!(e.to_string().contains("window 5 larger"), "{e}");
        let b = t.constant(Tensor::zeros(&[3]));
        let e = t.conv2d_relu_pool(x, w, Some(b), 1, 1, 2, 2).unwrap_err();
        assert!(e.to_string().contains("bias must be [2]"), "{e}");
        let y = t.conv2d_relu_pool(x, w, None, 1, 1, 2, 2).unwrap();
        assert_eq!(t.shape(y), [1, 2, 2, 2]);
    }
}
