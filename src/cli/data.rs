//! `lamppost data forgetting|datamap|tidy|influence|tracin|representer`: which training
//! examples explain a model.

use super::DataArgs;
use super::explain::model_data;
use crate::data::Dataset;
use crate::data::source::load;
use crate::error::{Error, Result};
use crate::explain::data::blocks::GradBlocks;
use crate::explain::data::datamap::{Region, data_map, select};
use crate::explain::data::forgetting::{forgetting_of, unforgettable_fraction};
use crate::explain::data::influence::{InverseHvp, Solver, influence, self_influence};
use crate::explain::data::objective::{ModelObjective, Objective, ParamSet, last_layer};
use crate::explain::data::record::Record;
use crate::explain::data::representer::Representer;
use crate::explain::data::tidy::tidy;
use crate::explain::data::tracin::{Checkpoint, tracin};
use crate::explain::surrogate::roc_auc;
use crate::fit::progress_bar;
use crate::io::Outputs;
use crate::io::safetensors_file::{FileDtype, model_from_bytes, read_bounded};
use crate::nn::Model;
use crate::profile::Profile;
use crate::report::data::{datamap_svg, extremes, forgetting_svg, proponents_svg};
use crate::tensor::Tensor;
use crate::viz::report::Report;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The training-data methods.
pub const METHODS: [&str; 6] = [
    "forgetting",
    "datamap",
    "tidy",
    "influence",
    "tracin",
    "representer",
];

/// Test examples the proponents picture shows at most.
const SHOWN_TEST: usize = 12;

/// Methods that read the training record only, and those that score training examples
/// for test examples.
fn reads_record_only(m: &str) -> bool {
    matches!(m, "forgetting" | "datamap" | "tidy")
}

/// The indices of `FILE.noise.json` (`lamppost train --label-noise`), if that file exists.
fn flipped_of(model: &Path, n: usize) -> Result<Option<Vec<bool>>> {
    let path = model.with_extension("noise.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let bad = || {
        Error::Invalid(format!(
            "{}: not a label-noise record (expected \"flipped\":[[index, original, new], …])",
            path.display()
        ))
    };
    let list = text.split("\"flipped\":").nth(1).ok_or_else(bad)?;
    let nums: Vec<usize> = list
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| bad()))
        .collect::<Result<_>>()?;
    let mut flipped = vec![false; n];
    for i in nums.iter().step_by(3) {
        if *i < n {
            flipped[*i] = true;
        }
    }
    Ok(Some(flipped))
}

pub fn data(args: &DataArgs) -> Result<()> {
    // every option is checked before any work
    let method = args.method.as_str();
    if !METHODS.contains(&method) {
        return Err(Error::Invalid(format!(
            "unknown data method '{method}'; use one of {}",
            METHODS.join(", ")
        )));
    }
    let scoring = ["influence", "tracin", "representer"];
    let given: [(&str, bool, &[&str]); 12] = [
        ("--test-index", args.test_index.is_some(), &scoring),
        ("--params", args.params.is_some(), &["influence", "tracin"]),
        ("--solver", args.solver.is_some(), &["influence"]),
        ("--damping", args.damping.is_some(), &["influence"]),
        ("--cg-tol", args.cg_tol.is_some(), &["influence"]),
        (
            "--cg-iterations",
            args.cg_iterations.is_some(),
            &["influence"],
        ),
        ("--lissa-scale", args.lissa_scale.is_some(), &["influence"]),
        ("--lissa-depth", args.lissa_depth.is_some(), &["influence"]),
        (
            "--lissa-repeats",
            args.lissa_repeats.is_some(),
            &["influence"],
        ),
        ("--lambda", args.lambda.is_some(), &["representer"]),
        ("--train-n", args.train_n.is_some(), &scoring),
        ("--fraction", args.fraction.is_some(), &["datamap"]),
    ];
    super::refuse_unread(method, &given)?;
    let solver_name = args.solver.as_deref();
    if let Some(s) = solver_name
        && !["explicit", "cg", "minres", "lissa"].contains(&s)
    {
        return Err(Error::Invalid(format!(
            "--solver '{s}': use explicit, cg, minres or lissa"
        )));
    }
    if (args.cg_tol.is_some() || args.cg_iterations.is_some())
        && !matches!(solver_name, Some("cg") | Some("minres") | None)
    {
        return Err(Error::Invalid(
            "--cg-tol and --cg-iterations are read by --solver cg and minres only".into(),
        ));
    }
    if (args.lissa_scale.is_some() || args.lissa_depth.is_some() || args.lissa_repeats.is_some())
        && solver_name != Some("lissa")
    {
        return Err(Error::Invalid(
            "--lissa-scale, --lissa-depth and --lissa-repeats need --solver lissa".into(),
        ));
    }
    let top = args.top.unwrap_or(5);
    let fraction = args.fraction.unwrap_or(0.05);
    let outputs = Outputs::folder(&args.io.out, args.io.force, "--out")?;
    let bytes = read_bounded(&args.model)?;
    let (model, meta) = model_from_bytes::<f32>(&bytes, &args.model)?;
    let record_path = args
        .record
        .clone()
        .unwrap_or_else(|| args.model.with_extension("record.safetensors"));
    let needs_record = reads_record_only(method) || method == "tracin";
    let record = if needs_record || record_path.exists() {
        if !record_path.exists() {
            return Err(Error::Invalid(format!(
                "'{method}' reads the training record, and {} does not exist; train with `lamppost train ARCH --record{} --out {}` or pass --record FILE",
                record_path.display(),
                if method == "tracin" {
                    " --checkpoints K"
                } else {
                    ""
                },
                args.model.display()
            )));
        }
        let r = Record::read(&record_path)?;
        r.check_model(&model, meta.get("settings").map(String::as_str))?;
        Some(r)
    } else {
        None
    };
    if method == "tracin" && record.as_ref().is_some_and(|r| r.checkpoints.is_empty()) {
        return Err(Error::Invalid(format!(
            "{} has no checkpoints; train with --record --checkpoints K for TracIn",
            record_path.display()
        )));
    }
    let params = match args.params.as_deref() {
        None => None,
        Some([one]) if one == "last" => None,
        Some([one]) if one == "all" => Some(ParamSet::All),
        Some(list) => Some(ParamSet::Layers(list.to_vec())),
    };
    if let Some(p) = &params {
        p.indices(&model)?;
    } else if scoring.contains(&method) {
        last_layer_name(&model)?;
    }

    // the data the model was trained on, as the record saw it
    let (spec, split) = model_data(&model, &meta, args.io.data.as_deref());
    let data = load(&spec, &args.io.cache, split)?;
    let mut train = data.train.clone();
    if let Some(r) = &record {
        if r.n > train.len() {
            return Err(Error::Invalid(format!(
                "the record covers {} training examples but the data has {}; pass the data the model was trained on with --data",
                r.n,
                train.len()
            )));
        }
        train = train.subset(&(0..r.n).collect::<Vec<_>>())?;
        train.y = r.labels.clone();
    }
    // a noise record counts only if this model was trained with label noise (a retrain
    // without it may have left an older one beside the file)
    let noisy = meta
        .get("settings")
        .is_some_and(|s| s.contains("label-noise="));
    let flipped = if noisy {
        flipped_of(&args.model, train.len())?
    } else {
        None
    };
    if let Some(n) = args.train_n {
        train = train.first(n)?;
    }
    let flipped = flipped.map(|f| f[..train.len()].to_vec());
    let test_index = match &args.test_index {
        Some(spans) => super::positions(spans, data.test.len(), "--test-index")?,
        None => vec![0],
    };
    let test = data.test.subset(&test_index)?;
    let unit = Profile::of(&model.arch).to_unit();
    let start = Instant::now();
    let name = model.arch.name.clone();
    let mut page = Report::new(&format!("Which training examples? {method} ({name})"));
    let mut tensors: Vec<(String, Tensor<f64>)> = Vec::new();
    let mut csv = String::new();
    let auroc_line = |what: &str, scores: &[f64]| -> Option<String> {
        flipped.as_ref().map(|f| {
            format!(
                "AUROC of {what} for 'label was flipped' ({} of {} flipped): {:.4}",
                f.iter().filter(|&&b| b).count(),
                f.len(),
                roc_auc(scores, f).unwrap_or(f64::NAN)
            )
        })
    };
    let mut notes = Vec::new();
    match method {
        "forgetting" => {
            let r = record.as_ref().expect("checked");
            let stats = forgetting_of(r);
            let frac = unforgettable_fraction(&stats);
            let never = stats.iter().filter(|f| !f.learned).count();
            notes.push(format!(
                "{:.2}% of {} training examples are unforgettable (learned and never forgotten over {} epochs); {never} were never learned (counted as {} events, Toneva's convention).",
                100.0 * frac,
                r.n,
                r.epochs,
                r.epochs
            ));
            let counts: Vec<f64> = stats.iter().map(|f| f.count as f64).collect();
            notes.extend(auroc_line("the forgetting count", &counts));
            page.svg_figure(
                "forgetting.svg",
                forgetting_svg(&stats, &format!("Forgetting events, {name}")),
                "How many training examples were forgotten how often.",
            );
            csv += "index,label,forgetting_events,learning_events,learned,unforgettable\n";
            for (i, f) in stats.iter().enumerate() {
                csv += &format!(
                    "{i},{},{},{},{},{}\n",
                    train.y[i],
                    f.count,
                    f.learning_events,
                    f.learned as u8,
                    f.unforgettable() as u8
                );
            }
            tensors.push(("forgetting_events".into(), vec_tensor(&counts)?));
            let (most, _) = extremes(&counts, top);
            tiles_of(
                &mut page,
                "Most forgotten",
                unit,
                &train,
                &most,
                |i| match stats[i].learned {
                    true => format!("#{i} {} forgotten ×{}", train.y[i], stats[i].count),
                    false => format!("#{i} {} never learned", train.y[i]),
                },
            )?;
        }
        "datamap" => {
            let r = record.as_ref().expect("checked");
            let map = data_map(r);
            let conf: Vec<f64> = map.iter().map(|p| p.confidence).collect();
            let var: Vec<f64> = map.iter().map(|p| p.variability).collect();
            let cor: Vec<f64> = map.iter().map(|p| p.correctness).collect();
            let low_conf: Vec<f64> = conf.iter().map(|c| 1.0 - c).collect();
            notes.extend(auroc_line("1 − confidence", &low_conf));
            notes.extend(auroc_line("variability", &var));
            let wrong: Vec<f64> = cor.iter().map(|c| 1.0 - c).collect();
            notes.extend(auroc_line("1 − correctness", &wrong));
            page.svg_figure(
                "datamap.svg",
                datamap_svg(&map, flipped.as_deref(), &format!("Data map, {name}")),
                "Each dot is a training example: x the variability of its gold-label probability across epochs, y the mean.",
            );
            csv += "index,label,confidence,variability,correctness,region\n";
            let mut region = vec![""; r.n];
            for reg in Region::ALL {
                for i in select(&map, reg, fraction) {
                    if region[i].is_empty() {
                        region[i] = reg.name();
                    }
                }
            }
            for (i, p) in map.iter().enumerate() {
                csv += &format!(
                    "{i},{},{},{},{},{}\n",
                    train.y[i], p.confidence, p.variability, p.correctness, region[i]
                );
            }
            tensors.push(("confidence".into(), vec_tensor(&conf)?));
            tensors.push(("variability".into(), vec_tensor(&var)?));
            tensors.push(("correctness".into(), vec_tensor(&cor)?));
            for reg in Region::ALL {
                let idx: Vec<usize> = select(&map, reg, fraction).into_iter().take(top).collect();
                tiles_of(&mut page, reg.name(), unit, &train, &idx, |i| {
                    format!("#{i} {} c={:.2}", train.y[i], map[i].confidence)
                })?;
            }
        }
        "tidy" => {
            let r = record.as_ref().expect("checked");
            let (scores, flags) = tidy(r);
            notes.push(format!(
                "{} of {} examples flagged (score above mean + 5σ).",
                flags.iter().filter(|&&f| f).count(),
                r.n
            ));
            notes.extend(auroc_line("the TIDY score", &scores));
            csv += "index,label,score,flagged\n";
            for (i, (s, f)) in scores.iter().zip(&flags).enumerate() {
                csv += &format!("{i},{},{s},{}\n", train.y[i], *f as u8);
            }
            tensors.push(("score".into(), vec_tensor(&scores)?));
            let (late, _) = extremes(&scores, top);
            tiles_of(&mut page, "Learned latest", unit, &train, &late, |i| {
                format!("#{i} {} {:.1}", train.y[i], scores[i])
            })?;
        }
        _ => {
            let (scores, self_scores, what) = score(
                method,
                args,
                &model,
                &train,
                &test,
                record.as_ref(),
                &record_path,
                params.as_ref(),
            )?;
            let nt = train.len();
            if let Some(s) = &self_scores {
                notes.extend(auroc_line("self-influence", s));
                tensors.push(("self_influence".into(), vec_tensor(s)?));
            }
            notes.push(what);
            csv += "test_index,test_label,rank,kind,train_index,train_label,score\n";
            let rows: Vec<Vec<f64>> = scores.chunks(nt).map(<[f64]>::to_vec).collect();
            for (t, s) in test_index.iter().zip(&rows) {
                let (pro, opp) = extremes(s, top);
                for (kind, list) in [("proponent", &pro), ("opponent", &opp)] {
                    for (rank, &i) in list.iter().enumerate() {
                        csv += &format!(
                            "{t},{},{},{kind},{i},{},{}\n",
                            data.test.y[*t],
                            rank + 1,
                            train.y[i],
                            s[i]
                        );
                    }
                }
            }
            tensors.push((
                "scores".into(),
                Tensor::new(&[test_index.len(), nt], scores)?,
            ));
            // the picture shows the first test examples; every score is in the files
            let shown = test_index.len().min(SHOWN_TEST);
            let more = if shown < test_index.len() {
                format!(
                    " The first {shown} of {} test examples; results.csv lists every one's and results.safetensors holds every score.",
                    test_index.len()
                )
            } else {
                String::new()
            };
            page.svg_figure(
                "examples.svg",
                proponents_svg(
                    &format!("{method}: proponents (positive: removing it would raise the test loss) and opponents"),
                    unit,
                    &test,
                    &test_index[..shown],
                    &train,
                    &rows[..shown],
                    top,
                )?,
                &format!("Each row: a test example, its strongest proponents, then its strongest opponents, with their scores.{more}"),
            );
        }
    }
    for n in &notes {
        page.paragraph(n);
        eprintln!("{n}");
    }
    let meta = super::results::provenance(
        method,
        &args.model,
        &bytes,
        &name,
        &spec.describe(),
        vec![
            ("n_train", train.len().to_string()),
            (
                "test_index",
                test_index
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            (
                "sign",
                "positive = removing the training example would increase the test loss (proponent)"
                    .to_string(),
            ),
        ],
    );
    super::results::write(
        &outputs,
        &args.io.out,
        page,
        csv,
        super::results::Tensors {
            tensors: &tensors,
            meta,
            dtype: FileDtype::F64,
        },
        start,
    )?;
    Ok(())
}

fn vec_tensor(v: &[f64]) -> Result<Tensor<f64>> {
    Tensor::new(&[v.len()], v.to_vec())
}

/// A row of training pictures under a heading.
fn tiles_of(
    page: &mut Report,
    title: &str,
    unit: fn(f32) -> f32,
    train: &Dataset,
    idx: &[usize],
    caption: impl Fn(usize) -> String,
) -> Result<()> {
    use crate::report::data::example_tiles;
    use crate::viz::tiles::{TileRow, tiles_svg};
    let row = TileRow {
        label: title.to_string(),
        tiles: example_tiles(train, unit, idx, caption)?,
        note: String::new(),
    };
    let cols: Vec<String> = (1..=idx.len()).map(|r| format!("{r}")).collect();
    let file = format!("{}.svg", title.to_lowercase().replace(' ', "-"));
    page.svg_figure(&file, tiles_svg(title, &cols, &[row])?, title);
    Ok(())
}

/// The last linear layer's name, or an error saying to use --params all.
fn last_layer_name(model: &Model<f32>) -> Result<String> {
    match model.arch.layers.last() {
        Some(crate::nn::arch::LayerSpec::Linear { name, .. }) => Ok(name.clone()),
        _ => Err(Error::Invalid(format!(
            "{} does not end in a linear layer; use --params all",
            model.arch.name
        ))),
    }
}

/// An objective over `train` at `model`'s weights: the last layer in closed form, or
/// the chosen parameters through the engine.
fn objective(
    model: &Model<f32>,
    train: &Dataset,
    params: Option<&ParamSet>,
) -> Result<Box<dyn Objective>> {
    Ok(match params {
        None => Box::new(last_layer(model, &train.x, train.y.clone(), 0.0)?.0),
        Some(p) => Box::new(ModelObjective::new(
            model.cast(),
            p,
            train.x.cast(),
            train.y.clone(),
            0.0,
        )?),
    })
}

/// Test-loss gradients at `model` over the same parameters as [`objective`].
fn test_blocks(
    model: &Model<f32>,
    test: &Dataset,
    params: Option<&ParamSet>,
) -> Result<GradBlocks> {
    match params {
        None => {
            let (reg, _) = last_layer(model, &test.x, test.y.clone(), 0.0)?;
            Ok(reg.blocks_of(&reg.x, &reg.y))
        }
        Some(p) => ModelObjective::new(model.cast(), p, test.x.cast(), test.y.clone(), 0.0)?
            .blocks_of(&test.x.cast(), &test.y),
    }
}

type Scored = (Vec<f64>, Option<Vec<f64>>, String);

/// `[n_test, n_train]` scores of a scoring method, self-influence where it has one, and
/// a sentence on what was computed.
#[allow(clippy::too_many_arguments)]
fn score(
    method: &str,
    args: &DataArgs,
    model: &Model<f32>,
    train: &Dataset,
    test: &Dataset,
    record: Option<&Record>,
    record_path: &Path,
    params: Option<&ParamSet>,
) -> Result<Scored> {
    let nt = train.len();
    let which = match params {
        None => format!("the last layer ({})", last_layer_name(model)?),
        Some(ParamSet::All) => "every parameter".to_string(),
        Some(ParamSet::Layers(l)) => format!("the parameters of {}", l.join(", ")),
    };
    match method {
        "influence" => {
            let obj = objective(model, train, params)?;
            let damping = args.damping.unwrap_or(0.01);
            let solver = match args.solver.as_deref() {
                Some("explicit") => Solver::Explicit,
                Some("lissa") => Solver::Lissa {
                    scale: args.lissa_scale.unwrap_or(10.0),
                    depth: args.lissa_depth.unwrap_or(1000),
                    repeats: args.lissa_repeats.unwrap_or(1),
                    batch: Some(64),
                    seed: args.seed,
                },
                None if obj.dim() <= 3000
                    && args.cg_tol.is_none()
                    && args.cg_iterations.is_none() =>
                {
                    Solver::Explicit
                }
                Some("minres") => Solver::Minres {
                    tol: args.cg_tol.unwrap_or(1e-6),
                    max_iter: args.cg_iterations.unwrap_or(500),
                },
                _ => Solver::Cg {
                    tol: args.cg_tol.unwrap_or(1e-6),
                    max_iter: args.cg_iterations.unwrap_or(500),
                },
            };
            let name = solver.name();
            let grads = test_blocks(model, test, params)?.dense();
            // a bar over the test examples, or for the iterative solvers one over each
            // solve's steps, restarted for every test example
            let steps = match &solver {
                Solver::Cg { max_iter, .. } => Some((*max_iter as u64, "CG residual")),
                Solver::Minres { max_iter, .. } => Some((*max_iter as u64, "MINRES residual")),
                Solver::Lissa { depth, repeats, .. } => {
                    Some(((depth * repeats) as u64, "LiSSA ‖h‖/‖v‖"))
                }
                Solver::Explicit => None,
            };
            let inner = steps.map(|(len, what)| {
                let pb = progress_bar(len, name);
                pb.set_message(what);
                pb
            });
            let mut inv = InverseHvp::new(obj.as_ref(), damping, solver)?;
            if let Some(pb) = &inner {
                let what = steps.map_or("", |s| s.1);
                inv = inv.on_step(move |i, r| {
                    pb.set_position(i as u64);
                    pb.set_message(format!("{what} {r:.2e}"));
                });
            }
            let bar = match inner {
                Some(_) => indicatif::ProgressBar::hidden(),
                None => progress_bar(grads.len() as u64, "influence"),
            };
            let mut out = Vec::with_capacity(grads.len() * nt);
            for (t, g) in grads.iter().enumerate() {
                if let Some(pb) = &inner {
                    pb.reset();
                    pb.set_prefix(format!("{name} {}/{}", t + 1, grads.len()));
                }
                out.extend(influence(&inv, g)?);
                bar.inc(1);
            }
            bar.finish_and_clear();
            if let Some(pb) = &inner {
                pb.finish_and_clear();
            }
            let self_scores = if name == "explicit" {
                Some(self_influence(&inv, &(0..nt).collect::<Vec<_>>())?)
            } else {
                None
            };
            Ok((
                out,
                self_scores,
                format!(
                    "Influence (Koh & Liang) over {which} ({} values), {nt} training examples, solver {name}, damping {damping}.",
                    obj.dim()
                ),
            ))
        }
        "tracin" => {
            let r = record.expect("checked");
            let dir = record_path.parent().unwrap_or(Path::new("."));
            let mut models = Vec::new();
            for c in &r.checkpoints {
                let path: PathBuf = dir.join(&c.file);
                let m = crate::io::load_model::<f32>(&path)?;
                if m.arch.name != model.arch.name {
                    return Err(Error::Invalid(format!(
                        "checkpoint {} is a {}, the model a {}",
                        path.display(),
                        m.arch.name,
                        model.arch.name
                    )));
                }
                models.push((c.lr, m));
            }
            let mut objs: Vec<(f64, Box<dyn Objective>)> = Vec::new();
            let mut grads = Vec::new();
            for (lr, m) in &models {
                objs.push((*lr, objective(m, train, params)?));
                grads.push(test_blocks(m, test, params)?);
            }
            let ckpts: Vec<Checkpoint> = objs
                .iter()
                .zip(grads)
                .map(|((lr, o), g)| Checkpoint {
                    lr: *lr,
                    train: o.as_ref(),
                    test: g,
                })
                .collect();
            let pb = progress_bar((ckpts.len() * nt) as u64, "tracin");
            let out = tracin(&ckpts, |d, _| pb.set_position(d as u64))?;
            pb.finish_and_clear();
            Ok((
                out.scores,
                Some(out.self_influence),
                format!(
                    "TracInCP over {which}, {} checkpoints (epochs {}), {nt} training examples.",
                    r.checkpoints.len(),
                    r.checkpoints
                        .iter()
                        .map(|c| c.epoch.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ))
        }
        _ => {
            let lambda = args.lambda.unwrap_or(0.003);
            let (reg, layer) = last_layer(model, &train.x, train.y.clone(), 0.0)?;
            let k = reg.classes;
            let nf = reg.features();
            let w = reg.theta[..k * nf].to_vec();
            let rep = Representer::fit(reg.x, reg.y, k, &w, lambda)?;
            let (treg, _) = last_layer(model, &test.x, test.y.clone(), 0.0)?;
            let mut out = Vec::with_capacity(test.len() * nt);
            let mut worst: f64 = 0.0;
            for f in treg.x.data().chunks(nf) {
                let phi = rep.output(f);
                let c = (0..k)
                    .max_by(|&a, &b| phi[a].total_cmp(&phi[b]))
                    .unwrap_or(0);
                out.extend(rep.values(f, c));
                let rec = rep.reconstruct(f);
                worst = phi
                    .iter()
                    .zip(&rec)
                    .fold(worst, |m, (a, b)| m.max((a - b).abs()));
            }
            Ok((
                out,
                None,
                format!(
                    "Representer points (Yeh et al.) on the features feeding {layer}: refit with λ = {lambda} to gradient norm {:.1e}; values for each test example's predicted class; largest reconstruction error of the refit outputs {worst:.1e}.",
                    rep.grad_norm
                ),
            ))
        }
    }
}
