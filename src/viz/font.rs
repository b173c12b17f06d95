//! A 3×5 bitmap font for the numbers on plot axes and the labels of PNG grids: digits,
//! capital letters (lower case is drawn as capitals, except `e` and `x` right after a
//! digit, which keep small glyphs so `1e-3` and `3x3` read as numbers) and a little
//! punctuation.

use image::{ImageBuffer, Rgb};
use std::ops::DerefMut;

fn glyph(c: char) -> Option<[u8; 5]> {
    // each row is 3 bits, most significant bit on the left
    Some(match c {
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [7, 1, 7, 4, 7],
        '3' => [7, 1, 7, 1, 7],
        '4' => [5, 5, 7, 1, 1],
        '5' => [7, 4, 7, 1, 7],
        '6' => [7, 4, 7, 5, 7],
        '7' => [7, 1, 1, 2, 2],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 7],
        '.' => [0, 0, 0, 0, 2],
        '-' => [0, 0, 7, 0, 0],
        '%' => [5, 1, 2, 4, 5],
        'e' => [0, 7, 7, 4, 7],
        ' ' => [0, 0, 0, 0, 0],
        'x' => [0, 5, 2, 5, 0],
        '<' => [1, 2, 4, 2, 1],
        '=' => [0, 7, 0, 7, 0],
        ':' => [0, 2, 0, 2, 0],
        '#' => [5, 7, 5, 7, 5],
        '(' => [1, 2, 2, 2, 1],
        ')' => [4, 2, 2, 2, 4],
        '+' => [0, 2, 7, 2, 0],
        '/' => [1, 1, 2, 4, 4],
        ',' => [0, 0, 0, 2, 4],
        '|' => [2, 2, 2, 2, 2],
        '_' => [0, 0, 0, 0, 7],
        '>' => [4, 2, 1, 2, 4],
        'A' => [2, 5, 7, 5, 5],
        'B' => [6, 5, 6, 5, 6],
        'C' => [3, 4, 4, 4, 3],
        'D' => [6, 5, 5, 5, 6],
        'E' => [7, 4, 6, 4, 7],
        'F' => [7, 4, 6, 4, 4],
        'G' => [3, 4, 5, 5, 3],
        'H' => [5, 5, 7, 5, 5],
        'I' => [7, 2, 2, 2, 7],
        'J' => [1, 1, 1, 5, 2],
        'K' => [5, 5, 6, 5, 5],
        'L' => [4, 4, 4, 4, 7],
        'M' => [5, 7, 7, 5, 5],
        'N' => [6, 5, 5, 5, 5],
        'O' => [2, 5, 5, 5, 2],
        'P' => [6, 5, 6, 4, 4],
        'Q' => [2, 5, 5, 6, 3],
        'R' => [6, 5, 6, 5, 5],
        'S' => [3, 4, 2, 1, 6],
        'T' => [7, 2, 2, 2, 2],
        'U' => [5, 5, 5, 5, 7],
        'V' => [5, 5, 5, 5, 2],
        'W' => [5, 5, 7, 7, 5],
        'X' => [5, 5, 2, 5, 5],
        'Y' => [5, 5, 2, 2, 2],
        'Z' => [7, 1, 2, 4, 7],
        c if c.is_ascii_lowercase() => return glyph(c.to_ascii_uppercase()),
        _ => return None,
    })
}

/// Draws `text` with its top-left corner at (x, y), each font pixel `scale` pixels wide.
/// Characters without a glyph are skipped.
pub fn draw_text<C: DerefMut<Target = [u8]>>(
    img: &mut ImageBuffer<Rgb<u8>, C>,
    text: &str,
    x: i64,
    y: i64,
    scale: i64,
    color: [u8; 3],
) {
    let mut cx = x;
    let mut prev = ' ';
    for ch in text.chars() {
        let numeric = prev.is_ascii_digit() || (ch == 'e' && prev == '.');
        let shown = if matches!(ch, 'e' | 'x') && !numeric {
            ch.to_ascii_uppercase()
        } else {
            ch
        };
        prev = ch;
        if let Some(rows) = glyph(shown) {
            for (r, bits) in rows.iter().enumerate() {
                for col in 0..3 {
                    if bits >> (2 - col) & 1 == 1 {
                        for dy in 0..scale {
                            for dx in 0..scale {
                                let (px, py) = (cx + col * scale + dx, y + r as i64 * scale + dy);
                                if px >= 0
                                    && py >= 0
                                    && (px as u32) < img.width()
                                    && (py as u32) < img.height()
                                {
                                    img.put_pixel(px as u32, py as u32, Rgb(color));
                                }
                            }
                        }
                    }
                }
            }
        }
        cx += 4 * scale;
    }
}

/// The width in pixels of `text` drawn at `scale` (4 font pixels per character, the last
/// one's gap included).
pub fn text_width(text: &str, scale: i64) -> i64 {
    4 * scale * text.chars().count() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_draw_and_lower_case_reads_as_capitals() {
        for c in ('A'..='Z').chain('0'..='9') {
            assert!(glyph(c).is_some(), "{c} has no glyph");
        }
        assert_eq!(glyph('q'), glyph('Q'));
        assert_ne!(glyph('e'), glyph('E'), "e keeps its small glyph (for 1e-3)");
        let draw = |s: &str| {
            let mut img = image::RgbImage::new(40, 10);
            draw_text(&mut img, s, 0, 0, 1, [255, 0, 0]);
            img
        };
        let a = draw("Target max");
        assert_eq!(a, draw("TARGET MAX"), "words use capitals");
        assert_ne!(draw("1e-3"), draw("1E-3"), "an exponent keeps its small e");
        assert!(a.pixels().any(|p| p[0] == 255));
        assert_eq!(text_width("Polar", 2), 40);
    }
}
