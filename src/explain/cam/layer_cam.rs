//! LayerCAM (Jiang et al. 2021).
//!
//! *Question:* which positions support the class, at any layer, shallow ones included?
//! Element-wise weights from the positive gradients: `L = ReLU(Σ_k ReLU(G_k) ⊙ A_k)`.
//!
//! Pinned by `tests/grad_cam_package.rs` (pytorch-grad-cam's `LayerCAM`).

use super::{BaseCam, CamInputs, CamWeights, Weights};
use crate::error::Result;
use crate::float::Float;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LayerCamWeights;

impl CamWeights for LayerCamWeights {
    const NAME: &'static str = "layer-cam";
    const NEEDS_GRADIENTS: bool = true;
    fn weights<T: Float>(&self, c: &CamInputs<T>) -> Result<Weights<T>> {
        let g = c.grad().data();
        Ok(Weights::Element(
            g.iter().map(|v| v.max_of(T::zero())).collect(),
        ))
    }
}

pub type LayerCam = BaseCam<LayerCamWeights>;
