//! Guided Grad-CAM (Selvaraju et al. 2017).
//!
//! *Question:* which fine input details inside the Grad-CAM region support the class?
//! The product of guided backpropagation and `ReLU(Grad-CAM)` upsampled (nearest, as
//! Captum) to the input's size, for every input channel.
//!
//! Pinned by `tests/captum.rs` (Captum's `GuidedGradCam` to 1e-5).

use super::grad_cam::GradCam;
use crate::error::Result;
use crate::explain::attribution::{Attribution, AttributionMethod};
use crate::explain::local::guided_backprop::GuidedBackprop;
use crate::float::Float;
use crate::nn::Model;
use crate::tensor::Tensor;
use crate::tensor::image::{Interpolation, upsample};

#[derive(Clone, Debug, PartialEq)]
pub struct GuidedGradCam {
    pub layer: String,
}

impl<T: Float> AttributionMethod<T> for GuidedGradCam {
    fn name(&self) -> &'static str {
        "guided-grad-cam"
    }
    fn attribute(
        &self,
        model: &Model<T>,
        x: &Tensor<T>,
        targets: &[usize],
    ) -> Result<Attribution<T>> {
        let cam = GradCam::new(self.layer.clone())
            .attribute(model, x, targets)?
            .map;
        let gb = GuidedBackprop.attribute(model, x, targets)?.map;
        let (n, c, h, w) = crate::ops::expect_4d(x.shape(), "guided grad-cam")?;
        let up = upsample(&cam, h, w, Interpolation::Nearest)?;
        let data = (0..n * c * h * w)
            .map(|f| gb.data()[f] * up.data()[(f / (c * h * w)) * h * w + f % (h * w)])
            .collect();
        Ok(Attribution {
            map: Tensor::new(x.shape(), data)?,
            extras: vec![("grad_cam".into(), cam)],
        })
    }
}
