//! Grad-CAM (Selvaraju et al. 2017).
//!
//! *Question:* which regions of a convolutional layer's maps support the class?
//! With `A_k` the maps of the chosen layer (any layer by name, e.g. `conv3.relu`),
//! `α_k = mean_{ij} ∂y_c/∂A_k[i,j]` and `L = ReLU(Σ_k α_k A_k)` (the ReLU can be turned
//! off; Captum's `LayerGradCam` leaves it off by default). The raw map has the layer's
//! resolution `[N, h, w]`; [`upsample`] and [`normalize`] make the picture.
//!
//! Pinned by `tests/captum.rs`: Captum's `LayerGradCam` at the last conv layer's
//! post-ReLU output to 1e-5, and Grad-CAM = CAM / (h·w) on a GAP network.

use super::{Attribution, AttributionMethod, check_batch, layer_gradient};
use crate::error::{Result, shape_err};
use crate::float::Float;
use crate::nn::Model;
use crate::tensor::{Tensor, fmt_shape};

#[derive(Clone, Debug, PartialEq)]
pub struct GradCam {
    pub layer: String,
    pub relu: bool,
}

impl<T: Float> AttributionMethod<T> for GradCam {
    fn name(&self) -> &'static str {
        "grad-cam"
    }
    fn attribute(
        &self,
        model: &Model<T>,
        x: &Tensor<T>,
        targets: &[usize],
    ) -> Result<Attribution<T>> {
        check_batch(model, x, targets)?;
        let (a, g) = layer_gradient(model, x, targets, &self.layer)?;
        let (n, c, h, w) = match a.shape() {
            &[n, c, h, w] => (n, c, h, w),
            s => {
                return shape_err(format!(
                    "Grad-CAM needs a convolutional layer [N,C,h,w]; '{}' gives {}",
                    self.layer,
                    fmt_shape(s)
                ));
            }
        };
        let hw = h * w;
        let inv = T::one() / T::from_usize(hw).unwrap_or(T::one());
        let mut out = vec![T::zero(); n * hw];
        for i in 0..n {
            for k in 0..c {
                let base = (i * c + k) * hw;
                let alpha = g.data()[base..base + hw].iter().copied().sum::<T>() * inv;
                for p in 0..hw {
                    out[i * hw + p] += alpha * a.data()[base + p];
                }
            }
        }
        if self.relu {
            out.iter_mut().for_each(|v| *v = v.max_of(T::zero()));
        }
        Ok(Attribution::plain(Tensor::new(&[n, h, w], out)?))
    }
}

/// How a low-resolution map is brought to the input's size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interpolation {
    /// Source pixel `⌊i·in/out⌋` (PyTorch's and Captum's `nearest`).
    Nearest,
    /// Bilinear with half-pixel centres (PyTorch's `align_corners=False`).
    Bilinear,
}

/// `[N, h, w] → [N, H, W]`.
pub fn upsample<T: Float>(
    m: &Tensor<T>,
    out_h: usize,
    out_w: usize,
    mode: Interpolation,
) -> Result<Tensor<T>> {
    let &[n, h, w] = m.shape() else {
        return shape_err(format!(
            "upsample needs [N, h, w], got {}",
            fmt_shape(m.shape())
        ));
    };
    let mut out = Vec::with_capacity(n * out_h * out_w);
    for i in 0..n {
        let src = &m.data()[i * h * w..(i + 1) * h * w];
        for y in 0..out_h {
            for x in 0..out_w {
                out.push(match mode {
                    Interpolation::Nearest => src[(y * h / out_h) * w + x * w / out_w],
                    Interpolation::Bilinear => {
                        let fy = ((y as f64 + 0.5) * h as f64 / out_h as f64 - 0.5)
                            .clamp(0.0, (h - 1) as f64);
                        let fx = ((x as f64 + 0.5) * w as f64 / out_w as f64 - 0.5)
                            .clamp(0.0, (w - 1) as f64);
                        let (y0, x0) = (fy.floor() as usize, fx.floor() as usize);
                        let (y1, x1) = ((y0 + 1).min(h - 1), (x0 + 1).min(w - 1));
                        let (ty, tx) = (
                            T::from_f64_lossy(fy - y0 as f64),
                            T::from_f64_lossy(fx - x0 as f64),
                        );
                        let top = src[y0 * w + x0] * (T::one() - tx) + src[y0 * w + x1] * tx;
                        let bot = src[y1 * w + x0] * (T::one() - tx) + src[y1 * w + x1] * tx;
                        top * (T::one() - ty) + bot * ty
                    }
                });
            }
        }
    }
    Tensor::new(&[n, out_h, out_w], out)
}

/// Scales each example's map to [0, 1] by its min and max; a constant map becomes all
/// zeros (never NaN).
pub fn normalize<T: Float>(m: &Tensor<T>) -> Result<Tensor<T>> {
    let n = m.shape().first().copied().unwrap_or(0);
    if n == 0 {
        return Ok(m.clone());
    }
    let per = m.len() / n;
    let mut out = m.clone();
    for chunk in out.data_mut().chunks_mut(per) {
        let lo = chunk.iter().fold(chunk[0], |a, &b| a.min_of(b));
        let hi = chunk.iter().fold(chunk[0], |a, &b| a.max_of(b));
        let span = hi - lo;
        chunk.iter_mut().for_each(|v| {
            *v = if span > T::zero() {
                (*v - lo) / span
            } else {
                T::zero()
            }
        });
    }
    Ok(out)
}
