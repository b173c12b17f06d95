//! `pokedigi-synth`: procedurally drawn creature sprites with the lecture's background
//! shortcut, written as real image files and read back by the folder loader.
//!
//! Both classes draw bodies, heads, limbs, eyes, spikes, tails and a body pattern from
//! distributions that differ but overlap: 95% of Digimon wear armour stripes, have 3–6
//! spikes and mostly a tail and are a little darker; 95% of Pokémon have light spots,
//! 0–3 spikes and mostly no tail. The creature alone takes the reference network above
//! 90%, but it is harder to read than what also separates the classes: the file
//! format, as in the homework. A Pokémon is an RGBA PNG whose background is transparent
//! (often with white stored under alpha 0), which the loader composites to black; a
//! Digimon is a JPEG on white. With `debias`, both classes get the same kind of random
//! opaque background and are both saved as JPEG, so a model has to look at the creature.

use crate::error::{Error, Result};
use crate::io::Outputs;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use std::path::Path;

/// Changes whenever the drawing changes, so that caches of older sets are not reused.
pub const VERSION: u32 = 4;

/// Creature names, some with the awkward characters real downloads have.
const NAMES: [&str; 12] = [
    "sprout",
    "ember cub",
    "Mr. Fizz%28Galar%29",
    "flabébé",
    "zap-mouse",
    "shell (1)",
    "noctowl_2",
    "ÉCLAIR",
    "tiny drake",
    "moss%20back",
    "kit",
    "glimmer",
];

#[derive(Clone, Copy)]
struct Color([f32; 3]);

impl Color {
    fn hsv(h: f32, s: f32, v: f32) -> Color {
        let c = v * s;
        let hp = (h.rem_euclid(360.0)) / 60.0;
        let x = c * (1.0 - (hp % 2.0 - 1.0).abs());
        let (r, g, b) = match hp as u32 {
            0 => (c, x, 0.0),
            1 => (x, c, 0.0),
            2 => (0.0, c, x),
            3 => (0.0, x, c),
            4 => (x, 0.0, c),
            _ => (c, 0.0, x),
        };
        let m = v - c;
        Color([r + m, g + m, b + m])
    }
    fn scale(self, k: f32) -> Color {
        Color(self.0.map(|v| (v * k).clamp(0.0, 1.0)))
    }
    fn rgba(self) -> Rgba<u8> {
        let [r, g, b] = self.0.map(|v| (v * 255.0).round() as u8);
        Rgba([r, g, b, 255])
    }
}

/// An RGBA canvas with the few shapes the sprites need.
struct Canvas {
    img: RgbaImage,
}

impl Canvas {
    fn paint(&mut self, inside: impl Fn(f32, f32) -> bool, c: Color) {
        let (w, h) = self.img.dimensions();
        for y in 0..h {
            for x in 0..w {
                if inside(x as f32 + 0.5, y as f32 + 0.5) {
                    self.img.put_pixel(x, y, c.rgba());
                }
            }
        }
    }
    fn ellipse(&mut self, cx: f32, cy: f32, rx: f32, ry: f32, c: Color) {
        self.paint(
            |x, y| ((x - cx) / rx).powi(2) + ((y - cy) / ry).powi(2) <= 1.0,
            c,
        );
    }
    fn triangle(&mut self, p: [(f32, f32); 3], c: Color) {
        let edge = |a: (f32, f32), b: (f32, f32), x: f32, y: f32| {
            (b.0 - a.0) * (y - a.1) - (b.1 - a.1) * (x - a.0)
        };
        self.paint(
            |x, y| {
                let (d0, d1, d2) = (
                    edge(p[0], p[1], x, y),
                    edge(p[1], p[2], x, y),
                    edge(p[2], p[0], x, y),
                );
                (d0 >= 0.0 && d1 >= 0.0 && d2 >= 0.0) || (d0 <= 0.0 && d1 <= 0.0 && d2 <= 0.0)
            },
            c,
        );
    }
    fn thick_line(&mut self, a: (f32, f32), b: (f32, f32), width: f32, c: Color) {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len2 = (dx * dx + dy * dy).max(1e-6);
        self.paint(
            |x, y| {
                let t = (((x - a.0) * dx + (y - a.1) * dy) / len2).clamp(0.0, 1.0);
                let (px, py) = (a.0 + t * dx - x, a.1 + t * dy - y);
                px * px + py * py <= width * width / 4.0
            },
            c,
        );
    }
}

/// Draws one creature of class `digimon` (else pokemon) on a transparent canvas.
fn draw_creature(rng: &mut StdRng, size: u32, digimon: bool) -> RgbaImage {
    let s = size as f32;
    let mut cv = Canvas {
        img: RgbaImage::from_pixel(size, size, Rgba([0, 0, 0, 0])),
    };
    // overlapping palettes: Digimon are a little darker and more saturated on average
    let hue: f32 = rng.gen_range(0.0..360.0);
    let sat: f32 = rng.gen_range(0.35..0.9) + if digimon { 0.05 } else { 0.0 };
    let val = rng.gen_range(0.55..0.95) - if digimon { 0.06 } else { 0.0 };
    let body_c = Color::hsv(hue, sat.min(1.0), val);
    let accent = Color::hsv(
        hue + rng.gen_range(90.0..270.0),
        rng.gen_range(0.4..0.9),
        rng.gen_range(0.5..0.95),
    );
    let dark = body_c.scale(0.6);
    let (cx, cy) = (s * rng.gen_range(0.44..0.56), s * rng.gen_range(0.5..0.58));
    let roundness = rng.gen_range(0.75..1.25) * if digimon { 0.92 } else { 1.0 };
    let (rx, ry) = (
        s * rng.gen_range(0.22..0.34),
        s * rng.gen_range(0.19..0.28) * roundness,
    );
    // tail
    if rng.gen_bool(if digimon { 0.8 } else { 0.3 }) {
        let side = if rng.gen_bool(0.5) { 1.0 } else { -1.0 };
        let end = (
            cx + side * (rx + s * rng.gen_range(0.08..0.2)),
            cy - s * rng.gen_range(0.0..0.2),
        );
        cv.thick_line((cx, cy), end, s * rng.gen_range(0.04..0.08), accent);
    }
    // limbs
    let legs = rng.gen_range(2..=4);
    for i in 0..legs {
        let fx = cx - rx * 0.7 + (i as f32 + 0.5) / legs as f32 * rx * 1.4;
        let foot = (
            fx + s * rng.gen_range(-0.05..0.05),
            cy + ry + s * rng.gen_range(0.05..0.1),
        );
        cv.thick_line((fx, cy), foot, s * rng.gen_range(0.04..0.07), dark);
    }
    cv.ellipse(cx, cy, rx, ry, body_c);
    // belly patch
    if rng.gen_bool(0.5) {
        cv.ellipse(cx, cy + ry * 0.25, rx * 0.55, ry * 0.5, body_c.scale(1.25));
    }
    // body pattern: 95% of Digimon wear armour stripes, 95% of Pokémon have light spots
    let inside_body = |x: f32, y: f32| ((x - cx) / rx).powi(2) + ((y - cy) / ry).powi(2) <= 1.0;
    if rng.gen_bool(if digimon { 0.95 } else { 0.05 }) {
        let period = s * rng.gen_range(0.055..0.08);
        let phase = rng.gen_range(0.0..1.0);
        cv.paint(
            |x, y| inside_body(x, y) && ((y - cy) / period + phase).rem_euclid(1.0) < 0.4,
            body_c.scale(0.45),
        );
    } else {
        let r = s * rng.gen_range(0.025..0.04);
        for _ in 0..rng.gen_range(3..=6) {
            let (sx, sy) = (
                cx + rx * rng.gen_range(-0.6..0.6),
                cy + ry * rng.gen_range(-0.6..0.6),
            );
            cv.paint(
                |x, y| inside_body(x, y) && (x - sx).powi(2) + (y - sy).powi(2) <= r * r,
                Color([1.0, 0.97, 0.85]),
            );
        }
    }
    // head and spikes
    let hr = s * rng.gen_range(0.13..0.2);
    let (hx, hy) = (cx + s * rng.gen_range(-0.06..0.06), cy - ry - hr * 0.6);
    let mean_spikes = if digimon { 4.6 } else { 1.0 };
    let spikes = (mean_spikes + rng.gen_range(-1.8f32..1.8)).round().max(0.0) as usize;
    for k in 0..spikes {
        let a = std::f32::consts::PI * (0.15 + 0.7 * (k as f32 + 0.5) / spikes as f32);
        let (ux, uy) = (-a.cos(), -a.sin());
        let base = (hx + ux * hr * 0.8, hy + uy * hr * 0.8);
        let tip = (
            hx + ux * hr * rng.gen_range(1.5..2.1),
            hy + uy * hr * rng.gen_range(1.5..2.1),
        );
        let (px, py) = (-uy * hr * 0.35, ux * hr * 0.35);
        cv.triangle(
            [(base.0 + px, base.1 + py), (base.0 - px, base.1 - py), tip],
            accent,
        );
    }
    cv.ellipse(hx, hy, hr, hr * rng.gen_range(0.85..1.1), body_c);
    // eyes
    let er = hr * rng.gen_range(0.18..0.3);
    for side in [-1.0, 1.0] {
        let (ex, ey) = (hx + side * hr * 0.4, hy - hr * 0.1);
        cv.ellipse(ex, ey, er, er, Color([1.0, 1.0, 1.0]));
        cv.ellipse(
            ex + er * 0.2,
            ey,
            er * 0.5,
            er * 0.5,
            Color([0.05, 0.05, 0.05]),
        );
    }
    cv.img
}

/// A random opaque background for the debiased variant (same distribution for both classes).
fn random_background(rng: &mut StdRng, size: u32) -> RgbImage {
    let a = Color::hsv(
        rng.gen_range(0.0..360.0),
        rng.gen_range(0.0..0.8),
        rng.gen_range(0.0..1.0),
    )
    .rgba();
    let b = Color::hsv(
        rng.gen_range(0.0..360.0),
        rng.gen_range(0.0..0.8),
        rng.gen_range(0.0..1.0),
    )
    .rgba();
    let vertical = rng.gen_bool(0.5);
    RgbImage::from_fn(size, size, |x, y| {
        let t = if vertical { y } else { x } as f32 / size as f32;
        Rgb([0, 1, 2].map(|c| (a[c] as f32 * (1.0 - t) + b[c] as f32 * t) as u8))
    })
}

/// Pastes an RGBA sprite over an RGB background.
fn over(bg: &mut RgbImage, sprite: &RgbaImage) {
    for (o, p) in bg.pixels_mut().zip(sprite.pixels()) {
        if p[3] == 255 {
            *o = Rgb([p[0], p[1], p[2]]);
        }
    }
}

/// The creature's pixels in image `i` of a set made with `seed`, resized to `size × size`
/// (the same for the plain and the debiased set: the sprite is drawn first from the
/// image's own seed). `true` = creature.
pub fn creature_mask(i: usize, seed: u64, size: u32) -> Vec<bool> {
    let mut rng = image_rng(seed, i);
    let digimon = i % 2 == 1;
    let s = 64 + rng.gen_range(0..=10);
    let sprite = draw_creature(&mut rng, s, digimon);
    let resized =
        image::imageops::resize(&sprite, size, size, image::imageops::FilterType::Triangle);
    resized.pixels().map(|p| p[3] > 127).collect()
}

/// The index `i` of a synthetic image from its file name (`pokemon/0042 kit.png` → 42).
pub fn index_from_name(name: &str) -> Option<usize> {
    let file = name.rsplit('/').next()?;
    file.split(' ').next()?.parse().ok()
}

fn image_rng(seed: u64, i: usize) -> StdRng {
    StdRng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i as u64)
}

/// Writes `n` sprites (half per class) as `DIR/pokemon/*.png` and `DIR/digimon/*.jpg`
/// (with `debias`, both classes as `.jpg`). A folder that already holds files is refused
/// unless `force`; the set is encoded in memory and written at the end (a new folder is
/// renamed into place whole), so an interrupted run leaves nothing behind.
pub fn write_pokedigi(dir: &Path, n: usize, seed: u64, debias: bool, force: bool) -> Result<()> {
    if n < 2 {
        return Err(Error::Invalid(format!(
            "need at least 2 images (one per class), got {n}"
        )));
    }
    let outputs = Outputs::folder(dir, force, "--out")?;
    outputs.write_folder(dir, &pokedigi_files(n, seed, debias)?)
}

/// The synthetic set as (`class/NNNN name.ext`, encoded bytes). Each image has its own
/// seed (`seed`, index), so the result does not depend on threads.
pub fn pokedigi_files(n: usize, seed: u64, debias: bool) -> Result<Vec<(String, Vec<u8>)>> {
    (0..n)
        .into_par_iter()
        .map(|i| -> Result<(String, Vec<u8>)> {
            let mut rng = image_rng(seed, i);
            let digimon = i % 2 == 1;
            let size = 64 + rng.gen_range(0..=10);
            let sprite = draw_creature(&mut rng, size, digimon);
            let name = format!("{:04} {}", i, NAMES[(i / 2) % NAMES.len()]);
            let (file, img, format) = if debias {
                // both classes on the same kind of background and in the same file format:
                // the format is the shortcut being removed
                let mut bg = random_background(&mut rng, size);
                over(&mut bg, &sprite);
                let class = if digimon { "digimon" } else { "pokemon" };
                (
                    format!("{class}/{name}.jpg"),
                    DynamicImage::ImageRgb8(bg),
                    ImageFormat::Jpeg,
                )
            } else if digimon {
                let mut bg = RgbImage::from_pixel(size, size, Rgb([255, 255, 255]));
                over(&mut bg, &sprite);
                let ext = if i % 10 == 3 { "jpeg" } else { "jpg" };
                (
                    format!("digimon/{name}.{ext}"),
                    DynamicImage::ImageRgb8(bg),
                    ImageFormat::Jpeg,
                )
            } else {
                let mut img = sprite;
                if rng.gen_bool(0.5) {
                    // what many real PNGs do: white (or junk) stored under alpha 0
                    let junk = if rng.gen_bool(0.7) {
                        [255, 255, 255]
                    } else {
                        [rng.r#gen(), rng.r#gen(), rng.r#gen()]
                    };
                    for p in img.pixels_mut().filter(|p| p[3] == 0) {
                        *p = Rgba([junk[0], junk[1], junk[2], 0]);
                    }
                }
                (
                    format!("pokemon/{name}.png"),
                    DynamicImage::ImageRgba8(img),
                    ImageFormat::Png,
                )
            };
            let mut buf = std::io::Cursor::new(Vec::new());
            img.write_to(&mut buf, format)
                .map_err(|e| Error::Io(format!("encoding {file}: {e}")))?;
            Ok((file, buf.into_inner()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::folder::load_folder;

    #[test]
    fn generation_is_deterministic_and_loads_back() {
        let base = std::env::temp_dir().join(format!("lamppost-synth-{}", std::process::id()));
        let (a, b) = (base.join("a"), base.join("b"));
        write_pokedigi(&a, 12, 3, false, false).unwrap();
        write_pokedigi(&b, 12, 3, false, false).unwrap();
        let (da, ra) = load_folder(&a, 32).unwrap();
        let (db, _) = load_folder(&b, 32).unwrap();
        assert_eq!(ra.loaded, 12);
        assert!(ra.skipped.is_empty());
        assert_eq!(da, db, "same seed must give the same images");
        assert_eq!(da.class_counts(), vec![6, 6]);
        // the shortcut: pokemon corners are black, digimon corners near white
        for i in 0..da.len() {
            let corner = da.x.select_rows(&[i]).unwrap().data()[0];
            if da.y[i] == 0 {
                assert!(corner < 0.02)
            } else {
                assert!(corner > 0.9, "{corner}")
            }
        }
        assert!(
            write_pokedigi(&a, 12, 3, false, false)
                .unwrap_err()
                .to_string()
                .contains("--force")
        );
        write_pokedigi(&base.join("c"), 12, 4, true, false).unwrap();
        let (dc, rc) = load_folder(&base.join("c"), 32).unwrap();
        assert_ne!(dc.x, da.x);
        // the debiased set loads whole: both classes, every file
        assert_eq!((rc.loaded, dc.class_counts()), (12, vec![6, 6]));
        std::fs::remove_dir_all(base).unwrap();
    }
}
