//! XGrad-CAM (Fu et al. 2020).
//!
//! *Question:* Grad-CAM with weights chosen to satisfy sensitivity and conservation?
//! `w_k = Σ_ij G_kij · A_kij / (Σ_ab A_kab + ε)` (`ε = 1e-7`, as pytorch-grad-cam),
//! `L = ReLU(Σ_k w_k A_k)`.
//!
//! Pinned by `tests/grad_cam_package.rs` (pytorch-grad-cam's `XGradCAM`).

use super::{BaseCam, CamInputs, CamWeights, Weights};
use crate::error::Result;
use crate::float::Float;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XGradCamWeights;

impl CamWeights for XGradCamWeights {
    const NAME: &'static str = "xgrad-cam";
    const NEEDS_GRADIENTS: bool = true;
    fn weights<T: Float>(&self, c: &CamInputs<T>) -> Result<Weights<T>> {
        let eps = T::from_f64_lossy(1e-7);
        Ok(c.per_channel(|_, a, g| {
            let sum_a = a.iter().copied().sum::<T>() + eps;
            a.iter().zip(g).map(|(&a, &g)| g * a / sum_a).sum()
        }))
    }
}

pub type XGradCam = BaseCam<XGradCamWeights>;
