//! Pictures and tables of the training-data methods ("Which training examples?"): the
//! data map, the forgetting histogram, and each test example's proponents and opponents.

use crate::data::Dataset;
use crate::error::Result;
use crate::explain::data::datamap::MapPoint;
use crate::explain::data::forgetting::Forgetting;
use crate::viz::grid::tensor_to_image;
use crate::viz::plot::COLORS;
use crate::viz::svg::{Chart, Line, charts_svg};
use crate::viz::tiles::{Tile, TileRow, tiles_svg};

/// The data map: variability (x) against confidence (y), flipped labels in red when
/// known, with the regions named in the title.
pub fn datamap_svg(map: &[MapPoint], flipped: Option<&[bool]>, title: &str) -> String {
    let pts = |keep: &dyn Fn(usize) -> bool| -> Vec<(f64, f64)> {
        (0..map.len())
            .filter(|&i| keep(i))
            .map(|i| (map[i].variability, map[i].confidence))
            .collect()
    };
    let lines = match flipped {
        Some(f) => vec![
            scatter("label kept", COLORS[0], pts(&|i| !f[i])),
            scatter("label flipped", [214, 39, 40], pts(&|i| f[i])),
        ],
        None => vec![scatter("training example", COLORS[0], pts(&|_| true))],
    };
    let chart = Chart {
        title: format!(
            "{title}: easy-to-learn top left, ambiguous right, hard-to-learn bottom left"
        ),
        x_label: "variability (sd of p(gold label) over epochs)".into(),
        y_label: "confidence (mean p(gold label))".into(),
        lines,
        y_range: Some((0.0, 1.0)),
        y_percent: false,
        marker_radius: Some(1.5),
    };
    charts_svg(&[chart], 760.0, 480.0, "data map")
}

fn scatter(label: &str, color: [u8; 3], points: Vec<(f64, f64)>) -> Line {
    Line {
        label: label.into(),
        color,
        points,
        markers: true,
        connect: false,
        dashed: false,
        band: Vec::new(),
    }
}

/// How many examples have each forgetting count (never-learned ones counted apart).
pub fn forgetting_svg(stats: &[Forgetting], title: &str) -> String {
    let max = stats
        .iter()
        .filter(|f| f.learned)
        .map(|f| f.count)
        .max()
        .unwrap_or(0);
    let mut hist = vec![0usize; max + 1];
    for f in stats.iter().filter(|f| f.learned) {
        hist[f.count] += 1;
    }
    let never = stats.iter().filter(|f| !f.learned).count();
    let chart =
        Chart {
            title: format!("{title} ({never} examples never learned, not shown)"),
            x_label: "forgetting events".into(),
            y_label: "training examples".into(),
            // one stem per count, joined along the axis: a bar chart of whole counts
            lines: vec![Line {
                label: "learned examples".into(),
                color: COLORS[0],
                // half a count of axis on either side, so no stem sits on the frame
                points: std::iter::once((-0.5, 0.0))
                    .chain(hist.iter().enumerate().flat_map(|(c, &n)| {
                        [(c as f64, 0.0), (c as f64, n as f64), (c as f64, 0.0)]
                    }))
                    .chain(std::iter::once((max as f64 + 0.5, 0.0)))
                    .collect(),
                markers: false,
                connect: true,
                dashed: false,
                band: Vec::new(),
            }],
            y_range: None,
            y_percent: false,
            marker_radius: None,
        };
    charts_svg(&[chart], 640.0, 360.0, "forgetting histogram")
}

/// Training examples `idx` as tiles captioned by `caption(i)`.
pub fn example_tiles(
    train: &Dataset,
    unit: fn(f32) -> f32,
    idx: &[usize],
    caption: impl Fn(usize) -> String,
) -> Result<Vec<Tile>> {
    idx.iter()
        .map(|&i| {
            Ok(Tile {
                image: tensor_to_image(&train.x.select_rows(&[i])?, unit)?,
                caption: caption(i),
                outline: None,
            })
        })
        .collect()
}

/// The indices of the `k` largest and `k` smallest (most negative) scores, largest
/// first and most negative first (ties by index).
pub fn extremes(scores: &[f64], k: usize) -> (Vec<usize>, Vec<usize>) {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let top: Vec<usize> = idx.iter().take(k).copied().collect();
    let bottom: Vec<usize> = idx.iter().rev().take(k).copied().collect();
    (top, bottom)
}

/// For each test example (row `r` of `test`, numbered `test_index[r]`), one row: the test picture, its `k` strongest proponents, then
/// its `k` strongest opponents, by `scores[t]` (one score per training example).
pub fn proponents_svg(
    title: &str,
    unit: fn(f32) -> f32,
    test: &Dataset,
    test_index: &[usize],
    train: &Dataset,
    scores: &[Vec<f64>],
    k: usize,
) -> Result<String> {
    let name = |c: usize| test.classes[c].clone();
    let mut rows = Vec::new();
    for (row, (t, s)) in test_index.iter().zip(scores).enumerate() {
        let (pro, opp) = extremes(s, k);
        let mut tiles = example_tiles(test, unit, &[row], |i| {
            format!("test {t}: {}", name(test.y[i]))
        })?;
        tiles.extend(example_tiles(train, unit, &pro, |i| {
            format!("#{i} {} {:+.1e}", name(train.y[i]), s[i])
        })?);
        tiles.extend(example_tiles(train, unit, &opp, |i| {
            format!("#{i} {} {:+.1e}", name(train.y[i]), s[i])
        })?);
        rows.push(TileRow {
            label: format!("test {t}"),
            tiles,
            note: String::new(),
        });
    }
    let mut columns = vec!["test example".to_string()];
    columns.extend((1..=k).map(|r| format!("proponent {r}")));
    columns.extend((1..=k).map(|r| format!("opponent {r}")));
    tiles_svg(title, &columns, &rows)
}
