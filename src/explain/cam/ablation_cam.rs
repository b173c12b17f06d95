//! Ablation-CAM (Desai & Ramaswamy 2020).
//!
//! *Question:* how much does the class score drop when one map is switched off?
//! `w_k = (y_c − y_c^(k)) / y_c`, with `y_c^(k)` the logit when channel `k` of the layer
//! is replaced by 0 (or, as pytorch-grad-cam's `AblationLayer`, by `min(A) − 1e7` when
//! the example's maps have no 0 minimum, e.g. before a ReLU), and the rest of the network
//! re-run from that layer; `L = ReLU(Σ_k w_k A_k)`. One batched pass per `C` ablations.
//!
//! Pinned by `tests/grad_cam_package.rs` (pytorch-grad-cam's `AblationCAM`).

use super::{BaseCam, CamInputs, CamWeights, Weights};
use crate::error::Result;
use crate::explain::batched::predict_layer_rows;
use crate::float::Float;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AblationCamWeights;

impl CamWeights for AblationCamWeights {
    const NAME: &'static str = "ablation-cam";
    const NEEDS_GRADIENTS: bool = false;
    fn weights<T: Float>(&self, c: &CamInputs<T>) -> Result<Weights<T>> {
        let [n, ch, h, w] = c.dims;
        let (hw, k) = (h * w, c.logits.shape()[1]);
        let mut out = Vec::with_capacity(n * ch);
        for i in 0..n {
            let a = &c.activation.data()[i * ch * hw..(i + 1) * ch * hw];
            let lo = a.iter().fold(a[0], |m, &v| m.min_of(v));
            let off = if lo == T::zero() {
                lo
            } else {
                lo - T::from_f64_lossy(1e7)
            };
            let logits = predict_layer_rows(c.model, c.layer, &[ch, h, w], ch, |j, row| {
                row.copy_from_slice(a);
                row[j * hw..(j + 1) * hw].fill(off);
            })?;
            let (t, y) = (c.targets[i], c.logits.data()[i * k + c.targets[i]]);
            out.extend(logits.data().chunks(k).map(|row| (y - row[t]) / y));
        }
        Ok(Weights::Channel(out))
    }
}

pub type AblationCam = BaseCam<AblationCamWeights>;
