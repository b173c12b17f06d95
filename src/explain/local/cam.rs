//! Class activation maps (Zhou et al. 2016), for networks whose head is global average
//! pooling followed by one linear layer.
//!
//! *Question:* where in the image is the evidence the linear head weighs for the class?
//! With `A_k` the maps that the GAP averages and `w_{c,k}` the head's weights,
//! `CAM_c = Σ_k w_{c,k} A_k` (`[N, h, w]`, before upsampling; the bias is left out).
//! Since `y_c = Σ_k w_{c,k} mean(A_k) + b_c`, `mean(CAM_c) + b_c = y_c`.
//!
//! Pinned by `tests/captum.rs`: Grad-CAM at the same maps with its ReLU off equals
//! `CAM / (h·w)` to 1e-6, and the identity above.

use super::{Attribution, AttributionMethod, check_batch};
use crate::autodiff::Tape;
use crate::error::{Error, Result};
use crate::float::Float;
use crate::nn::{LayerSpec, Model};
use crate::tensor::Tensor;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cam;

/// The name of the layer whose maps the GAP averages, and the head's parameter index.
pub fn gap_head<T: Float>(model: &Model<T>) -> Result<(String, usize)> {
    let layers = &model.arch.layers;
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
            model.arch.name
        )));
    };
    Ok((layers[g - 1].name().to_string(), model.params().len() - 2))
}

impl<T: Float> AttributionMethod<T> for Cam {
    fn name(&self) -> &'static str {
        "cam"
    }
    fn attribute(
        &self,
        model: &Model<T>,
        x: &Tensor<T>,
        targets: &[usize],
    ) -> Result<Attribution<T>> {
        check_batch(model, x, targets)?;
        let (layer, head) = gap_head(model)?;
        let mut tape = Tape::no_grad();
        let xv = tape.constant(x.clone());
        let params = model.bind(&mut tape, false);
        let f = model.forward(&mut tape, xv, &params)?;
        let a = tape.value(f.activation(&layer)?);
        let &[n, c, h, w] = a.shape() else {
            return Err(Error::Shape("CAM maps must be [N,C,h,w]".into()));
        };
        let wt = &model.params()[head].1; // [classes, c]
        let mut out = vec![T::zero(); n * h * w];
        for i in 0..n {
            for k in 0..c {
                let wk = wt.data()[targets[i] * c + k];
                for p in 0..h * w {
                    out[i * h * w + p] += wk * a.data()[(i * c + k) * h * w + p];
                }
            }
        }
        Ok(Attribution::plain(Tensor::new(&[n, h, w], out)?))
    }
}
