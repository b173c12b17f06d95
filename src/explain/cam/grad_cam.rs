//! Grad-CAM (Selvaraju et al. 2017).
//!
//! *Question:* which regions of a convolutional layer's maps support the class?
//! `α_k = mean_ij ∂y_c/∂A_k[i,j]`, `L = ReLU(Σ_k α_k A_k)` at any layer by name (e.g.
//! `conv3.relu`); the ReLU can be turned off (Captum's `LayerGradCam` default).
//!
//! Pinned by `tests/captum.rs` (Captum's `LayerGradCam` at the last conv layer's
//! post-ReLU output, and Grad-CAM = CAM / (h·w) on a GAP network) and
//! `tests/grad_cam_package.rs` (pytorch-grad-cam's `GradCAM`).

use super::{BaseCam, CamInputs, CamWeights, Weights};
use crate::error::Result;
use crate::float::Float;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GradCamWeights;

impl CamWeights for GradCamWeights {
    const NAME: &'static str = "grad-cam";
    const NEEDS_GRADIENTS: bool = true;
    fn weights<T: Float>(&self, c: &CamInputs<T>) -> Result<Weights<T>> {
        let inv = T::one() / T::from_usize(c.dims[2] * c.dims[3]).unwrap_or(T::one());
        Ok(c.per_channel(|_, _, g| g.iter().copied().sum::<T>() * inv))
    }
}

pub type GradCam = BaseCam<GradCamWeights>;
