//! Draws a decision tree as SVG: grey boxes `x3 < 0.50` for decisions (left branch = yes),
//! leaves coloured by class (blue 0, orange 1; paler when less pure) with their size.

use super::tree::DecisionTree;

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

/// The tree as SVG with real text: decision boxes `x3 < 0.50` with their sample count,
/// branches labelled yes (left) and no (right), leaves coloured by class (blue 0,
/// orange 1; paler when less pure) with the class, count and purity. Wide trees keep
/// readable boxes; the report puts the picture in a horizontally scrolling frame.
pub fn tree_svg(t: &DecisionTree, label: &str) -> String {
    use crate::viz::svg::{Anchor, Svg, hex};
    let (bw, bh, gx, gy, pad) = (112.0, 38.0, 10.0, 46.0, 12.0);
    let mut pos = vec![(0, 0); t.nodes.len()];
    let mut slots = 0;
    layout(t, 0, &mut slots, &mut pos);
    let at = |i: usize| {
        (
            pad + pos[i].0 as f64 / (BOX_W + GAP_X) as f64 * (bw + gx),
            pad + pos[i].1 as f64 / (BOX_H + GAP_Y) as f64 * (bh + gy),
        )
    };
    let mut svg = Svg::new(
        2.0 * pad + slots.max(1) as f64 * (bw + gx),
        2.0 * pad + (t.depth() as f64 + 1.0) * (bh + gy),
    );
    for (i, node) in t.nodes.iter().enumerate() {
        if let Some((_, _, l, r)) = node.split {
            let (x, y) = at(i);
            for (c, word) in [(l, "yes"), (r, "no")] {
                let (cx, cy) = at(c);
                let (a, b) = ((x + bw / 2.0, y + bh), (cx + bw / 2.0, cy));
                svg.line(a, b, "#777", 1.2);
                let m = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
                svg.text(
                    m.0 + 4.0,
                    m.1,
                    word,
                    10.0,
                    Anchor::Start,
                    "#555",
                    0.0,
                    false,
                );
            }
        }
    }
    for (i, node) in t.nodes.iter().enumerate() {
        let (x, y) = at(i);
        let (color, top, bottom) = match node.split {
            Some((f, thr, _, _)) => (
                [232, 232, 232],
                format!("x{f} < {thr:.2}"),
                format!("{} samples", node.n()),
            ),
            None => {
                let purity = node.counts[node.class()] as f64 / node.n().max(1) as f64;
                let base = if node.class() == 0 {
                    [0.0, 114.0, 178.0]
                } else {
                    [230.0, 159.0, 0.0]
                };
                let k = (purity - 0.5).max(0.0) * 2.0;
                let c = base.map(|v| (255.0 - (255.0 - v) * (0.2 + 0.55 * k)) as u8);
                (
                    c,
                    format!("class {}", node.class()),
                    format!("{} · {:.0}% pure", node.n(), 100.0 * purity),
                )
            }
        };
        svg.rect(x, y, bw, bh, &hex(color), "#666");
        svg.text(
            x + bw / 2.0,
            y + 15.0,
            &top,
            12.0,
            Anchor::Middle,
            "#111",
            0.0,
            true,
        );
        svg.text(
            x + bw / 2.0,
            y + 30.0,
            &bottom,
            10.0,
            Anchor::Middle,
            "#333",
            0.0,
            false,
        );
    }
    svg.finish(label)
}
