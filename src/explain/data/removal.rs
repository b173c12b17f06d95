//! Toneva et al.'s removal experiment: are the least-forgotten examples the ones a model
//! can do without?
//!
//! **Question.** If the examples that are never forgotten during training are removed,
//! does the retrained model lose less test accuracy than when as many examples are
//! removed at random?
//!
//! **Setup** (Toneva et al., "An Empirical Study of Example Forgetting during Deep Neural
//! Network Learning", ICLR 2019, §6; scaled to two cores). mnist-cnn is trained `seeds`
//! times (initialization and minibatch order from the seed) with the paper's optimizer,
//! SGD at 0.01 with momentum 0.5, batch 64, reshuffled every epoch, recording every
//! presentation. The forgetting counts of the runs are summed per example (a never-learned
//! example counts as many events as presentations, Toneva's convention). The examples are
//! ordered from least to most forgotten, ties in a seeded random order. For every
//! fraction `r`: `⌊r·N⌋` examples are removed — the first of that order, or a seeded
//! random choice — and a fresh model is trained on the rest with the same settings, once
//! per seed; its test accuracy is recorded. `r = 0` is the recording runs themselves.
//!
//! **The paper's claim:** on MNIST, removing the 50% least-forgotten examples costs less
//! test accuracy than removing 50% at random (their Figure 5, where a third of CIFAR-10
//! goes without loss). An example that is unforgettable is learned once and never
//! forgotten in *every* run.

use super::forgetting::{forgetting_of, unforgettable_fraction};
use super::record::Recorder;
use crate::data::Dataset;
use crate::data::source::Loaded;
use crate::error::{Result, invalid};
use crate::fit::{NoObserver, Optim, TrainConfig, train_new};
use crate::nn::Arch;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// How the removed examples are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection {
    /// The least forgotten first (unforgettable ones, then one event, …).
    LeastForgotten,
    /// A seeded random choice.
    Random,
}

impl Selection {
    pub fn name(self) -> &'static str {
        match self {
            Selection::LeastForgotten => "least forgotten",
            Selection::Random => "random",
        }
    }
}

/// Settings of the experiment.
#[derive(Clone, Debug, PartialEq)]
pub struct RemovalOptions {
    pub epochs: usize,
    /// Runs per setting (recording runs and retrainings alike), seeds `0..seeds`.
    pub seeds: usize,
    /// Fractions removed, each in (0, 1).
    pub fractions: Vec<f64>,
}

impl RemovalOptions {
    /// The training settings of seed `seed`: Toneva's SGD.
    pub fn train_config(&self, seed: u64) -> TrainConfig {
        TrainConfig {
            epochs: self.epochs,
            batch: 64,
            lr: 0.01,
            seed,
            optimizer: Optim::Sgd { momentum: 0.5 },
        }
    }
}

/// One retrained model's test accuracy.
#[derive(Clone, Debug, PartialEq)]
pub struct RemovalPoint {
    pub selection: Selection,
    pub fraction: f64,
    pub seed: u64,
    pub kept: usize,
    pub accuracy: f64,
}

/// The experiment's results.
#[derive(Clone, Debug, PartialEq)]
pub struct Removal {
    /// Forgetting events of each training example, summed over the recording runs.
    pub counts: Vec<usize>,
    /// The share of unforgettable examples in each recording run.
    pub unforgettable: Vec<f64>,
    /// The share unforgettable in every run.
    pub unforgettable_all: f64,
    /// The recording runs' test accuracies (fraction 0).
    pub baseline: Vec<f64>,
    pub points: Vec<RemovalPoint>,
}

impl Removal {
    /// Mean and sample standard deviation of the accuracy of one selection at one
    /// fraction over the seeds (fraction 0: the recording runs).
    pub fn accuracy(&self, selection: Selection, fraction: f64) -> (f64, f64) {
        let v: Vec<f64> = if fraction == 0.0 {
            self.baseline.clone()
        } else {
            self.points
                .iter()
                .filter(|p| p.selection == selection && p.fraction == fraction)
                .map(|p| p.accuracy)
                .collect()
        };
        let n = v.len().max(1) as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        (mean, var.sqrt())
    }
}

/// The examples ordered from least to most forgotten (ties in a seeded random order).
pub fn least_forgotten_order(counts: &[usize], seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..counts.len()).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed ^ 0x70_E7A));
    order.sort_by_key(|&i| counts[i]);
    order
}

/// Runs the experiment on `train` and `test` (see the module documentation);
/// `progress(done, total)` after every training run.
pub fn forgetting_removal(
    train: &Dataset,
    test: &Dataset,
    opts: &RemovalOptions,
    mut progress: impl FnMut(usize, usize),
) -> Result<Removal> {
    if opts.seeds == 0 || opts.epochs == 0 {
        return invalid("the removal experiment needs at least one seed and one epoch");
    }
    if let Some(f) = opts.fractions.iter().find(|f| !(**f > 0.0 && **f < 1.0)) {
        return invalid(format!("a removed fraction must lie in (0, 1), got {f}"));
    }
    let arch = Arch::from_name("mnist-cnn")?;
    let n = train.len();
    let total = opts.seeds * (1 + 2 * opts.fractions.len());
    let mut done = 0;
    let mut counts = vec![0usize; n];
    let (mut unforgettable, mut baseline) = (Vec::new(), Vec::new());
    let mut always = vec![true; n];
    let data = Loaded {
        train: train.clone(),
        test: test.clone(),
        report: None,
    };
    for s in 0..opts.seeds as u64 {
        let mut rec = Recorder::new(opts.epochs, n, Vec::new());
        let cfg = opts.train_config(s);
        let t = train_new(arch.clone(), &data, &cfg, &mut std::io::sink(), &mut rec)?;
        let (record, _) = rec.finish(&t.model, &cfg.describe(), |e| format!("epoch {e}"))?;
        let stats = forgetting_of(&record);
        for (i, f) in stats.iter().enumerate() {
            counts[i] += f.count;
            always[i] &= f.unforgettable();
        }
        unforgettable.push(unforgettable_fraction(&stats));
        baseline.push(t.eval.accuracy);
        done += 1;
        progress(done, total);
    }
    let order = least_forgotten_order(&counts, 0);
    let mut points = Vec::new();
    for &fraction in &opts.fractions {
        let k = (fraction * n as f64).floor() as usize;
        for s in 0..opts.seeds as u64 {
            let mut shuffled: Vec<usize> = (0..n).collect();
            shuffled.shuffle(&mut StdRng::seed_from_u64(s ^ 0x000A_D04E));
            for (selection, removed_first) in [
                (Selection::LeastForgotten, &order),
                (Selection::Random, &shuffled),
            ] {
                let mut kept = removed_first[k..].to_vec();
                kept.sort_unstable();
                let sub = Loaded {
                    train: train.subset(&kept)?,
                    test: test.clone(),
                    report: None,
                };
                let t = train_new(
                    arch.clone(),
                    &sub,
                    &opts.train_config(s),
                    &mut std::io::sink(),
                    &mut NoObserver,
                )?;
                points.push(RemovalPoint {
                    selection,
                    fraction,
                    seed: s,
                    kept: kept.len(),
                    accuracy: t.eval.accuracy,
                });
                done += 1;
                progress(done, total);
            }
        }
    }
    Ok(Removal {
        counts,
        unforgettable,
        unforgettable_all: always.iter().filter(|&&a| a).count() as f64 / n.max(1) as f64,
        baseline,
        points,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_forgotten_first_and_ties_shuffled() {
        let counts = [3, 0, 1, 0, 0, 2, 0];
        let order = least_forgotten_order(&counts, 0);
        let sorted: Vec<usize> = order.iter().map(|&i| counts[i]).collect();
        assert_eq!(sorted, [0, 0, 0, 0, 1, 2, 3]);
        let mut zeros = order[..4].to_vec();
        zeros.sort_unstable();
        assert_eq!(zeros, [1, 3, 4, 6]);
        assert_eq!(order, least_forgotten_order(&counts, 0), "seeded");
    }
}
