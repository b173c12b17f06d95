//! Grad-CAM++ (Chattopadhay et al. 2018).
//!
//! *Question:* Grad-CAM, but so that several instances of the class all show up?
//! `α_kij = G² / (2G² + Σ_ab A_kab · G³ + ε)` (zero where `G = 0`; `ε = 1e-6`, as
//! pytorch-grad-cam), `w_k = Σ_ij α_kij ReLU(G_kij)`, `L = ReLU(Σ_k w_k A_k)`; the
//! exponential of the paper's eq. 19 is dropped, as in every public implementation.
//!
//! Pinned by `tests/grad_cam_package.rs` (pytorch-grad-cam's `GradCAMPlusPlus`).

use super::{BaseCam, CamInputs, CamWeights, Weights};
use crate::error::Result;
use crate::float::Float;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GradCamPlusPlusWeights;

impl CamWeights for GradCamPlusPlusWeights {
    const NAME: &'static str = "grad-cam++";
    const NEEDS_GRADIENTS: bool = true;
    fn weights<T: Float>(&self, c: &CamInputs<T>) -> Result<Weights<T>> {
        let eps = T::from_f64_lossy(1e-6);
        Ok(c.per_channel(|_, a, g| {
            let sum_a: T = a.iter().copied().sum();
            g.iter()
                .filter(|&&g| g != T::zero())
                .map(|&g| {
                    let g2 = g * g;
                    g.max_of(T::zero()) * g2 / (g2 + g2 + sum_a * g2 * g + eps)
                })
                .sum()
        }))
    }
}

pub type GradCamPlusPlus = BaseCam<GradCamPlusPlusWeights>;
