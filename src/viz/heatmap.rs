//! Attribution maps as pictures: viridis for non-negative maps, a blue–white–red
//! diverging map for signed ones (white = 0, scaled by the largest magnitude), and
//! overlays on the input.

use super::grid::tensor_to_image;
use super::{round_u8, viridis};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::tensor::image::pixel_map;
use image::{Rgb, RgbImage};

/// Blue (−1) – white (0) – red (+1).
pub fn diverging(t: f32) -> [u8; 3] {
    let t = if t.is_nan() { 0.0 } else { t.clamp(-1.0, 1.0) };
    let (blue, red) = ([33.0, 102.0, 172.0], [178.0, 24.0, 43.0]);
    let c = if t < 0.0 { blue } else { red };
    let a = t.abs();
    [0, 1, 2].map(|k| round_u8(255.0 * (1.0 - a) + c[k] * a))
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
    let (_, heat, over) = pictures_of_map(x, i, &pixel_map(a, i, h, w)?, to_unit, alpha)?;
    Ok((heat, over))
}

/// Example `i` of `x` as a picture, the map `v` (`H × W`, already reduced per pixel) as
/// a heatmap, and the overlay: (input, heatmap, overlay).
pub fn pictures_of_map(
    x: &Tensor<f32>,
    i: usize,
    v: &[f32],
    to_unit: fn(f32) -> f32,
    alpha: f32,
) -> Result<(RgbImage, RgbImage, RgbImage)> {
    let (h, w) = (x.shape()[2], x.shape()[3]);
    let heat = heatmap(h, w, v);
    let base = tensor_to_image(&x.select_rows(&[i])?, to_unit)?;
    let over = overlay(&base, &heat, alpha);
    Ok((base, heat, over))
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
    let resized;
    let heat = if heat.dimensions() == base.dimensions() {
        heat
    } else {
        resized = image::imageops::resize(
            heat,
            base.width(),
            base.height(),
            image::imageops::FilterType::Triangle,
        );
        &resized
    };
    RgbImage::from_fn(base.width(), base.height(), |x, y| {
        let b = base.get_pixel(x, y);
        let grey = (0.299 * b[0] as f32 + 0.587 * b[1] as f32 + 0.114 * b[2] as f32) * 0.8;
        let h = heat.get_pixel(x, y);
        Rgb([0, 1, 2].map(|k| round_u8(grey * (1.0 - alpha) + h[k] as f32 * alpha)))
    })
}
