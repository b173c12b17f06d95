//! The paper's experiment: sweep the strength of each regularizer, record (APL, test
//! AUC) for every run, and draw AUC against APL with one curve per method.

use super::datasets::{SeqData, parabola, signal_noise_hmm};
use super::tree_png::tree_svg;
use super::treereg::{NetKind, Regularizer, RunResult, TreeRegConfig, train_run, tree_baseline};
use crate::error::{Result, invalid};
use crate::fit::progress_bar;
use crate::viz::plot::COLORS;
use crate::viz::report::{Report, esc};
use crate::viz::svg::{Chart, Line, charts_svg};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rayon::prelude::*;
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    Hmm,
    Parabola,
}

impl Task {
    pub fn parse(s: &str) -> Result<Task> {
        match s {
            "hmm" => Ok(Task::Hmm),
            "parabola" => Ok(Task::Parabola),
            _ => invalid(format!("unknown task '{s}': use hmm or parabola")),
        }
    }
}

/// Strengths swept by default, per regularizer (their penalties have different scales;
/// the grids are dense where each penalty starts to simplify the model).
pub fn default_strengths(reg: Regularizer) -> Vec<f64> {
    match reg {
        Regularizer::Tree => vec![1e-3, 1e-2, 0.1, 0.2, 0.35, 0.5, 0.7, 1.0, 1.5, 3.0],
        Regularizer::L1 => vec![1e-5, 1e-4, 1e-3, 3e-3, 5e-3, 7e-3, 1e-2, 1.5e-2, 2e-2, 3e-2],
        Regularizer::L2 => vec![1e-4, 1e-3, 3e-3, 5e-3, 1e-2, 1.5e-2, 2e-2, 3e-2, 5e-2, 0.1],
    }
}

/// Train/test data of a task: the HMM's sequences split 70/30, or 500 parabola points
/// with 30% held out.
pub fn task_data(task: Task, n: usize, t: usize, seed: u64) -> (SeqData, SeqData) {
    let all = match task {
        Task::Hmm => signal_noise_hmm(n, t, seed),
        Task::Parabola => parabola(n, seed),
    };
    let mut idx: Vec<usize> = (0..all.n).collect();
    idx.shuffle(&mut StdRng::seed_from_u64(seed ^ 0x7E57));
    let k = (all.n as f64 * 0.7).round() as usize;
    (all.subset(&idx[..k]), all.subset(&idx[k..]))
}

pub struct SweepOptions {
    pub task: Task,
    /// Overrides the strengths of all three regularizers.
    pub lambdas: Option<Vec<f64>>,
    pub seed: u64,
    /// Fewer strengths and iterations, for smoke tests.
    pub quick: bool,
}

pub struct Sweep {
    pub runs: Vec<RunResult>,
    /// The tree-regularized run whose tree is drawn.
    pub shown: Option<usize>,
    pub seconds: f64,
}

/// Runs the sweep (runs in parallel; each is seeded, so results do not depend on threads).
pub fn run_sweep(opts: &SweepOptions) -> Result<Sweep> {
    let start = Instant::now();
    let (n, t) = if opts.quick { (40, 20) } else { (100, 50) };
    let (kind, mut cfg) = match opts.task {
        Task::Hmm => (NetKind::Gru { hidden: 20 }, TreeRegConfig::hmm()),
        Task::Parabola => (NetKind::Mlp { hidden: 20 }, TreeRegConfig::parabola()),
    };
    let n = if opts.task == Task::Parabola { 500 } else { n };
    if opts.quick {
        cfg.iters = 100;
        cfg.surrogate_iters = 100;
        cfg.perturbations = 5;
    }
    let (train, test) = task_data(opts.task, n, t, opts.seed);
    let mut jobs: Vec<(Regularizer, f64)> = Vec::new();
    for reg in [Regularizer::Tree, Regularizer::L1, Regularizer::L2] {
        let mut s = opts
            .lambdas
            .clone()
            .unwrap_or_else(|| default_strengths(reg));
        if opts.quick && opts.lambdas.is_none() {
            s = s.into_iter().step_by(3).collect();
        }
        if s.iter().any(|v| !(v.is_finite() && *v >= 0.0)) {
            return invalid("--lambdas must be non-negative numbers");
        }
        jobs.extend(s.into_iter().map(|v| (reg, v)));
    }
    let pb = progress_bar(jobs.len() as u64, "treereg");
    let mut runs = jobs
        .par_iter()
        .map(|&(reg, s)| {
            let r = train_run(kind, &train, &test, reg, s, &cfg, opts.seed);
            pb.inc(1);
            r
        })
        .collect::<Result<Vec<_>>>()?;
    pb.finish_and_clear();
    let leaves = [1usize, 2, 5, 10, 25, 50, 100, 200, 400, 800];
    for &m in leaves.iter().filter(|&&m| m <= train.n * train.t) {
        runs.push(tree_baseline(&train, &test, m)?);
    }
    // the tree drawn: the simplest tree-regularized model that still ranks well and whose
    // tree predicts both classes (smallest APL > 0, test AUC ≥ 0.85), else the best AUC
    let tree_runs: Vec<usize> = (0..runs.len())
        .filter(|&i| runs[i].method == "tree")
        .collect();
    let by_auc = |a: &usize, b: &usize| runs[*a].test_auc.total_cmp(&runs[*b].test_auc);
    let shown = tree_runs
        .iter()
        .copied()
        .filter(|&i| runs[i].apl > 0.0 && runs[i].test_auc >= 0.85)
        .filter(|&i| {
            runs[i]
                .tree
                .nodes
                .iter()
                .any(|n| n.split.is_none() && n.class() == 1)
        })
        .min_by(|&a, &b| runs[a].apl.total_cmp(&runs[b].apl))
        .or_else(|| tree_runs.iter().copied().max_by(by_auc));
    Ok(Sweep {
        runs,
        shown,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The methods in plotting order with their colours.
pub const METHODS: [(&str, usize); 4] = [("tree", 0), ("l1", 1), ("l2", 2), ("decision-tree", 3)];

/// The files a sweep writes.
pub const SWEEP_FILES: [&str; 6] = [
    "results.csv",
    "auc-vs-apl.svg",
    "tree.svg",
    "tree.txt",
    "tree.dot",
    "index.html",
];

/// The caption of the AUC-vs-APL figure.
pub const AUC_CAPTION: &str = "Test AUC against the average path length (APL, decision nodes) of the tree that mimics each \
     model: every run is a dot, and each method's line joins its frontier (the runs no other run of the same method beats \
     on both simpler and more accurate). Up and to the left is better: accurate models that a short tree explains.";

/// results.csv, auc-vs-apl.svg, tree.svg/.txt/.dot and index.html, as (name, bytes).
pub fn sweep_files(sweep: &Sweep, title: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let mut csv = String::from("method,strength,apl,apl_leaf_index,test_auc\n");
    for r in &sweep.runs {
        csv += &format!(
            "{},{},{:.4},{:.4},{:.4}\n",
            r.method, r.strength, r.apl, r.apl_leaf_index, r.test_auc
        );
    }
    let mut r = Report::new(title);
    r.add_file("results.csv", csv.into_bytes());
    r.svg_figure("auc-vs-apl.svg", auc_svg(sweep), &esc(AUC_CAPTION));
    if let Some(i) = sweep.shown {
        let run = &sweep.runs[i];
        r.add_file("tree.txt", run.tree.to_text(None).into_bytes());
        r.add_file("tree.dot", run.tree.to_dot(None).into_bytes());
        r.svg_figure(
            "tree.svg",
            tree_svg(&run.tree, "decision tree"),
            &tree_caption(run),
        );
    }
    let rows: Vec<Vec<String>> = sweep
        .runs
        .iter()
        .map(|r| {
            vec![
                r.method.clone(),
                format!("{}", r.strength),
                format!("{:.2}", r.apl),
                format!("{:.2}", r.apl_leaf_index),
                format!("{:.3}", r.test_auc),
            ]
        })
        .collect();
    r.table(
        &[
            "method".into(),
            "strength".into(),
            "APL (decision nodes)".into(),
            "APL (leaf index, authors' code)".into(),
            "test AUC".into(),
        ],
        &rows,
    );
    r.paragraph(&format!("Sweep took {:.1}s.", sweep.seconds));
    Ok(r.into_files("index.html"))
}

/// The caption of the tree figure of a run.
pub fn tree_caption(run: &RunResult) -> String {
    format!(
        "The decision tree that mimics the tree-regularized model (λ = {}): APL {:.2}, test AUC {:.3}. Grey boxes are \
         decisions on input feature x<sub>k</sub> (left branch: yes); leaves show the predicted class, how many training \
         points reach them and how pure they are.",
        run.strength, run.apl, run.test_auc
    )
}

/// The runs of one method on its frontier: sorted by APL, each more accurate than every
/// simpler one.
pub fn frontier(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut p = points.to_vec();
    p.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
    let mut best = f64::NEG_INFINITY;
    p.into_iter()
        .filter(|q| {
            let keep = q.1 > best;
            best = best.max(q.1);
            keep
        })
        .collect()
}

/// AUC against APL as SVG: every run a dot, each method's frontier a line, with a legend.
pub fn auc_svg(sweep: &Sweep) -> String {
    let mut lines = Vec::new();
    for &(m, c) in &METHODS {
        let points: Vec<(f64, f64)> = sweep
            .runs
            .iter()
            .filter(|r| r.method == m)
            .map(|r| (r.apl, r.test_auc))
            .collect();
        lines.push(Line {
            label: m.to_string(),
            color: COLORS[c],
            points: frontier(&points),
            markers: false,
            connect: true,
            dashed: m == "decision-tree",
        });
        lines.push(Line {
            label: String::new(),
            color: COLORS[c],
            points,
            markers: true,
            connect: false,
            dashed: false,
        });
    }
    let chart = Chart {
        title: "Accuracy against explanation length".into(),
        x_label: "average path length of the mimicking tree (decision nodes)".into(),
        y_label: "test AUC".into(),
        lines,
        y_range: Some((0.5, 1.0)),
        y_percent: false,
        marker_radius: None,
    };
    charts_svg(
        &[chart],
        640.0,
        380.0,
        "test AUC against average path length",
    )
}
