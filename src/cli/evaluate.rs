//! `lamppost evaluate METRIC`: how far each attribution method can be trusted on a model.

use super::EvaluateArgs;
use super::explain::model_data;
use crate::data::source::{Loaded, load};
use crate::error::Result;
use crate::explain::metrics::benchmark::{BenchOptions, Metric};
use crate::explain::metrics::curves::Substrate;
use crate::explain::registry::{MethodOptions, build, find, usable};
use crate::io::Outputs;
use crate::io::safetensors_file::{model_from_bytes, read_bounded};
use crate::nn::{Arch, Model};
use crate::report::trust::{run, table, write_section};
use crate::viz::report::Report;
use std::time::Instant;

/// What every `evaluate` run opens, in this order so that nothing is read or computed
/// before a bad option is refused: the methods named, the `--out` folder, the model, the
/// methods' fit to the model, then the data.
pub(super) struct Opened {
    pub outputs: Outputs,
    pub model: Model<f32>,
    pub data: Loaded,
    /// `--methods`, or the run's default for the model.
    pub methods: Vec<&'static str>,
}

pub(super) fn open(
    args: &EvaluateArgs,
    default: impl FnOnce(&Arch) -> Vec<&'static str>,
) -> Result<Opened> {
    let chosen: Option<Vec<&'static str>> = args
        .methods
        .as_ref()
        .map(|m| m.iter().map(|s| find(s).map(|i| i.name)).collect())
        .transpose()?;
    let outputs = Outputs::folder(&args.io.out, args.io.force, "--out")?;
    let bytes = read_bounded(&args.model)?;
    let (model, meta) = model_from_bytes::<f32>(&bytes, &args.model)?;
    let methods = match chosen {
        Some(m) => m,
        None => default(&model.arch),
    };
    // a method that cannot run on this model is refused before the data is read
    for name in &methods {
        build(name, &MethodOptions::default(), &model.arch)?;
    }
    let (spec, split) = model_data(&model, &meta, args.io.data.as_deref());
    let data = load(&spec, &args.io.cache, split)?;
    Ok(Opened {
        outputs,
        model,
        data,
        methods,
    })
}

/// The metrics that train models, in `evaluate_retrain`.
pub const RETRAINING: [&str; 2] = ["roar", "data-randomization"];

pub fn evaluate(args: &EvaluateArgs) -> Result<()> {
    // every option is checked before any work
    let kind = args.metric.as_str();
    let with = |names: &[&'static str]| -> Vec<&'static str> {
        let mut v = names.to_vec();
        v.push("benchmark");
        v
    };
    // the metrics that read each option (benchmark reads them all)
    let (step, substrate, insertion, aopc) = (
        with(&["deletion", "insertion"]),
        with(&["deletion", "aopc"]),
        with(&["insertion"]),
        with(&["aopc"]),
    );
    let given: [(&str, bool, &[&str]); 8] = [
        ("--step", args.step.is_some(), &step),
        ("--substrate", args.substrate.is_some(), &substrate),
        (
            "--insertion-substrate",
            args.insertion_substrate.is_some(),
            &insertion,
        ),
        ("--region", args.region.is_some(), &aopc),
        ("--steps", args.steps.is_some(), &aopc),
        ("--train-n", args.train_n.is_some(), &RETRAINING),
        ("--epochs", args.epochs.is_some(), &RETRAINING),
        ("--fractions", args.fractions.is_some(), &["roar"]),
    ];
    if RETRAINING.contains(&kind) || Metric::parse(kind).is_ok() || kind == "benchmark" {
        super::refuse_unread(kind, &given)?;
    }
    if RETRAINING.contains(&kind) {
        return super::evaluate_retrain::evaluate_retrain(args);
    }
    let metrics: Vec<Metric> = match args.metric.as_str() {
        "benchmark" => Metric::ALL.to_vec(),
        m => vec![Metric::parse(m)?],
    };
    let mut opts = BenchOptions {
        seed: args.seed,
        step: args.step.unwrap_or(0),
        ..BenchOptions::default()
    };
    if let Some(s) = &args.substrate {
        opts.deletion = Substrate::parse(s)?;
    }
    if let Some(s) = &args.insertion_substrate {
        opts.insertion = Substrate::parse(s)?;
    }
    opts.region = args.region.unwrap_or(opts.region);
    opts.aopc_steps = args.steps.unwrap_or(opts.aopc_steps);
    let Opened {
        outputs,
        model,
        data,
        methods,
    } = open(args, usable)?;
    let start = Instant::now();
    let n = args.n.unwrap_or(100).min(data.test.len());
    eprintln!(
        "evaluating {} method(s) × {n} test examples on {} ({})",
        methods.len(),
        args.model.display(),
        metrics
            .iter()
            .map(|m| m.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let (bench, x) = run(&model, &data.test, n, &methods, &metrics, &opts)?;
    let name = model.arch.name.clone();
    let mut page = Report::new(&format!("Which explanation should I trust? ({name})"));
    write_section(&mut page, &name, &model, &x, &bench, &opts)?;
    let mut files = page.into_files("index.html");
    files.push(("results.csv".into(), bench.csv(&name).into_bytes()));
    outputs.write_folder(&args.io.out, &files)?;
    let (header, rows) = table(&bench);
    println!("{}", header.join(" | "));
    for r in rows {
        println!("{}", r.join(" | "));
    }
    eprintln!(
        "wrote {}/results.csv and index.html with its figures in {:.1}s",
        args.io.out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
