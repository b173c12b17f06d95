//! What each subcommand does.

use super::{Command, DatasetCommand};
use crate::cli::explain::{explain, model_data};
use crate::data::inject_label_noise;
use crate::data::source::{DataSpec, Loaded, load};
use crate::data::synth::write_pokedigi;
use crate::error::{Error, Result};
use crate::explain::data::record::{Recorder, checkpoint_epochs};
use crate::explain::surrogate::experiment::{
    Protocol, SweepOptions, Task, run_sweep, sweep_file_names, sweep_files, verdict_sentence,
};
use crate::explain::surrogate::treereg::PenaltySet;
use crate::fit::{NoObserver, Observer, Provenance, TrainConfig, evaluate, train_new, train_vae};
use crate::float::Float;
use crate::io::safetensors_file::{model_from_bytes, read_bounded};
use crate::io::{
    FileDtype, Outputs, load_model, read_named, read_tensors, save_model, write_tensors_as,
};
use crate::nn::{Arch, Model};
use crate::profile::Profile;
use crate::report::{TourOptions, run_tour};
use std::collections::HashMap;
use std::path::Path;

pub fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Init {
            arch,
            seed,
            out,
            force,
        } => init(&arch, seed, &out, force),
        Command::Predict {
            model,
            input,
            out,
            dtype,
            force,
        } => match super::explain::parse_dtype(&dtype)? {
            FileDtype::F32 => predict::<f32>(&model, &input, &out, force, FileDtype::F32),
            FileDtype::F64 => predict::<f64>(&model, &input, &out, force, FileDtype::F64),
        },
        Command::Info { model } => info(&model),
        Command::Evaluate(args) => super::evaluate::evaluate(&args),
        Command::Inside(args) => super::inside::inside(&args),
        Command::Data(args) => super::data::data(&args),
        Command::Train {
            arch,
            data,
            epochs,
            batch,
            lr,
            sgd_momentum,
            seed,
            out,
            label_noise,
            synth_n,
            debias,
            cache,
            limit,
            record,
            checkpoints,
            force,
        } => {
            let a = Arch::from_name(&arch)?;
            let profile = Profile::of(&a);
            let mut cfg = profile.train.clone();
            cfg.seed = seed;
            cfg.epochs = epochs.unwrap_or(cfg.epochs);
            cfg.batch = batch.unwrap_or(cfg.batch);
            cfg.lr = lr.unwrap_or(cfg.lr);
            if let Some(momentum) = sgd_momentum {
                cfg.optimizer = crate::fit::Optim::Sgd { momentum };
            }
            let spec = profile.data_spec(data.as_deref(), synth_n, debias);
            train(
                a,
                spec,
                &cfg,
                TrainExtras {
                    noise: label_noise,
                    limit,
                    record,
                    checkpoints,
                },
                &cache,
                &out,
                force,
            )
        }
        Command::Eval { model, data, cache } => eval(&model, data.as_deref(), &cache),
        Command::Datasets {
            command:
                DatasetCommand::SynthPokedigi {
                    out,
                    n,
                    seed,
                    debias,
                    force,
                },
        } => {
            write_pokedigi(&out, n, seed, debias, force)?;
            println!(
                "wrote {n} images to {}/pokemon and {}/digimon",
                out.display(),
                out.display()
            );
            Ok(())
        }
        Command::Treereg {
            task,
            protocol,
            penalize,
            lambdas,
            seed,
            seeds,
            out,
            quick,
            force,
        } => {
            let opts = SweepOptions {
                task: Task::parse(&task)?,
                protocol: Protocol::parse(&protocol)?,
                penalize: PenaltySet::parse(&penalize)?,
                lambdas,
                seed,
                seeds,
                quick,
            };
            treereg(&opts, &task, &out, force)
        }
        Command::Explain(args) => explain(&args),
        Command::Visualize(args) => super::global::visualize(&args),
        Command::Attack(args) => super::global::attack(&args),
        Command::Distil(args) => super::global::distil(&args),
        Command::Reproduce(args) => super::reproduce::reproduce(&args),
        Command::Compare(args) => super::compare::compare(&args),
        Command::Tour {
            out,
            quick,
            cache,
            force,
        } => run_tour(&TourOptions {
            out,
            cache,
            quick,
            force,
        }),
    }
}

fn init(arch: &str, seed: u64, out: &Path, force: bool) -> Result<()> {
    Outputs::check(vec![out.to_path_buf()], force, "--out")?;
    let arch = Arch::from_name(arch)?;
    let model = Model::<f32>::init(arch, seed);
    save_model(&model, out, &[("seed".into(), seed.to_string())], force)?;
    println!(
        "wrote {} ({}, {} parameters, seed {seed})",
        out.display(),
        model.arch.name,
        model.num_params()
    );
    Ok(())
}

fn predict<T: Float>(
    model_path: &Path,
    input: &Path,
    out: &Path,
    force: bool,
    dtype: FileDtype,
) -> Result<()> {
    Outputs::check(vec![out.to_path_buf()], force, "--out")?;
    let model = load_model::<T>(model_path)?;
    let x = read_named::<T>(input, "x", "save the batch under the key 'x'")?;
    let logits = model
        .predict(&x)
        .map_err(|e| Error::Invalid(format!("{}: {e}", input.display())))?;
    let meta = HashMap::from([
        ("arch".to_string(), model.arch.name.clone()),
        ("dtype".to_string(), T::NAME.to_string()),
    ]);
    write_tensors_as(
        out,
        &[("logits".to_string(), logits.clone())],
        meta,
        force,
        dtype,
    )?;
    println!("wrote {} (logits {:?})", out.display(), logits.shape());
    Ok(())
}

fn info(path: &Path) -> Result<()> {
    let model = load_model::<f32>(path)?;
    let (_, meta) = read_tensors::<f32>(path)?;
    println!("architecture: {}", model.arch.name);
    println!("parameters:   {}", model.num_params());
    for (name, t) in model.params() {
        println!("  {name:<20} {:?}", t.shape());
    }
    let mut keys: Vec<_> = meta.iter().filter(|(k, _)| k.as_str() != "arch").collect();
    keys.sort();
    for (k, v) in keys {
        println!("{k}: {v}");
    }
    Ok(())
}

/// Prints what the folder loader skipped.
fn report_loading(data: &Loaded) {
    if let Some(rep) = &data.report {
        for (f, why) in &rep.skipped {
            eprintln!("skipped {f}: {why}");
        }
        eprintln!(
            "loaded {} images ({} skipped, {} other files ignored); train {} / test {}",
            rep.loaded,
            rep.skipped.len(),
            rep.ignored,
            data.train.len(),
            data.test.len()
        );
    }
}

/// A file beside the model: `m.safetensors` → `m.<suffix>`.
fn beside(model: &Path, suffix: &str) -> std::path::PathBuf {
    model.with_extension(suffix)
}

/// Options of `train` that change the data rather than the optimizer.
struct TrainExtras {
    noise: f64,
    limit: Option<usize>,
    record: bool,
    checkpoints: Option<usize>,
}

fn train(
    arch: Arch,
    spec: DataSpec,
    cfg: &TrainConfig,
    extras: TrainExtras,
    cache: &Path,
    out: &Path,
    force: bool,
) -> Result<()> {
    // every check before any work (--label-noise and --limit were checked by their
    // argument parsers): the settings, then every file this run writes
    cfg.validate()?;
    let log_path = beside(out, "log.jsonl");
    let noise_path = beside(out, "noise.json");
    let mut files = vec![out.to_path_buf(), log_path.clone()];
    if extras.noise > 0.0 {
        files.push(noise_path.clone());
    }
    let record_path = beside(out, "record.safetensors");
    let ckpt_epochs = match (extras.record, extras.checkpoints) {
        (false, Some(_)) => {
            return Err(Error::Invalid(
                "--checkpoints needs --record (TracIn reads both)".into(),
            ));
        }
        (true, Some(k)) => checkpoint_epochs(k, cfg.epochs)?,
        _ => vec![],
    };
    let ckpt_path = |e: usize| beside(out, &format!("ckpt-{e}.safetensors"));
    if extras.record {
        files.push(record_path.clone());
        files.extend(ckpt_epochs.iter().map(|&e| ckpt_path(e)));
    }
    if arch.is_vae() && (extras.record || extras.noise > 0.0) {
        return Err(Error::Invalid(format!(
            "{} learns without labels: --record and --label-noise do not apply",
            arch.name
        )));
    }
    let outputs = Outputs::check(files, force, "--out")?;
    let mut data = load(&spec, cache, cfg.seed)?;
    report_loading(&data);
    let mut noise_note = String::new();
    if let Some(n) = extras.limit {
        let n = n.min(data.train.len());
        data.train = data.train.subset(&(0..n).collect::<Vec<_>>())?;
        noise_note += &format!(" limit={n}");
    }
    let noise = extras.noise;
    let mut noise_json = None;
    if noise > 0.0 {
        let k = data.train.classes.len();
        let flipped = inject_label_noise(&mut data.train.y, k, noise, cfg.seed)?;
        let rows: Vec<String> = flipped
            .iter()
            .map(|&(i, orig)| format!("[{i},{orig},{}]", data.train.y[i]))
            .collect();
        noise_json = Some(format!(
            "{{\"label_noise\":{noise},\"seed\":{},\"flipped\":[{}]}}\n",
            cfg.seed,
            rows.join(",")
        ));
        noise_note += &format!(" label-noise={noise}");
        eprintln!(
            "flipped {} training labels; recorded in {} as [index, original, new]",
            flipped.len(),
            noise_path.display()
        );
    }
    // the log is kept in memory and written with the model: an interrupted run leaves
    // no file behind, and its retry needs no --force
    let mut log = Vec::new();
    let start = std::time::Instant::now();
    let prov = Provenance {
        data: spec,
        split_seed: cfg.seed,
        train: cfg.clone(),
        notes: noise_note,
    };
    if arch.is_vae() {
        let t = train_vae(arch, &data, cfg, &mut log)?;
        outputs.write(&log_path, &log)?;
        save_model(
            &t.model,
            out,
            &prov.metadata_with(&t.history, t.results()),
            force,
        )?;
        let [e, r, k] = t.test_elbo;
        println!(
            "wrote {} (test −ELBO {e:.2} per digit = reconstruction {r:.2} + KL {k:.2}; \
             reconstruction MSE {:.4} per pixel; {} epochs, {:.1}s); log in {}",
            out.display(),
            t.test_mse,
            cfg.epochs,
            start.elapsed().as_secs_f64(),
            log_path.display()
        );
        return Ok(());
    }
    let mut recorder = Recorder::new(cfg.epochs, data.train.len(), ckpt_epochs);
    let observer: &mut dyn Observer = if extras.record {
        &mut recorder
    } else {
        &mut NoObserver
    };
    let t = train_new(arch, &data, cfg, &mut log, observer)?;
    let metadata = prov.metadata(&t);
    if extras.record {
        let file_name = |e: usize| {
            ckpt_path(e)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        let (rec, kept) = recorder.finish(&t.model, &prov.settings(), file_name)?;
        for (epoch, lr, m) in &kept {
            let mut meta = metadata.clone();
            meta.push(("checkpoint.epoch".into(), epoch.to_string()));
            meta.push(("checkpoint.lr".into(), format!("{lr:e}")));
            save_model(m, &ckpt_path(*epoch), &meta, force)?;
        }
        outputs.write(&record_path, &rec.to_bytes())?;
        eprintln!(
            "recorded {} presentations in {}{}",
            rec.epochs * rec.n,
            record_path.display(),
            if kept.is_empty() {
                String::new()
            } else {
                format!(" and {} checkpoints", kept.len())
            }
        );
    }
    if let Some(json) = noise_json {
        outputs.write(&noise_path, json.as_bytes())?;
    }
    outputs.write(&log_path, &log)?;
    save_model(&t.model, out, &metadata, force)?;
    let e = &t.eval;
    println!(
        "wrote {} (test accuracy {:.2}% after {} epochs, {:.1}s); log in {}",
        out.display(),
        100.0 * e.accuracy,
        cfg.epochs,
        start.elapsed().as_secs_f64(),
        log_path.display()
    );
    Ok(())
}

fn eval(model_path: &Path, data: Option<&Path>, cache: &Path) -> Result<()> {
    let bytes = read_bounded(model_path)?;
    let (model, meta) = model_from_bytes::<f32>(&bytes, model_path)?;
    let (spec, split_seed) = model_data(&model, &meta, data);
    let data = load(&spec, cache, split_seed)?;
    report_loading(&data);
    let e = evaluate(&model, &data.test)?;
    let classes = &data.test.classes;
    println!(
        "{} on {} ({} test examples)",
        model.arch.name,
        spec.describe(),
        data.test.len()
    );
    println!("accuracy: {:.2}%", 100.0 * e.accuracy);
    for (c, acc) in e.per_class.iter().enumerate() {
        println!("  class {:<8} {:.2}%", classes[c], 100.0 * acc);
    }
    println!("confusion matrix (rows: true class, columns: predicted):");
    for (c, row) in e.confusion.iter().enumerate() {
        let cells: Vec<String> = row.iter().map(|n| format!("{n:>6}")).collect();
        println!("  {:<8}{}", classes[c], cells.join(""));
    }
    Ok(())
}

fn treereg(opts: &SweepOptions, task: &str, out: &Path, force: bool) -> Result<()> {
    let outputs = Outputs::in_folder(out, &sweep_file_names(opts.task), force, "--out")?;
    let sweep = run_sweep(opts)?;
    outputs.write_folder(
        out,
        &sweep_files(&sweep, &format!("Tree regularization: {task}"))?,
    )?;
    for m in ["tree", "l1", "l2", "decision-tree"] {
        let pts: Vec<String> = sweep
            .runs
            .iter()
            .filter(|r| r.method == m)
            .map(|r| format!("({:.1}, {:.3})", r.apl, r.test_auc))
            .collect();
        println!("{m:>13}: (APL, AUC) {}", pts.join(" "));
    }
    println!("{}", verdict_sentence(&sweep.points()));
    println!(
        "wrote {}/{} in {:.1}s",
        out.display(),
        sweep_file_names(opts.task).join(", "),
        sweep.seconds
    );
    Ok(())
}
