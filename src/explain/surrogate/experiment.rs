//! The paper's experiment: sweep the strength of each regularizer, record (APL, test
//! AUC) for every run, and draw AUC against APL with one curve per method.

use super::budget::{Comparison, RunPoint, Units, budget_frontier, compare_at, seeds_of};
use super::datasets::{SeqData, parabola, signal_noise_hmm};
use super::tree_png::tree_svg;
use super::treereg::{
    NetKind, PenaltySet, Regularizer, RunResult, TreeRegConfig, train_run, tree_baseline,
};
use crate::error::{Result, invalid};
use crate::fit::progress_bar;
use crate::viz::field::{FieldFrame, FieldPanel, field_svg};
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
    pub fn name(self) -> &'static str {
        match self {
            Task::Hmm => "hmm",
            Task::Parabola => "parabola",
        }
    }
    pub fn parse(s: &str) -> Result<Task> {
        match s {
            "hmm" => Ok(Task::Hmm),
            "parabola" => Ok(Task::Parabola),
            _ => invalid(format!("unknown task '{s}': use hmm or parabola")),
        }
    }
}

/// Which settings a sweep follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// Mean loss, the surrogate fit to decision-node APL, a grid per regularizer.
    Ours,
    /// The authors' code: summed log-likelihood, the surrogate fit to the mean leaf index,
    /// one log grid of strengths for every regularizer around their default (1000).
    Authors,
}

impl Protocol {
    pub fn parse(s: &str) -> Result<Protocol> {
        match s {
            "ours" => Ok(Protocol::Ours),
            "authors" => Ok(Protocol::Authors),
            _ => invalid(format!("unknown protocol '{s}': use ours or authors")),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Ours => "ours",
            Protocol::Authors => "authors",
        }
    }
}

/// Strengths swept by default, per regularizer. `Ours`: the penalties have different
/// scales, so each grid is dense where its penalty starts to simplify the model.
/// `Authors`: one log grid from 0.01 to 3000 for all three (their code's default tree
/// strength is 1000 on the summed loss).
pub fn default_strengths(reg: Regularizer, protocol: Protocol) -> Vec<f64> {
    match (protocol, reg) {
        (Protocol::Ours, Regularizer::Tree) => {
            vec![1e-3, 1e-2, 0.1, 0.2, 0.35, 0.5, 0.7, 1.0, 1.5, 3.0]
        }
        (Protocol::Ours, Regularizer::L1) => {
            vec![1e-5, 1e-4, 1e-3, 3e-3, 5e-3, 7e-3, 1e-2, 1.5e-2, 2e-2, 3e-2]
        }
        (Protocol::Ours, Regularizer::L2) => {
            vec![1e-4, 1e-3, 3e-3, 5e-3, 1e-2, 1.5e-2, 2e-2, 3e-2, 5e-2, 0.1]
        }
        (Protocol::Authors, _) => vec![
            0.01, 0.1, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0,
        ],
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
    pub protocol: Protocol,
    pub penalize: PenaltySet,
    /// Overrides the strengths of all three regularizers.
    pub lambdas: Option<Vec<f64>>,
    /// The first seed; seed `s` draws the data and initializes every model of its runs.
    pub seed: u64,
    /// How many seeds (`seed`, `seed + 1`, …).
    pub seeds: usize,
    /// Fewer strengths and iterations, for smoke tests.
    pub quick: bool,
}

pub struct Sweep {
    pub task: Task,
    pub protocol: Protocol,
    pub penalize: PenaltySet,
    pub runs: Vec<RunResult>,
    /// The tree-regularized run whose tree is drawn (of the first seed).
    pub shown: Option<usize>,
    /// The parabola task's models over the plane (of the first seed).
    pub boundaries: Vec<Boundary>,
    pub seconds: f64,
}

/// A model's P(y = 1) over a grid of the parabola task's plane.
pub struct Boundary {
    pub title: String,
    /// `GRID × GRID`, row 0 at the top (x₂ = 1), column 0 at the left (x₁ = −1).
    pub proba: Vec<f64>,
}

/// Grid points per side of a [`Boundary`].
pub const GRID: usize = 81;

/// Runs the sweep (runs in parallel; each is seeded, so results do not depend on threads).
pub fn run_sweep(opts: &SweepOptions) -> Result<Sweep> {
    let start = Instant::now();
    if !(1..=100).contains(&opts.seeds) {
        return invalid(format!(
            "--seeds {} is out of range: give 1 to 100 (each seed is a whole sweep)",
            opts.seeds
        ));
    }
    let (n, t) = if opts.quick { (40, 20) } else { (100, 50) };
    let (kind, mut cfg) = match (opts.task, opts.protocol) {
        (Task::Hmm, Protocol::Ours) => (NetKind::Gru { hidden: 20 }, TreeRegConfig::hmm()),
        (Task::Hmm, Protocol::Authors) => {
            (NetKind::Gru { hidden: 20 }, TreeRegConfig::hmm_authors())
        }
        (Task::Parabola, Protocol::Ours) => {
            (NetKind::Mlp { hidden: 20 }, TreeRegConfig::parabola())
        }
        (Task::Parabola, Protocol::Authors) => (
            NetKind::Mlp { hidden: 20 },
            TreeRegConfig::parabola_authors(),
        ),
    };
    let n = if opts.task == Task::Parabola { 500 } else { n };
    cfg.penalize = opts.penalize;
    if opts.quick {
        cfg.iters = 100;
        cfg.surrogate_iters = 100;
        cfg.perturbations = 5;
    }
    let seeds: Vec<u64> = (0..opts.seeds as u64)
        .map(|k| opts.seed.wrapping_add(k))
        .collect();
    let data: Vec<(SeqData, SeqData)> = seeds
        .iter()
        .map(|&s| task_data(opts.task, n, t, s))
        .collect();
    let mut jobs: Vec<(Regularizer, f64, usize)> = Vec::new();
    for reg in [Regularizer::Tree, Regularizer::L1, Regularizer::L2] {
        let mut s = opts
            .lambdas
            .clone()
            .unwrap_or_else(|| default_strengths(reg, opts.protocol));
        if opts.quick && opts.lambdas.is_none() {
            s = s.into_iter().step_by(3).collect();
        }
        if s.iter().any(|v| !(v.is_finite() && *v >= 0.0)) {
            return invalid("--lambdas must be non-negative numbers");
        }
        for k in 0..seeds.len() {
            jobs.extend(s.iter().map(|&v| (reg, v, k)));
        }
    }
    let pb = progress_bar(jobs.len() as u64, "treereg");
    let mut runs = jobs
        .par_iter()
        .map(|&(reg, s, k)| {
            let (train, test) = &data[k];
            let r = train_run(kind, train, test, reg, s, &cfg, seeds[k]);
            pb.inc(1);
            r
        })
        .collect::<Result<Vec<_>>>()?;
    pb.finish_and_clear();
    let leaves = [1usize, 2, 5, 10, 25, 50, 100, 200, 400, 800];
    for (k, (train, test)) in data.iter().enumerate() {
        for &m in leaves.iter().filter(|&&m| m <= train.n * train.t) {
            runs.push(tree_baseline(train, test, m, seeds[k])?);
        }
    }
    // the tree drawn: the simplest tree-regularized model that still ranks well and whose
    // tree predicts both classes (smallest APL > 0, test AUC ≥ 0.85), else the best AUC
    let tree_runs: Vec<usize> = (0..runs.len())
        .filter(|&i| runs[i].method == "tree" && runs[i].seed == opts.seed)
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
    let boundaries = match (opts.task, shown) {
        (Task::Parabola, Some(i)) => boundaries(&runs, i)?,
        _ => Vec::new(),
    };
    Ok(Sweep {
        task: opts.task,
        protocol: opts.protocol,
        penalize: opts.penalize,
        runs,
        shown,
        boundaries,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The parabola plane under three models of the shown run's seed, as the paper's figure:
/// the weakest L2 (all but unregularized), the L2 model whose tree is as short as the
/// tree-regularized one's (closest APL), and the tree-regularized model.
fn boundaries(runs: &[RunResult], shown: usize) -> Result<Vec<Boundary>> {
    let seed = runs[shown].seed;
    let l2: Vec<&RunResult> = runs
        .iter()
        .filter(|r| r.method == "l2" && r.seed == seed)
        .collect();
    let weakest = l2.iter().min_by(|a, b| a.strength.total_cmp(&b.strength));
    let matched = l2.iter().min_by(|a, b| {
        let d = |r: &RunResult| (r.apl - runs[shown].apl).abs();
        d(a).total_cmp(&d(b))
    });
    let grid = SeqData {
        x: (0..GRID * GRID)
            .flat_map(|i| {
                let (row, col) = (i / GRID, i % GRID);
                let at = |k: usize| -1.0 + 2.0 * k as f64 / (GRID - 1) as f64;
                [at(col), -at(row)]
            })
            .collect(),
        y: vec![false; GRID * GRID],
        n: GRID * GRID,
        t: 1,
        d: 2,
    };
    let mut out = Vec::new();
    for (what, run) in [
        ("weakest L2", weakest.copied()),
        ("L2, tree as short", matched.copied()),
        ("tree-regularized", Some(&runs[shown])),
    ] {
        let Some(run) = run else { continue };
        let Some(net) = &run.net else { continue };
        out.push(Boundary {
            title: format!(
                "{what} (λ = {})\nAPL {:.1}, AUC {:.3}",
                run.strength, run.apl, run.test_auc
            ),
            proba: net.predict_proba(&grid)?,
        });
    }
    Ok(out)
}

/// The methods in plotting order with their colours.
pub const METHODS: [(&str, usize); 4] = [("tree", 0), ("l1", 1), ("l2", 2), ("decision-tree", 3)];

/// The files a sweep of `task` writes.
pub fn sweep_file_names(task: Task) -> Vec<&'static str> {
    let mut names = vec![
        "results.csv",
        "budgets.csv",
        "auc-vs-apl.svg",
        "frontier.svg",
        "tree.svg",
        "tree.txt",
        "tree.dot",
        "drawn.csv",
        "index.html",
    ];
    if task == Task::Parabola {
        names.push("boundary.svg");
    }
    names
}

/// The caption of the AUC-vs-APL figure.
pub const AUC_CAPTION: &str = "Test AUC against the average path length (APL, decision nodes) of the tree that mimics each \
     model: every run of every seed is a dot, and each method's line joins its frontier (the runs no other run of the same method beats \
     on both simpler and more accurate). Up and to the left is better: accurate models that a short tree explains.";

/// Budgets at which the claim is tested, in each unit: the paper compares at a mean leaf
/// index of about 10 and 25.
pub fn table_budgets(units: Units) -> &'static [f64] {
    match units {
        Units::DecisionNodes => &[1.0, 2.0, 3.0, 4.0, 5.0],
        Units::LeafIndex => &[5.0, 10.0, 15.0, 25.0],
    }
}

impl Sweep {
    /// What the budget analysis reads of each run.
    pub fn points(&self) -> Vec<RunPoint> {
        self.runs.iter().map(|r| r.point.clone()).collect()
    }
}

/// The claim at every table budget, in both units.
pub fn comparisons(points: &[RunPoint]) -> Vec<Comparison> {
    [Units::DecisionNodes, Units::LeafIndex]
        .iter()
        .flat_map(|&u| {
            table_budgets(u)
                .iter()
                .map(move |&b| compare_at(points, u, b))
        })
        .collect()
}

/// One sentence per unit: the verdicts at its budgets.
pub fn verdict_sentence(points: &[RunPoint]) -> String {
    let cs = comparisons(points);
    let seeds = cs.first().map_or(0, |c| c.seeds);
    let mut out = format!(
        "Over {seeds} seed{}, best test AUC within each APL budget, tree regularization against the stronger of L1 \
         and L2 in each seed (paired, 95% t interval): ",
        if seeds == 1 { "" } else { "s" }
    );
    let parts: Vec<String> = cs
        .iter()
        .map(|c| {
            format!(
                "APL ≤ {} ({}): {:+.3} ± {:.3}, {} of {} seeds ahead, {}",
                c.budget,
                c.units.short(),
                c.diff.0,
                c.half_width,
                c.wins,
                c.seeds,
                c.verdict.describe()
            )
        })
        .collect();
    out += &parts.join("; ");
    out.push('.');
    out
}

/// The claim at every table budget as a table: (header, rows).
pub fn comparison_table(points: &[RunPoint]) -> (Vec<String>, Vec<Vec<String>>) {
    let header = [
        "APL budget",
        "tree (mean ± sd)",
        "L1",
        "L2",
        "tree − stronger baseline (95% interval)",
        "seeds tree ahead",
        "verdict",
    ]
    .map(String::from)
    .to_vec();
    let pm = |m: (f64, f64)| format!("{:.3} ± {:.3}", m.0, m.1);
    let rows = comparisons(points)
        .iter()
        .map(|c| {
            vec![
                format!("≤ {} {}", c.budget, c.units.short()),
                pm(c.tree),
                pm(c.l1),
                pm(c.l2),
                format!("{:+.3} ± {:.3}", c.diff.0, c.half_width),
                format!("{} of {}", c.wins, c.seeds),
                c.verdict.describe().to_string(),
            ]
        })
        .collect();
    (header, rows)
}

/// results.csv, budgets.csv, auc-vs-apl.svg, frontier.svg, tree.svg/.txt/.dot,
/// boundary.svg (parabola) and index.html, as (name, bytes).
pub fn sweep_files(sweep: &Sweep, title: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let mut csv = String::from("method,strength,seed,apl,apl_leaf_index,test_auc\n");
    for r in &sweep.runs {
        csv += &format!(
            "{},{},{},{:.4},{:.4},{:.4}\n",
            r.method, r.strength, r.seed, r.apl, r.apl_leaf_index, r.test_auc
        );
    }
    let points = sweep.points();
    let cs = comparisons(&points);
    let mut budgets = String::from(
        "units,budget,tree_mean,tree_sd,l1_mean,l1_sd,l2_mean,l2_sd,diff_mean,diff_sd,half_width_95,wins,seeds,verdict\n",
    );
    for c in &cs {
        budgets += &format!(
            "{},{},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{},{},{:?}\n",
            c.units.short().replace(' ', "_"),
            c.budget,
            c.tree.0,
            c.tree.1,
            c.l1.0,
            c.l1.1,
            c.l2.0,
            c.l2.1,
            c.diff.0,
            c.diff.1,
            c.half_width,
            c.wins,
            c.seeds,
            c.verdict
        );
    }
    let mut r = Report::new(title);
    r.add_file("results.csv", csv.into_bytes());
    r.add_file("budgets.csv", budgets.into_bytes());
    r.paragraph(&format!(
        "Protocol: {} ({}; {}). {} runs over {} seed(s).",
        sweep.protocol.name(),
        match sweep.protocol {
            Protocol::Ours => "mean loss, the surrogate fit to decision-node APL",
            Protocol::Authors =>
                "the authors' code: summed log-likelihood over the minibatch, the surrogate fit to the mean leaf index, \
                 one strength grid 0.01–3000",
        },
        sweep.penalize.describe(),
        sweep.runs.len(),
        seeds_of(&points).len()
    ));
    r.svg_figure(
        "frontier.svg",
        frontier_svg(&points),
        &esc(FRONTIER_CAPTION),
    );
    let (header, rows) = comparison_table(&points);
    r.table(&header, &rows);
    r.svg_figure("auc-vs-apl.svg", auc_svg(sweep), &esc(AUC_CAPTION));
    if !sweep.boundaries.is_empty() {
        r.svg_figure("boundary.svg", boundary_svg(sweep)?, &esc(BOUNDARY_CAPTION));
    }
    if let Some(i) = sweep.shown {
        let run = &sweep.runs[i];
        r.add_file(
            "drawn.csv",
            format!(
                "method,strength,seed,apl,apl_leaf_index,test_auc\n{},{},{},{:.4},{:.4},{:.4}\n",
                run.method, run.strength, run.seed, run.apl, run.apl_leaf_index, run.test_auc
            )
            .into_bytes(),
        );
        r.add_file("tree.txt", run.tree.to_text(None).into_bytes());
        r.add_file("tree.dot", run.tree.to_dot(None).into_bytes());
        r.svg_figure(
            "tree.svg",
            tree_svg(&run.tree, "decision tree"),
            &tree_caption(&run.point),
        );
    }
    let rows: Vec<Vec<String>> = sweep
        .runs
        .iter()
        .map(|r| {
            vec![
                r.method.clone(),
                format!("{}", r.strength),
                r.seed.to_string(),
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
            "seed".into(),
            "APL (decision nodes)".into(),
            "APL (leaf index, authors' code)".into(),
            "test AUC".into(),
        ],
        &rows,
    );
    r.paragraph(&format!("Sweep took {:.1}s.", sweep.seconds));
    Ok(r.into_files("index.html"))
}

/// The caption of the budget frontiers.
pub const FRONTIER_CAPTION: &str = "The best test AUC each method reaches with a mimicking tree no longer than the budget \
     (x axis), mean over seeds (line) ± one standard deviation (band); 0.5 where a method has no model that short. \
     Left: APL counted in decision nodes (the paper's definition); right: the mean leaf index the authors' code reports.";

/// The caption of the parabola's decision boundaries.
pub const BOUNDARY_CAPTION: &str = "The parabola task: each model's P(y = 1) over the plane (blue 0, white ½, red 1) with \
     the training points and the true boundary x₂ = x₁² − 0.5 (dashed). Left, the weakest L2 model; middle, the L2 model \
     whose mimicking tree is as short as the tree-regularized model's; right, the tree-regularized model.";

/// The parabola's boundaries side by side.
pub fn boundary_svg(sweep: &Sweep) -> Result<String> {
    let panels: Vec<FieldPanel> = sweep
        .boundaries
        .iter()
        .map(|b| FieldPanel {
            title: b.title.clone(),
            values: b.proba.clone(),
        })
        .collect();
    let seed = sweep.shown.map_or(0, |i| sweep.runs[i].seed);
    let (train, _) = task_data(Task::Parabola, 500, 1, seed);
    let points: Vec<(f64, f64, bool)> = (0..train.n)
        .map(|i| (train.x[2 * i], train.x[2 * i + 1], train.y[i]))
        .collect();
    let curve: Vec<(f64, f64)> = (0..=100)
        .map(|k| {
            let x = -1.0 + 2.0 * k as f64 / 100.0;
            (x, x * x - 0.5)
        })
        .collect();
    field_svg(
        &panels,
        &FieldFrame {
            lo: -1.0,
            hi: 1.0,
            x_label: "x₁",
            y_label: "x₂",
            value_label: "P(y = 1)",
            points: &points,
            curve: &curve,
            curve_label: "true boundary",
        },
        "decision boundaries on the parabola task",
    )
}

/// Best AUC within an APL budget, mean ± sd over seeds, in both APL units.
pub fn frontier_svg(points: &[RunPoint]) -> String {
    let charts: Vec<Chart> = [Units::DecisionNodes, Units::LeafIndex]
        .iter()
        .map(|&units| {
            // the x range: the networks' trees (the label-fit trees grow much longer)
            let top = points
                .iter()
                .filter(|r| r.method != "decision-tree")
                .map(|r| units.apl(r))
                .fold(0.0, f64::max)
                .max(1.0);
            let budgets: Vec<f64> = (0..=60).map(|k| top * k as f64 / 60.0).collect();
            let lines = METHODS
                .iter()
                .map(|&(m, c)| {
                    let f = budget_frontier(points, m, units, &budgets);
                    Line {
                        label: m.to_string(),
                        color: COLORS[c],
                        points: f.iter().map(|p| (p.budget, p.mean)).collect(),
                        markers: false,
                        connect: true,
                        dashed: m == "decision-tree",
                        band: f
                            .iter()
                            .map(|p| (p.budget, p.mean - p.sd, p.mean + p.sd))
                            .collect(),
                    }
                })
                .collect();
            Chart {
                title: format!("Best AUC within a budget ({})", units.describe()),
                x_label: format!("APL budget ({})", units.describe()),
                y_label: "best test AUC".into(),
                lines,
                y_range: Some((0.5, 1.0)),
                y_percent: false,
                marker_radius: None,
            }
        })
        .collect();
    charts_svg(
        &charts,
        560.0,
        360.0,
        "best test AUC within an APL budget, mean and standard deviation over seeds",
    )
}

/// The caption of the tree figure of a run.
pub fn tree_caption(run: &RunPoint) -> String {
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
            band: Vec::new(),
        });
        lines.push(Line {
            label: String::new(),
            color: COLORS[c],
            points,
            markers: true,
            connect: false,
            dashed: false,
            band: Vec::new(),
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
