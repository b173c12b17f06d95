//! Per-example maps `[N, h, w]`: resizing and scaling for pictures, masks and metrics.
//! (CAM maps live at a layer's resolution; the input has its own.)

use crate::error::{Result, shape_err};
use crate::float::Float;
use crate::tensor::{Tensor, fmt_shape};

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

/// Reduces an example's attribution to one value per pixel: `[C,H,W]` summed over
/// channels (signed) or `[H,W]` as is.
pub fn per_pixel<T: Float>(a: &Tensor<T>, example: usize) -> Result<(usize, usize, Vec<T>)> {
    match a.shape() {
        &[_, c, h, w] => {
            let base = example * c * h * w;
            Ok((
                h,
                w,
                (0..h * w)
                    .map(|p| (0..c).map(|k| a.data()[base + k * h * w + p]).sum())
                    .collect(),
            ))
        }
        &[_, h, w] => Ok((
            h,
            w,
            a.data()[example * h * w..(example + 1) * h * w].to_vec(),
        )),
        s => shape_err(format!(
            "cannot draw an attribution of shape {}",
            fmt_shape(s)
        )),
    }
}

/// Example `i`'s attribution as one value per input pixel (`h × w`): channels summed,
/// and low-resolution maps (CAMs) upsampled bilinearly.
pub fn pixel_map<T: Float>(a: &Tensor<T>, i: usize, h: usize, w: usize) -> Result<Vec<T>> {
    let (mh, mw, v) = per_pixel(a, i)?;
    if (mh, mw) == (h, w) {
        return Ok(v);
    }
    Ok(upsample(
        &Tensor::new(&[1, mh, mw], v)?,
        h,
        w,
        Interpolation::Bilinear,
    )?
    .into_data())
}

/// A separable Gaussian blur of `[C, H, W]` values (kernel radius ⌈3σ⌉, edges clamped).
pub fn gaussian_blur(x: &[f64], c: usize, h: usize, w: usize, sigma: f64) -> Vec<f64> {
    let r = (3.0 * sigma).ceil() as isize;
    let k: Vec<f64> = (-r..=r)
        .map(|d| (-((d * d) as f64) / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f64 = k.iter().sum();
    let k: Vec<f64> = k.iter().map(|v| v / total).collect();
    let clamp = |v: isize, n: usize| v.clamp(0, n as isize - 1) as usize;
    let mut out = vec![0.0; x.len()];
    for ch in 0..c {
        let src = &x[ch * h * w..(ch + 1) * h * w];
        let mut tmp = vec![0.0; h * w];
        for i in 0..h {
            for j in 0..w {
                tmp[i * w + j] = (-r..=r)
                    .map(|d| k[(d + r) as usize] * src[i * w + clamp(j as isize + d, w)])
                    .sum();
            }
        }
        for i in 0..h {
            for j in 0..w {
                out[ch * h * w + i * w + j] = (-r..=r)
                    .map(|d| k[(d + r) as usize] * tmp[clamp(i as isize + d, h) * w + j])
                    .sum();
            }
        }
    }
    out
}
