//! Class activation maps (Zhou et al. 2016), for networks whose head is global average
//! pooling followed by one linear layer.
//!
//! *Question:* where in the image is the evidence the linear head weighs for the class?
//! With `A_k` the maps that the GAP averages and `w_{c,k}` the head's weights,
//! `CAM_c = Σ_k w_{c,k} A_k` (`[N, h, w]`, before upsampling; the bias is left out).
//! Since `y_c = Σ_k w_{c,k} mean(A_k) + b_c`, `mean(CAM_c) + b_c = y_c`.
//!
//! On the CAM base: the variant's weights are the head's row for the class, at the layer
//! the GAP averages (the layer is fixed by the network).
//!
//! Pinned by `tests/captum.rs`: Grad-CAM at the same maps with its ReLU off equals
//! `CAM / (h·w)` to 1e-6, and the identity above.

use super::{BaseCam, CamInputs, CamWeights, Weights};
use crate::error::{Error, Result, shape_err};
use crate::float::Float;
use crate::nn::{Arch, LayerSpec};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CamHeadWeights;

impl CamWeights for CamHeadWeights {
    const NAME: &'static str = "cam";
    const NEEDS_GRADIENTS: bool = false;
    fn weights<T: Float>(&self, c: &CamInputs<T>) -> Result<Weights<T>> {
        let (_, head) = gap_head(&c.model.arch)?;
        let wt = &c.model.params()[head].1; // [classes, C]
        let ch = c.dims[1];
        if wt.shape().get(1) != Some(&ch) {
            return shape_err(format!(
                "CAM reads the maps the GAP averages; '{}' has {ch} channels, the head {:?}",
                c.layer,
                wt.shape()
            ));
        }
        Ok(Weights::Channel(
            c.targets
                .iter()
                .flat_map(|&t| wt.data()[t * ch..(t + 1) * ch].to_vec())
                .collect(),
        ))
    }
}

/// CAM at the maps the GAP averages (no ReLU: the map's mean plus the bias is the logit).
pub type Cam = BaseCam<CamHeadWeights>;

impl Cam {
    /// CAM for a GAP network, or an error saying it has no such head.
    pub fn for_arch(arch: &Arch) -> Result<Cam> {
        Ok(BaseCam {
            layer: gap_head(arch)?.0,
            relu: false,
            weights: CamHeadWeights,
        })
    }
}

/// The name of the layer whose maps the GAP averages, and the head's parameter index.
pub fn gap_head(arch: &Arch) -> Result<(String, usize)> {
    let layers = &arch.layers;
    let gap = layers
        .iter()
        .position(|l| matches!(l, LayerSpec::GlobalAvgPool { .. }));
    let ok = gap.filter(|&g| {
        g > 0
            && layers[g + 1..]
                .iter()
                .filter(|l| !matches!(l, LayerSpec::Flatten { .. }))
                .count()
                == 1
    });
    let Some(g) = ok.filter(|&g| {
        matches!(layers.last(), Some(LayerSpec::Linear { .. })) && g + 1 < layers.len()
    }) else {
        return Err(Error::Invalid(format!(
            "CAM needs a global-average-pool head followed by one linear layer; '{}' has none (use grad-cam instead)",
            arch.name
        )));
    };
    Ok((layers[g - 1].name().to_string(), arch.params().len() - 2))
}
