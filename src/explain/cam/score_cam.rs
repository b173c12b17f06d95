//! Score-CAM (Wang et al. 2020).
//!
//! *Question:* which of a layer's maps, used as a mask on the input, keep the class
//! most confident? Each map `A_k` is upsampled (bilinear, half-pixel centres) to the
//! input's size and min-max normalized to a mask `H_k` (a constant map becomes an
//! all-zero mask, never NaN); its weight is the class probability
//! `w_k = softmax(f(x ⊙ H_k))_c`, and `L = ReLU(Σ_k w_k A_k)` at the layer's resolution.
//! Masked inputs run in shared batched passes.
//!
//! Conventions differ from pytorch-grad-cam's `ScoreCAM`, which upsamples with
//! `align_corners=True`, divides by zero on constant maps, and takes the softmax of the
//! target logits over the channels instead of over the classes; so no golden is pinned.
//! Pinned by the tests below (no NaN on constant maps).

use super::{BaseCam, CamInputs, CamWeights, Weights};
use crate::error::Result;
use crate::explain::batched::{predict_rows, probabilities};
use crate::float::Float;
use crate::tensor::image::{Interpolation, normalize, upsample};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScoreCamWeights;

impl CamWeights for ScoreCamWeights {
    const NAME: &'static str = "score-cam";
    const NEEDS_GRADIENTS: bool = false;
    fn weights<T: Float>(&self, c: &CamInputs<T>) -> Result<Weights<T>> {
        let [n, k, lh, lw] = c.dims;
        let (xc, h, w) =
            crate::ops::expect_4d(c.x.shape(), "score-cam").map(|s| (s.1, s.2, s.3))?;
        let maps = c.activation.clone().reshape(&[n * k, lh, lw])?;
        let masks = normalize(&upsample(&maps, h, w, Interpolation::Bilinear)?)?;
        let (hw, per) = (h * w, xc * h * w);
        let logits = predict_rows(c.model, &c.x.shape()[1..], n * k, |r, row| {
            let (i, mask) = (r / k, &masks.data()[r * hw..(r + 1) * hw]);
            let src = &c.x.data()[i * per..(i + 1) * per];
            row.iter_mut()
                .zip(src)
                .enumerate()
                .for_each(|(f, (o, &v))| *o = v * mask[f % hw]);
        })?;
        Ok(Weights::Channel(probabilities(&logits, |r| {
            c.targets[r / k]
        })))
    }
}

pub type ScoreCam = BaseCam<ScoreCamWeights>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::attribution::AttributionMethod;
    use crate::nn::{Arch, Model};
    use crate::tensor::Tensor;

    #[test]
    fn constant_maps_give_no_nan() {
        // all-zero weights: every map is constant
        let mut model = Model::<f64>::init(Arch::from_name("mnist-gap").unwrap(), 1);
        for p in model.param_tensors_mut() {
            p.data_mut().iter_mut().for_each(|v| *v = 0.0);
        }
        let x = Tensor::ones(&[2, 1, 28, 28]);
        let a = ScoreCam::new("conv3.relu")
            .attribute(&model, &x, &[0, 1])
            .unwrap();
        assert!(a.map.data().iter().all(|v| v.is_finite()));
        assert_eq!(normalize(&a.map).unwrap().max_abs(), 0.0);
    }
}
