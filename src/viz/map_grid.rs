//! One labelled PNG for a batch of attribution maps: a row per example (its labels on
//! the left), three columns (the input, the map, the map over the input in grey), column
//! titles on top and the colour scale at the bottom. Each row is scaled to its own
//! largest magnitude, printed in the row's label, because examples in one batch can
//! differ by orders of magnitude.

use super::font::{draw_text, text_width};
use super::grid::blit_zoomed;
use super::heatmap::{diverging, pictures_of_map};
use super::viridis;
use crate::error::{Result, shape_err};
use crate::tensor::Tensor;
use crate::tensor::image::pixel_map;
use image::{ImageBuffer, Rgb, RgbImage};
use rayon::prelude::*;

const TEXT: i64 = 2;
const LINE: u32 = 7 * TEXT as u32;
const GAP: u32 = 4;
const INK: [u8; 3] = [30, 30, 30];
/// white, in every channel
const PAPER: u8 = 255;

/// The grid of `x` `[N, C, H, W]` and `map` (one `H × W` map per example after the
/// per-pixel reduction), with `labels[i]` (a few short lines) beside row `i`.
/// `to_unit` maps input values to [0, 1].
pub fn map_grid(
    x: &Tensor<f32>,
    map: &Tensor<f32>,
    labels: &[Vec<String>],
    to_unit: fn(f32) -> f32,
) -> Result<RgbImage> {
    let n = x.shape()[0];
    if x.ndim() != 4 || map.shape().first() != Some(&n) || labels.len() != n {
        return shape_err(format!(
            "map_grid: inputs {:?}, maps {:?} and {} labels do not match",
            x.shape(),
            map.shape(),
            labels.len()
        ));
    }
    let (h, w) = (x.shape()[2], x.shape()[3]);
    let zoom_k = (96 / h.max(w)).max(1) as u32;
    let (tw, th) = (w as u32 * zoom_k, h as u32 * zoom_k);
    let tiles: Vec<(RgbImage, RgbImage, RgbImage, f32, bool)> = (0..n)
        .into_par_iter()
        .map(|i| {
            let v = pixel_map(map, i, h, w)?;
            let (base, heat, over) = pictures_of_map(x, i, &v, to_unit, 0.55)?;
            let m = v.iter().fold(0.0f32, |a, b| a.max(b.abs()));
            let signed = v.iter().any(|&b| b < 0.0);
            Ok((base, heat, over, m, signed))
        })
        .collect::<Result<_>>()?;
    // each row's labels gain a last line: the row's scale
    let lines: Vec<Vec<String>> = labels
        .iter()
        .zip(&tiles)
        .map(|(l, t)| {
            let mut l = l.clone();
            l.push(format!("max {}", short(t.3)));
            l
        })
        .collect();
    let label_w = lines
        .iter()
        .flatten()
        .map(|s| text_width(s, TEXT))
        .max()
        .unwrap_or(0) as u32
        + 2 * GAP;
    let row_h = th.max(LINE * lines.iter().map(Vec::len).max().unwrap_or(0) as u32) + GAP;
    let titles = ["input", "attribution", "overlay"];
    let col_w = tw.max(text_width("attribution", TEXT) as u32) + 3 * GAP;
    let head = LINE + 2 * GAP;
    let legend = 3 * LINE + 4 * GAP;
    // the colour scales actually used: signed maps, non-negative maps, or both
    let scales: Vec<bool> = [true, false]
        .into_iter()
        .filter(|&signed| tiles.iter().any(|t| t.4 == signed))
        .collect();
    let bar_w = 3 * col_w - GAP;
    let width = (label_w + 3 * col_w + GAP)
        .max(scales.len() as u32 * (bar_w + 4 * GAP))
        .max(text_width(LEGEND_NOTE, TEXT) as u32 + 2 * GAP);
    let height = head + n as u32 * row_h + legend;
    // white paper in one fill (`from_pixel` zeroes the buffer, then writes it pixel by
    // pixel)
    let mut img = RgbImage::from_raw(width, height, vec![PAPER; (width * height * 3) as usize])
        .expect("3 bytes per pixel");
    for (k, t) in titles.iter().enumerate() {
        let x0 = label_w + k as u32 * col_w;
        draw_text(&mut img, t, x0 as i64, GAP as i64, TEXT, INK);
    }
    // each example's band of rows drawn by its own task: its labels and its three
    // pictures scaled up straight into the band
    let stride = width as usize * 3;
    let band = row_h as usize * stride;
    let raw: &mut [u8] = &mut img;
    let body = &mut raw[head as usize * stride..head as usize * stride + n * band];
    body.par_chunks_mut(band)
        .zip(tiles.par_iter().zip(&lines))
        .for_each(|(rows, (tile, l))| {
            let mut b = ImageBuffer::<Rgb<u8>, &mut [u8]>::from_raw(width, row_h, rows)
                .expect("a band is row_h rows of the picture");
            for (j, s) in l.iter().enumerate() {
                draw_text(&mut b, s, GAP as i64, (j as u32 * LINE) as i64, TEXT, INK);
            }
            for (k, pic) in [&tile.0, &tile.1, &tile.2].into_iter().enumerate() {
                blit_zoomed(&mut b, pic, label_w + k as u32 * col_w, 0, zoom_k);
            }
        });
    let y0 = head + n as u32 * row_h + GAP;
    for (k, &signed) in scales.iter().enumerate() {
        colour_bar(
            &mut img,
            signed,
            GAP + k as u32 * (bar_w + 4 * GAP),
            y0,
            bar_w,
        );
    }
    draw_text(
        &mut img,
        LEGEND_NOTE,
        GAP as i64,
        (y0 + 2 * LINE + GAP) as i64,
        TEXT,
        INK,
    );
    Ok(img)
}

/// A horizontal colour bar `bar_w` wide at (x0, y0), its ends and middle labelled.
fn colour_bar(img: &mut RgbImage, signed: bool, x0: u32, y0: u32, bar_w: u32) {
    for dx in 0..bar_w {
        let t = dx as f32 / (bar_w - 1).max(1) as f32;
        let c = if signed {
            diverging(2.0 * t - 1.0)
        } else {
            viridis(t)
        };
        for dy in 0..LINE {
            img.put_pixel(x0 + dx, y0 + dy, Rgb(c));
        }
    }
    let (lo, hi) = if signed {
        ("-max", "+max")
    } else {
        ("0", "max")
    };
    let ty = (y0 + LINE + 2) as i64;
    draw_text(img, lo, x0 as i64, ty, TEXT, INK);
    if signed {
        let mid = x0 as i64 + bar_w as i64 / 2 - text_width("0", TEXT) / 2;
        draw_text(img, "0", mid, ty, TEXT, INK);
    }
    let right = x0 as i64 + bar_w as i64 - text_width(hi, TEXT);
    draw_text(img, hi, right, ty, TEXT, INK);
}

const LEGEND_NOTE: &str = "each row: its own scale, max = largest |value|";

/// A number in three significant digits: `0.0312`, `3.1e-5`, `1250`.
fn short(v: f32) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.1e}")
    } else {
        // three significant digits, trailing zeros dropped
        let decimals = (2 - a.log10().floor() as i32).max(0) as usize;
        let s = format!("{v:.decimals$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_example_and_a_legend() {
        let x = Tensor::new(&[2, 1, 4, 4], (0..32).map(|i| i as f32 / 32.0).collect()).unwrap();
        let map = Tensor::new(&[2, 1, 4, 4], (0..32).map(|i| i as f32 + 1.0).collect()).unwrap();
        let labels = vec![vec!["#0".into()], vec!["#1".into()]];
        let img = map_grid(&x, &map, &labels, |v| v).unwrap();
        let one = map_grid(
            &x.select_rows(&[0]).unwrap(),
            &map.select_rows(&[0]).unwrap(),
            &labels[..1],
            |v| v,
        )
        .unwrap();
        assert_eq!(img.width(), one.width());
        assert!(img.height() > one.height());
        // a signed row and a non-negative row: both colour scales, side by side
        let mixed = map.map(|v| if v < 8.0 { -v } else { v });
        let both = map_grid(&x, &mixed, &labels, |v| v).unwrap();
        assert!(both.width() > img.width());
        assert!(
            map_grid(&x, &map, &labels[..1], |v| v).is_err(),
            "labels must match the rows"
        );
    }

    #[test]
    fn short_numbers() {
        assert_eq!(short(0.031234), "0.0312");
        assert_eq!(short(3.1e-5), "3.1e-5");
        assert_eq!(short(0.0), "0");
        assert_eq!(short(12.5), "12.5");
        assert_eq!(short(1250.0), "1250");
        assert_eq!(short(-0.5), "-0.5");
    }
}
