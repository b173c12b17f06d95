//! `lamppost tour`: trains (or loads from the cache) every reference model on its
//! default data, evaluates it, and writes `DIR/index.html` with the results.

use crate::data::source::{DataSpec, Loaded, load};
use crate::data::synth::{creature_mask, index_from_name};
use crate::data::{Dataset, mnist, to_unit_fn};
use crate::error::{Error, Result};
use crate::explain::local::{METHODS, MethodOptions, build_method};
use crate::explain::surrogate::experiment::{SweepOptions, Task, run_sweep, write_sweep};
use crate::fit::{EpochLog, Evaluation, TrainConfig, evaluate, fit};
use crate::io::{load_model, read_tensors, save_model};
use crate::nn::{Arch, Model};
use crate::tensor::Tensor;
use crate::viz::grid::{image_grid, tensor_to_image};
use crate::viz::heatmap::{pictures, pixel_map};
use crate::viz::plot::{COLORS, Series, line_plot};
use crate::viz::report::{Report, esc};
use crate::viz::save_png;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub struct TourOptions {
    pub out: PathBuf,
    pub cache: PathBuf,
    /// Small data and short training, for smoke tests (under a minute).
    pub quick: bool,
    pub force: bool,
}

/// FNV-1a, a hash that is the same on every machine and Rust version (cache keys).
pub fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A trained model with what is known about its training.
pub struct Trained {
    pub model: Model<f32>,
    pub history: Vec<EpochLog>,
    pub eval: Evaluation,
    pub cached: bool,
    pub seconds: f64,
}

fn history_to_string(h: &[EpochLog]) -> String {
    h.iter()
        .map(|e| {
            format!(
                "{}:{:.6}:{:.6}",
                e.epoch,
                e.loss,
                e.test_accuracy.unwrap_or(f64::NAN)
            )
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn history_from_string(s: &str) -> Vec<EpochLog> {
    s.split(';')
        .filter_map(|e| {
            let p: Vec<&str> = e.split(':').collect();
            Some(EpochLog {
                epoch: p.first()?.parse().ok()?,
                loss: p.get(1)?.parse().ok()?,
                test_accuracy: p.get(2)?.parse().ok(),
                seconds: 0.0,
            })
        })
        .collect()
}

/// Trains `arch` on `data` with `cfg`, or loads the cached result of the same settings.
pub fn train_or_load(
    arch: &str,
    data: &Loaded,
    data_id: &str,
    cfg: &TrainConfig,
    cache: &Path,
) -> Result<Trained> {
    let settings = format!("arch={arch} data={data_id} {}", cfg.describe());
    let path = cache.join("models").join(format!(
        "{arch}-{:016x}.safetensors",
        stable_hash(&settings)
    ));
    let start = Instant::now();
    if path.exists()
        && let (Ok(model), Ok((_, meta))) = (load_model::<f32>(&path), read_tensors::<f32>(&path))
        && meta.get("settings") == Some(&settings)
    {
        let history = meta
            .get("history")
            .map(|h| history_from_string(h))
            .unwrap_or_default();
        let eval = evaluate(&model, &data.test)?;
        return Ok(Trained {
            model,
            history,
            eval,
            cached: true,
            seconds: start.elapsed().as_secs_f64(),
        });
    }
    std::fs::create_dir_all(path.parent().expect("has parent"))
        .map_err(|e| Error::Io(format!("{}: {e}", cache.display())))?;
    let mut model = Model::<f32>::init(Arch::from_name(arch)?, cfg.seed);
    let log_path = path.with_extension("log.jsonl");
    let mut log = std::fs::File::create(&log_path)
        .map_err(|e| Error::Io(format!("{}: {e}", log_path.display())))?;
    let history = fit(&mut model, &data.train, Some(&data.test), cfg, &mut log)?;
    let eval = evaluate(&model, &data.test)?;
    let meta = [
        ("settings", settings.clone()),
        ("history", history_to_string(&history)),
        ("test_accuracy", format!("{:.6}", eval.accuracy)),
        ("data", data_id.to_string()),
    ];
    save_model(&model, &path, &meta, true)?;
    Ok(Trained {
        model,
        history,
        eval,
        cached: false,
        seconds: start.elapsed().as_secs_f64(),
    })
}

fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

/// Writes a model's section: numbers, confusion matrix, training curve.
fn model_section(
    r: &mut Report,
    out: &Path,
    name: &str,
    t: &Trained,
    classes: &[String],
) -> Result<()> {
    r.heading(name);
    r.paragraph(&format!(
        "{} parameters; test accuracy {} ({}); {:.1}s.",
        t.model.num_params(),
        pct(t.eval.accuracy),
        if t.cached {
            "loaded from the cache"
        } else {
            "trained now"
        },
        t.seconds
    ));
    let mut header = vec!["true \\ predicted".to_string()];
    header.extend(classes.iter().cloned());
    header.push("accuracy".into());
    let rows: Vec<Vec<String>> = t
        .eval
        .confusion
        .iter()
        .enumerate()
        .map(|(c, row)| {
            let mut v = vec![classes[c].clone()];
            v.extend(row.iter().map(|n| n.to_string()));
            v.push(pct(t.eval.per_class[c]));
            v
        })
        .collect();
    r.table(&header, &rows);
    if !t.history.is_empty() {
        let loss = Series {
            points: t.history.iter().map(|e| (e.epoch as f64, e.loss)).collect(),
            color: COLORS[0],
        };
        let acc = Series {
            points: t
                .history
                .iter()
                .filter_map(|e| Some((e.epoch as f64, 1.0 - e.test_accuracy?)))
                .collect(),
            color: COLORS[1],
        };
        let file = format!("curve-{name}.png");
        let top = loss
            .points
            .iter()
            .chain(&acc.points)
            .fold(0.0f64, |m, p| m.max(p.1));
        save_png(
            &line_plot(&[loss, acc], 480, 240, Some((0.0, top))),
            &out.join(&file),
        )?;
        r.figure(
            &file,
            "Training loss (blue) and test error (orange) per epoch.",
        );
    }
    Ok(())
}

/// A grid of test examples with their true and predicted class, as HTML captions.
fn samples(
    r: &mut Report,
    out: &Path,
    file: &str,
    data: &Dataset,
    model: &Model<f32>,
    idx: &[usize],
    caption: &str,
) -> Result<()> {
    let to_unit = to_unit_fn(&model.arch);
    let (x, y) = data.batch(idx)?;
    let pred = model.predict(&x)?.argmax_rows()?;
    let imgs = idx
        .iter()
        .map(|&i| tensor_to_image(&data.x.select_rows(&[i])?, to_unit))
        .collect::<Result<Vec<_>>>()?;
    let scale = if imgs[0].width() < 40 { 3 } else { 2 };
    save_png(&image_grid(&imgs, 8, scale, 2), &out.join(file))?;
    let labels: Vec<String> = y
        .iter()
        .zip(&pred)
        .map(|(&t, &p)| format!("{}→{}", data.classes[t], data.classes[p]))
        .collect();
    r.figure(
        file,
        &format!(
            "{caption} (true→predicted, row by row: {})",
            labels.join(", ")
        ),
    );
    Ok(())
}

/// One row per method, one column per example: the attribution over the input.
fn gallery(
    model: &Model<f32>,
    x: &Tensor<f32>,
    targets: &[usize],
    methods: &[&str],
) -> Result<image::RgbImage> {
    let to_unit = to_unit_fn(&model.arch);
    let (n, h) = (x.shape()[0], x.shape()[2]);
    let mut tiles = Vec::new();
    for name in methods {
        let m = build_method::<f32>(name, &MethodOptions::default(), model)?;
        let a = m.attribute(model, x, targets)?;
        for i in 0..n {
            tiles.push(pictures(x, &a.map, i, to_unit, 0.6)?.1);
        }
    }
    Ok(image_grid(&tiles, n, if h < 40 { 3 } else { 2 }, 2))
}

/// Fraction of the attribution mass (absolute values, channels summed) on background
/// pixels of the synthetic test images, averaged over images.
pub fn background_fraction(
    model: &Model<f32>,
    data: &Dataset,
    method: &str,
    options: &MethodOptions,
) -> Result<f64> {
    let targets = model.predict(&data.x)?.argmax_rows()?;
    let m = build_method::<f32>(method, options, model)?;
    let (mut total, mut count) = (0.0, 0);
    for start in (0..data.len()).step_by(64) {
        let idx: Vec<usize> = (start..(start + 64).min(data.len())).collect();
        let x = data.x.select_rows(&idx)?;
        let t: Vec<usize> = idx.iter().map(|&i| targets[i]).collect();
        let a = m.attribute(model, &x, &t)?;
        for (r, &i) in idx.iter().enumerate() {
            let Some(k) = index_from_name(&data.names[i]) else {
                continue;
            };
            let mask = creature_mask(k, 0, 64);
            let v = pixel_map(&a.map, r, 64, 64)?;
            let all: f64 = v.iter().map(|x| x.abs() as f64).sum();
            if all > 0.0 {
                let bg: f64 = v
                    .iter()
                    .zip(&mask)
                    .filter(|(_, c)| !**c)
                    .map(|(x, _)| x.abs() as f64)
                    .sum();
                total += bg / all;
                count += 1;
            }
        }
    }
    Ok(if count == 0 {
        f64::NAN
    } else {
        total / count as f64
    })
}

/// The methods of the Pokémon/Digimon background table and their options (occlusion
/// hides non-overlapping 8×8 patches of all three channels).
pub fn story_methods() -> Vec<(&'static str, MethodOptions)> {
    let occlusion = MethodOptions {
        window: [3, 8, 8],
        stride: [3, 8, 8],
        ..MethodOptions::default()
    };
    vec![
        ("saliency", MethodOptions::default()),
        ("grad-cam", MethodOptions::default()),
        ("integrated-gradients", MethodOptions::default()),
        ("occlusion", occlusion),
    ]
}

/// Mean fraction of the picture covered by the creature, over a synthetic test set.
pub fn creature_area(data: &Dataset) -> f64 {
    let fractions: Vec<f64> = data
        .names
        .iter()
        .filter_map(|n| index_from_name(n))
        .map(|k| {
            let mask = creature_mask(k, 0, 64);
            mask.iter().filter(|&&c| c).count() as f64 / mask.len() as f64
        })
        .collect();
    fractions.iter().sum::<f64>() / fractions.len().max(1) as f64
}

/// Runs the tour.
pub fn run_tour(opts: &TourOptions) -> Result<()> {
    let index = opts.out.join("index.html");
    if index.exists() && !opts.force {
        return Err(Error::Io(format!(
            "{} already exists; pass --force to overwrite the tour",
            index.display()
        )));
    }
    std::fs::create_dir_all(&opts.out)
        .map_err(|e| Error::Io(format!("{}: {e}", opts.out.display())))?;
    let start = Instant::now();
    let mut r = Report::new("lamppost tour");
    r.paragraph(&format!(
        "Reference models trained on the default data{}. Same seed, same machine: same numbers.",
        if opts.quick {
            " (quick mode: small subsets, one or two epochs)"
        } else {
            ""
        }
    ));
    let mut summary = Vec::new();

    // MNIST
    let mut mn = load(&DataSpec::Mnist(mnist::default_dir()), &opts.cache, 0)?;
    let mut mnist_id = "mnist".to_string();
    if opts.quick {
        mn.train = mn.train.subset(&(0..10_000).collect::<Vec<_>>())?;
        mn.test = mn.test.subset(&(0..2000).collect::<Vec<_>>())?;
        mnist_id += " quick-subset=10000/2000";
    }
    let mut mnist_models = Vec::new();
    for arch in ["mnist-cnn", "mnist-gap", "mnist-gru"] {
        let mut cfg = TrainConfig::reference(arch);
        if opts.quick {
            cfg.epochs = 2;
        }
        let t = train_or_load(arch, &mn, &mnist_id, &cfg, &opts.cache)?;
        eprintln!(
            "{arch}: test accuracy {} ({})",
            pct(t.eval.accuracy),
            if t.cached { "cached" } else { "trained" }
        );
        summary.push(vec![
            arch.to_string(),
            mnist_id.clone(),
            cfg.describe(),
            pct(t.eval.accuracy),
        ]);
        mnist_models.push((arch, t));
    }

    // Pokémon / Digimon (synthetic stand-in), with and without the background shortcut
    let n = if opts.quick { 200 } else { 1000 };
    let mut poke = Vec::new();
    for debias in [false, true] {
        let spec = DataSpec::Synth { n, seed: 0, debias };
        let data = load(&spec, &opts.cache, 0)?;
        let mut cfg = TrainConfig::reference("pokedigi-gap");
        if opts.quick {
            cfg.epochs = 4;
        }
        let t = train_or_load("pokedigi-gap", &data, &spec.describe(), &cfg, &opts.cache)?;
        eprintln!(
            "pokedigi-gap ({}): test accuracy {}",
            spec.describe(),
            pct(t.eval.accuracy)
        );
        summary.push(vec![
            "pokedigi-gap".into(),
            spec.describe(),
            cfg.describe(),
            pct(t.eval.accuracy),
        ]);
        poke.push((spec, data, t));
    }

    // explanations, side by side
    r.heading("Why this prediction? Local explanations");
    let digits: Vec<usize> = (0..4).collect();
    let (xd, _) = mn.test.batch(&digits)?;
    let cnn = &mnist_models[0].1.model;
    let td = cnn.predict(&xd)?.argmax_rows()?;
    let cnn_methods: Vec<&str> = METHODS.iter().copied().filter(|m| *m != "cam").collect();
    save_png(
        &gallery(cnn, &xd, &td, &cnn_methods)?,
        &opts.out.join("explain-mnist-cnn.png"),
    )?;
    r.figure("explain-mnist-cnn.png", &format!("mnist-cnn on four test digits, one row per method: {}. Red: evidence for the predicted class, blue: against (signed maps); viridis for non-negative maps.", cnn_methods.join(", ")));
    let gap = &mnist_models[1].1.model;
    let tg = gap.predict(&xd)?.argmax_rows()?;
    save_png(
        &gallery(gap, &xd, &tg, &["cam", "grad-cam", "score-cam"])?,
        &opts.out.join("explain-mnist-gap.png"),
    )?;
    r.figure(
        "explain-mnist-gap.png",
        "mnist-gap: CAM, Grad-CAM and Score-CAM at conv3 (the maps the global average pool reads).",
    );
    for (spec, data, t) in &poke {
        let mut idx: Vec<usize> = (0..data.test.len())
            .filter(|&i| data.test.y[i] == 0)
            .take(2)
            .collect();
        idx.extend(
            (0..data.test.len())
                .filter(|&i| data.test.y[i] == 1)
                .take(2),
        );
        let (xp, _) = data.test.batch(&idx)?;
        let tp = t.model.predict(&xp)?.argmax_rows()?;
        let file = if spec.describe().contains("debias") {
            "explain-pokedigi-debias.png"
        } else {
            "explain-pokedigi.png"
        };
        save_png(
            &gallery(&t.model, &xp, &tp, &METHODS)?,
            &opts.out.join(file),
        )?;
        r.figure(
            file,
            &format!(
                "pokedigi-gap ({}), two Pokémon then two Digimon, one row per method: {}.",
                spec.describe(),
                METHODS.join(", ")
            ),
        );
    }
    let mut story = Vec::new();
    let area = creature_area(&poke[1].1.test);
    for (spec, data, t) in &poke {
        let mut row = vec![spec.describe(), pct(t.eval.accuracy)];
        for (method, options) in story_methods() {
            let f = background_fraction(&t.model, &data.test, method, &options)?;
            eprintln!(
                "{}: {:.1}% of the {method} mass on the background",
                spec.describe(),
                100.0 * f
            );
            row.push(pct(f));
        }
        story.push(row);
    }
    let shortcut = evaluate(&poke[0].2.model, &poke[1].1.test)?.accuracy;
    r.heading("Where does the Pokémon/Digimon classifier look?");
    let mut head = vec!["model's data".to_string(), "test accuracy".into()];
    head.extend(
        story_methods()
            .iter()
            .map(|(m, _)| format!("{m} mass on background")),
    );
    r.table(&head, &story);
    r.html(&format!(
        "<p>Both models do well on their own test sets; accuracy alone does not say what they look at. \
         The creature covers {} of each picture, so a map that ignored the image would put {} on the background. \
         Compare each column between the two rows: a method that sees the shortcut puts clearly more of the first \
         model's attribution on the background. \
         The check that settles it: the shortcut model scores <b>{}</b> on the debiased test pictures, where the \
         background carries no class. Integrated gradients and occlusion use black (0) as their baseline and fill, which \
         is exactly the Pokémon background: replacing black by black changes nothing, so these two cannot see this \
         shortcut (the baseline problem).</p>",
        pct(area),
        pct(1.0 - area),
        pct(shortcut)
    ));

    r.heading("Summary");
    r.table(
        &[
            "model".into(),
            "data".into(),
            "training".into(),
            "test accuracy".into(),
        ],
        &summary,
    );
    r.html(&format!(
        "<p>The Pokémon/Digimon classifier reaches <b>{}</b> on the synthetic set, where every Pokémon is a transparent PNG \
         (black after compositing) and every Digimon a JPEG on white. The same network trained on the <i>debiased</i> set \
         (random backgrounds for both classes, every file a JPEG) reaches <b>{}</b> from the creatures alone (most Digimon \
         wear stripes, have more spikes and a tail; most Pokémon have spots). The explanation pages show which of the two \
         looks at what.</p>",
        pct(poke[0].2.eval.accuracy),
        pct(poke[1].2.eval.accuracy)
    ));
    let first16: Vec<usize> = (0..16).collect();
    samples(
        &mut r,
        &opts.out,
        "mnist-samples.png",
        &mn.test,
        &mnist_models[0].1.model,
        &first16,
        "MNIST test digits, mnist-cnn",
    )?;
    for (spec, data, t) in &poke {
        let mut idx: Vec<usize> = (0..data.test.len())
            .filter(|&i| data.test.y[i] == 0)
            .take(8)
            .collect();
        idx.extend(
            (0..data.test.len())
                .filter(|&i| data.test.y[i] == 1)
                .take(8),
        );
        let file = if spec.describe().contains("debias") {
            "pokedigi-debias-samples.png"
        } else {
            "pokedigi-samples.png"
        };
        samples(
            &mut r,
            &opts.out,
            file,
            &data.test,
            &t.model,
            &idx,
            &esc(&spec.describe()),
        )?;
    }
    for (arch, t) in &mnist_models {
        model_section(&mut r, &opts.out, arch, t, &mn.test.classes)?;
    }
    for (i, (spec, data, t)) in poke.iter().enumerate() {
        let name = if i == 0 {
            "pokedigi-gap"
        } else {
            "pokedigi-gap-debiased"
        };
        model_section(&mut r, &opts.out, name, t, &data.test.classes)?;
        r.paragraph(&format!("Data: {}.", spec.describe()));
    }
    // tree regularization on the signal-and-noise HMM
    let sweep = run_sweep(&SweepOptions {
        task: Task::Hmm,
        lambdas: None,
        seed: 0,
        quick: opts.quick,
    })?;
    write_sweep(
        &sweep,
        &opts.out.join("treereg"),
        "Tree regularization: signal-and-noise HMM",
    )?;
    r.heading("Tree regularization (Wu et al. 2018)");
    r.paragraph(
        "A GRU trained on the signal-and-noise HMM with tree regularization (blue), L1 (orange) and L2 (green) penalties of \
         growing strength, and decision trees fit to the labels (pink): test AUC against the average path length of the tree \
         that mimics each model.",
    );
    r.figure(
        "treereg/auc-vs-apl.png",
        "Test AUC (y) against average path length in decision nodes (x).",
    );
    if let Some(i) = sweep.shown {
        let run = &sweep.runs[i];
        let caption = format!(
            "The tree that mimics the tree-regularized GRU (λ = {}): APL {:.2}, test AUC {:.3}. Left branch: yes.",
            run.strength, run.apl, run.test_auc
        );
        r.figure("treereg/tree.png", &caption);
    }
    r.html("<p><a href=\"treereg/index.html\">All runs</a></p>");
    r.paragraph(&format!("Tour took {:.1}s.", start.elapsed().as_secs_f64()));
    r.write(&index)?;
    eprintln!(
        "wrote {} in {:.1}s",
        index.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
