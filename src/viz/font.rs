//! A 3×5 bitmap font for the numbers on plot axes.

use image::{Rgb, RgbImage};

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
        _ => return None,
    })
}

/// Draws `text` with its top-left corner at (x, y), each font pixel `scale` pixels wide.
/// Characters without a glyph are skipped.
pub fn draw_text(img: &mut RgbImage, text: &str, x: i64, y: i64, scale: i64, color: [u8; 3]) {
    let mut cx = x;
    for ch in text.chars() {
        if let Some(rows) = glyph(ch) {
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
