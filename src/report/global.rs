//! "What does the network look for?": filter grids, the class-visualization sequence
//! (unregularized → L1 → TV/jitter/blur → generator) judged by an independent model,
//! the adversarial curve, the tree surrogate's fidelity and the linear model's weight
//! pictures, for `lamppost visualize|attack|distil` and the tour.

use crate::data::Dataset;
use crate::error::Result;
use crate::explain::attribution::softmax_prob;
use crate::explain::global::ascent::{
    AscentConfig, Regularizers, Space, Target, Visualization, best_correlated, layer_channels,
    tv_of, visualize,
};
use crate::explain::global::attack::{
    Attack, accuracy_curve, logits_of_pixels, predict_pixels, smallest_flip,
};
use crate::explain::surrogate::distil::{DistilData, DistilRow, distil};
use crate::fit::progress_bar;
use crate::nn::Model;
use crate::nn::vae::Vae;
use crate::profile::Profile;
use crate::tensor::Tensor;
use crate::viz::grid::tensor_to_image;
use crate::viz::heatmap::diverging;
use crate::viz::plot::COLORS;
use crate::viz::report::{Report, esc};
use crate::viz::svg::{Chart, Line, charts_svg};
use crate::viz::tiles::{Tile, TileRow, tiles_svg};
use image::{Rgb, RgbImage};

/// What is measured of one visualized picture.
#[derive(Clone, Debug, PartialEq)]
pub struct Judged {
    /// Softmax probability of the target class under the visualized model (classes only).
    pub confidence: Option<f64>,
    /// The class and probability an independent model gives the picture.
    pub judge: Option<(usize, f64)>,
    /// The class whose mean training picture correlates best with it.
    pub best_mean: Option<usize>,
    /// `Σ|x|`, the share of pixels above 0.1, and the total variation.
    pub l1: f64,
    pub ink: f64,
    pub tv: f64,
}

/// Pictures `[K, C, H, W]` in [0, 1] as one row of the per-picture figures.
fn picture(images: &Tensor<f32>, k: usize) -> Result<RgbImage> {
    let s = images.shape();
    let per: usize = s[1..].iter().product();
    let one = Tensor::new(&s[1..], images.data()[k * per..(k + 1) * per].to_vec())?;
    tensor_to_image(&one, |v| v)
}

/// Mean picture (pixels in [0, 1]) of each class of a dataset.
pub fn class_means(data: &Dataset, to_unit: fn(f32) -> f32) -> Vec<Vec<f64>> {
    let k = data.classes.len();
    let per = data.x.len() / data.len().max(1);
    let mut sums = vec![vec![0.0; per]; k];
    let mut counts = vec![0usize; k];
    for (i, &y) in data.y.iter().enumerate() {
        counts[y] += 1;
        for (s, &v) in sums[y]
            .iter_mut()
            .zip(&data.x.data()[i * per..(i + 1) * per])
        {
            *s += to_unit(v) as f64;
        }
    }
    for (s, &n) in sums.iter_mut().zip(&counts) {
        s.iter_mut().for_each(|v| *v /= n.max(1) as f64);
    }
    sums
}

/// Measures each picture of `v` (`targets` are classes when `classes` is true); the
/// judge reads the pictures through its own normalization.
pub fn judge(
    v: &Visualization<f32>,
    targets: &[usize],
    classes: bool,
    judge: Option<&Model<f32>>,
    means: Option<&[Vec<f64>]>,
) -> Result<Vec<Judged>> {
    let s = v.images.shape();
    let per: usize = s[1..].iter().product();
    let k = s[0];
    let nc = v.logits.shape()[1];
    let verdict = match judge {
        Some(m) => {
            let affine = Profile::of(&m.arch).pixels.from_unit_affine();
            let l = logits_of_pixels(m, &v.images, affine)?;
            Some((l.argmax_rows()?, l))
        }
        None => None,
    };
    Ok((0..k)
        .map(|i| {
            let px: Vec<f64> = v.images.data()[i * per..(i + 1) * per]
                .iter()
                .map(|&x| x as f64)
                .collect();
            let (c, h, w) = if s.len() == 4 {
                (s[1], s[2], s[3])
            } else {
                (1, 1, per)
            };
            Judged {
                confidence: classes.then(|| {
                    softmax_prob(&v.logits.data()[i * nc..(i + 1) * nc], targets[i]) as f64
                }),
                judge: verdict.as_ref().map(|(p, l)| {
                    let jn = l.shape()[1];
                    (
                        p[i],
                        softmax_prob(&l.data()[i * jn..(i + 1) * jn], p[i]) as f64,
                    )
                }),
                best_mean: means.map(|m| best_correlated(&px, m)),
                l1: px.iter().map(|x| x.abs()).sum(),
                ink: px.iter().filter(|&&x| x > 0.1).count() as f64 / per as f64,
                tv: tv_of(&px, c, h, w),
            }
        })
        .collect())
}

/// One labelled row of pictures with a caption per picture.
pub fn picture_row(label: &str, images: &Tensor<f32>, captions: &[String]) -> Result<TileRow> {
    let tiles = (0..images.shape()[0])
        .map(|k| {
            Ok(Tile {
                image: picture(images, k)?,
                caption: captions.get(k).cloned().unwrap_or_default(),
                outline: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(TileRow {
        label: label.to_string(),
        tiles,
        note: String::new(),
    })
}

/// Captions for class pictures: own confidence and the judge's class (its confidence is
/// in the table and the CSV; a tile's caption has room for a few characters).
pub fn class_captions(j: &[Judged], classes: &[String]) -> Vec<String> {
    j.iter()
        .map(|j| {
            let own = j
                .confidence
                .map_or(String::new(), |p| format!("{:.0}%", 100.0 * p));
            match j.judge {
                Some((c, _)) => format!("{own} → {}", classes[c]),
                None => own,
            }
        })
        .collect()
}

/// The lecture's sequence of pixel regularizers: nothing, then L1, then L1 with TV,
/// jitter and blur.
pub fn lecture_sequence() -> Vec<(&'static str, Regularizers)> {
    let l1 = Regularizers {
        l1: 0.05,
        ..Regularizers::default()
    };
    vec![
        ("unregularized", Regularizers::default()),
        ("+ L1", l1.clone()),
        (
            "+ L1, TV, jitter, blur",
            Regularizers {
                tv: 0.1,
                jitter: 2,
                blur_sigma: 0.5,
                blur_every: 10,
                ..l1
            },
        ),
    ]
}

/// Summary of one row of the class sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct SequenceRow {
    pub label: String,
    pub judged: Vec<Judged>,
    pub images: Tensor<f32>,
    pub seconds: f64,
}

impl SequenceRow {
    /// Mean own confidence, classes the judge agrees on, classes aligned with their mean.
    pub fn summary(&self) -> (f64, usize, usize) {
        let n = self.judged.len().max(1) as f64;
        let conf = self
            .judged
            .iter()
            .map(|j| j.confidence.unwrap_or(0.0))
            .sum::<f64>()
            / n;
        let agree = self
            .judged
            .iter()
            .enumerate()
            .filter(|(c, j)| j.judge.is_some_and(|(p, _)| p == *c))
            .count();
        let aligned = self
            .judged
            .iter()
            .enumerate()
            .filter(|(c, j)| j.best_mean == Some(*c))
            .count();
        (conf, agree, aligned)
    }
}

/// The class-visualization sequence for every class of an MNIST model, through the
/// generator last if one is given; a tile figure and a table.
#[allow(clippy::too_many_arguments)]
pub fn class_sequence_section(
    r: &mut Report,
    name: &str,
    model: &Model<f32>,
    generator: Option<&Vae<f32>>,
    judge_model: Option<(&str, &Model<f32>)>,
    means: &[Vec<f64>],
    classes: &[String],
    steps: usize,
) -> Result<Vec<SequenceRow>> {
    let affine = Profile::of(&model.arch).pixels.from_unit_affine();
    let targets: Vec<usize> = (0..classes.len()).collect();
    let t: Vec<Target> = targets.iter().map(|&c| Target::Logit(c)).collect();
    let mut rows = Vec::new();
    let mut settings: Vec<(&str, Regularizers, Option<&Vae<f32>>)> = lecture_sequence()
        .into_iter()
        .map(|(label, reg)| (label, reg, None))
        .collect();
    if let Some(g) = generator {
        settings.push(("generator (VAE)", Regularizers::default(), Some(g)));
    }
    let pb = progress_bar((settings.len() * steps) as u64, "class pictures");
    for (label, reg, generator) in settings {
        let start = std::time::Instant::now();
        let cfg = AscentConfig {
            steps,
            lr: 0.1,
            pixel_affine: affine,
            reg,
            ..AscentConfig::default()
        };
        let space = match generator {
            Some(g) => Space::Generator {
                decoder: &g.decoder,
                sigmoid: true,
                mu: 1.0,
            },
            None => Space::Sigmoid,
        };
        let done = pb.position();
        let v = visualize(model, &t, space, &cfg, |s| pb.set_position(done + s as u64))?;
        let judged = judge(&v, &targets, true, judge_model.map(|(_, m)| m), Some(means))?;
        rows.push(SequenceRow {
            label: label.to_string(),
            judged,
            images: v.images,
            seconds: start.elapsed().as_secs_f64(),
        });
    }
    pb.finish_and_clear();
    let tile_rows = rows
        .iter()
        .map(|row| {
            picture_row(
                &row.label,
                &row.images,
                &class_captions(&row.judged, classes),
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let cols: Vec<String> = classes.iter().map(|c| format!("class {c}")).collect();
    let judge_name = judge_model.map_or("", |j| j.0);
    r.svg_figure(
        &format!("{name}-class-sequence.svg"),
        tiles_svg(
            &format!("{name}: the picture that maximizes each class's logit"),
            &cols,
            &tile_rows,
        )?,
        &format!(
            "Rows: the regularization; columns: the class whose logit is maximized ({steps} Adam steps). Above each \
             picture: {}'s own softmax confidence for the class → the class an independent model ({}) gives it. \
             Pixels are black = 0, white = 1.",
            esc(name),
            esc(judge_name)
        ),
    );
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let (conf, agree, aligned) = row.summary();
            let n = row.judged.len() as f64;
            vec![
                row.label.clone(),
                format!("{:.2}%", 100.0 * conf),
                format!("{agree}/{}", row.judged.len()),
                format!("{aligned}/{}", row.judged.len()),
                format!("{:.1}", row.judged.iter().map(|j| j.l1).sum::<f64>() / n),
                format!(
                    "{:.1}%",
                    100.0 * row.judged.iter().map(|j| j.ink).sum::<f64>() / n
                ),
                format!("{:.1}", row.judged.iter().map(|j| j.tv).sum::<f64>() / n),
                format!("{:.2}", row.seconds / n),
            ]
        })
        .collect();
    r.table(
        &[
            "setting".into(),
            "own confidence (mean)".into(),
            format!("{} agrees", esc(judge_name)),
            "closest class mean".into(),
            "L1 (mean Σ|x|)".into(),
            "pixels > 0.1".into(),
            "total variation".into(),
            "seconds per class".into(),
        ],
        &table,
    );
    Ok(rows)
}

/// A grid of one picture per channel of a layer (rows of up to 8 channels).
pub fn filter_grid_svg(
    name: &str,
    layer: &str,
    v: &Visualization<f32>,
    channels: &[usize],
) -> Result<String> {
    let per_row = 8;
    let mut rows = Vec::new();
    for (chunk_no, chunk) in channels.chunks(per_row).enumerate() {
        let idx: Vec<usize> = (chunk_no * per_row..chunk_no * per_row + chunk.len()).collect();
        let imgs = v.images.select_rows(&idx)?;
        let caps: Vec<String> = idx
            .iter()
            .map(|&i| format!("ch {} · {:.2}", channels[i], v.values[i]))
            .collect();
        rows.push(picture_row(
            &format!("channels {}–{}", chunk[0], chunk[chunk.len() - 1]),
            &imgs,
            &caps,
        )?);
    }
    let cols: Vec<String> = (0..per_row.min(channels.len()))
        .map(|c| format!("+{c}"))
        .collect();
    tiles_svg(
        &format!("{name} {layer}: each channel's maximizing input"),
        &cols,
        &rows,
    )
}

/// Filter visualization of every channel of `layer`, with the given regularizers.
pub fn filter_section(
    r: &mut Report,
    name: &str,
    model: &Model<f32>,
    layer: &str,
    channels: usize,
    cfg: &AscentConfig,
) -> Result<Visualization<f32>> {
    let targets: Vec<Target> = (0..channels)
        .map(|c| Target::Channel {
            layer: layer.to_string(),
            channel: c,
        })
        .collect();
    // the model reads the pictures through its own normalization
    let cfg = &AscentConfig {
        pixel_affine: Profile::of(&model.arch).pixels.from_unit_affine(),
        ..cfg.clone()
    };
    let pb = progress_bar(cfg.steps as u64, &format!("{layer} filters"));
    let v = visualize(model, &targets, Space::Sigmoid, cfg, |s| {
        pb.set_position(s as u64)
    })?;
    pb.finish_and_clear();
    let ch: Vec<usize> = (0..channels).collect();
    r.svg_figure(
        &format!("{name}-{}-filters.svg", layer.replace('.', "-")),
        filter_grid_svg(name, layer, &v, &ch)?,
        &format!(
            "Each picture maximizes the mean activation of one channel of {} ({} Adam steps from random pixels; \
             regularizers: {}). The number after the channel is the activation reached.",
            esc(layer),
            cfg.steps,
            cfg.reg.describe()
        ),
    );
    Ok(v)
}

/// The adversarial curve (accuracy against ε for each attack) and, for a few digits, the
/// smallest ε of a grid that flips them.
#[allow(clippy::too_many_arguments)]
pub fn attack_section(
    r: &mut Report,
    name: &str,
    model: &Model<f32>,
    test: &Dataset,
    eps: &[f64],
    attacks: &[Attack],
    flip_examples: usize,
) -> Result<Vec<Vec<f64>>> {
    let profile = Profile::of(&model.arch);
    let affine = profile.pixels.from_unit_affine();
    let px = test.x.map(profile.to_unit());
    let pb = progress_bar((eps.len() * attacks.len()) as u64, "attacks");
    let curve = accuracy_curve(model, &px, &test.y, eps, attacks, affine, || pb.inc(1))?;
    pb.finish_and_clear();
    let clean = {
        let p = predict_pixels(model, &px, affine)?;
        p.iter().zip(&test.y).filter(|(a, b)| a == b).count() as f64 / test.len() as f64
    };
    let lines = attacks
        .iter()
        .enumerate()
        .map(|(a, how)| Line {
            label: how.name().to_uppercase(),
            color: COLORS[a % COLORS.len()],
            points: std::iter::once((0.0, clean))
                .chain(eps.iter().zip(&curve).map(|(&e, row)| (e, row[a])))
                .collect(),
            markers: true,
            connect: true,
            dashed: false,
            band: Vec::new(),
        })
        .collect();
    r.svg_figure(
        &format!("{name}-attack-curve.svg"),
        charts_svg(
            &[Chart {
                title: format!(
                    "{name}: accuracy under {} ({} test digits)",
                    attacks
                        .iter()
                        .map(|a| a.name().to_uppercase())
                        .collect::<Vec<_>>()
                        .join(" and "),
                    test.len()
                ),
                x_label: "ε (pixel scale [0, 1])".into(),
                y_label: "accuracy".into(),
                lines,
                y_range: Some((0.0, 1.0)),
                y_percent: true,
                marker_radius: None,
            }],
            560.0,
            320.0,
            &format!("{name} adversarial accuracy"),
        ),
        "FGSM: one signed-gradient step of size ε. PGD: 40 signed steps of 2.5ε/40 from a random start, projected onto \
         the ε-ball and [0, 1]. ε = 0 is the clean accuracy.",
    );
    if flip_examples > 0 {
        let grid: Vec<f64> = (1..=30).map(|k| k as f64 / 100.0).collect();
        let mut tiles = Vec::new();
        let mut originals = Vec::new();
        let mut diffs = Vec::new();
        for i in 0..flip_examples.min(test.len()) {
            let x = px.select_rows(&[i])?;
            let found = smallest_flip(model, &x, test.y[i], &grid, Attack::pgd(0), affine)?;
            let orig = picture(&x, 0)?;
            match found {
                Some((e, adv, p)) => {
                    let d: Vec<f32> = adv
                        .data()
                        .iter()
                        .zip(x.data())
                        .map(|(a, b)| a - b)
                        .collect();
                    let m = d.iter().fold(1e-12f32, |m, v| m.max(v.abs()));
                    let (h, w) = (x.shape()[2], x.shape()[3]);
                    let diff = RgbImage::from_fn(w as u32, h as u32, |c, rr| {
                        Rgb(diverging(d[rr as usize * w + c as usize] / m))
                    });
                    originals.push(Tile {
                        image: orig,
                        caption: test.classes[test.y[i]].to_string(),
                        outline: None,
                    });
                    tiles.push(Tile {
                        image: picture(&adv, 0)?,
                        caption: format!("ε {e:.2} → {}", test.classes[p]),
                        outline: None,
                    });
                    diffs.push(Tile {
                        image: diff,
                        caption: format!("±{m:.2}"),
                        outline: None,
                    });
                }
                None => {
                    originals.push(Tile {
                        image: orig.clone(),
                        caption: test.classes[test.y[i]].to_string(),
                        outline: None,
                    });
                    tiles.push(Tile {
                        image: orig,
                        caption: "no flip ≤ 0.30".into(),
                        outline: None,
                    });
                }
            }
        }
        let cols: Vec<String> = (0..originals.len()).map(|i| format!("test {i}")).collect();
        r.svg_figure(
            &format!("{name}-smallest-flips.svg"),
            tiles_svg(
                &format!("{name}: the smallest PGD ε (steps of 0.01) that changes the answer"),
                &cols,
                &[
                    TileRow {
                        label: "original".into(),
                        tiles: originals,
                        note: String::new(),
                    },
                    TileRow {
                        label: "adversarial".into(),
                        tiles,
                        note: String::new(),
                    },
                    TileRow {
                        label: "change".into(),
                        tiles: diffs,
                        note: String::new(),
                    },
                ],
            )?,
            "Top: the test digit and its label; middle: the adversarial picture, the ε that sufficed and the new answer; \
             bottom: the change (red brighter, blue darker, scaled to the largest change, given above).",
        );
    }
    Ok(curve)
}

/// Distils `model` into a tree on its pixels: fidelity, accuracy and size against depth.
pub fn distil_section(
    r: &mut Report,
    name: &str,
    model: &Model<f32>,
    train: &Dataset,
    test: &Dataset,
    max_depth: usize,
) -> Result<Vec<DistilRow>> {
    let unit = Profile::of(&model.arch).to_unit();
    let rows_of =
        |d: &Dataset| -> Vec<f64> { d.x.data().iter().map(|&v| unit(v) as f64).collect() };
    let (tx, vx) = (rows_of(train), rows_of(test));
    let tp = model.predict(&train.x)?.argmax_rows()?;
    let vp = model.predict(&test.x)?.argmax_rows()?;
    let d = train.x.len() / train.len().max(1);
    let (_, rows) = distil(
        &DistilData {
            d,
            train_x: &tx,
            train_pred: &tp,
            test_x: &vx,
            test_pred: &vp,
            test_y: &test.y,
            classes: train.classes.len(),
        },
        max_depth,
        5,
    )?;
    let pts = |f: fn(&DistilRow) -> f64| rows.iter().map(|r| (r.depth as f64, f(r))).collect();
    let line = |label: &str, c: usize, points: Vec<(f64, f64)>, dashed: bool| Line {
        label: label.into(),
        color: COLORS[c],
        points,
        markers: true,
        connect: true,
        dashed,
        band: Vec::new(),
    };
    r.svg_figure(
        &format!("{name}-distil.svg"),
        charts_svg(
            &[
                Chart {
                    title: format!("A tree that mimics {name} ({} training digits)", train.len()),
                    x_label: "tree depth".into(),
                    y_label: "share of held-out digits".into(),
                    lines: vec![
                        line("fidelity (agrees with the network)", 0, pts(|r| r.fidelity_test), false),
                        line("accuracy (agrees with the label)", 1, pts(|r| r.accuracy_test), true),
                        line("fidelity on its training digits", 2, pts(|r| r.fidelity_train), true),
                    ],
                    y_range: Some((0.0, 1.0)),
                    y_percent: true,
                    marker_radius: None,
                },
                Chart {
                    title: "size of the tree".into(),
                    x_label: "tree depth".into(),
                    y_label: "average path length (decisions)".into(),
                    lines: vec![line("APL on held-out digits", 0, pts(|r| r.apl), false)],
                    y_range: None,
                    y_percent: false,
                    marker_radius: None,
                },
            ],
            480.0,
            320.0,
            &format!("{name} surrogate tree"),
        ),
        &format!(
            "A CART tree on the {d} pixel intensities, fitted to {name}'s predictions (not the labels), cut at each depth. \
             Fidelity is measured on {} held-out test digits.",
            test.len()
        ),
    );
    Ok(rows)
}

/// `fc.weight` of `mnist-linear` as one diverging picture per class, on one scale.
pub fn linear_weights_svg(model: &Model<f32>) -> Result<String> {
    let w = model.param("fc.weight")?;
    let (k, d) = (w.shape()[0], w.shape()[1]);
    let side = (d as f64).sqrt() as usize;
    let m = w.data().iter().fold(1e-12f32, |m, v| m.max(v.abs()));
    let tiles = (0..k)
        .map(|c| Tile {
            image: RgbImage::from_fn(side as u32, side as u32, |x, y| {
                Rgb(diverging(
                    w.data()[c * d + y as usize * side + x as usize] / m,
                ))
            }),
            caption: format!(
                "class {}",
                model.arch.classes.get(c).cloned().unwrap_or_default()
            ),
            outline: None,
        })
        .collect();
    tiles_svg(
        &format!(
            "mnist-linear: each class's weights over the pixels (red > 0 > blue, ±{m:.3} at full colour)"
        ),
        &[],
        &[TileRow {
            label: "w_c".into(),
            tiles,
            note: String::new(),
        }],
    )
}

/// The models the chapter reads.
pub struct GlobalModels<'a> {
    /// mnist-cnn, mnist-gap, mnist-gru (attacked; the first is visualized).
    pub mnist: &'a [(&'a str, &'a Model<f32>)],
    /// The independent judge of the class pictures (another architecture and seed).
    pub judge: (&'a str, &'a Model<f32>),
    pub linear: (&'a Model<f32>, f64),
    /// The VAE, its test `[−ELBO, reconstruction, KL]` and reconstruction MSE.
    pub vae: (&'a Vae<f32>, [f64; 3], f64),
    pub poke: (&'a Dataset, &'a Model<f32>),
}

/// The tour's chapter "What does the network look for?".
pub fn chapter(
    r: &mut Report,
    train: &Dataset,
    test: &Dataset,
    m: &GlobalModels,
    quick: bool,
) -> Result<()> {
    let start = std::time::Instant::now();
    let (cnn_name, cnn) = m.mnist[0];
    r.paragraph(
        "What does a filter, or a class, look like to the network? The naive answer (the input that excites it most) is \
         noise the network is sure about; regularizers and a generator turn it into pictures a person can read, and \
         adversarial images show why the naive answer had to fail. The chapter ends with the other road to a global \
         explanation: a model simple enough to read, either trained directly (softmax regression) or distilled from the \
         network (a decision tree).",
    );
    r.heading("The interpretable baseline: a linear model's weights");
    r.svg_figure(
        "mnist-linear-weights.svg",
        linear_weights_svg(m.linear.0)?,
        &format!(
            "mnist-linear (softmax regression on the pixels, test accuracy {:.2}%): the score of class c is w_c·x + b_c, so \
             each class's weights are its explanation: red pixels vote for the class, blue against.",
            100.0 * m.linear.1
        ),
    );
    r.heading("Filters of mnist-cnn");
    let steps = if quick { 100 } else { 300 };
    let light = AscentConfig {
        steps,
        lr: 0.1,
        // no L1: a channel's mean is per position, a weight on Σ|x| over all pixels
        // would outweigh it (every picture went black)
        reg: Regularizers {
            jitter: 1,
            ..Regularizers::default()
        },
        init_std: 1.0,
        ..AscentConfig::default()
    };
    // the convolutions' outputs before their ReLU: after it, a channel that is off at
    // the start has no gradient to climb
    for layer in ["conv1", "conv2"] {
        filter_section(r, cnn_name, cnn, layer, layer_channels(cnn, layer)?, &light)?;
    }
    let (_, pmodel) = m.poke;
    let player = Profile::of(&pmodel.arch)
        .cam_layer(&pmodel.arch)?
        .trim_end_matches(".relu")
        .to_string();
    let pcfg = AscentConfig {
        steps: if quick { 50 } else { 200 },
        // no TV for the same reason as no L1: the channel's mean is per position
        reg: Regularizers {
            jitter: 2,
            ..Regularizers::default()
        },
        ..light.clone()
    };
    let first = layer_channels(pmodel, &player)?.min(16);
    filter_section(r, "pokedigi-gap", pmodel, &player, first, &pcfg)?;
    r.paragraph(
        "On the Pokémon/Digimon model, channels that fill the picture with black or white have learned the background, \
         the shortcut of that data set; see the local explanations chapter.",
    );
    r.heading("Classes: from noise to digits");
    let (vae, elbo, mse) = m.vae;
    let means = class_means(train, Profile::of(&cnn.arch).to_unit());
    let rows = class_sequence_section(
        r,
        cnn_name,
        cnn,
        Some(vae),
        Some(m.judge),
        &means,
        &test.classes,
        steps,
    )?;
    let (c0, a0, al0) = rows[0].summary();
    let (_, ag, alg) = rows.last().map(|r| r.summary()).unwrap_or_default();
    r.paragraph(&format!(
        "Unregularized, every picture is called its class with {:.2}% mean confidence, yet the independent {} agrees on {a0} \
         of 10 and {al0} of 10 correlate best with their own class's mean training digit: confidence under the visualized \
         model proves nothing (Nguyen et al. 2015). Through the generator, {} agrees on {ag} of 10 and {alg} of 10 match \
         their class mean. L1 clears the background (fewer pixels above 0.1), TV, jitter and blur remove the \
         high-frequency texture.",
        100.0 * c0,
        esc(m.judge.0),
        esc(m.judge.0)
    ));
    r.heading("The generator: mnist-vae");
    let z = crate::nn::vae::noise::<f32>(10, vae.latent, 1);
    let samples = vae.decode(&z)?;
    let unit = Profile::of(&cnn.arch).to_unit();
    let first = test.subset(&(0..10).collect::<Vec<_>>())?;
    let px = first.x.map(unit);
    let (mu, _) = vae.encode(&px)?;
    let recon = vae.decode(&mu)?;
    let blank = vec![String::new(); 10];
    r.svg_figure(
        "mnist-vae.svg",
        tiles_svg(
            "mnist-vae: test digits, their reconstructions from μ, and samples z ~ N(0, I)",
            &(0..10).map(|i| format!("{i}")).collect::<Vec<_>>(),
            &[
                picture_row("test digit", &px, &blank)?,
                picture_row("reconstruction", &recon, &blank)?,
                picture_row("sample", &samples, &blank)?,
            ],
        )?,
        &format!(
            "An MLP VAE (784 → 400 → 2·{} → 400 → 784) trained on the MNIST training digits: test −ELBO {:.1} nats per \
             digit (reconstruction {:.1} + KL {:.1}), reconstruction MSE {:.4} per pixel.",
            vae.latent, elbo[0], elbo[1], elbo[2], mse
        ),
    );
    r.heading("Why naive ascent gives noise: adversarial images");
    let (n_attack, eps): (usize, &[f64]) = if quick {
        (50, &[0.1, 0.2])
    } else {
        (200, &[0.05, 0.1, 0.2, 0.3])
    };
    let atest = test.first(n_attack)?;
    let mut table = Vec::new();
    for (i, (name, model)) in m.mnist.iter().enumerate() {
        let curve = attack_section(
            r,
            name,
            model,
            &atest,
            eps,
            &[Attack::Fgsm, Attack::pgd(0)],
            if i == 0 { 8 } else { 0 },
        )?;
        for (e, row) in eps.iter().zip(&curve) {
            table.push(vec![
                name.to_string(),
                format!("{e}"),
                format!("{:.1}%", 100.0 * row[0]),
                format!("{:.1}%", 100.0 * row[1]),
            ]);
        }
    }
    r.table(
        &[
            "model".into(),
            "ε".into(),
            "accuracy under FGSM".into(),
            "accuracy under PGD".into(),
        ],
        &table,
    );
    r.paragraph(
        "A change of a tenth of the pixel range, invisible at a glance, moves most digits to another class: the input \
         space is full of directions the network reacts to and people do not see. Unregularized ascent finds exactly \
         those directions.",
    );
    r.heading("A tree that mimics the network");
    distil_section(r, cnn_name, cnn, train, test, if quick { 8 } else { 12 })?;
    r.paragraph(&format!(
        "Chapter built in {:.1}s.",
        start.elapsed().as_secs_f64()
    ));
    Ok(())
}
