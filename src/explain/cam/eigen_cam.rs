//! Eigen-CAM (Muhammad & Yeasin 2020).
//!
//! *Question:* what is the dominant pattern in a layer's maps, whatever the class?
//! Per example, the maps as an `hw × C` matrix `M` are centred (each channel's mean over
//! positions subtracted) and projected on their first principal direction `v` (the top
//! eigenvector of `MᵀM`): `L = ReLU(M v)`. No gradients and no class: the same map for
//! every target.
//!
//! Sign: an eigenvector's sign is arbitrary; ours has its largest-magnitude component
//! positive ([`crate::tensor::linalg::symmetric_eigen`]). pytorch-grad-cam takes LAPACK's
//! SVD sign, so after the ReLU the two can show opposite halves of the same projection;
//! `tests/grad_cam_package.rs` compares the projections before the ReLU up to sign.

use super::{BaseCam, CamInputs, CamWeights, Weights};
use crate::error::Result;
use crate::float::Float;
use crate::tensor::linalg::symmetric_eigen;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EigenCamWeights;

impl CamWeights for EigenCamWeights {
    const NAME: &'static str = "eigen-cam";
    const NEEDS_GRADIENTS: bool = false;
    fn weights<T: Float>(&self, c: &CamInputs<T>) -> Result<Weights<T>> {
        let [n, ch, h, w] = c.dims;
        let mut out = Vec::with_capacity(n * h * w);
        for i in 0..n {
            // centred maps, channel-major: m[k][p]
            let m: Vec<Vec<f64>> = (0..ch)
                .map(|k| {
                    let a: Vec<f64> = c
                        .map(c.activation, i, k)
                        .iter()
                        .map(|v| v.to_f64())
                        .collect();
                    let mean = a.iter().sum::<f64>() / a.len() as f64;
                    a.iter().map(|v| v - mean).collect()
                })
                .collect();
            let cov: Vec<f64> = (0..ch * ch)
                .map(|jk| m[jk / ch].iter().zip(&m[jk % ch]).map(|(a, b)| a * b).sum())
                .collect();
            let (_, vecs) = symmetric_eigen(&cov, ch);
            out.extend(
                (0..h * w).map(|p| T::from_f64_lossy((0..ch).map(|k| m[k][p] * vecs[0][k]).sum())),
            );
        }
        Ok(Weights::Map(out))
    }
}

pub type EigenCam = BaseCam<EigenCamWeights>;
