//! Training loops and evaluation: seeded shuffling, Adam with a cosine learning-rate
//! schedule, a progress bar, a JSON-lines log, and accuracy with a confusion matrix.

use crate::data::Dataset;
use crate::error::{Result, invalid};
use crate::nn::Model;
use crate::nn::train::train_step;
use crate::optim::{Adam, Optimizer, Schedule};
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use std::io::Write;
use std::time::Instant;

/// Settings of one training run. Everything that changes the weights is here.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    pub seed: u64,
}

impl TrainConfig {
    /// The settings the reference models are trained with.
    pub fn reference(arch: &str) -> TrainConfig {
        // measured with `lamppost train <arch>`; see the README's table of results
        let (epochs, batch, lr) = match arch {
            "mnist-cnn" => (8, 64, 4e-3),
            "mnist-gap" => (8, 32, 3e-3),
            "mnist-gru" => (6, 64, 3e-3),
            "pokedigi-gap" => (12, 32, 2e-3),
            _ => (3, 64, 1e-3),
        };
        TrainConfig {
            epochs,
            batch,
            lr,
            seed: 0,
        }
    }

    /// A short description stored in model files and used as a cache key.
    pub fn describe(&self) -> String {
        format!(
            "epochs={} batch={} lr={} seed={} optimizer=adam schedule=cosine",
            self.epochs, self.batch, self.lr, self.seed
        )
    }
}

/// Accuracy, per-class accuracy and confusion matrix (`confusion[true][predicted]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub accuracy: f64,
    pub per_class: Vec<f64>,
    pub confusion: Vec<Vec<usize>>,
}

/// Evaluates a model on a dataset without recording gradients.
pub fn evaluate(model: &Model<f32>, data: &Dataset) -> Result<Evaluation> {
    if data.is_empty() {
        return invalid("cannot evaluate on an empty dataset");
    }
    let k = model.arch.num_classes();
    let pred = model.predict(&data.x)?.argmax_rows()?;
    let mut confusion = vec![vec![0usize; k]; k];
    for (&t, &p) in data.y.iter().zip(&pred) {
        if t >= k {
            return invalid(format!("label {t} but the model has {k} classes"));
        }
        confusion[t][p] += 1;
    }
    let correct: usize = (0..k).map(|c| confusion[c][c]).sum();
    let per_class = (0..k)
        .map(|c| {
            let n: usize = confusion[c].iter().sum();
            if n == 0 {
                f64::NAN
            } else {
                confusion[c][c] as f64 / n as f64
            }
        })
        .collect();
    Ok(Evaluation {
        accuracy: correct as f64 / data.len() as f64,
        per_class,
        confusion,
    })
}

/// One epoch's record.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochLog {
    pub epoch: usize,
    pub loss: f64,
    pub test_accuracy: Option<f64>,
    pub seconds: f64,
}

/// A progress bar on stderr with rate and ETA (hidden when stderr is not a terminal).
pub fn progress_bar(len: u64, prefix: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    let style = ProgressStyle::with_template(
        "{prefix:>14} [{bar:30}] {pos}/{len} {per_sec} eta {eta} {msg}",
    )
    .expect("valid template")
    .progress_chars("=> ");
    pb.set_style(style);
    pb.set_prefix(prefix.to_string());
    pb
}

/// Trains `model` on `train` with `cfg`, evaluating on `test` after every epoch.
/// Writes one JSON line per epoch to `log`.
pub fn fit(
    model: &mut Model<f32>,
    train: &Dataset,
    test: Option<&Dataset>,
    cfg: &TrainConfig,
    log: &mut dyn Write,
) -> Result<Vec<EpochLog>> {
    if train.is_empty() {
        return invalid("the training set is empty");
    }
    if cfg.batch == 0 || cfg.epochs == 0 {
        return invalid("--batch and --epochs must be at least 1");
    }
    if !(cfg.lr > 0.0 && cfg.lr.is_finite()) {
        return invalid(format!("learning rate must be positive, got {}", cfg.lr));
    }
    let mut rng = StdRng::seed_from_u64(cfg.seed ^ 0x5EED_5EED);
    let mut opt = Adam::new(cfg.lr);
    let steps_per_epoch = train.len().div_ceil(cfg.batch);
    let total = steps_per_epoch * cfg.epochs;
    let schedule = Schedule::Cosine {
        total,
        min_lr: cfg.lr * 0.02,
    };
    let pb = progress_bar(total as u64, &model.arch.name);
    let start = Instant::now();
    let mut logs = Vec::new();
    let mut step = 0;
    for epoch in 1..=cfg.epochs {
        let mut order: Vec<usize> = (0..train.len()).collect();
        order.shuffle(&mut rng);
        let (mut loss_sum, mut seen) = (0.0, 0usize);
        for idx in order.chunks(cfg.batch) {
            opt.set_lr(schedule.lr(cfg.lr, step));
            let (x, y) = train.batch(idx)?;
            let loss = train_step(model, &mut opt, &x, &y)?;
            if !loss.is_finite() {
                return invalid(format!(
                    "training diverged at step {step} (loss {loss}); try a smaller --lr"
                ));
            }
            loss_sum += loss * idx.len() as f64;
            seen += idx.len();
            step += 1;
            pb.inc(1);
            if step % 20 == 0 {
                pb.set_message(format!("epoch {epoch} loss {:.4}", loss_sum / seen as f64));
            }
        }
        let test_accuracy = test
            .map(|t| evaluate(model, t))
            .transpose()?
            .map(|e| e.accuracy);
        let rec = EpochLog {
            epoch,
            loss: loss_sum / seen as f64,
            test_accuracy,
            seconds: start.elapsed().as_secs_f64(),
        };
        let acc = rec
            .test_accuracy
            .map_or("null".to_string(), |a| format!("{a:.6}"));
        writeln!(
            log,
            "{{\"epoch\":{},\"steps\":{},\"loss\":{:.6},\"test_accuracy\":{},\"lr\":{:.3e},\"seconds\":{:.2}}}",
            epoch, step, rec.loss, acc, opt.lr(), rec.seconds
        )
        .map_err(|e| crate::error::Error::Io(format!("training log: {e}")))?;
        let line = format!(
            "{}: epoch {epoch}/{} loss {:.4}{} ({:.1}s)",
            model.arch.name,
            cfg.epochs,
            rec.loss,
            rec.test_accuracy.map_or(String::new(), |a| format!(
                " test accuracy {:.2}%",
                100.0 * a
            )),
            rec.seconds
        );
        if pb.is_hidden() {
            eprintln!("{line}");
        } else {
            pb.println(line);
        }
        logs.push(rec);
    }
    pb.finish_and_clear();
    Ok(logs)
}
