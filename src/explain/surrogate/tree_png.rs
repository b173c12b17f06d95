//! Draws a small decision tree: grey boxes `x3<0.50` for decisions (left branch = yes),
//! leaves coloured by class (blue 0, orange 1; paler when less pure) with their size.

use super::tree::DecisionTree;
use crate::viz::font::draw_text;
use image::{Rgb, RgbImage};

const BOX_W: i64 = 76;
const BOX_H: i64 = 22;
const GAP_X: i64 = 8;
const GAP_Y: i64 = 34;

/// Leaves get consecutive slots left to right; a decision sits above the middle of its children.
fn layout(t: &DecisionTree, i: usize, next_slot: &mut i64, pos: &mut [(i64, i64)]) -> i64 {
    let x = match t.nodes[i].split {
        None => {
            *next_slot += 1;
            (*next_slot - 1) * (BOX_W + GAP_X)
        }
        Some((_, _, l, r)) => (layout(t, l, next_slot, pos) + layout(t, r, next_slot, pos)) / 2,
    };
    pos[i] = (x, t.nodes[i].depth as i64 * (BOX_H + GAP_Y));
    x
}

fn fill(img: &mut RgbImage, x0: i64, y0: i64, w: i64, h: i64, c: [u8; 3]) {
    for y in y0.max(0)..(y0 + h).min(img.height() as i64) {
        for x in x0.max(0)..(x0 + w).min(img.width() as i64) {
            img.put_pixel(x as u32, y as u32, Rgb(c));
        }
    }
}

fn segment(img: &mut RgbImage, a: (i64, i64), b: (i64, i64)) {
    let n = (b.0 - a.0).abs().max((b.1 - a.1).abs()).max(1);
    for k in 0..=n {
        let (x, y) = (a.0 + (b.0 - a.0) * k / n, a.1 + (b.1 - a.1) * k / n);
        fill(img, x, y, 1, 1, [90, 90, 90]);
    }
}

/// Renders the tree (trees of up to a few dozen leaves stay readable).
pub fn render_tree(t: &DecisionTree) -> RgbImage {
    let mut pos = vec![(0, 0); t.nodes.len()];
    let mut slots = 0;
    layout(t, 0, &mut slots, &mut pos);
    let (pad, w, h) = (
        10,
        slots.max(1) * (BOX_W + GAP_X),
        (t.depth() as i64 + 1) * (BOX_H + GAP_Y),
    );
    let mut img = RgbImage::from_pixel(
        (w + 2 * pad) as u32,
        (h + 2 * pad) as u32,
        Rgb([255, 255, 255]),
    );
    for (i, node) in t.nodes.iter().enumerate() {
        if let Some((_, _, l, r)) = node.split {
            for c in [l, r] {
                segment(
                    &mut img,
                    (pad + pos[i].0 + BOX_W / 2, pad + pos[i].1 + BOX_H),
                    (pad + pos[c].0 + BOX_W / 2, pad + pos[c].1),
                );
            }
        }
    }
    for (i, node) in t.nodes.iter().enumerate() {
        let (x, y) = (pad + pos[i].0, pad + pos[i].1);
        let (color, label) = match node.split {
            Some((f, thr, _, _)) => ([225, 225, 225], format!("x{f}<{thr:.2}")),
            None => {
                let purity = node.counts[node.class()] as f64 / node.n().max(1) as f64;
                let base = if node.class() == 0 {
                    [0.0, 114.0, 178.0]
                } else {
                    [230.0, 159.0, 0.0]
                };
                let k = (purity - 0.5).max(0.0) * 2.0;
                let c = base.map(|v| (255.0 - (255.0 - v) * (0.25 + 0.75 * k)) as u8);
                (c, format!("{}", node.n()))
            }
        };
        fill(&mut img, x, y, BOX_W, BOX_H, color);
        draw_text(&mut img, &label, x + 4, y + 6, 2, [20, 20, 20]);
    }
    img
}
