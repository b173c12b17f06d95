//! "Which explanation should I trust?": the benchmark table, the deletion/insertion
//! curves and the sanity-check figure, for `lamppost evaluate` and the tour.

use crate::data::Dataset;
use crate::data::synth::{creature_mask, index_from_name};
use crate::error::Result;
use crate::explain::metrics::benchmark::{Bench, BenchOptions, Metric, benchmark};
use crate::explain::metrics::roar::Roar;
use crate::explain::metrics::sanity::{FAIL_AT, Stage, ink_support, mean};
use crate::explain::registry::{Family, METHODS, usable};
use crate::fit::progress_bar;
use crate::nn::Model;
use crate::profile::Profile;
use crate::tensor::Tensor;
use crate::viz::gallery::{Column, Row, gallery_svg};
use crate::viz::grid::tensor_to_image;
use crate::viz::plot::COLORS;
use crate::viz::report::{Report, esc};
use crate::viz::svg::{Chart, Line, charts_svg};

/// The object's pixels of each example: the creature's mask for the synthetic
/// Pokémon/Digimon pictures (known from the file name), else the digit's ink.
pub fn supports(data: &Dataset, idx: &[usize], x: &Tensor<f32>) -> Vec<Vec<bool>> {
    let (h, w) = (x.shape()[2], x.shape()[3]);
    idx.iter()
        .enumerate()
        .map(
            |(r, &i)| match data.names.get(i).and_then(|n| index_from_name(n)) {
                Some(k) if h == 64 && w == 64 => creature_mask(k, 0, 64),
                _ => ink_support(x, r),
            },
        )
        .collect()
}

/// The chapter "Which explanation should I trust?" for mnist-cnn, mnist-gap and the
/// Pokémon/Digimon model.
pub fn chapter(
    r: &mut Report,
    mnist_test: &Dataset,
    mnist: &[(&str, &Model<f32>)],
    poke: (&Dataset, &Model<f32>),
    quick: bool,
) -> Result<()> {
    let (n, costly) = if quick { (16, 4) } else { (64, 16) };
    r.paragraph(
        "Explanations can be wrong. Each table scores every attribution method on one model: faithfulness (deletion, \
         insertion, AOPC, ROAD: does removing what the map calls important change the prediction?), fidelity of the map as \
         a linear model of the score (infidelity), stability (max-sensitivity), localization (mass on the digit or creature, \
         pointing game) and the sanity check (does the map change when the model's weights are randomized?). The random \
         order is the baseline a map must beat. Metrics disagree: a method can win deletion and fail the sanity check.",
    );
    for (name, model) in mnist {
        section(r, name, model, mnist_test, n, costly, false)?;
    }
    if quick {
        r.paragraph(
            "Quick mode leaves out the Pokémon/Digimon model's table (a minute on 2 cores); the full tour has it.",
        );
        return Ok(());
    }
    section(r, "pokedigi-gap", poke.1, poke.0, 16, costly.min(8), true)?;
    r.paragraph(&format!(
        "Sensitivity and the sanity check are computed for the gradient and CAM methods only (not {}): each recomputes the map \
         tens of times, minutes per model for the methods that evaluate it thousands of times per map. On the 64 × 64 colour \
         pictures those methods are left out altogether; `lamppost evaluate benchmark --model FILE` runs them all.",
        SLOW_ON_PICTURES.join(", ")
    ));
    Ok(())
}

/// One chart per curve metric (deletion, insertion), a line per method; the random
/// order is the black dashed line.
pub fn curves_svg(bench: &Bench, title: &str) -> String {
    let mut metrics: Vec<&str> = Vec::new();
    for c in &bench.curves {
        if !metrics.contains(&c.metric.as_str()) && !c.metric.starts_with("road") {
            metrics.push(&c.metric);
        }
    }
    let charts: Vec<Chart> = metrics
        .iter()
        .map(|m| Chart {
            title: format!("{title}: {m}"),
            x_label: "fraction of pixels removed (deletion) or inserted (insertion)".into(),
            y_label: "probability of the predicted class".into(),
            lines: bench
                .curves
                .iter()
                .filter(|c| c.metric == *m)
                .enumerate()
                .map(|(k, c)| Line {
                    label: c.method.clone(),
                    color: if c.method == "random" {
                        [0, 0, 0]
                    } else {
                        COLORS[k % COLORS.len()]
                    },
                    points: c
                        .fractions
                        .iter()
                        .copied()
                        .zip(c.scores.iter().copied())
                        .collect(),
                    markers: false,
                    connect: true,
                    dashed: c.method == "random" || (k / COLORS.len()) % 2 == 1,
                    band: Vec::new(),
                })
                .collect(),
            y_range: Some((0.0, 1.0)),
            y_percent: false,
            marker_radius: None,
        })
        .collect();
    charts_svg(
        &charts,
        560.0,
        540.0,
        &format!("{title} deletion and insertion curves"),
    )
}

/// Adebayo's Figure 2: a row per method, a column per stage of cascading randomization
/// (|map| of the first example), and the Spearman curves beside it.
pub fn sanity_svg(bench: &Bench, model: &Model<f32>, x: &Tensor<f32>) -> Result<(String, String)> {
    if bench.sanity.is_empty() {
        return Ok((String::new(), String::new()));
    }
    let gallery = stages_gallery(
        &bench.sanity,
        model,
        x,
        "sanity check: maps as layers are randomized",
    )?;
    let chart = |support: bool| Chart {
        title: if support {
            "Spearman of |map|, digit or object only"
        } else {
            "Spearman of |map|, whole image"
        }
        .into(),
        x_label: "layers randomized from the logits down".into(),
        y_label: "rank correlation with the trained model's map".into(),
        lines: bench
            .sanity
            .iter()
            .enumerate()
            .map(|(k, (m, stages))| Line {
                label: m.clone(),
                color: COLORS[k % COLORS.len()],
                points: stages
                    .iter()
                    .enumerate()
                    .map(|(j, s)| {
                        (
                            j as f64,
                            if support {
                                mean(&s.spearman_abs_support)
                            } else {
                                mean(&s.spearman_abs)
                            },
                        )
                    })
                    .collect(),
                markers: true,
                connect: true,
                dashed: (k / COLORS.len()) % 2 == 1,
                band: Vec::new(),
            })
            .collect(),
        y_range: Some((-0.2, 1.0)),
        y_percent: false,
        marker_radius: None,
    };
    let charts = charts_svg(
        &[chart(false), chart(true)],
        520.0,
        360.0,
        "Spearman rank correlation as layers are randomized",
    );
    Ok((gallery, charts))
}

/// A row per method, a column per stage (`trained`, layers randomized down to one, or a
/// model trained on permuted labels): the first example's |map|, each on its own scale
/// as Adebayo et al. show them.
pub fn stages_gallery(
    sanity: &[(String, Vec<Stage>)],
    model: &Model<f32>,
    x: &Tensor<f32>,
    label: &str,
) -> Result<String> {
    let to_unit = Profile::of(&model.arch).to_unit();
    let input = tensor_to_image(&x.select_rows(&[0])?, to_unit)?;
    let (h, w) = (x.shape()[2], x.shape()[3]);
    let cols: Vec<Column> = sanity[0]
        .1
        .iter()
        .map(|s| Column {
            lines: match s.name.as_str() {
                "trained" => vec!["trained".into()],
                PERMUTED => vec!["trained on".into(), "permuted labels".into()],
                name => {
                    let newest = name.rsplit('+').next().unwrap_or(name);
                    vec!["random down".into(), format!("to {newest}")]
                }
            },
            wrong: false,
            input: input.clone(),
        })
        .collect();
    let rows: Vec<Row> = sanity
        .iter()
        .map(|(m, stages)| Row {
            label: m.clone(),
            maps: stages
                .iter()
                .map(|s| {
                    let v = &s.maps.data()[..h * w];
                    let top = v.iter().fold(0.0f64, |m, a| m.max(a.abs()));
                    v.iter()
                        .map(|a| {
                            if top > 0.0 {
                                (a.abs() / top) as f32
                            } else {
                                0.0
                            }
                        })
                        .collect()
                })
                .collect(),
        })
        .collect();
    gallery_svg(&cols, &rows, h, w, 84.0, label)
}

/// The stage name of the data randomization test's model.
pub const PERMUTED: &str = "permuted labels";

/// ROAR-lite's curves: test accuracy of the retrained model against the share of pixels
/// removed, a line per method, random dashed.
pub fn roar_svg(r: &Roar, methods: &[&str]) -> String {
    let mut names: Vec<&str> = methods.to_vec();
    names.push("random");
    let chart = Chart {
        title: "ROAR-lite: retrained on pictures with the top pixels removed".into(),
        x_label: "pixels removed from every picture (%)".into(),
        y_label: "test accuracy of the retrained model".into(),
        lines: names
            .iter()
            .enumerate()
            .map(|(k, m)| Line {
                label: m.to_string(),
                color: if *m == "random" {
                    [110, 110, 110]
                } else {
                    COLORS[k % COLORS.len()]
                },
                points: r.curve(m).iter().map(|(f, a)| (100.0 * f, *a)).collect(),
                markers: true,
                connect: true,
                dashed: *m == "random" || (k / COLORS.len()) % 2 == 1,
                band: Vec::new(),
            })
            .collect(),
        y_range: None,
        y_percent: true,
        marker_radius: None,
    };
    charts_svg(&[chart], 640.0, 400.0, "ROAR-lite accuracy curves")
}

/// The table's cells: metric columns in first-seen order, a row per method.
pub fn table(bench: &Bench) -> (Vec<String>, Vec<Vec<String>>) {
    let mut metrics: Vec<(String, &str)> = Vec::new();
    let mut methods: Vec<&str> = Vec::new();
    for r in &bench.rows {
        if !metrics.iter().any(|m| m.0 == r.metric) {
            metrics.push((r.metric.clone(), r.better));
        }
        if !methods.contains(&r.method.as_str()) {
            methods.push(&r.method);
        }
    }
    let mut header = vec!["method".to_string()];
    header.extend(metrics.iter().map(|(m, b)| format!("{m} ({b} better)")));
    let rows = methods
        .iter()
        .map(|m| {
            let mut row = vec![m.to_string()];
            row.extend(
                metrics
                    .iter()
                    .map(|(metric, _)| match bench.row(m, metric) {
                        Some(r) if r.metric == "sanity-fails" => {
                            (if r.mean > 0.5 { "FAILS" } else { "passes" }).into()
                        }
                        Some(r) if r.lo < r.hi => {
                            format!("{:.3} ± {:.3}", r.mean, (r.hi - r.lo) / 2.0)
                        }
                        Some(r) => format!("{:.3}", r.mean),
                        None => "".into(),
                    }),
            );
            row
        })
        .collect();
    (header, rows)
}

/// Runs the benchmark on the first `n` test examples of `data` with a progress bar.
pub fn run(
    model: &Model<f32>,
    data: &Dataset,
    n: usize,
    methods: &[&str],
    metrics: &[Metric],
    opts: &BenchOptions,
) -> Result<(Bench, Tensor<f32>)> {
    let idx: Vec<usize> = (0..n.min(data.len())).collect();
    let (x, _) = data.batch(&idx)?;
    let support = supports(data, &idx, &x);
    let pb = progress_bar(methods.len() as u64, "methods");
    let bench = benchmark(
        model,
        &x,
        Some(&support),
        methods,
        metrics,
        opts,
        &mut |m| {
            pb.set_message(m.to_string());
            pb.inc(1);
        },
    )?;
    pb.finish_and_clear();
    Ok((bench, x))
}

/// Methods left out of the tour's costly metrics (and, on colour pictures, of its table):
/// each evaluates the model thousands of times per map.
pub const SLOW_ON_PICTURES: [&str; 6] = [
    "occlusion",
    "rise",
    "lime",
    "normlime",
    "score-cam",
    "ablation-cam",
];

/// The tour's chapter for one model: every method that works on it, every metric on
/// the first `n` test examples (sensitivity and sanity on the first `costly_n`).
pub fn section(
    r: &mut Report,
    name: &str,
    model: &Model<f32>,
    data: &Dataset,
    n: usize,
    costly_n: usize,
    pictures: bool,
) -> Result<Bench> {
    let methods: Vec<&str> = usable(&model.arch)
        .into_iter()
        .filter(|m| !pictures || !SLOW_ON_PICTURES.contains(m))
        .collect();
    let opts = BenchOptions {
        costly_n,
        costly_methods: Some(
            METHODS
                .iter()
                .filter(|m| matches!(m.family, Family::Gradient | Family::Cam))
                .filter(|m| !SLOW_ON_PICTURES.contains(&m.name))
                .map(|m| m.name.to_string())
                .collect(),
        ),
        ..BenchOptions::default()
    };
    let methods = &methods[..];
    eprintln!(
        "evaluating explanations of {name}: {} methods × {n} examples",
        methods.len()
    );
    let start = std::time::Instant::now();
    let (bench, x) = run(model, data, n, methods, &Metric::ALL, &opts)?;
    eprintln!("{name}: metrics in {:.1}s", start.elapsed().as_secs_f64());
    write_section(r, name, model, &x, &bench, &opts)?;
    Ok(bench)
}

/// The table, curves and sanity figures of a benchmark on the inputs `x`.
pub fn write_section(
    r: &mut Report,
    name: &str,
    model: &Model<f32>,
    x: &Tensor<f32>,
    bench: &Bench,
    opts: &BenchOptions,
) -> Result<()> {
    let n = x.shape()[0];
    r.heading(&format!("{name}: every method, every metric"));
    let (header, rows) = table(bench);
    r.table(&header, &rows);
    let step = if opts.step == 0 {
        (x.shape()[2] * x.shape()[3]).div_ceil(28)
    } else {
        opts.step
    };
    r.paragraph(&format!(
        "{name} on the first {n} test examples (sensitivity and the sanity check on the first {}), targets = predicted classes; \
         mean ± half the 95% interval. Deletion removes {step} pixels a step, most relevant first (ties by pixel index), into 0 in the \
         model's input space or a Gaussian blur; insertion puts them back into the blur; `random` is a seeded random order. \
         ROAD imputes removed pixels from their neighbours (MoRF: low is good; LeRF: high is good). Infidelity: Captum's \
         default with Gaussian noise, and Yeh's optimally rescaled version with square patches. A method FAILS the sanity \
         check when its Spearman correlation with the trained model's map stays at or above {FAIL_AT} after every layer is \
         re-initialized (on the object's pixels).",
        n.min(opts.costly_n),
    ));
    if !bench.curves.is_empty() {
        r.svg_figure(
            &format!("trust-curves-{name}.svg"),
            curves_svg(bench, name),
            &esc(&format!(
                "{name}: mean probability of the predicted class as pixels are removed (deletion: a fast fall is good) or \
                 inserted into a blurred copy (insertion: a fast rise is good). Black dashed: the random order."
            )),
        );
    }
    let (gallery, charts) = sanity_svg(bench, model, x)?;
    if !gallery.is_empty() {
        r.svg_figure(
            &format!("trust-sanity-{name}.svg"),
            gallery,
            &esc(&format!(
                "Adebayo et al.'s cascading randomization on {name}: |map| of the first test example (columns: the layers \
                 re-initialized so far, from the logits down), each map divided by its own maximum so that its shape shows \
                 (the colour bar is that fraction). A map that stays the same shows the input, not the model."
            )),
        );
        r.svg_figure(
            &format!("trust-spearman-{name}.svg"),
            charts,
            &esc("Spearman rank correlation of |map| with the trained model's, averaged over the examples, on the whole \
                  image (left) and on the digit's or creature's pixels only (right): input-multiplied methods keep a high \
                  whole-image figure because the black background is 0 in every map."),
        );
    }
    Ok(())
}
