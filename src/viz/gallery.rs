//! The explanation gallery a teacher projects: one row per method (its name at the
//! start), one column per example (true and predicted class and the confidence on top,
//! misclassified columns marked), one colour scale per row with its colour bar (signed
//! maps: blue–white–red, symmetric; non-negative maps: viridis from 0). Each tile shows the
//! input in grey at reduced contrast with the map on top, opaque where the map is strong,
//! so it reads on white MNIST strokes and on coloured sprites alike.

use super::heatmap::diverging;
use super::svg::{Anchor, Svg, colour_bar};
use super::{png_bytes, viridis};
use crate::error::Result;
use image::{Rgb, RgbImage};

/// One example: its picture and what the model made of it.
pub struct Column {
    /// Header lines, e.g. `true 7`, `pred 7`, `99.1% sure`.
    pub lines: Vec<String>,
    pub wrong: bool,
    pub input: RgbImage,
}

/// One method: its name and one map (`h × w` values) per column.
pub struct Row {
    pub label: String,
    pub maps: Vec<Vec<f32>>,
}

/// The colour scale a row uses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    pub signed: bool,
    /// The ends of the scale: the row's 99th percentile of magnitudes (larger values
    /// are shown at full colour, as Captum's `outlier_perc` does, so a few extreme pixels
    /// do not wash out the rest).
    pub max: f32,
}

/// The share of magnitudes below the scale's end.
pub const SCALE_PERCENTILE: f64 = 0.99;

impl Scale {
    /// Signed if any value is negative; symmetric about 0 at the row's 99th percentile
    /// of magnitudes (the largest magnitude if that percentile is 0).
    pub fn of(maps: &[Vec<f32>]) -> Scale {
        let mut mags: Vec<f32> = maps
            .iter()
            .flatten()
            .filter(|v| v.is_finite())
            .map(|v| v.abs())
            .collect();
        let signed = maps.iter().flatten().any(|&v| v < 0.0);
        if mags.is_empty() {
            return Scale { signed, max: 0.0 };
        }
        mags.sort_by(f32::total_cmp);
        let k = ((mags.len() - 1) as f64 * SCALE_PERCENTILE).round() as usize;
        let max = if mags[k] > 0.0 {
            mags[k]
        } else {
            mags[mags.len() - 1]
        };
        Scale { signed, max }
    }
    fn colour(&self, v: f32) -> [u8; 3] {
        let t = if self.max > 0.0 { v / self.max } else { 0.0 };
        if self.signed {
            diverging(t)
        } else {
            viridis(t)
        }
    }
}

/// The tile: `input` in grey squeezed into [0.3, 0.7] with the map's colour on top,
/// opacity growing with the map's magnitude.
pub fn tile(input: &RgbImage, map: &[f32], h: usize, w: usize, scale: Scale) -> RgbImage {
    tile_on(&grey_base(input, h, w), map, h, w, scale)
}

/// The input at the map's `h × w`, as grey levels squeezed into [0.3, 0.7] × 255 (one per
/// column of a gallery, shared by its rows).
fn grey_base(input: &RgbImage, h: usize, w: usize) -> Vec<f32> {
    let base = image::imageops::resize(
        input,
        w as u32,
        h as u32,
        image::imageops::FilterType::Triangle,
    );
    base.pixels()
        .map(|b| {
            let g = (0.299 * b[0] as f32 + 0.587 * b[1] as f32 + 0.114 * b[2] as f32) / 255.0;
            255.0 * (0.3 + 0.4 * g)
        })
        .collect()
}

/// [`tile`] on a [`grey_base`].
fn tile_on(base: &[f32], map: &[f32], h: usize, w: usize, scale: Scale) -> RgbImage {
    RgbImage::from_fn(w as u32, h as u32, |x, y| {
        let i = y as usize * w + x as usize;
        let grey = base[i];
        let v = map[i];
        let v = if v.is_finite() { v } else { 0.0 };
        let t = if scale.max > 0.0 {
            (v.abs() / scale.max).min(1.0)
        } else {
            0.0
        };
        let alpha = 0.9 * t.sqrt();
        let c = scale.colour(v);
        Rgb([0, 1, 2].map(|k| super::round_u8(grey * (1.0 - alpha) + c[k] as f32 * alpha)))
    })
}

/// The gallery as SVG. `tile_px` is the shown size of a tile (maps are `h × w`).
pub fn gallery_svg(
    columns: &[Column],
    rows: &[Row],
    h: usize,
    w: usize,
    tile_px: f64,
    label: &str,
) -> Result<String> {
    let longest = rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let n_lines = columns.iter().map(|c| c.lines.len()).max().unwrap_or(0) + 1;
    let head_h = 6.0 + 13.0 * n_lines as f64;
    let (label_w, gap, bar_w) = (16.0 + 7.6 * longest as f64, 4.0, 130.0);
    let row_h = tile_px * h as f64 / w as f64;
    let width = label_w + columns.len() as f64 * (tile_px + gap) + bar_w;
    let height = head_h + (rows.len() + 1) as f64 * (row_h + gap) + 6.0;
    let mut svg = Svg::new(width, height);
    for (j, c) in columns.iter().enumerate() {
        let x = label_w + j as f64 * (tile_px + gap) + tile_px / 2.0;
        let fill = if c.wrong { "#b2182b" } else { "#222" };
        for (k, line) in c.lines.iter().enumerate() {
            svg.text(
                x,
                13.0 + 13.0 * k as f64,
                line,
                11.0,
                Anchor::Middle,
                fill,
                0.0,
                c.wrong,
            );
        }
        if c.wrong {
            let y = 13.0 + 13.0 * c.lines.len() as f64;
            svg.text(x, y, "✗ wrong", 11.0, Anchor::Middle, fill, 0.0, true);
        }
    }
    let row_y = |i: usize| head_h + i as f64 * (row_h + gap);
    svg.text(
        label_w - 8.0,
        row_y(0) + row_h / 2.0 + 4.0,
        "input",
        12.0,
        Anchor::End,
        "#222",
        0.0,
        true,
    );
    for (j, c) in columns.iter().enumerate() {
        let x = label_w + j as f64 * (tile_px + gap);
        svg.png(
            x,
            row_y(0),
            tile_px,
            row_h,
            &png_bytes(&c.input)?,
            &c.lines.join(", "),
        );
        if c.wrong {
            svg.rect(
                x - 1.5,
                row_y(0) - 1.5,
                tile_px + 3.0,
                row_h + 3.0,
                "none",
                "#b2182b",
            );
        }
    }
    let bases: Vec<Vec<f32>> = columns.iter().map(|c| grey_base(&c.input, h, w)).collect();
    for (i, r) in rows.iter().enumerate() {
        let y = row_y(i + 1);
        let scale = Scale::of(&r.maps);
        svg.text(
            label_w - 8.0,
            y + row_h / 2.0 + 4.0,
            &r.label,
            12.0,
            Anchor::End,
            "#222",
            0.0,
            true,
        );
        for (j, m) in r.maps.iter().enumerate() {
            let x = label_w + j as f64 * (tile_px + gap);
            let t = tile_on(&bases[j], m, h, w, scale);
            svg.png(
                x,
                y,
                tile_px,
                row_h,
                &png_bytes(&t)?,
                &format!("{}, {}", r.label, columns[j].lines.join(", ")),
            );
        }
        let bx = label_w + columns.len() as f64 * (tile_px + gap) + 10.0;
        let lo = if scale.signed { -scale.max } else { 0.0 } as f64;
        colour_bar(
            &mut svg,
            bx,
            y + row_h / 2.0 - 12.0,
            bar_w - 24.0,
            10.0,
            lo,
            scale.max as f64,
            |v| scale.colour(v as f32),
        );
        if scale.max == 0.0 {
            svg.text(
                bx,
                y + row_h / 2.0 - 16.0,
                "all zero",
                10.0,
                Anchor::Start,
                "#b2182b",
                0.0,
                true,
            );
        }
    }
    Ok(svg.finish(label))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_get_their_own_symmetric_or_sequential_scale() {
        assert_eq!(
            Scale::of(&[vec![0.1, -0.4], vec![0.2]]),
            Scale {
                signed: true,
                max: 0.4
            }
        );
        assert_eq!(
            Scale::of(&[vec![0.0, 2.0]]),
            Scale {
                signed: false,
                max: 2.0
            }
        );
    }

    #[test]
    fn strong_attribution_is_opaque_and_zero_shows_the_input() {
        let input = RgbImage::from_pixel(2, 1, Rgb([255, 255, 255]));
        let t = tile(
            &input,
            &[0.0, 1.0],
            1,
            2,
            Scale {
                signed: true,
                max: 1.0,
            },
        );
        assert_eq!(t.get_pixel(0, 0)[0], t.get_pixel(0, 0)[2], "zero is grey");
        assert!(
            t.get_pixel(1, 0)[0] > 150 && t.get_pixel(1, 0)[2] < 80,
            "+1 is red"
        );
    }

    #[test]
    fn labels_are_text_and_wrong_columns_are_marked() {
        let col = |wrong| Column {
            lines: vec!["true 7".into(), "pred 1".into(), "80% sure".into()],
            wrong,
            input: RgbImage::new(4, 4),
        };
        let rows = [Row {
            label: "saliency".into(),
            maps: vec![vec![0.5; 16], vec![0.0; 16]],
        }];
        let s = gallery_svg(&[col(false), col(true)], &rows, 4, 4, 40.0, "g").unwrap();
        assert!(s.contains(">saliency<") && s.contains(">input<") && s.contains("✗ wrong"));
    }
}
