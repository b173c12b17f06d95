//! `lamppost evaluate roar|data-randomization`: the two evaluations that train models.
//!
//! - `roar` (Hooker et al. 2019, ROAR-lite): remove each method's top pixels from the
//!   training and test pictures, retrain, compare test accuracy with random removal;
//! - `data-randomization` (Adebayo et al. 2018, §5): train the same architecture on
//!   permuted labels until it memorizes them, and compare its maps with the model's.

use super::EvaluateArgs;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::explain::attribution::Method;
use crate::explain::metrics::benchmark::{Bench, Row};
use crate::explain::metrics::roar::{FRACTIONS, Roar, RoarOptions, roar};
use crate::explain::metrics::sanity::{FAIL_AT, mean, permuted_label_model, stages_test};
use crate::explain::registry::{MethodOptions, build, usable};
use crate::fit::{TrainConfig, progress_bar};
use crate::nn::Model;
use crate::profile::Profile;
use crate::report::trust::{PERMUTED, roar_svg, stages_gallery, supports, table};
use crate::viz::report::Report;
use std::time::Instant;

/// Hooker et al.'s methods: the plain gradient, Integrated Gradients and guided backprop
/// (no better than random in the paper), SmoothGrad, and SmoothGrad² and VarGrad (better).
pub const HOOKER: [&str; 6] = [
    "saliency",
    "integrated-gradients",
    "guided-backprop",
    "smoothgrad",
    "smoothgrad-squared",
    "vargrad",
];

/// Share of the permuted labels below which the data randomization page warns that the
/// model did not memorize them.
const MEMORIZED: f64 = 0.95;

pub fn evaluate_retrain(args: &EvaluateArgs) -> Result<()> {
    let kind = args.metric.as_str();
    if let Some(f) = args
        .fractions
        .as_ref()
        .and_then(|v| v.iter().find(|f| !(**f > 0.0 && **f <= 1.0)))
    {
        return Err(Error::Invalid(format!(
            "--fractions {f}: each share of pixels removed must lie in (0, 1]"
        )));
    }
    let super::evaluate::Opened {
        outputs,
        model,
        data,
        methods: names,
    } = super::evaluate::open(args, |arch| {
        if kind == "roar" {
            HOOKER
                .into_iter()
                .filter(|m| build(m, &MethodOptions::default(), arch).is_ok())
                .collect()
        } else {
            usable(arch)
        }
    })?;
    let built = names
        .iter()
        .map(|m| build(m, &MethodOptions::default(), &model.arch))
        .collect::<Result<Vec<_>>>()?;
    let methods: Vec<(&str, &dyn Method)> = names
        .iter()
        .copied()
        .zip(built.iter().map(|b| b.as_ref()))
        .collect();
    let start = Instant::now();
    let (page, csv) = if kind == "roar" {
        roar_page(args, &model, &methods, &data.train, &data.test)?
    } else {
        data_randomization_page(args, &model, &methods, &data.train, &data.test)?
    };
    let mut files = page.into_files("index.html");
    files.push(("results.csv".into(), csv.into_bytes()));
    outputs.write_folder(&args.io.out, &files)?;
    eprintln!(
        "wrote {}/results.csv and index.html with its figures in {:.1}s",
        args.io.out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The architecture's reference training settings with `--epochs` (default `epochs`).
fn training(args: &EvaluateArgs, model: &Model<f32>, epochs: usize) -> TrainConfig {
    let mut cfg = Profile::of(&model.arch).train;
    cfg.epochs = args.epochs.unwrap_or(epochs);
    cfg
}

fn roar_page(
    args: &EvaluateArgs,
    model: &Model<f32>,
    methods: &[(&str, &dyn Method)],
    train: &Dataset,
    test: &Dataset,
) -> Result<(Report, String)> {
    let arch = model.arch.name.clone();
    let train = train.first(args.train_n.unwrap_or(10_000))?;
    let test = test.first(args.n.unwrap_or(2000))?;
    let cfg = training(args, model, 2);
    let opts = RoarOptions {
        fractions: args.fractions.clone().unwrap_or_else(|| FRACTIONS.to_vec()),
        train: cfg,
        seed: args.seed,
    };
    let settings = opts.train.describe();
    eprintln!(
        "ROAR-lite: {} method(s) on {arch}, {} training and {} test pictures, fractions {:?}, retraining {settings}",
        methods.len(),
        train.len(),
        test.len(),
        opts.fractions
    );
    let mut bar: Option<(String, indicatif::ProgressBar)> = None;
    let r = roar(
        model,
        methods,
        &train,
        &test,
        &opts,
        &mut |stage, done, total| {
            if bar.as_ref().is_none_or(|b| b.0 != stage) {
                if let Some((_, b)) = bar.take() {
                    b.finish_and_clear();
                }
                bar = Some((stage.to_string(), progress_bar(total as u64, stage)));
            }
            if let Some((_, b)) = &bar {
                b.set_position(done as u64);
            }
        },
    )?;
    if let Some((_, b)) = bar {
        b.finish_and_clear();
    }
    let names: Vec<&str> = methods.iter().map(|m| m.0).collect();
    let mut page = Report::new(&format!("ROAR-lite on {arch} (Hooker et al. 2019)"));
    page.paragraph(&format!(
        "Every training and test picture's pixels are ranked by |attribution| of the trained {arch} for the picture's label; \
         the top share is replaced by the training set's mean, a fresh {arch} is trained on the changed training pictures \
         ({} first training pictures, {settings}) and tested on the changed test pictures ({} first). Random removes as many \
         pixels chosen at random. Lower accuracy is better: the method found pixels the task needs. A single retraining per \
         point: differences of a point or two are within the retraining's own noise. Caveat: the holes keep their outline, \
         which a retrained model can read.",
        train.len(),
        test.len()
    ));
    page.svg_figure(
        "roar.svg",
        roar_svg(&r, &names),
        "Test accuracy after retraining, against the share of each picture's pixels removed; 0% is the same retraining on \
         the unchanged pictures; random is dashed.",
    );
    let mut header = vec!["method".to_string()];
    header.extend(opts.fractions.iter().map(|f| format!("{:.0}%", 100.0 * f)));
    header.extend(["mean".into(), "vs random (points)".into()]);
    let random = r.mean_accuracy("random");
    let mut rows = Vec::new();
    for m in names.iter().copied().chain(["random"]) {
        let mut row = vec![m.to_string()];
        row.extend(
            r.curve(m)
                .iter()
                .skip(1)
                .map(|(_, a)| format!("{:.2}%", 100.0 * a)),
        );
        let mean = r.mean_accuracy(m);
        row.push(format!("{:.2}%", 100.0 * mean));
        row.push(if m == "random" {
            String::new()
        } else {
            format!("{:+.2}", 100.0 * (mean - random))
        });
        rows.push(row);
    }
    page.table(&header, &rows);
    println!("{}", header.join(" | "));
    for row in &rows {
        println!("{}", row.join(" | "));
    }
    page.paragraph(&hooker_verdict(&r, &names));
    Ok((page, r.csv()))
}

/// Whether Hooker et al.'s finding holds for the methods run: which beat random (a
/// lower mean accuracy over the fractions) and which do not.
fn hooker_verdict(r: &Roar, names: &[&str]) -> String {
    let random = r.mean_accuracy("random");
    let (beat, not): (Vec<&str>, Vec<&str>) =
        names.iter().partition(|m| r.mean_accuracy(m) < random);
    let list = |v: &[&str]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    let mut s = format!(
        "Below random on average (the removed pixels mattered more than random ones): {}. Not below random: {}. \
         Hooker et al. found the plain gradient, Integrated Gradients and guided backprop no better than random on \
         ImageNet, and SmoothGrad² and VarGrad better.",
        list(&beat),
        list(&not)
    );
    if !not.is_empty() {
        s += " A removal that leaves more accuracy than random removal does not mean the pixels were unimportant: \
              the pixels a map ranks first trace the object, so the mean-filled holes draw its shape, and a retrained \
              model reads the shape of the holes. Rong et al. (2022, ROAD) call this class information leakage through \
              the mask; the more a map follows the object's outline, the more it leaks.";
    }
    s
}

fn data_randomization_page(
    args: &EvaluateArgs,
    model: &Model<f32>,
    methods: &[(&str, &dyn Method)],
    train: &Dataset,
    test: &Dataset,
) -> Result<(Report, String)> {
    let arch = model.arch.name.clone();
    let train = train.first(args.train_n.unwrap_or(1000))?;
    let cfg = training(args, model, 80);
    let n = args.n.unwrap_or(32).min(32).min(test.len());
    eprintln!(
        "data randomization: training {arch} on {} pictures with permuted labels ({})",
        train.len(),
        cfg.describe()
    );
    let (permuted, fitted) = permuted_label_model(&model.arch, &train, &cfg, args.seed)?;
    eprintln!(
        "permuted labels fitted to {:.1}% of the training pictures",
        100.0 * fitted
    );
    // Adebayo et al. compare with a model that memorized its random labels
    let unfit = (fitted < MEMORIZED).then(|| {
        format!(
            "The model fitted only {:.1}% of its permuted labels (Adebayo et al. train until 100%): it is closer to an \
             untrained network than to one that memorized noise. Raise --epochs or lower --train-n.",
            100.0 * fitted
        )
    });
    if let Some(w) = &unfit {
        eprintln!("warning: {w}");
    }
    let idx: Vec<usize> = (0..n).collect();
    let (x, _) = test.batch(&idx)?;
    let support = supports(test, &idx, &x);
    let targets = model.predict(&x)?.argmax_rows()?;
    let mut bench = Bench::default();
    let pb = progress_bar(methods.len() as u64, "methods");
    for (name, m) in methods {
        pb.set_message(name.to_string());
        let stages = stages_test(
            model,
            *m,
            &x,
            &targets,
            Some(&support),
            vec![(PERMUTED.to_string(), permuted.clone())],
        )?;
        let s = &stages[1];
        for (metric, v) in [
            ("spearman |map|", &s.spearman_abs),
            ("spearman |map| on the object", &s.spearman_abs_support),
            ("spearman signed", &s.spearman_signed),
            ("ssim", &s.ssim),
        ] {
            bench.rows.push(Row::of(name, metric, "lower", v));
        }
        let fails = mean(&s.spearman_abs_support) >= FAIL_AT;
        bench.rows.push(Row::of(
            name,
            "sanity-fails",
            "lower",
            &[if fails { 1.0 } else { 0.0 }],
        ));
        bench.sanity.push((name.to_string(), stages));
        pb.inc(1);
    }
    pb.finish_and_clear();
    let mut page = Report::new(&format!(
        "Data randomization test on {arch} (Adebayo et al. 2018)"
    ));
    page.paragraph(&format!(
        "A fresh {arch} trained on the first {} training pictures with their labels permuted ({}); it fits {:.1}% of those \
         labels, which carry nothing about the pictures. Its maps for the first {n} test pictures (targets: the trained \
         model's classes) are compared with the trained model's by Spearman rank correlation of |map| (whole picture and \
         the object only), of the signed maps, and SSIM. A method whose map barely changes shows the input, not what the \
         model learned: it FAILS when the Spearman of |map| on the object is {FAIL_AT} or more.",
        train.len(),
        cfg.describe(),
        100.0 * fitted
    ));
    if let Some(w) = &unfit {
        page.paragraph(w);
    }
    page.svg_figure(
        "data-randomization.svg",
        stages_gallery(
            &bench.sanity,
            model,
            &x,
            "data randomization: maps of the trained model and of a model trained on permuted labels",
        )?,
        "The first test picture's |map| for the trained model and for the model trained on permuted labels, each map on \
         its own scale.",
    );
    let (header, rows) = table(&bench);
    page.table(&header, &rows);
    println!("{}", header.join(" | "));
    for r in &rows {
        println!("{}", r.join(" | "));
    }
    let mut csv = bench.csv(&arch);
    csv += &format!(
        "{arch},permuted-label model,fitted,,{fitted:.6},,,{}\n",
        train.len()
    );
    Ok((page, csv))
}
