//! Pictures: colormaps, image grids, line plots with a tiny bitmap font, and the HTML
//! report that collects them.

pub mod field;
pub mod font;
pub mod gallery;
pub mod grid;
pub mod heatmap;
pub mod map_grid;
pub mod plot;
pub mod report;
pub mod svg;
pub mod tiles;

use crate::error::{Error, Result};
use image::RgbImage;
use std::path::Path;

/// A picture encoded as PNG bytes.
pub fn png_bytes(img: &RgbImage) -> Result<Vec<u8>> {
    use image::ImageEncoder;
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    let mut buf = Vec::new();
    // fast deflate: pictures of flat colour compress well anyway, and encoding at the
    // default level was most of a cheap method's run. One filter (Paeth) for every row:
    // the adaptive choice tries all five per row; on the 64-digit grid the file is as
    // small (439 against 437 kB) and the command runs 7% fewer instructions (callgrind)
    PngEncoder::new_with_quality(&mut buf, CompressionType::Fast, FilterType::Paeth)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| Error::Io(format!("encoding a PNG: {e}")))?;
    Ok(buf)
}

/// Saves a PNG atomically (temporary name, then rename), creating the parent folder.
pub fn save_png(img: &RgbImage, path: &Path) -> Result<()> {
    crate::io::write_atomic(path, &png_bytes(img)?)
}

/// `v.round() as u8` (half away from zero, saturating, NaN → 0) without the libm call
/// that `round` compiles to: it was 5% of an `explain` command's time (perf), called
/// three times per pixel of every picture. `v − trunc(v)` is exact, so the test against
/// one half decides as `round` does (test `rounding_to_bytes_is_rounds`).
#[inline]
pub fn round_u8(v: f32) -> u8 {
    let t = v as u8;
    if v - t as f32 >= 0.5 {
        t.saturating_add(1)
    } else {
        t
    }
}

/// Viridis, the perceptually uniform colormap, at t ∈ [0, 1] (piecewise linear
/// between 9 of its published control points).
pub fn viridis(t: f32) -> [u8; 3] {
    const P: [[f32; 3]; 9] = [
        [68.0, 1.0, 84.0],
        [71.0, 44.0, 122.0],
        [59.0, 81.0, 139.0],
        [44.0, 113.0, 142.0],
        [33.0, 144.0, 141.0],
        [39.0, 173.0, 129.0],
        [92.0, 200.0, 99.0],
        [170.0, 220.0, 50.0],
        [253.0, 231.0, 37.0],
    ];
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) } * 8.0;
    let i = (t.floor() as usize).min(7);
    let f = t - i as f32;
    [0, 1, 2].map(|c| round_u8(P[i][c] * (1.0 - f) + P[i + 1][c] * f))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every f32 from −300 to 300 in steps of 2⁻¹⁰ (all the halves included), the
    /// neighbours of each half, and the special values: the same byte as `round`.
    #[test]
    fn rounding_to_bytes_is_rounds() {
        let mut vals: Vec<f32> = (-300 * 1024..=300 * 1024)
            .map(|i| i as f32 / 1024.0)
            .collect();
        for i in -1..=600 {
            let half = i as f32 + 0.5;
            vals.extend([half.next_down(), half, half.next_up()]);
        }
        vals.extend([
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            1e30,
            -1e30,
            -0.0,
        ]);
        for v in vals {
            assert_eq!(round_u8(v), v.round() as u8, "{v}");
        }
    }
}
