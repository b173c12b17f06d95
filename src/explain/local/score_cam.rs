//! Score-CAM (Wang et al. 2020).
//!
//! *Question:* which of a layer's maps, used as a mask on the input, keep the class
//! most confident? Each map `A_k` of the chosen layer is upsampled (bilinear) to the
//! input's size and min-max normalized to a mask `H_k` (a constant map becomes an
//! all-zero mask, never NaN); its weight is the class probability
//! `s_k = softmax(f(x ⊙ H_k))_c`; the map is `ReLU(Σ_k s_k · upsampled A_k)`, at the
//! input's resolution (`[N, H, W]`, raw; [`super::grad_cam::normalize`] for pictures).
//! Masked inputs are evaluated in batches.
//!
//! Pinned by the tests below (no NaN on constant maps; a class that depends on one
//! region gets its map there).

use super::grad_cam::{Interpolation, normalize, upsample};
use super::{Attribution, AttributionMethod, check_batch, softmax_prob};
use crate::autodiff::Tape;
use crate::error::{Result, shape_err};
use crate::float::Float;
use crate::nn::Model;
use crate::tensor::{Tensor, fmt_shape};

#[derive(Clone, Debug, PartialEq)]
pub struct ScoreCam {
    pub layer: String,
}

impl<T: Float> AttributionMethod<T> for ScoreCam {
    fn name(&self) -> &'static str {
        "score-cam"
    }
    fn attribute(
        &self,
        model: &Model<T>,
        x: &Tensor<T>,
        targets: &[usize],
    ) -> Result<Attribution<T>> {
        check_batch(model, x, targets)?;
        let (n, c, h, w) = crate::ops::expect_4d(x.shape(), "score-cam")?;
        let mut tape = Tape::no_grad();
        let xv = tape.constant(x.clone());
        let params = model.bind(&mut tape, false);
        let f = model.forward(&mut tape, xv, &params)?;
        let a = tape.value(f.activation(&self.layer)?).clone();
        let &[_, k, lh, lw] = a.shape() else {
            return shape_err(format!(
                "Score-CAM needs a convolutional layer; '{}' gives {}",
                self.layer,
                fmt_shape(a.shape())
            ));
        };
        let maps = upsample(&a.reshape(&[n * k, lh, lw])?, h, w, Interpolation::Bilinear)?;
        let masks = normalize(&maps)?;
        let mut out = vec![T::zero(); n * h * w];
        let per = c * h * w;
        for i in 0..n {
            let mut scores = Vec::with_capacity(k);
            for chunk in (0..k).collect::<Vec<_>>().chunks(128) {
                let mut data = Vec::with_capacity(chunk.len() * per);
                for &m in chunk {
                    let mask = &masks.data()[(i * k + m) * h * w..(i * k + m + 1) * h * w];
                    data.extend((0..per).map(|f| x.data()[i * per + f] * mask[f % (h * w)]));
                }
                let mut shape = x.shape().to_vec();
                shape[0] = chunk.len();
                let logits = model.predict(&Tensor::new(&shape, data)?)?;
                let kc = logits.shape()[1];
                for row in logits.data().chunks(kc) {
                    scores.push(softmax_prob(row, targets[i]));
                }
            }
            for (m, &s) in scores.iter().enumerate() {
                let up = &maps.data()[(i * k + m) * h * w..(i * k + m + 1) * h * w];
                for (o, &v) in out[i * h * w..(i + 1) * h * w].iter_mut().zip(up) {
                    *o += s * v;
                }
            }
        }
        out.iter_mut().for_each(|v| *v = v.max_of(T::zero()));
        Ok(Attribution::plain(Tensor::new(&[n, h, w], out)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Arch;

    #[test]
    fn constant_maps_give_no_nan() {
        // all-zero weights: every map is constant
        let mut model = Model::<f64>::init(Arch::from_name("mnist-gap").unwrap(), 1);
        for p in model.param_tensors_mut() {
            p.data_mut().iter_mut().for_each(|v| *v = 0.0);
        }
        let x = Tensor::ones(&[2, 1, 28, 28]);
        let a = ScoreCam {
            layer: "conv3.relu".into(),
        }
        .attribute(&model, &x, &[0, 1])
        .unwrap();
        assert!(a.map.data().iter().all(|v| v.is_finite()));
        assert_eq!(normalize(&a.map).unwrap().max_abs(), 0.0);
    }
}
