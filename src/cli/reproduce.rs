//! `lamppost reproduce CLAIM`: the training-data papers' experiments, end to end, with
//! their numbers beside the paper's.
//!
//! - `forgetting-removal` (Toneva et al. 2019): remove the least-forgotten examples or as
//!   many at random, retrain, compare test accuracy;
//! - `influence-cnn` (Koh & Liang 2017, Fig. 2 middle, scaled to two cores): influence
//!   predicted for a small tanh GAP-CNN against the change of the test loss when each
//!   training example is left out and the model retrained.

use super::ReproduceArgs;
use crate::data::mnist;
use crate::data::source::{DataSpec, load};
use crate::error::{Error, Result};
use crate::explain::data::removal::{RemovalOptions, Selection, forgetting_removal};
use crate::io::Outputs;
use crate::viz::plot::COLORS;
use crate::viz::report::Report;
use crate::viz::svg::{Chart, Line, charts_svg};
use std::time::Instant;

/// The claims `reproduce` runs.
pub const CLAIMS: [&str; 2] = ["forgetting-removal", "influence-cnn"];

pub fn reproduce(args: &ReproduceArgs) -> Result<()> {
    let claim = args.claim.as_str();
    if !CLAIMS.contains(&claim) {
        return Err(Error::Invalid(format!(
            "unknown claim '{claim}'; use one of {}",
            CLAIMS.join(", ")
        )));
    }
    let given: [(&str, bool, &[&str]); 6] = [
        (
            "--fractions",
            args.fractions.is_some(),
            &["forgetting-removal"],
        ),
        ("--seeds", args.seeds.is_some(), &["forgetting-removal"]),
        (
            "--epochs",
            args.epochs.is_some(),
            &["forgetting-removal", "influence-cnn"],
        ),
        ("--removals", args.removals.is_some(), &["influence-cnn"]),
        (
            "--test-index",
            args.test_index.is_some(),
            &["influence-cnn"],
        ),
        ("--damping", args.damping.is_some(), &["influence-cnn"]),
    ];
    super::refuse_unread(claim, &given)?;
    if let Some(f) = args
        .fractions
        .as_ref()
        .and_then(|v| v.iter().find(|f| **f <= 0.0 || **f >= 1.0))
    {
        return Err(Error::Invalid(format!(
            "--fractions {f}: each removed fraction must lie strictly between 0 and 1"
        )));
    }
    let outputs = Outputs::folder(&args.out, args.force, "--out")?;
    let dir = args.data.clone().unwrap_or_else(mnist::default_dir);
    let data = load(&DataSpec::Mnist(dir), &args.cache, 0)?;
    let start = Instant::now();
    let (page, csv) = match claim {
        "forgetting-removal" => removal(args, &data)?,
        _ => super::reproduce_influence::influence_cnn(args, &data)?,
    };
    let mut files = page.into_files("index.html");
    files.push(("results.csv".into(), csv.into_bytes()));
    outputs.write_folder(&args.out, &files)?;
    eprintln!(
        "wrote {}/results.csv and index.html in {:.1}s",
        args.out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn removal(args: &ReproduceArgs, data: &crate::data::source::Loaded) -> Result<(Report, String)> {
    let quick = args.quick;
    let train = data
        .train
        .first(args.train_n.unwrap_or(if quick { 2000 } else { 20_000 }))?;
    let test = data.test.first(10_000)?;
    let opts = RemovalOptions {
        epochs: args.epochs.unwrap_or(if quick { 2 } else { 10 }),
        seeds: args.seeds.unwrap_or(if quick { 1 } else { 2 }),
        fractions: args
            .fractions
            .clone()
            .unwrap_or_else(|| vec![0.1, 0.3, 0.5, 0.7]),
    };
    let n = train.len();
    eprintln!(
        "forgetting removal: mnist-cnn on {n} digits, {} epochs of SGD (0.01, momentum 0.5, batch 64), {} seed(s), fractions {:?}",
        opts.epochs, opts.seeds, opts.fractions
    );
    let t0 = Instant::now();
    let r = forgetting_removal(&train, &test, &opts, |d, total| {
        eprintln!(
            "forgetting removal: run {d} of {total} done ({:.0}s)",
            t0.elapsed().as_secs_f64()
        )
    })?;
    let mut page = Report::new("Removing the least-forgotten examples (Toneva et al. 2019)");
    page.paragraph(&format!(
        "mnist-cnn trained {} time(s) on the first {n} MNIST training digits for {} epochs with SGD (learning rate 0.01, \
         momentum 0.5, batch 64, reshuffled every epoch), every presentation recorded. Unforgettable (learned and \
         never forgotten): {} of the digits per run, {:.1}% in every run (the paper: 91.7% of MNIST with 200 epochs \
         and 5 seeds). Then a share of the digits is removed — the least forgotten first (forgetting events summed \
         over the runs, ties in a seeded random order) or a random choice — and a fresh model trained on the rest \
         with the same settings, once per seed; accuracy on the 10 000 test digits.",
        opts.seeds,
        opts.epochs,
        r.unforgettable
            .iter()
            .map(|u| format!("{:.1}%", 100.0 * u))
            .collect::<Vec<_>>()
            .join(", "),
        100.0 * r.unforgettable_all
    ));
    let mut fractions = vec![0.0];
    fractions.extend(opts.fractions.iter().copied());
    let line = |sel: Selection, color| {
        let stats: Vec<(f64, (f64, f64))> =
            fractions.iter().map(|&f| (f, r.accuracy(sel, f))).collect();
        Line {
            label: format!("{} removed", sel.name()),
            color,
            points: stats.iter().map(|(f, (m, _))| (100.0 * f, *m)).collect(),
            markers: true,
            connect: true,
            dashed: sel == Selection::Random,
            band: if opts.seeds > 1 {
                stats
                    .iter()
                    .map(|(f, (m, s))| (100.0 * f, m - s, m + s))
                    .collect()
            } else {
                Vec::new()
            },
        }
    };
    let chart = Chart {
        title: "Test accuracy after removing training digits".into(),
        x_label: "training digits removed (%)".into(),
        y_label: "test accuracy".into(),
        lines: vec![
            line(Selection::LeastForgotten, COLORS[0]),
            line(Selection::Random, COLORS[1]),
        ],
        y_range: None,
        y_percent: true,
        marker_radius: None,
    };
    page.svg_figure(
        "removal.svg",
        charts_svg(
            &[chart],
            640.0,
            380.0,
            "test accuracy against the share removed",
        ),
        &format!(
            "Mean over {} seed(s){}; 0% is the recording runs.",
            opts.seeds,
            if opts.seeds > 1 {
                ", band ± one standard deviation"
            } else {
                ""
            }
        ),
    );
    let mut rows = Vec::new();
    let mut csv = String::from("selection,fraction,seed,kept,test_accuracy\n");
    for (s, a) in r.baseline.iter().enumerate() {
        csv += &format!("none,0,{s},{n},{a:.6}\n");
    }
    for p in &r.points {
        csv += &format!(
            "{},{},{},{},{:.6}\n",
            p.selection.name(),
            p.fraction,
            p.seed,
            p.kept,
            p.accuracy
        );
    }
    for &f in &opts.fractions {
        let (lf, rnd) = (
            r.accuracy(Selection::LeastForgotten, f),
            r.accuracy(Selection::Random, f),
        );
        rows.push(vec![
            format!("{:.0}%", 100.0 * f),
            format!("{:.2}% ± {:.2}", 100.0 * lf.0, 100.0 * lf.1),
            format!("{:.2}% ± {:.2}", 100.0 * rnd.0, 100.0 * rnd.1),
            format!("{:+.2} points", 100.0 * (lf.0 - rnd.0)),
        ]);
    }
    page.table(
        &[
            "removed".into(),
            "least forgotten removed".into(),
            "random removed".into(),
            "difference".into(),
        ],
        &rows,
    );
    let (base, _) = r.accuracy(Selection::Random, 0.0);
    if let Some(&half) = opts.fractions.iter().find(|f| (**f - 0.5).abs() < 1e-9) {
        let (lf, rnd) = (
            r.accuracy(Selection::LeastForgotten, half).0,
            r.accuracy(Selection::Random, half).0,
        );
        page.paragraph(&format!(
            "The paper's claim — removing the 50% least-forgotten examples costs less test accuracy than removing 50% \
             at random — {} here: {:.2} points lost against {:.2} (from {:.2}%).",
            if lf > rnd { "holds" } else { "does not hold" },
            100.0 * (base - lf),
            100.0 * (base - rnd),
            100.0 * base
        ));
    }
    Ok((page, csv))
}
