//! A probability over a square of the plane, as pictures side by side: each panel the
//! field in the blue–white–red map (blue 0, white ½, red 1), the labelled points over it
//! and a reference curve (dashed), with axes, titles and a colour bar.

use super::heatmap::diverging;
use super::svg::{Anchor, Svg, colour_bar, hex, tick_label};
use crate::error::{Result, invalid};
use image::{Rgb, RgbImage};

/// One panel: `values` is `n × n` in [0, 1], row 0 at the top of the square; the title
/// may hold several lines (`\n`), the first in bold.
pub struct FieldPanel {
    pub title: String,
    pub values: Vec<f64>,
}

/// What every panel shares.
pub struct FieldFrame<'a> {
    /// The square `[lo, hi]²` the values cover.
    pub lo: f64,
    pub hi: f64,
    pub x_label: &'a str,
    pub y_label: &'a str,
    /// The colour bar's title.
    pub value_label: &'a str,
    /// Points `(x, y, label)`: label false blue, true red.
    pub points: &'a [(f64, f64, bool)],
    /// A reference curve drawn dashed (e.g. the true boundary).
    pub curve: &'a [(f64, f64)],
    pub curve_label: &'a str,
}

/// The panels side by side (each 260 px square) as SVG with real text.
pub fn field_svg(panels: &[FieldPanel], frame: &FieldFrame, label: &str) -> Result<String> {
    let Some(first) = panels.first() else {
        return invalid("a field picture needs at least one panel");
    };
    let n = (first.values.len() as f64).sqrt() as usize;
    if n < 2 || panels.iter().any(|p| p.values.len() != n * n) {
        return invalid("every panel of a field picture needs the same n × n values, n ≥ 2");
    }
    if frame.hi.partial_cmp(&frame.lo) != Some(std::cmp::Ordering::Greater) {
        return invalid("a field picture's square needs lo < hi");
    }
    let title_lines = panels
        .iter()
        .map(|p| p.title.lines().count())
        .max()
        .unwrap_or(1);
    let (side, left, gap) = (260.0, 58.0, 40.0);
    let top = 25.0 + 15.0 * title_lines as f64;
    let width = left + panels.len() as f64 * (side + gap) + 10.0;
    let mut svg = Svg::new(width, top + side + 100.0);
    let span = frame.hi - frame.lo;
    let ticks = [frame.lo, (frame.lo + frame.hi) / 2.0, frame.hi];
    for (k, p) in panels.iter().enumerate() {
        let x0 = left + k as f64 * (side + gap);
        let to_px = |x: f64, y: f64| {
            (
                x0 + (x - frame.lo) / span * side,
                top + (frame.hi - y) / span * side,
            )
        };
        let mut img = RgbImage::new(n as u32, n as u32);
        for (i, v) in p.values.iter().enumerate() {
            let c = diverging((2.0 * v - 1.0) as f32);
            img.put_pixel((i % n) as u32, (i / n) as u32, Rgb(c));
        }
        svg.png(
            x0,
            top,
            side,
            side,
            &super::png_bytes(&img)?,
            &format!("{}: {}", p.title, frame.value_label),
        );
        svg.rect(x0, top, side, side, "none", "#444");
        let curve: Vec<(f64, f64)> = frame
            .curve
            .iter()
            .filter(|q| (frame.lo..=frame.hi).contains(&q.1))
            .map(|&(x, y)| to_px(x, y))
            .collect();
        if curve.len() > 1 {
            svg.polyline(&curve, "#111", 1.6, true);
        }
        for &(x, y, l) in frame.points {
            let c = if l { [103, 0, 13] } else { [8, 48, 107] };
            svg.circle(to_px(x, y), 2.2, &hex(c));
        }
        let lines: Vec<&str> = p.title.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            svg.text(
                x0 + side / 2.0,
                top - 10.0 - 15.0 * (lines.len() - 1 - i) as f64,
                line,
                12.0,
                Anchor::Middle,
                "#222",
                0.0,
                i == 0,
            );
        }
        for &t in &ticks {
            let (px, py) = to_px(t, t);
            svg.line((px, top + side), (px, top + side + 4.0), "#444", 1.0);
            svg.text(
                px,
                top + side + 16.0,
                &tick_label(t),
                10.0,
                Anchor::Middle,
                "#444",
                0.0,
                false,
            );
            if k == 0 {
                svg.line((x0 - 4.0, py), (x0, py), "#444", 1.0);
                svg.text(
                    x0 - 7.0,
                    py + 3.5,
                    &tick_label(t),
                    10.0,
                    Anchor::End,
                    "#444",
                    0.0,
                    false,
                );
            }
        }
        svg.text(
            x0 + side / 2.0,
            top + side + 32.0,
            frame.x_label,
            12.0,
            Anchor::Middle,
            "#222",
            0.0,
            false,
        );
    }
    svg.text(
        18.0,
        top + side / 2.0,
        frame.y_label,
        12.0,
        Anchor::Middle,
        "#222",
        -90.0,
        false,
    );
    let ybar = top + side + 52.0;
    colour_bar(&mut svg, left, ybar, 180.0, 10.0, 0.0, 1.0, |v| {
        diverging((2.0 * v - 1.0) as f32)
    });
    svg.text(
        left + 190.0,
        ybar + 9.0,
        frame.value_label,
        11.0,
        Anchor::Start,
        "#222",
        0.0,
        false,
    );
    let lx = left + 330.0;
    svg.polyline(
        &[(lx, ybar + 5.0), (lx + 24.0, ybar + 5.0)],
        "#111",
        1.6,
        true,
    );
    svg.text(
        lx + 30.0,
        ybar + 9.0,
        frame.curve_label,
        11.0,
        Anchor::Start,
        "#222",
        0.0,
        false,
    );
    let ly = ybar + 30.0;
    for (i, (c, t)) in [([8, 48, 107], "label 0"), ([103, 0, 13], "label 1")]
        .iter()
        .enumerate()
    {
        let x = left + 110.0 * i as f64;
        svg.circle((x + 4.0, ly - 4.0), 3.0, &hex(*c));
        svg.text(x + 12.0, ly, t, 11.0, Anchor::Start, "#222", 0.0, false);
    }
    Ok(svg.finish(label))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panels_have_titles_axes_and_scale_and_refuse_ragged_values() {
        let panels = vec![
            FieldPanel {
                title: "left".into(),
                values: vec![0.0, 1.0, 0.5, 0.25],
            },
            FieldPanel {
                title: "right".into(),
                values: vec![1.0; 4],
            },
        ];
        let frame = FieldFrame {
            lo: -1.0,
            hi: 1.0,
            x_label: "x₁",
            y_label: "x₂",
            value_label: "P(y = 1)",
            points: &[(0.0, 0.0, true)],
            curve: &[(-1.0, 0.5), (1.0, 0.5)],
            curve_label: "true boundary",
        };
        let s = field_svg(&panels, &frame, "fields").unwrap();
        for want in [
            ">left<",
            ">right<",
            ">x₁<",
            ">x₂<",
            ">P(y = 1)<",
            ">true boundary<",
        ] {
            assert!(s.contains(want), "{want} missing");
        }
        let ragged = vec![FieldPanel {
            title: "bad".into(),
            values: vec![0.0; 5],
        }];
        assert!(field_svg(&ragged, &frame, "x").is_err());
    }
}
