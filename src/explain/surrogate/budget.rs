//! Best accuracy within an explanation budget, over seeds: how the tree-regularization
//! paper's claim is read off a sweep.
//!
//! *Question:* if a person can follow a tree of at most `b` decisions on average, how
//! accurate a model can each regularizer give them, and is tree regularization ahead?
//!
//! For method `m`, seed `s` and budget `b`: `best(m, s, b) = max { AUC(r) : r a run of m
//! with seed s and APL(r) ≤ b }`, and 0.5 (the constant model, APL 0) when no run is that
//! short. Over the `k` seeds: mean and sample standard deviation. The claim "tree
//! regularization keeps AUC where L1/L2 must grow the tree" is tested at each budget by
//! the paired difference `d_s = best(tree, s, b) − max(best(l1, s, b), best(l2, s, b))`
//! (the stronger baseline of each seed): it **holds** when the 95% interval of the mean
//! of `d` (Student's t, k − 1 degrees of freedom) lies above 0, is **reversed** when it
//! lies below, and is **unclear** otherwise.
//!
//! Pinned by the tests below (hand-made runs with known bests, intervals and verdicts).

pub use super::treereg::RunPoint;
use crate::error::{Result, invalid};

/// The rows of a results.csv written by `lamppost treereg` (header
/// `method,strength,seed,apl,apl_leaf_index,test_auc`).
pub fn parse_results_csv(text: &str) -> Result<Vec<RunPoint>> {
    let mut lines = text.lines();
    if lines.next() != Some("method,strength,seed,apl,apl_leaf_index,test_auc") {
        return invalid("not a treereg results.csv: the header differs");
    }
    lines
        .enumerate()
        .map(|(i, l)| {
            let f: Vec<&str> = l.split(',').collect();
            let num = |k: usize| -> Result<f64> {
                f.get(k).and_then(|v| v.parse::<f64>().ok()).ok_or_else(|| {
                    crate::error::Error::Invalid(format!("results.csv line {}: '{l}'", i + 2))
                })
            };
            if f.len() != 6 {
                return invalid(format!(
                    "results.csv line {}: expected 6 fields in '{l}'",
                    i + 2
                ));
            }
            Ok(RunPoint {
                method: f[0].to_string(),
                strength: num(1)?,
                seed: num(2)? as u64,
                apl: num(3)?,
                apl_leaf_index: num(4)?,
                test_auc: num(5)?,
            })
        })
        .collect()
}

/// Which APL a budget counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Units {
    /// Decision nodes visited (the paper's definition).
    DecisionNodes,
    /// Mean leaf index (the authors' code).
    LeafIndex,
}

impl Units {
    pub fn apl(self, r: &RunPoint) -> f64 {
        match self {
            Units::DecisionNodes => r.apl,
            Units::LeafIndex => r.apl_leaf_index,
        }
    }
    /// The short name used in tables and CSV columns (`decision nodes`, `leaf index`).
    pub fn short(self) -> &'static str {
        match self {
            Units::DecisionNodes => "decision nodes",
            Units::LeafIndex => "leaf index",
        }
    }
    pub fn describe(self) -> &'static str {
        match self {
            Units::DecisionNodes => "decision nodes",
            Units::LeafIndex => "mean leaf index, the authors' code",
        }
    }
}

/// Mean and sample standard deviation over seeds of the best AUC within one budget.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BudgetPoint {
    pub budget: f64,
    pub mean: f64,
    pub sd: f64,
}

/// The seeds present in `runs`, ascending.
pub fn seeds_of(runs: &[RunPoint]) -> Vec<u64> {
    let mut s: Vec<u64> = runs.iter().map(|r| r.seed).collect();
    s.sort_unstable();
    s.dedup();
    s
}

/// `best(method, seed, budget)`: the highest test AUC of the method's runs of that seed
/// whose APL is within the budget; 0.5 (a constant model) when none is.
pub fn best_within(runs: &[RunPoint], method: &str, seed: u64, units: Units, budget: f64) -> f64 {
    runs.iter()
        .filter(|r| r.method == method && r.seed == seed && units.apl(r) <= budget)
        .map(|r| r.test_auc)
        .filter(|a| a.is_finite())
        .fold(0.5, f64::max)
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let k = v.len() as f64;
    let mean = v.iter().sum::<f64>() / k;
    if v.len() < 2 {
        return (mean, 0.0);
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k - 1.0);
    (mean, var.sqrt())
}

/// The method's best AUC at each budget, mean ± sd over the seeds of `runs`.
pub fn budget_frontier(
    runs: &[RunPoint],
    method: &str,
    units: Units,
    budgets: &[f64],
) -> Vec<BudgetPoint> {
    let seeds = seeds_of(runs);
    budgets
        .iter()
        .map(|&b| {
            let v: Vec<f64> = seeds
                .iter()
                .map(|&s| best_within(runs, method, s, units, b))
                .collect();
            let (mean, sd) = mean_sd(&v);
            BudgetPoint {
                budget: b,
                mean,
                sd,
            }
        })
        .collect()
}

/// Two-sided 95% critical value of Student's t with `df` degrees of freedom (table to 10,
/// then the Cornish–Fisher correction of 1.96, within 0.01 from df = 10 on).
pub fn t_critical(df: usize) -> f64 {
    const T: [f64; 10] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    ];
    match df {
        0 => f64::INFINITY,
        1..=10 => T[df - 1],
        _ => {
            let z: f64 = 1.959964;
            z + (z.powi(3) + z) / (4.0 * df as f64)
        }
    }
}

/// What the seeds say at one budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Holds,
    Reversed,
    Unclear,
}

impl Verdict {
    pub fn describe(self) -> &'static str {
        match self {
            Verdict::Holds => "holds: tree regularization ahead",
            Verdict::Reversed => "reversed: L1/L2 ahead",
            Verdict::Unclear => "unclear: no difference the seeds can show",
        }
    }
}

/// The claim tested at one budget.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub budget: f64,
    pub units: Units,
    pub tree: (f64, f64),
    pub l1: (f64, f64),
    pub l2: (f64, f64),
    /// Mean and sd over seeds of `d_s`.
    pub diff: (f64, f64),
    /// Half-width of the 95% interval of the mean difference.
    pub half_width: f64,
    /// Seeds where tree regularization is strictly ahead of both baselines.
    pub wins: usize,
    pub seeds: usize,
    pub verdict: Verdict,
}

/// Tests the claim at `budget` (see the module's formula).
pub fn compare_at(runs: &[RunPoint], units: Units, budget: f64) -> Comparison {
    let seeds = seeds_of(runs);
    let per = |m: &str| -> Vec<f64> {
        seeds
            .iter()
            .map(|&s| best_within(runs, m, s, units, budget))
            .collect()
    };
    let (tree, l1, l2) = (per("tree"), per("l1"), per("l2"));
    let d: Vec<f64> = (0..seeds.len())
        .map(|k| tree[k] - l1[k].max(l2[k]))
        .collect();
    let diff = mean_sd(&d);
    let half_width = if seeds.len() < 2 {
        f64::INFINITY
    } else {
        t_critical(seeds.len() - 1) * diff.1 / (seeds.len() as f64).sqrt()
    };
    let verdict = if diff.0 - half_width > 0.0 {
        Verdict::Holds
    } else if diff.0 + half_width < 0.0 {
        Verdict::Reversed
    } else {
        Verdict::Unclear
    };
    Comparison {
        budget,
        units,
        tree: mean_sd(&tree),
        l1: mean_sd(&l1),
        l2: mean_sd(&l2),
        diff,
        half_width,
        wins: d.iter().filter(|&&x| x > 0.0).count(),
        seeds: seeds.len(),
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(method: &str, seed: u64, apl: f64, auc: f64) -> RunPoint {
        RunPoint {
            method: method.into(),
            strength: 0.0,
            seed,
            apl,
            apl_leaf_index: 5.0 * apl,
            test_auc: auc,
        }
    }

    #[test]
    fn results_csv_round_trips_and_bad_files_are_refused() {
        let text =
            "method,strength,seed,apl,apl_leaf_index,test_auc\ntree,0.5,3,1.2500,4.0000,0.9100\n";
        let p = parse_results_csv(text).unwrap();
        assert_eq!(
            p,
            vec![RunPoint {
                method: "tree".into(),
                strength: 0.5,
                seed: 3,
                apl: 1.25,
                apl_leaf_index: 4.0,
                test_auc: 0.91
            }]
        );
        assert!(parse_results_csv("a,b\n").is_err());
        assert!(
            parse_results_csv("method,strength,seed,apl,apl_leaf_index,test_auc\ntree,x,0,1,1,1\n")
                .is_err()
        );
    }

    #[test]
    fn best_within_a_budget_and_its_floor() {
        let runs = vec![
            run("tree", 0, 1.0, 0.8),
            run("tree", 0, 3.0, 0.9),
            run("l2", 0, 2.0, 0.85),
        ];
        assert_eq!(
            best_within(&runs, "tree", 0, Units::DecisionNodes, 0.5),
            0.5
        );
        assert_eq!(
            best_within(&runs, "tree", 0, Units::DecisionNodes, 2.0),
            0.8
        );
        assert_eq!(
            best_within(&runs, "tree", 0, Units::DecisionNodes, 3.0),
            0.9
        );
        assert_eq!(best_within(&runs, "tree", 0, Units::LeafIndex, 10.0), 0.8);
        let f = budget_frontier(&runs, "l2", Units::DecisionNodes, &[1.0, 2.0]);
        assert_eq!((f[0].mean, f[1].mean, f[1].sd), (0.5, 0.85, 0.0));
    }

    #[test]
    fn verdicts_follow_the_paired_interval() {
        // tree ahead by 0.05 ± small in every seed: holds
        let mut runs = Vec::new();
        for s in 0..5u64 {
            let e = 0.002 * s as f64;
            runs.push(run("tree", s, 2.0, 0.90 + e));
            runs.push(run("l1", s, 2.0, 0.85));
            runs.push(run("l2", s, 2.0, 0.84 + e));
        }
        let c = compare_at(&runs, Units::DecisionNodes, 2.0);
        assert_eq!((c.verdict, c.wins, c.seeds), (Verdict::Holds, 5, 5));
        // d = 0.05 + 0.002s (l1 is the stronger baseline in every seed): mean 0.054
        assert!((c.diff.0 - 0.054).abs() < 1e-12, "{:?}", c.diff);
        // beyond the trees' budget the baselines are ahead: reversed
        runs.push(run("l2", 0, 4.0, 0.99));
        for s in 1..5u64 {
            runs.push(run("l2", s, 4.0, 0.97));
        }
        assert_eq!(
            compare_at(&runs, Units::DecisionNodes, 4.0).verdict,
            Verdict::Reversed
        );
        // one seed disagreeing strongly: unclear
        let mixed = vec![
            run("tree", 0, 1.0, 0.9),
            run("l2", 0, 1.0, 0.6),
            run("tree", 1, 1.0, 0.6),
            run("l2", 1, 1.0, 0.9),
        ];
        assert_eq!(
            compare_at(&mixed, Units::DecisionNodes, 1.0).verdict,
            Verdict::Unclear
        );
        assert!((t_critical(4) - 2.776).abs() < 1e-9);
        assert!((t_critical(30) - 2.042).abs() < 0.01);
    }
}
