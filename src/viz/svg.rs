//! A small SVG writer for the report: real text (crisp, selectable, in the browser's
//! fonts), charts with axis titles, round ticks and legends, and pictures embedded as PNG
//! data. Written here rather than pulled in: the report needs lines, points, text and
//! images, a few hundred lines.

use super::report::esc;
use std::fmt::Write;

/// An SVG document being drawn.
pub struct Svg {
    pub width: f64,
    pub height: f64,
    body: String,
}

/// `#rrggbb`.
pub fn hex(c: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// Standard base64 (RFC 4648, with padding), for embedding pictures.
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Text placement.
#[derive(Clone, Copy)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

impl Svg {
    pub fn new(width: f64, height: f64) -> Svg {
        Svg {
            width,
            height,
            body: String::new(),
        }
    }
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, stroke: &str) {
        let _ = writeln!(
            self.body,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{fill}" stroke="{stroke}"/>"#
        );
    }
    pub fn line(&mut self, a: (f64, f64), b: (f64, f64), stroke: &str, width: f64) {
        let _ = writeln!(
            self.body,
            r#"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{stroke}" stroke-width="{width}"/>"#,
            a.0, a.1, b.0, b.1
        );
    }
    pub fn polyline(&mut self, pts: &[(f64, f64)], stroke: &str, width: f64, dashed: bool) {
        let p: Vec<String> = pts
            .iter()
            .map(|p| format!("{:.1},{:.1}", p.0, p.1))
            .collect();
        let dash = if dashed {
            r#" stroke-dasharray="5 4""#
        } else {
            ""
        };
        let _ = writeln!(
            self.body,
            r#"<polyline points="{}" fill="none" stroke="{stroke}" stroke-width="{width}"{dash}/>"#,
            p.join(" ")
        );
    }
    /// A closed shape filled with `fill` at `opacity`, no outline.
    pub fn polygon(&mut self, pts: &[(f64, f64)], fill: &str, opacity: f64) {
        let p: Vec<String> = pts
            .iter()
            .map(|p| format!("{:.1},{:.1}", p.0, p.1))
            .collect();
        let _ = writeln!(
            self.body,
            r#"<polygon points="{}" fill="{fill}" fill-opacity="{opacity}" stroke="none"/>"#,
            p.join(" ")
        );
    }
    pub fn circle(&mut self, c: (f64, f64), r: f64, fill: &str) {
        let _ = writeln!(
            self.body,
            r#"<circle cx="{:.1}" cy="{:.1}" r="{r}" fill="{fill}" stroke="white" stroke-width="0.8"/>"#,
            c.0, c.1
        );
    }
    /// Text; `rotate` turns it (−90 for a y-axis title).
    #[allow(clippy::too_many_arguments)]
    pub fn text(
        &mut self,
        x: f64,
        y: f64,
        s: &str,
        size: f64,
        anchor: Anchor,
        fill: &str,
        rotate: f64,
        bold: bool,
    ) {
        let a = match anchor {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        };
        let r = if rotate != 0.0 {
            format!(r#" transform="rotate({rotate} {x:.1} {y:.1})""#)
        } else {
            String::new()
        };
        let w = if bold { r#" font-weight="bold""# } else { "" };
        let _ = writeln!(
            self.body,
            r#"<text x="{x:.1}" y="{y:.1}" font-size="{size}" text-anchor="{a}" fill="{fill}"{w}{r}>{}</text>"#,
            esc(s)
        );
    }
    /// A PNG shown at `w × h` (pixelated when enlarged), with a tooltip.
    pub fn png(&mut self, x: f64, y: f64, w: f64, h: f64, png: &[u8], title: &str) {
        let _ = writeln!(
            self.body,
            r#"<image x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" style="image-rendering:pixelated" href="data:image/png;base64,{}"><title>{}</title></image>"#,
            base64(png),
            esc(title)
        );
    }
    /// Raw SVG elements.
    pub fn raw(&mut self, s: &str) {
        self.body += s;
    }
    /// The document; `label` becomes its accessible name.
    pub fn finish(&self, label: &str) -> String {
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\" \
             role=\"img\" aria-label=\"{l}\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n\
             <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{b}</svg>\n",
            w = self.width,
            h = self.height,
            l = esc(label),
            b = self.body
        )
    }
}

/// About `n` round tick values (1, 2 or 5 × 10^k apart) covering [lo, hi].
pub fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// A tick value as short text: no trailing zeros, exponent for very large or small.
pub fn tick_label(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        return format!("{v:.0e}");
    }
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// One line (or set of points) of a chart.
pub struct Line {
    pub label: String,
    pub color: [u8; 3],
    pub points: Vec<(f64, f64)>,
    /// Draw a marker at each point.
    pub markers: bool,
    /// Connect the points.
    pub connect: bool,
    pub dashed: bool,
    /// A shaded band `(x, low, high)` behind the line (e.g. mean ± one standard
    /// deviation); empty for none.
    pub band: Vec<(f64, f64, f64)>,
}

/// A chart with axis titles, round ticks and a legend.
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub lines: Vec<Line>,
    /// Fixed y range (else the data's, rounded to ticks).
    pub y_range: Option<(f64, f64)>,
    /// Format y ticks as percentages (values are fractions).
    pub y_percent: bool,
    /// Marker size (default 3.5 px; scatter plots of many points want less).
    pub marker_radius: Option<f64>,
}

impl Chart {
    /// Draws the chart into `svg` in the box (x, y, w, h); the legend sits on the right
    /// inside the box.
    pub fn draw(&self, svg: &mut Svg, x: f64, y: f64, w: f64, h: f64) {
        let legend_w = if self.lines.len() > 1 {
            // gap, line sample, gap, then about 7 px a character
            40.0 + 7.0
                * self
                    .lines
                    .iter()
                    .map(|l| l.label.chars().count())
                    .max()
                    .unwrap_or(0) as f64
        } else {
            0.0
        };
        let (left, right, top, bottom) =
            (x + 62.0, x + w - 12.0 - legend_w, y + 28.0, y + h - 44.0);
        svg.text(
            x + w / 2.0,
            y + 16.0,
            &self.title,
            14.0,
            Anchor::Middle,
            "#222",
            0.0,
            true,
        );
        let pts: Vec<(f64, f64)> = self
            .lines
            .iter()
            .flat_map(|l| {
                let band = l.band.iter().flat_map(|&(x, lo, hi)| [(x, lo), (x, hi)]);
                l.points.iter().copied().chain(band)
            })
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .collect();
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for &(a, b) in &pts {
            (x0, x1, y0, y1) = (x0.min(a), x1.max(a), y0.min(b), y1.max(b));
        }
        if pts.is_empty() {
            (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
        }
        if let Some((a, b)) = self.y_range {
            (y0, y1) = (a, b);
        }
        if x1 - x0 < 1e-12 {
            (x0, x1) = (x0 - 0.5, x1 + 0.5);
        }
        if y1 - y0 < 1e-12 {
            (y0, y1) = (y0 - 0.5, y1 + 0.5);
        }
        let yt = nice_ticks(y0, y1, 5);
        if self.y_range.is_none() {
            // widen to the outer ticks so the top and bottom lines are labelled
            let step = if yt.len() > 1 { yt[1] - yt[0] } else { y1 - y0 };
            y0 = (y0 / step).floor() * step;
            y1 = (y1 / step).ceil() * step;
        }
        let yt = nice_ticks(y0, y1, 5);
        let xt = nice_ticks(x0, x1, 6);
        let px = |v: f64| left + (v - x0) / (x1 - x0) * (right - left);
        let py = |v: f64| bottom - (v - y0) / (y1 - y0) * (bottom - top);
        for &t in &yt {
            svg.line((left, py(t)), (right, py(t)), "#e4e4e4", 1.0);
            let label = if self.y_percent {
                format!("{}%", tick_label(100.0 * t))
            } else {
                tick_label(t)
            };
            svg.text(
                left - 6.0,
                py(t) + 4.0,
                &label,
                11.0,
                Anchor::End,
                "#444",
                0.0,
                false,
            );
        }
        for &t in &xt {
            svg.line((px(t), bottom), (px(t), bottom + 4.0), "#444", 1.0);
            svg.text(
                px(t),
                bottom + 17.0,
                &tick_label(t),
                11.0,
                Anchor::Middle,
                "#444",
                0.0,
                false,
            );
        }
        svg.line((left, top), (left, bottom), "#444", 1.0);
        svg.line((left, bottom), (right, bottom), "#444", 1.0);
        svg.text(
            (left + right) / 2.0,
            y + h - 8.0,
            &self.x_label,
            12.0,
            Anchor::Middle,
            "#222",
            0.0,
            false,
        );
        svg.text(
            x + 14.0,
            (top + bottom) / 2.0,
            &self.y_label,
            12.0,
            Anchor::Middle,
            "#222",
            -90.0,
            false,
        );
        for l in &self.lines {
            let band: Vec<&(f64, f64, f64)> = l
                .band
                .iter()
                .filter(|b| b.0.is_finite() && b.1.is_finite() && b.2.is_finite())
                .collect();
            if band.len() > 1 {
                // inside the plot: a band wider than a fixed y range is cut at its edges
                let clip = |v: f64| v.clamp(y0, y1);
                let upper = band.iter().map(|b| (px(b.0), py(clip(b.2))));
                let lower = band.iter().rev().map(|b| (px(b.0), py(clip(b.1))));
                let outline: Vec<(f64, f64)> = upper.chain(lower).collect();
                svg.polygon(&outline, &hex(l.color), 0.18);
            }
        }
        let mut k = 0;
        for l in &self.lines {
            let c = hex(l.color);
            let p: Vec<(f64, f64)> = l
                .points
                .iter()
                .filter(|p| p.0.is_finite() && p.1.is_finite())
                .map(|&(a, b)| (px(a), py(b)))
                .collect();
            if l.connect && p.len() > 1 {
                svg.polyline(&p, &c, 2.0, l.dashed);
            }
            if l.markers {
                for &q in &p {
                    svg.circle(q, self.marker_radius.unwrap_or(3.5), &c);
                }
            }
            if legend_w > 0.0 && !l.label.is_empty() {
                let ly = top + 6.0 + 18.0 * k as f64;
                k += 1;
                let lx = right + 14.0;
                svg.line((lx, ly), (lx + 16.0, ly), &c, 3.0);
                svg.text(
                    lx + 20.0,
                    ly + 4.0,
                    &l.label,
                    11.0,
                    Anchor::Start,
                    "#222",
                    0.0,
                    false,
                );
            }
        }
    }
}

/// Charts side by side in one picture, each `w × h`.
pub fn charts_svg(charts: &[Chart], w: f64, h: f64, label: &str) -> String {
    let mut svg = Svg::new(w * charts.len() as f64, h);
    for (i, c) in charts.iter().enumerate() {
        c.draw(&mut svg, w * i as f64, 0.0, w, h);
    }
    svg.finish(label)
}

/// A horizontal colour bar from `lo` to `hi` with its end and middle values labelled.
#[allow(clippy::too_many_arguments)]
pub fn colour_bar(
    svg: &mut Svg,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    lo: f64,
    hi: f64,
    colour: impl Fn(f64) -> [u8; 3],
) {
    let n = 32;
    for k in 0..n {
        let t = (k as f64 + 0.5) / n as f64;
        let c = hex(colour(lo + t * (hi - lo)));
        svg.rect(
            x + w * k as f64 / n as f64,
            y,
            w / n as f64 + 0.3,
            h,
            &c,
            "none",
        );
    }
    svg.rect(x, y, w, h, "none", "#888");
    let fmt = |v: f64| {
        let a = v.abs();
        if v == 0.0 {
            "0".to_string()
        } else if (1e-3..1e4).contains(&a) {
            // three significant digits
            let decimals = (2 - a.log10().floor() as i32).max(0) as usize;
            format!("{v:.decimals$}")
        } else {
            format!("{v:.2e}")
        }
    };
    svg.text(
        x,
        y + h + 12.0,
        &fmt(lo),
        10.0,
        Anchor::Start,
        "#333",
        0.0,
        false,
    );
    svg.text(
        x + w,
        y + h + 12.0,
        &fmt(hi),
        10.0,
        Anchor::End,
        "#333",
        0.0,
        false,
    );
    if lo < 0.0 && hi > 0.0 {
        svg.text(
            x + w / 2.0,
            y + h + 12.0,
            "0",
            10.0,
            Anchor::Middle,
            "#333",
            0.0,
            false,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_examples() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(
            nice_ticks(0.0, 1.0, 5),
            vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        let t = nice_ticks(0.013, 0.87, 5);
        assert!(
            t.iter()
                .all(|v| (v * 10.0 - (v * 10.0).round()).abs() < 1e-9),
            "{t:?}"
        );
        assert_eq!(tick_label(0.6000000000000001), "0.6");
        assert_eq!(tick_label(250.0), "250");
        assert_eq!(tick_label(0.0), "0");
    }

    #[test]
    fn bands_are_shaded_and_cut_at_a_fixed_range() {
        let c = Chart {
            title: "AUC".into(),
            x_label: "budget".into(),
            y_label: "best AUC".into(),
            lines: vec![Line {
                label: "tree".into(),
                color: [0, 0, 255],
                points: vec![(0.0, 0.9), (1.0, 0.95)],
                markers: false,
                connect: true,
                dashed: false,
                band: vec![(0.0, 0.8, 1.0), (1.0, 0.7, 1.5)],
            }],
            y_range: Some((0.5, 1.0)),
            y_percent: false,
            marker_radius: None,
        };
        let s = charts_svg(&[c], 400.0, 260.0, "band");
        let poly = s
            .split("<polygon points=\"")
            .nth(1)
            .expect("a band")
            .split('"')
            .next()
            .unwrap();
        let ys: Vec<f64> = poly
            .split(' ')
            .map(|p| p.split(',').nth(1).unwrap().parse().unwrap())
            .collect();
        // the plot spans y = 28 (value 1.0) to 216 (value 0.5)
        assert!(ys.iter().all(|&y| (28.0..=216.0).contains(&y)), "{ys:?}");
        assert!(ys.contains(&28.0), "the band reaches the top edge: {ys:?}");
    }

    #[test]
    fn charts_have_titles_axes_and_legends_as_text() {
        let c = Chart {
            title: "Loss".into(),
            x_label: "epoch".into(),
            y_label: "cross-entropy".into(),
            lines: vec![
                Line {
                    label: "train".into(),
                    color: [0, 0, 255],
                    points: vec![(1.0, 0.5), (2.0, 0.3)],
                    markers: true,
                    connect: true,
                    dashed: false,
                    band: Vec::new(),
                },
                Line {
                    label: "test".into(),
                    color: [255, 0, 0],
                    points: vec![(1.0, 0.6), (2.0, 0.4)],
                    markers: false,
                    connect: true,
                    dashed: true,
                    band: Vec::new(),
                },
            ],
            y_range: None,
            y_percent: false,
            marker_radius: None,
        };
        let s = charts_svg(&[c], 400.0, 260.0, "loss per epoch");
        for want in [
            ">Loss<",
            ">epoch<",
            ">cross-entropy<",
            ">train<",
            ">test<",
            "aria-label=\"loss per epoch\"",
        ] {
            assert!(s.contains(want), "{want} missing");
        }
    }
}
