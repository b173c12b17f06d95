//! 2-D convolution (cross-correlation, as PyTorch): `x [N,C,H,W]`, `w [O,C,kh,kw]`,
//! optional bias `[O]`, stride and symmetric zero padding. im2col + GEMM.
//! Backward: `dx = col2im(Wᵀ · g)`, `dW = Σₙ g · colsᵀ`, `db = Σ g`.

use super::relu;
use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{ConvThen, Op, Tape, Var};
use crate::error::{Result, invalid, shape_err};
use crate::float::Float;
use crate::tensor::conv::{ConvGeom, conv2d_backward, conv2d_forward, conv2d_relu_pool_forward};
use crate::tensor::pool::{maxpool_backward, pooled};
use crate::tensor::{Tensor, fmt_shape};
use std::borrow::Cow;
use std::ops::Range;

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
        self.conv2d_impl(x, w, b, [stride, pad], ConvThen::Nothing)
    }

    /// `relu(conv2d(x, w, b))` as one op: the ReLU is applied as each sample's output is
    /// written, and the convolution's own output is never held. The same bits as the two
    /// ops, forward and backward under every [`BackwardRule`](crate::autodiff::BackwardRule)
    /// (the ReLU's rule reads the output, positive where the input is).
    pub fn conv2d_relu(
        &mut self,
        x: Var,
        w: Var,
        b: Option<Var>,
        stride: usize,
        pad: usize,
    ) -> Result<Var> {
        self.conv2d_impl(x, w, b, [stride, pad], ConvThen::Relu)
    }

    /// `maxpool2d(relu(conv2d(x, w, b)), k, pool_stride)` as one op: each sample's output
    /// is pooled as soon as it is written, while in cache, and only the pooled values
    /// (and, for a backward pass, the indices of the maxima) are kept
    /// ([`crate::tensor::conv::conv2d_relu_pool_forward`]). The same bits as the three
    /// ops, forward and backward under every rule: backward places each output's gradient
    /// at its maximum, as the pooling does, and passes it through the ReLU there, which
    /// the pooled value decides (the ReLU's output at the maximum); everywhere else the
    /// gradient is the zero the two ops give.
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
        if k == 0 || pool_stride == 0 || g.ho() < k || g.wo() < k {
            // the ops themselves, whose errors name a bad window
            let y = self.conv2d_relu(x, w, b, stride, pad)?;
            return self.maxpool2d(y, k, pool_stride);
        }
        let then = ConvThen::ReluPool {
            k,
            stride: pool_stride,
            argmax: Vec::new(),
        };
        self.conv2d_impl(x, w, b, [stride, pad], then)
    }

    fn conv2d_impl(
        &mut self,
        x: Var,
        w: Var,
        b: Option<Var>,
        [stride, pad]: [usize; 2],
        mut then: ConvThen,
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
        let inputs: Vec<Var> = [Some(x), Some(w), b].into_iter().flatten().collect();
        let want_grad = self.wants_grad(&inputs);
        let (xs, ws) = (self.value(x).data(), self.value(w).data());
        let bs = b.map(|b| self.value(b).data());
        let (y, shape) = match &mut then {
            ConvThen::ReluPool { k, stride, argmax } => {
                let (k, s) = (*k, *stride);
                let (y, arg) = conv2d_relu_pool_forward(&g, xs, ws, bs, [k, s], want_grad);
                *argmax = arg;
                (y, [g.n, g.o, pooled(g.ho(), k, s), pooled(g.wo(), k, s)])
            }
            ConvThen::Relu | ConvThen::Nothing => (
                conv2d_forward(&g, xs, ws, bs, then == ConvThen::Relu),
                [g.n, g.o, g.ho(), g.wo()],
            ),
        };
        let y = Tensor::new(&shape, y)?;
        Ok(self.push(
            y,
            Op::Conv2d {
                x,
                w,
                b,
                stride,
                pad,
                then,
            },
        ))
    }
}

/// The gradient at the convolution's own output: `c.g` passed back through the layers
/// the op fused, by their rules, in the same order and with the same bits.
fn output_gradient<'a, T: Float>(c: &'a Ctx<T>, g: &ConvGeom, then: &ConvThen) -> Cow<'a, [T]> {
    match then {
        ConvThen::Nothing => Cow::Borrowed(c.g.data()),
        ConvThen::Relu => Cow::Owned(relu::gradient(c.rule, c.g.data(), c.out.data())),
        ConvThen::ReluPool { argmax, .. } => {
            // the pooling's backward, then the ReLU's rule where a window put a gradient
            // (zero elsewhere under every rule), decided by the window's value; overlapping
            // windows that share a maximum apply it again, which changes nothing
            let plane = g.ho() * g.wo();
            let rule = c.rule;
            let relu_at_maxima = |d: &mut [T], p: usize, windows: Range<usize>| {
                let ys = &c.out.data()[windows.clone()];
                for (&i, &y) in argmax[windows].iter().zip(ys) {
                    let v = &mut d[i - p * plane];
                    *v = relu::through(rule, *v, y);
                }
            };
            let dims = [g.n * g.o, plane];
            Cow::Owned(maxpool_backward(c.g.data(), argmax, dims, relu_at_maxima))
        }
    }
}

pub(crate) fn backward<T: Float>(
    c: &Ctx<T>,
    [x, w]: [Var; 2],
    b: Option<Var>,
    [stride, pad]: [usize; 2],
    then: &ConvThen,
) -> Contribs<T> {
    let g = geometry(c.val(x).shape(), c.val(w).shape(), stride, pad)?;
    let dy = output_gradient(c, &g, then);
    let (dx, dw, db) = conv2d_backward(
        &g,
        c.val(x).data(),
        c.val(w).data(),
        &dy,
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

    /// The fused ops give the bits of the ops they fuse: values, and the gradients of
    /// input, weights and bias under each backward rule. f32 runs the direct kernel, per
    /// sample (12×12 maps) and over the batch (7×7: idle lanes), f64 the unfolded path;
    /// pooling 2×2 by 2 and 3×3 by 1 (overlapping windows). Negative biases make
    /// windows of zeros after the ReLU (ties), and a third of the upstream gradient is
    /// zero.
    #[test]
    fn fused_ops_give_the_bits_of_the_ops() {
        use crate::autodiff::{BackwardRule, Tape, Var};
        use crate::float::Float;
        use crate::tensor::Tensor;
        use rand::SeedableRng;
        use rand::rngs::StdRng;
        fn check<T: Float>(shape: [usize; 4], out: usize, pool: Option<(usize, usize)>) {
            let mut rng = StdRng::seed_from_u64(5);
            let x = Tensor::<T>::randn(&shape, 1.0, &mut rng);
            let w = Tensor::<T>::randn(&[out, shape[1], 3, 3], 0.4, &mut rng);
            let b = Tensor::<T>::randn(&[out], 0.5, &mut rng).map(|v| v - T::from_f64_lossy(0.8));
            for rule in [
                BackwardRule::Standard,
                BackwardRule::GuidedBackprop,
                BackwardRule::Deconvnet,
            ] {
                let run = |fused: bool| {
                    let mut t = Tape::<T>::new();
                    let v: Vec<Var> = [&x, &w, &b].iter().map(|p| t.leaf((*p).clone())).collect();
                    let y = match (fused, pool) {
                        (true, Some((k, s))) => {
                            t.conv2d_relu_pool(v[0], v[1], Some(v[2]), 1, 1, k, s)
                        }
                        (true, None) => t.conv2d_relu(v[0], v[1], Some(v[2]), 1, 1),
                        (false, _) => {
                            let y = t.conv2d(v[0], v[1], Some(v[2]), 1, 1).unwrap();
                            let y = t.relu(y);
                            match pool {
                                Some((k, s)) => t.maxpool2d(y, k, s),
                                None => Ok(y),
                            }
                        }
                    }
                    .unwrap();
                    let mut seed =
                        Tensor::<T>::randn(t.shape(y), 1.0, &mut StdRng::seed_from_u64(6));
                    seed.data_mut()
                        .iter_mut()
                        .step_by(3)
                        .for_each(|g| *g = T::zero());
                    let grads = t.backward_with(y, seed, rule).unwrap();
                    let mut all = vec![t.value(y).clone()];
                    all.extend(v.iter().map(|&p| grads.get(p)));
                    all
                };
                let (fused, ops) = (run(true), run(false));
                for (i, (a, b)) in fused.iter().zip(&ops).enumerate() {
                    let differ = (a.data().iter().zip(b.data()))
                        .filter(|(p, q)| p.to_f64().to_bits() != q.to_f64().to_bits())
                        .count();
                    let what = ["output", "dx", "dw", "db"][i];
                    assert!(
                        a.shape() == b.shape() && differ == 0,
                        "{shape:?} pool {pool:?} {rule:?}: {what} differs in {differ} values"
                    );
                }
            }
        }
        for pool in [Some((2, 2)), Some((3, 1)), None] {
            check::<f32>([3, 8, 12, 12], 16, pool);
            check::<f32>([3, 16, 7, 7], 8, pool);
            check::<f64>([2, 3, 6, 6], 4, pool);
        }
    }
}
