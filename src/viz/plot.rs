//! The colour palette of every chart, and bar charts of feature attributions (one bar per
//! feature) rendered into an image.

use super::font::draw_text;
use image::{Rgb, RgbImage};

/// Distinct line colours (Okabe–Ito, readable by colour-blind people).
pub const COLORS: [[u8; 3]; 6] = [
    [0, 114, 178],
    [230, 159, 0],
    [0, 158, 115],
    [204, 121, 167],
    [213, 94, 0],
    [86, 180, 233],
];

/// Ten distinct class colours for scatter plots (Tableau 10, matplotlib's `tab10`, the
/// colours the course's t-SNE pictures of MNIST use).
pub const CLASS_COLORS: [[u8; 3]; 10] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
    [188, 189, 34],
    [23, 190, 207],
];

/// One horizontal bar per value, in order from the top, on a shared zero line: red for
/// positive, blue for negative, length proportional to the value over the largest
/// magnitude; each row is labelled with its index and value.
pub fn bar_chart(values: &[f32]) -> RgbImage {
    let (row_h, label_w, bar_w) = (14u32, 150u32, 300u32);
    let h = (row_h * values.len() as u32).max(row_h) + 8;
    let mut img = RgbImage::from_pixel(label_w + bar_w + 8, h, Rgb([255, 255, 255]));
    let m = values.iter().fold(0.0f32, |a, v| a.max(v.abs()));
    let zero = label_w + bar_w / 2;
    for (j, &v) in values.iter().enumerate() {
        let y0 = 4 + j as u32 * row_h;
        draw_text(
            &mut img,
            &format!("{j} {}", super::svg::tick_label(v as f64)),
            4,
            y0 as i64 + 2,
            2,
            [40, 40, 40],
        );
        let len = if m > 0.0 {
            (v.abs() / m * (bar_w / 2 - 4) as f32).round() as u32
        } else {
            0
        };
        let (x0, x1) = if v >= 0.0 {
            (zero, zero + len)
        } else {
            (zero - len, zero)
        };
        let color = if v >= 0.0 {
            [178, 24, 43]
        } else {
            [33, 102, 172]
        };
        for y in y0 + 2..y0 + row_h - 2 {
            for x in x0..x1 {
                img.put_pixel(x, y, Rgb(color));
            }
        }
    }
    for y in 0..h {
        img.put_pixel(zero, y, Rgb([0, 0, 0]));
    }
    img
}

#[cfg(test)]
mod bar_tests {
    use super::*;

    #[test]
    fn bars_point_the_way_of_their_sign() {
        let img = bar_chart(&[1.0, -0.5, 0.0]);
        let zero = 150 + 150;
        let red = Rgb([178, 24, 43]);
        let blue = Rgb([33, 102, 172]);
        assert_eq!(*img.get_pixel(zero + 100, 4 + 7), red);
        assert_eq!(*img.get_pixel(zero - 50, 4 + 14 + 7), blue);
        assert_ne!(*img.get_pixel(zero - 100, 4 + 14 + 7), blue);
        assert_eq!(*img.get_pixel(zero + 5, 4 + 28 + 7), Rgb([255, 255, 255]));
    }
}
