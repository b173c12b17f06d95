//! A labelled grid of small pictures: a title, a header per column, a label per row,
//! a caption above each tile and optionally a red box on it (top-activating examples
//! with their receptive fields; reconstructions from each layer).

use super::png_bytes;
use super::svg::{Anchor, Svg};
use crate::error::Result;
use image::RgbImage;

/// One picture with its caption and an optional outline `(top, left, bottom, right)`
/// in the picture's pixels (ends exclusive).
pub struct Tile {
    pub image: RgbImage,
    pub caption: String,
    pub outline: Option<[usize; 4]>,
}

/// One row: its label and tiles; with no tiles, `note` is written across the row.
pub struct TileRow {
    pub label: String,
    pub tiles: Vec<Tile>,
    pub note: String,
}

/// The grid as SVG, each tile drawn about 72 px high (integer zoom of its pixels).
pub fn tiles_svg(title: &str, columns: &[String], rows: &[TileRow]) -> Result<String> {
    let (ih, iw) = rows
        .iter()
        .flat_map(|r| r.tiles.first())
        .map(|t| (t.image.height() as f64, t.image.width() as f64))
        .next()
        .unwrap_or((28.0, 28.0));
    let scale = (72.0 / ih.max(iw)).floor().max(1.0);
    let (tw, th) = (iw * scale, ih * scale);
    let label_w = 12.0
        + 7.0
            * rows
                .iter()
                .map(|r| r.label.chars().count())
                .max()
                .unwrap_or(0) as f64;
    let (left, top, gap) = (label_w.max(60.0), 58.0, 18.0);
    let cols = columns
        .len()
        .max(rows.iter().map(|r| r.tiles.len()).max().unwrap_or(0));
    // columns wide enough for their headers (about 6.5 px a character)
    let widest = columns.iter().map(|c| c.chars().count()).max().unwrap_or(0);
    let col_w = (tw + 8.0).max(8.0 + 6.5 * widest as f64);
    let mut svg = Svg::new(
        (left + cols as f64 * col_w + 10.0).max(8.0 * title.chars().count() as f64),
        top + rows.len() as f64 * (th + gap) + 10.0,
    );
    svg.text(8.0, 18.0, title, 14.0, Anchor::Start, "#222", 0.0, true);
    for (c, h) in columns.iter().enumerate() {
        let x = left + c as f64 * col_w + tw / 2.0;
        svg.text(x, 42.0, h, 11.0, Anchor::Middle, "#444", 0.0, false);
    }
    for (r, row) in rows.iter().enumerate() {
        let y = top + r as f64 * (th + gap) + 12.0;
        svg.text(
            left - 8.0,
            y + th / 2.0 + 4.0,
            &row.label,
            12.0,
            Anchor::End,
            "#222",
            0.0,
            false,
        );
        if row.tiles.is_empty() {
            svg.text(
                left,
                y + th / 2.0 + 4.0,
                &row.note,
                12.0,
                Anchor::Start,
                "#888",
                0.0,
                false,
            );
        }
        for (c, t) in row.tiles.iter().enumerate() {
            let x = left + c as f64 * col_w;
            let img = super::grid::zoom(&t.image, scale as u32);
            svg.png(x, y, tw, th, &png_bytes(&img)?, &t.caption);
            if let Some([a, l, b, rr]) = t.outline {
                let (w, h) = ((rr - l) as f64 * scale, (b - a) as f64 * scale);
                svg.rect(
                    x + l as f64 * scale,
                    y + a as f64 * scale,
                    w,
                    h,
                    "none",
                    "#e41a1c",
                );
            }
            svg.text(
                x + tw / 2.0,
                y - 3.0,
                &t.caption,
                10.0,
                Anchor::Middle,
                "#444",
                0.0,
                false,
            );
        }
    }
    Ok(svg.finish(title))
}
