//! Pictures and tables of the training-data methods ("Which training examples?"): the
//! data map, the forgetting histogram, and each test example's proponents and opponents.

use crate::data::Dataset;
use crate::error::Result;
use crate::explain::data::datamap::MapPoint;
use crate::explain::data::forgetting::Forgetting;
use crate::viz::grid::tensor_to_image;
use crate::viz::plot::COLORS;
use crate::viz::report::Report;
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

/// The tour's chapter "Which training examples?": the label-noise story
/// ([`crate::explain::data::noise`]) on `train` (the first MNIST training digits) with
/// 5% of the labels flipped: how well each training-data score finds the flipped ones,
/// then the proponents and opponents of a few test digits.
pub fn chapter(r: &mut Report, train: &Dataset, test: &Dataset, quick: bool) -> Result<()> {
    use crate::explain::data::forgetting::unforgettable_fraction;
    use crate::explain::data::influence::{InverseHvp, Solver, influence};
    use crate::explain::data::noise::label_noise;
    use crate::explain::data::objective::{Objective, last_layer};
    use crate::profile::Profile;
    use crate::viz::report::esc;

    let start = std::time::Instant::now();
    let epochs = if quick { 2 } else { 4 };
    let n = train.len();
    eprintln!(
        "which training examples: mnist-cnn on {n} digits, 5% of the labels flipped, {epochs} epochs"
    );
    let test = test.first(2000)?;
    let run = label_noise(train, &test, epochs, 0.05)?;
    let unit = Profile::of(&run.trained.model.arch).to_unit();
    let (data, flipped, was, t) = (&run.data, &run.flipped, &run.was, &run.trained);
    let (map, stats, finders) = (&run.map, &run.forgetting, &run.finders);
    let (reg, layer) = &run.last;
    let changed = flipped.iter().filter(|&&f| f).count();
    let kept = &run.kept;
    let noisy = &data.train;

    r.heading("The label-noise story");
    r.paragraph(&format!(
        "mnist-cnn trained on the first {n} MNIST training digits for {epochs} epochs ({:.2}% test accuracy on 2000 test \
         digits), after {changed} of the labels ({:.0}%) were changed to another class at random (seeded). Every presentation \
         of every example was recorded before its update (correct or not, the probability of its label), and the \
         weights were kept after epochs {}. Can the training data explain which labels are wrong?",
        100.0 * t.eval.accuracy,
        100.0 * changed as f64 / n as f64,
        kept.iter()
            .map(|(e, _, _)| e.to_string())
            .collect::<Vec<_>>()
            .join(" and "),
    ));
    r.svg_figure(
        "data-map.svg",
        datamap_svg(map, Some(flipped), "Data map"),
        "Each dot is a training digit: x the variability (population standard deviation) of the probability of its \
         label across the epochs, y the mean (confidence). Easy examples sit top left, ambiguous ones to the right, \
         hard-to-learn ones bottom left; the flipped labels (red) gather in the hard-to-learn corner \
         (Swayamdipta et al. 2020).",
    );
    let rows: Vec<Vec<String>> = finders
        .iter()
        .map(|f| {
            vec![
                f.name.to_string(),
                format!("{:.3}", f.auroc(flipped)),
                format!("{} of {changed}", f.hits(flipped)),
            ]
        })
        .collect();
    r.paragraph(
        "How well each score, ranking the training digits from most to least suspect, finds the flipped labels: \
         the area under the ROC curve (1 = every flipped label ranked first, 0.5 = chance), and how many of the \
         top-ranked digits, as many as there are flipped labels, were flipped.",
    );
    r.table(
        &[
            "score".into(),
            "AUROC for 'label was flipped'".into(),
            "flipped among the top".into(),
        ],
        &rows,
    );
    let var_auc = finders[1].auroc(flipped);
    r.paragraph(&format!(
        "{:.1}% of the digits are unforgettable (learned once and never forgotten over {} epochs).{}",
        100.0 * unforgettable_fraction(stats),
        epochs,
        if var_auc < 0.5 {
            " Variability finds the flipped labels worse than chance: a wrong label is rarely learned, so the \
             probability of it stays low and steady; the ambiguous region (high variability) holds digits the model \
             changes its mind about."
        } else {
            ""
        }
    ));
    let (suspect, _) = extremes(&finders[0].scores, 8);
    let names = |c: usize| noisy.classes[c].clone();
    let row = TileRow {
        label: "least confident".into(),
        tiles: example_tiles(noisy, unit, &suspect, |i| match was[i] {
            Some(o) => format!("{}, was {}", names(noisy.y[i]), names(o)),
            None => names(noisy.y[i]),
        })?,
        note: String::new(),
    };
    let cols: Vec<String> = (1..=suspect.len()).map(|k| k.to_string()).collect();
    r.svg_figure(
        "least-confident.svg",
        tiles_svg("The least confident training digits", &cols, &[row])?,
        "The eight training digits whose label the model believed least (lowest confidence), captioned with the \
         label it was given and, when that label was flipped, the original one.",
    );
    r.svg_figure(
        "forgetting.svg",
        forgetting_svg(stats, "Forgetting events"),
        "How many training digits were forgotten (correct, then wrong at the next presentation) how often; never \
         learned digits count as many events as presentations (Toneva et al. 2019).",
    );
    r.heading("Proponents and opponents of test digits");
    let shown: Vec<usize> = vec![0, 1, 2];
    let tests = data.test.subset(&shown)?;
    let (treg, _) = last_layer(&t.model, &tests.x, tests.y.clone(), 0.0)?;
    let inv = InverseHvp::new(reg, 0.01, Solver::Explicit)?;
    let scores = treg
        .grads_of(&treg.x, &treg.y)
        .iter()
        .map(|g| influence(&inv, g))
        .collect::<Result<Vec<_>>>()?;
    let opponents_flipped: usize = scores
        .iter()
        .map(|s| extremes(s, 4).1.iter().filter(|&&i| flipped[i]).count())
        .sum();
    r.svg_figure(
        "proponents.svg",
        proponents_svg(
            "Influence on the test loss (Koh & Liang, last layer)",
            unit,
            &tests,
            &shown,
            noisy,
            &scores,
            4,
        )?,
        &esc(&format!(
            "Each row: a test digit, the four training digits whose removal would raise its test loss most \
             (proponents, positive) and the four whose removal would lower it most (opponents), by the influence \
             function over {layer} with the exact Hessian ({} values, damping 0.01). {} of the {} opponents shown \
             carry a flipped label, against {:.0}% of the training digits.",
            reg.dim(),
            opponents_flipped,
            4 * shown.len(),
            100.0 * changed as f64 / n as f64
        )),
    );
    r.paragraph(&format!(
        "Chapter took {:.1}s.",
        start.elapsed().as_secs_f64()
    ));
    Ok(())
}
