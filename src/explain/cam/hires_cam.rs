//! HiResCAM (Draelos & Carin 2020).
//!
//! *Question:* which positions of the maps does the class score actually use? Grad-CAM
//! averages the gradient over the map before weighting; HiResCAM keeps it element-wise,
//! `L = ReLU(Σ_k G_k ⊙ A_k)`, so that for a network whose head is one linear layer on
//! these maps the (unclipped) map sums to the class score minus its bias.
//!
//! Pinned by `tests/grad_cam_package.rs` (pytorch-grad-cam's `HiResCAM`) and that identity.

use super::{BaseCam, CamInputs, CamWeights, Weights};
use crate::error::Result;
use crate::float::Float;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HiResCamWeights;

impl CamWeights for HiResCamWeights {
    const NAME: &'static str = "hires-cam";
    const NEEDS_GRADIENTS: bool = true;
    fn weights<T: Float>(&self, c: &CamInputs<T>) -> Result<Weights<T>> {
        Ok(Weights::Element(c.grad().data().to_vec()))
    }
}

pub type HiResCam = BaseCam<HiResCamWeights>;
