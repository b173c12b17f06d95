//! Line plots rendered straight into an image: axes, tick labels, one colour per series.

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

/// A series: points (x, y) and a colour.
pub struct Series {
    pub points: Vec<(f64, f64)>,
    pub color: [u8; 3],
}

fn fmt_tick(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 1000.0 || v.abs() < 0.01 {
        format!("{v:.0e}")
    } else if v.abs() >= 10.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Draws the series in a `w × h` image with axes spanning their data (y from `y_range` if given).
pub fn line_plot(series: &[Series], w: u32, h: u32, y_range: Option<(f64, f64)>) -> RgbImage {
    let mut img = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    let pts = series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|p| p.0.is_finite() && p.1.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in pts {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x0 > x1 {
        return img;
    }
    if let Some((a, b)) = y_range {
        (y0, y1) = (a, b);
    }
    if x1 - x0 < 1e-12 {
        x1 = x0 + 1.0;
    }
    if y1 - y0 < 1e-12 {
        y1 = y0 + 1.0;
    }
    let (left, right, top, bottom) = (44i64, 10i64, 10i64, 22i64);
    let (pw, ph) = (
        (w as i64 - left - right).max(1),
        (h as i64 - top - bottom).max(1),
    );
    let to_px = |x: f64, y: f64| {
        (
            left as f64 + (x - x0) / (x1 - x0) * pw as f64,
            top as f64 + (1.0 - (y - y0) / (y1 - y0)) * ph as f64,
        )
    };
    let grey = [120, 120, 120];
    for i in 0..=4 {
        let fy = y0 + (y1 - y0) * i as f64 / 4.0;
        let (_, py) = to_px(x0, fy);
        for px in left..left + pw {
            put(
                &mut img,
                px,
                py as i64,
                if i == 0 { grey } else { [230, 230, 230] },
            );
        }
        draw_text(&mut img, &fmt_tick(fy), 2, py as i64 - 5, 2, grey);
    }
    for fx in x_ticks(series, x0, x1) {
        let (px, _) = to_px(fx, y0);
        draw_text(
            &mut img,
            &fmt_tick(fx),
            px as i64 - 6,
            top + ph + 6,
            2,
            grey,
        );
    }
    for py in top..top + ph {
        put(&mut img, left, py, grey);
    }
    for s in series {
        let p: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .map(|&(x, y)| to_px(x, y))
            .collect();
        for seg in p.windows(2) {
            line(&mut img, seg[0], seg[1], s.color);
        }
        for &(x, y) in &p {
            for dx in -2..=2 {
                for dy in -2..=2 {
                    put(&mut img, x as i64 + dx, y as i64 + dy, s.color);
                }
            }
        }
    }
    img
}

/// Every x of the data when they are a few whole numbers (epochs), else five even steps.
fn x_ticks(series: &[Series], x0: f64, x1: f64) -> Vec<f64> {
    let mut xs: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    if xs.len() <= 12 && xs.iter().all(|x| x.fract() == 0.0) {
        xs
    } else {
        (0..=4).map(|i| x0 + (x1 - x0) * i as f64 / 4.0).collect()
    }
}

fn put(img: &mut RgbImage, x: i64, y: i64, c: [u8; 3]) {
    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, Rgb(c));
    }
}

fn line(img: &mut RgbImage, a: (f64, f64), b: (f64, f64), c: [u8; 3]) {
    let n = ((b.0 - a.0).abs().max((b.1 - a.1).abs()) as usize).max(1) * 2;
    for i in 0..=n {
        let t = i as f64 / n as f64;
        let (x, y) = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
        for d in 0..2 {
            put(img, x as i64, y as i64 + d, c);
        }
    }
}

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
            &format!("{j} {}", fmt_tick(v as f64)),
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
