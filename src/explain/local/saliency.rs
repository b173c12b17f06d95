//! Saliency maps (Simonyan, Vedaldi, Zisserman 2014).
//!
//! *Question:* which input values, changed a little, would change the class score most?
//! `S = ∂y_c/∂x` (signed), or `|∂y_c/∂x|` (the paper's map, Captum's default `abs=True`).
//! For RGB images the paper takes the maximum over channels ([`max_over_channels`]).
//! The lecture's variant from the loss, `|∂e/∂x|` with `e` the cross-entropy against a
//! label, is [`loss_saliency`].
//!
//! Pinned by `tests/captum.rs` (Captum's `Saliency`, abs and signed, to 1e-5).

use crate::autodiff::{BackwardRule, Tape};
use crate::error::Result;
use crate::explain::attribution::{Attribution, AttributionMethod, check_batch, input_gradient};
use crate::float::Float;
use crate::nn::Model;
use crate::tensor::Tensor;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Saliency {
    pub abs: bool,
}

impl<T: Float> AttributionMethod<T> for Saliency {
    fn name(&self) -> &'static str {
        "saliency"
    }
    fn attribute(
        &self,
        model: &Model<T>,
        x: &Tensor<T>,
        targets: &[usize],
    ) -> Result<Attribution<T>> {
        check_batch(model, x, targets)?;
        let (_, g) = input_gradient(model, x, targets, BackwardRule::Standard)?;
        Ok(Attribution::plain(if self.abs {
            g.map(|v| v.abs())
        } else {
            g
        }))
    }
}

/// `|∂e/∂x|` with `e` the cross-entropy of the prediction against `labels`.
pub fn loss_saliency<T: Float>(
    model: &Model<T>,
    x: &Tensor<T>,
    labels: &[usize],
) -> Result<Tensor<T>> {
    check_batch(model, x, labels)?;
    // hot, as every pass (see `runtime::hot`)
    crate::runtime::on_pool_for(model.pass_work(labels.len()), || {
        let mut tape = Tape::new();
        let xv = tape.leaf(x.clone());
        let params = model.bind(&mut tape, false);
        let logits = model.logits(&mut tape, xv, &params)?;
        let e = tape.cross_entropy_per_example(logits, labels)?;
        let n = labels.len();
        let g = tape.backward_with(e, Tensor::ones(&[n]), BackwardRule::Standard)?;
        Ok(g.get(xv).map(|v| v.abs()))
    })
}

/// `[N, C, H, W] → [N, H, W]`: the largest value over channels at each pixel.
pub fn max_over_channels<T: Float>(a: &Tensor<T>) -> Result<Tensor<T>> {
    let (n, c, h, w) = crate::ops::expect_4d(a.shape(), "max_over_channels")?;
    let mut out = vec![T::zero(); n * h * w];
    for i in 0..n {
        for p in 0..h * w {
            out[i * h * w + p] = (0..c)
                .map(|k| a.data()[(i * c + k) * h * w + p])
                .fold(a.data()[i * c * h * w + p], |m, v| m.max_of(v));
        }
    }
    Tensor::new(&[n, h, w], out)
}
