//! Attribution maps as pictures: viridis for non-negative maps, a blue–white–red
//! diverging map for signed ones (white = 0, scaled by the largest magnitude), and
//! overlays on the input.

use super::grid::tensor_to_image;
use super::viridis;
use crate::error::{Result, shape_err};
use crate::explain::local::grad_cam::{Interpolation, upsample};
use crate::tensor::{Tensor, fmt_shape};
use image::{Rgb, RgbImage};

/// Blue (−1) – white (0) – red (+1).
pub fn diverging(t: f32) -> [u8; 3] {
    let t = if t.is_nan() { 0.0 } else { t.clamp(-1.0, 1.0) };
    let (blue, red) = ([33.0, 102.0, 172.0], [178.0, 24.0, 43.0]);
    let c = if t < 0.0 { blue } else { red };
    let a = t.abs();
    [0, 1, 2].map(|k| (255.0 * (1.0 - a) + c[k] * a).round() as u8)
}

/// Reduces an example's attribution to one value per pixel: `[C,H,W]` summed over
/// channels (signed) or `[H,W]` as is.
pub fn per_pixel(a: &Tensor<f32>, example: usize) -> Result<(usize, usize, Vec<f32>)> {
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
pub fn pixel_map(a: &Tensor<f32>, i: usize, h: usize, w: usize) -> Result<Vec<f32>> {
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

/// Heatmap and overlay of example `i` of a batch `x` (`to_unit` maps inputs to [0, 1]).
pub fn pictures(
    x: &Tensor<f32>,
    a: &Tensor<f32>,
    i: usize,
    to_unit: fn(f32) -> f32,
    alpha: f32,
) -> Result<(RgbImage, RgbImage)> {
    let (h, w) = (x.shape()[2], x.shape()[3]);
    let heat = heatmap(h, w, &pixel_map(a, i, h, w)?);
    let base = tensor_to_image(&x.select_rows(&[i])?, to_unit)?;
    let over = overlay(&base, &heat, alpha);
    Ok((heat, over))
}

/// The map as colours: diverging if it has negative values, else viridis from 0 to its max.
pub fn heatmap(h: usize, w: usize, v: &[f32]) -> RgbImage {
    let signed = v.iter().any(|&x| x < 0.0);
    let m = v.iter().fold(0.0f32, |a, &b| a.max(b.abs()));
    let scale = if m > 0.0 { 1.0 / m } else { 0.0 };
    RgbImage::from_fn(w as u32, h as u32, |x, y| {
        let t = v[y as usize * w + x as usize] * scale;
        Rgb(if signed { diverging(t) } else { viridis(t) })
    })
}

/// `base` in grey with the heatmap blended on top (`alpha` of the heatmap).
pub fn overlay(base: &RgbImage, heat: &RgbImage, alpha: f32) -> RgbImage {
    let heat = image::imageops::resize(
        heat,
        base.width(),
        base.height(),
        image::imageops::FilterType::Triangle,
    );
    RgbImage::from_fn(base.width(), base.height(), |x, y| {
        let b = base.get_pixel(x, y);
        let grey = (0.299 * b[0] as f32 + 0.587 * b[1] as f32 + 0.114 * b[2] as f32) * 0.8;
        let h = heat.get_pixel(x, y);
        Rgb([0, 1, 2].map(|k| (grey * (1.0 - alpha) + h[k] as f32 * alpha).round() as u8))
    })
}
