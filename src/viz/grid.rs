//! Turning tensors into pictures and laying pictures out in grids.

use crate::error::{Result, shape_err};
use crate::tensor::{Tensor, fmt_shape};
use image::{Rgb, RgbImage};

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
        let v = |ch: usize| (to_unit(d[ch * h * w + i]).clamp(0.0, 1.0) * 255.0).round() as u8;
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
    if k == 1 {
        return img.clone();
    }
    let (w, h) = img.dimensions();
    let k = k as usize;
    let src = img.as_raw();
    let row_out = w as usize * k * 3;
    let mut out = vec![0u8; row_out * h as usize * k];
    for (y, dst_rows) in out.chunks_exact_mut(row_out * k).enumerate() {
        let (first, rest) = dst_rows.split_at_mut(row_out);
        let line = &src[y * w as usize * 3..(y + 1) * w as usize * 3];
        for (px, dst) in line.chunks_exact(3).zip(first.chunks_exact_mut(3 * k)) {
            for d in dst.chunks_exact_mut(3) {
                d.copy_from_slice(px);
            }
        }
        for r in rest.chunks_exact_mut(row_out) {
            r.copy_from_slice(first);
        }
    }
    RgbImage::from_raw(w * k as u32, h * k as u32, out).expect("sizes match")
}

/// Copies `src` into `dst` with its top-left corner at (x, y), clipped to `dst` (row
/// copies; `imageops::overlay` blends pixel by pixel, which these opaque tiles do not need).
pub fn blit(dst: &mut RgbImage, src: &RgbImage, x: u32, y: u32) {
    let (dw, dh) = dst.dimensions();
    if x >= dw || y >= dh {
        return;
    }
    let w = src.width().min(dw - x) as usize;
    let h = src.height().min(dh - y) as usize;
    let (sw, dw) = (src.width() as usize * 3, dw as usize * 3);
    let s = src.as_raw();
    let d: &mut [u8] = dst;
    for r in 0..h {
        let to = (y as usize + r) * dw + x as usize * 3;
        d[to..to + 3 * w].copy_from_slice(&s[r * sw..r * sw + 3 * w]);
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
