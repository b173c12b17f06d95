//! Turning tensors into pictures and laying pictures out in grids.

use crate::error::{Result, shape_err};
use crate::tensor::{Tensor, fmt_shape};
use image::{ImageBuffer, Rgb, RgbImage};
use std::ops::DerefMut;

/// One example `[C, H, W]` (C = 1 or 3) with values mapped by `to_unit` into [0, 1].
pub fn tensor_to_image(x: &Tensor<f32>, to_unit: impl Fn(f32) -> f32) -> Result<RgbImage> {
    let (c, h, w) = match x.shape() {
        &[c, h, w] if c == 1 || c == 3 => (c, h, w),
        &[1, c, h, w] if c == 1 || c == 3 => (c, h, w),
        s => {
            return shape_err(format!(
                "an image needs [1 or 3, H, W], got {}",
                fmt_shape(s)
            ));
        }
    };
    let d = x.data();
    Ok(RgbImage::from_fn(w as u32, h as u32, |px, py| {
        let i = py as usize * w + px as usize;
        let v = |ch: usize| super::round_u8(to_unit(d[ch * h * w + i]).clamp(0.0, 1.0) * 255.0);
        if c == 1 {
            Rgb([v(0); 3])
        } else {
            Rgb([v(0), v(1), v(2)])
        }
    }))
}

/// `img` scaled up `k` times by repeating pixels (nearest neighbour at a whole factor;
/// a plain copy loop, several times faster than a general resize).
pub fn zoom(img: &RgbImage, k: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    let mut out = RgbImage::new(w * k, h * k);
    blit_zoomed(&mut out, img, 0, 0, k);
    out
}

/// Copies `src` into `dst` with its top-left corner at (x, y), clipped to `dst` (row
/// copies; `imageops::overlay` blends pixel by pixel, which these opaque tiles do not need).
pub fn blit<C: DerefMut<Target = [u8]>>(
    dst: &mut ImageBuffer<Rgb<u8>, C>,
    src: &RgbImage,
    x: u32,
    y: u32,
) {
    blit_zoomed(dst, src, x, y, 1)
}

/// [`blit`] of `src` scaled up `k` times by repeating pixels, without making the scaled
/// picture first: each source row is widened once into `dst` and that row copied `k − 1`
/// times below it (clipped to `dst`).
pub fn blit_zoomed<C: DerefMut<Target = [u8]>>(
    dst: &mut ImageBuffer<Rgb<u8>, C>,
    src: &RgbImage,
    x: u32,
    y: u32,
    k: u32,
) {
    let (dw, dh) = dst.dimensions();
    if x >= dw || y >= dh || k == 0 {
        return;
    }
    let k = k as usize;
    let (sw, sh) = (src.width() as usize, src.height() as usize);
    let (x, y, dw, dh) = (x as usize, y as usize, dw as usize, dh as usize);
    // pixels of a widened row inside dst, rows inside dst
    let (w, h) = ((sw * k).min(dw - x), (sh * k).min(dh - y));
    let s = src.as_raw();
    let d: &mut [u8] = dst;
    for sy in 0..h.div_ceil(k) {
        let first = (y + sy * k) * dw * 3 + x * 3;
        let row = &mut d[first..first + 3 * w];
        for (px, out) in s[sy * sw * 3..].chunks_exact(3).zip(row.chunks_mut(3 * k)) {
            for o in out.chunks_exact_mut(3) {
                o.copy_from_slice(px);
            }
        }
        for r in 1..k.min(h - sy * k) {
            let to = first + r * dw * 3;
            d.copy_within(first..first + 3 * w, to);
        }
    }
}

/// Images side by side, `cols` per row, each scaled up `scale` times (nearest neighbour),
/// with a `gap`-pixel grey border.
pub fn image_grid(images: &[RgbImage], cols: usize, scale: u32, gap: u32) -> RgbImage {
    let cols = cols.min(images.len()).max(1);
    let cw = images.iter().map(|i| i.width()).max().unwrap_or(1) * scale;
    let ch = images.iter().map(|i| i.height()).max().unwrap_or(1) * scale;
    let rows = images.len().div_ceil(cols).max(1);
    let mut out = RgbImage::from_pixel(
        cols as u32 * (cw + gap) + gap,
        rows as u32 * (ch + gap) + gap,
        Rgb([200, 200, 200]),
    );
    for (k, img) in images.iter().enumerate() {
        let big = zoom(img, scale);
        let (x, y) = (
            (k % cols) as u32 * (cw + gap) + gap,
            (k / cols) as u32 * (ch + gap) + gap,
        );
        blit(&mut out, &big, x, y);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::imageops;

    #[test]
    fn zoom_repeats_pixels_like_a_nearest_resize() {
        let img = RgbImage::from_fn(5, 3, |x, y| Rgb([x as u8 * 40, y as u8 * 70, 9]));
        let want = imageops::resize(&img, 15, 9, imageops::FilterType::Nearest);
        assert_eq!(zoom(&img, 3), want);
        assert_eq!(zoom(&img, 1), img);
        let mut a = RgbImage::from_pixel(7, 4, Rgb([1, 2, 3]));
        let mut b = a.clone();
        blit(&mut a, &img, 3, 2);
        imageops::overlay(&mut b, &img, 3, 2);
        assert_eq!(a, b, "clipped at the right and bottom edges like overlay");
    }
}
