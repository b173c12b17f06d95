//! Training loops and evaluation: seeded shuffling, Adam with a cosine learning-rate
//! schedule (or SGD with momentum at a constant rate, [`Optim`]), a progress bar, a JSON-lines log, and accuracy with a confusion matrix.

use crate::data::Dataset;
use crate::data::source::{DataSpec, Loaded};
use crate::error::{Result, invalid};
use crate::nn::Arch;
use crate::nn::Model;
use crate::nn::train::{train_step_logits, train_step_mse};
use crate::optim::{Adam, Optimizer, Schedule, Sgd};
use crate::tensor::Tensor;
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use std::collections::HashMap;
use std::io::Write;
use std::time::Instant;

/// Settings of one training run. Everything that changes the weights is here.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    pub seed: u64,
    pub optimizer: Optim,
}

/// The optimizer and learning-rate schedule of a training run.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Optim {
    /// Adam on a cosine schedule from `lr` down to 2% of it (every reference model).
    #[default]
    AdamCosine,
    /// SGD with (PyTorch's) momentum at a constant rate: Toneva et al.'s forgetting runs
    /// use `lr` 0.01 and momentum 0.5.
    Sgd { momentum: f64 },
}

impl TrainConfig {
    /// Refuses settings that cannot train: no epochs, an empty batch, a learning rate
    /// that is not a positive finite number.
    pub fn validate(&self) -> crate::error::Result<()> {
        let bad = |m: String| Err(crate::error::Error::Invalid(m));
        if self.epochs == 0 {
            return bad("--epochs must be at least 1".into());
        }
        if self.batch == 0 {
            return bad("--batch must be at least 1".into());
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad(format!(
                "--lr must be a positive finite number (the reference settings use 1e-3 to 1e-2), got {}",
                self.lr
            ));
        }
        Ok(())
    }

    /// A short description stored in model files and used as a cache key.
    pub fn describe(&self) -> String {
        let optim = match self.optimizer {
            Optim::AdamCosine => "optimizer=adam schedule=cosine".to_string(),
            Optim::Sgd { momentum } => {
                format!("optimizer=sgd momentum={momentum} schedule=constant")
            }
        };
        format!(
            "epochs={} batch={} lr={} seed={} {optim}",
            self.epochs, self.batch, self.lr, self.seed
        )
    }
}

impl TrainConfig {
    /// As model-file metadata entries (`train.epochs`, ...).
    pub fn to_metadata(&self) -> Vec<(String, String)> {
        let mut out = vec![
            ("train.epochs".into(), self.epochs.to_string()),
            ("train.batch".into(), self.batch.to_string()),
            ("train.lr".into(), format!("{:e}", self.lr)),
            ("train.seed".into(), self.seed.to_string()),
        ];
        // Adam, the default, is not written (files from before the choice read the same)
        if let Optim::Sgd { momentum } = self.optimizer {
            out.push(("train.optimizer".into(), format!("sgd-momentum-{momentum}")));
        }
        out
    }

    /// Reads [`TrainConfig::to_metadata`]'s entries back; `None` if any is missing.
    pub fn from_metadata(meta: &HashMap<String, String>) -> Option<TrainConfig> {
        let get = |k: &str| meta.get(k).map(String::as_str);
        Some(TrainConfig {
            epochs: get("train.epochs")?.parse().ok()?,
            batch: get("train.batch")?.parse().ok()?,
            lr: get("train.lr")?.parse().ok()?,
            seed: get("train.seed")?.parse().ok()?,
            optimizer: match get("train.optimizer") {
                None => Optim::AdamCosine,
                Some(s) => Optim::Sgd {
                    momentum: s.strip_prefix("sgd-momentum-")?.parse().ok()?,
                },
            },
        })
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

/// Sees every minibatch before the optimizer updates the weights: the training-set
/// indices of its examples, their logits from the same forward pass the loss is computed
/// on (pre-update), and their labels. The hook that training-data methods (forgetting
/// events, data maps, TracIn checkpoints) record through.
pub trait Observer {
    fn minibatch(
        &mut self,
        epoch: usize,
        indices: &[usize],
        logits: &Tensor<f32>,
        labels: &[usize],
    ) -> Result<()>;

    /// Called after every epoch with the updated weights and the learning rate of the
    /// epoch's last step (TracIn's checkpoints).
    fn epoch_end(&mut self, _epoch: usize, _model: &Model<f32>, _lr: f64) -> Result<()> {
        Ok(())
    }

    /// No progress bar and no per-epoch lines (for the many small fits of a probe).
    fn quiet(&self) -> bool {
        false
    }
}

/// The observer that records nothing.
pub struct NoObserver;

impl Observer for NoObserver {
    fn minibatch(&mut self, _: usize, _: &[usize], _: &Tensor<f32>, _: &[usize]) -> Result<()> {
        Ok(())
    }
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
    fit_observed(model, train, test, cfg, log, &mut NoObserver)
}

/// [`fit`], with `observer` shown every minibatch.
pub fn fit_observed(
    model: &mut Model<f32>,
    train: &Dataset,
    test: Option<&Dataset>,
    cfg: &TrainConfig,
    log: &mut dyn Write,
    observer: &mut dyn Observer,
) -> Result<Vec<EpochLog>> {
    if train.is_empty() {
        return invalid("the training set is empty");
    }
    let step = |model: &mut Model<f32>,
                opt: &mut dyn Optimizer<f32>,
                epoch: usize,
                idx: &[usize],
                observer: &mut dyn Observer| {
        let (x, y) = train.batch(idx)?;
        let (loss, logits) = train_step_logits(model, opt, &x, &y)?;
        observer.minibatch(epoch, idx, &logits, &y)?;
        Ok(loss)
    };
    let eval = |model: &Model<f32>| {
        test.map(|t| evaluate(model, t))
            .transpose()
            .map(|e| e.map(|e| e.accuracy))
    };
    run_epochs(model, train.len(), cfg, log, observer, step, eval)
}

/// Trains `model` to output `targets` (`[N, …]`, one row per row of `x`) under the mean
/// squared error, with the same loop as [`fit`] (seeded shuffling, Adam on a cosine
/// schedule), quietly: the generative probes' decoders.
pub fn fit_regression(
    model: &mut Model<f32>,
    x: &Tensor<f32>,
    targets: &Tensor<f32>,
    cfg: &TrainConfig,
) -> Result<Vec<EpochLog>> {
    let n = x.shape()[0];
    if n == 0 || targets.shape()[0] != n {
        return invalid(format!(
            "regression: {n} inputs and {} targets; need the same number, at least one",
            targets.shape()[0]
        ));
    }
    let step = |model: &mut Model<f32>,
                opt: &mut dyn Optimizer<f32>,
                _: usize,
                idx: &[usize],
                _: &mut dyn Observer| {
        let (xb, tb) = (x.select_rows(idx)?, targets.select_rows(idx)?);
        train_step_mse(model, opt, &xb, &tb)
    };
    let mut quiet = Quiet;
    run_epochs(
        model,
        n,
        cfg,
        &mut std::io::sink(),
        &mut quiet,
        step,
        |_| Ok(None),
    )
}

/// A VAE trained by [`train_vae`]: its history (the loss is `−ELBO` per example) and,
/// on the test pictures, `[−ELBO, reconstruction, KL]` per example (noise seed 0) and
/// the mean squared error per pixel of the reconstruction from `μ`.
pub struct TrainedVae {
    pub model: Model<f32>,
    pub history: Vec<EpochLog>,
    pub test_elbo: [f64; 3],
    pub test_mse: f64,
}

/// Trains a fresh VAE of architecture `arch` (see [`crate::nn::vae`]) on the pictures
/// of `data.train` mapped to [0, 1], with the loop every fit shares; the
/// reparameterization's noise of step `s` comes from the seed `cfg.seed` and `s`.
pub fn train_vae(
    arch: Arch,
    data: &Loaded,
    cfg: &TrainConfig,
    log: &mut dyn Write,
) -> Result<TrainedVae> {
    use crate::nn::vae::{Vae, evaluate_elbo, noise, vae_step};
    if !arch.is_vae() {
        return invalid(format!("'{}' is not a VAE", arch.name));
    }
    let unit = crate::data::to_unit_fn(&arch);
    // the training pictures as rows, sharing the loaded values (no copy): each minibatch
    // is mapped to [0, 1] when it is drawn. A mapped copy of all 60 000 pictures (188 MB)
    // had put training's peak memory at 651 MB.
    let rows = |d: &Dataset| -> Result<Tensor<f32>> {
        let n = d.len();
        d.x.clone().reshape(&[n, d.x.len() / n.max(1)])
    };
    let x = rows(&data.train)?;
    let test = rows(&data.test)?.map(unit);
    let mut model = Model::<f32>::init(arch, cfg.seed);
    let latent = model.param("decoder.fc1.weight")?.shape()[1];
    let mut step_no = 0u64;
    let step = |model: &mut Model<f32>,
                opt: &mut dyn Optimizer<f32>,
                _: usize,
                idx: &[usize],
                _: &mut dyn Observer| {
        let seed = cfg.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ step_no;
        step_no += 1;
        let eps = noise(idx.len(), latent, seed);
        vae_step(model, opt, &x.select_rows(idx)?.map(unit), &eps)
    };
    let history = run_epochs(
        &mut model,
        x.shape()[0],
        cfg,
        log,
        &mut NoObserver,
        step,
        |_| Ok(None),
    )?;
    let test_elbo = evaluate_elbo(&model, &test, 0)?;
    let vae = Vae::from_model(&model)?;
    let (mu, _) = vae.encode(&test.clone().reshape(data.test.x.shape())?)?;
    let rec = vae.decode(&mu)?;
    let test_mse = rec
        .data()
        .iter()
        .zip(test.data())
        .map(|(a, b)| ((a - b) as f64).powi(2))
        .sum::<f64>()
        / test.len().max(1) as f64;
    Ok(TrainedVae {
        model,
        history,
        test_elbo,
        test_mse,
    })
}

impl TrainedVae {
    /// The test figures as model-file metadata.
    pub fn results(&self) -> Vec<(String, String)> {
        let [e, r, k] = self.test_elbo;
        vec![
            // exact (shortest round trip), as the history: a loaded model reports what
            // the run that trained it did
            ("test_neg_elbo".to_string(), e.to_string()),
            ("test_reconstruction_bce".to_string(), r.to_string()),
            ("test_kl".to_string(), k.to_string()),
            ("test_mse".to_string(), self.test_mse.to_string()),
        ]
    }
}

/// Records nothing and shows nothing: for fits that are one of many (probes, decoders).
pub struct Quiet;

impl Observer for Quiet {
    fn minibatch(&mut self, _: usize, _: &[usize], _: &Tensor<f32>, _: &[usize]) -> Result<()> {
        Ok(())
    }
    fn quiet(&self) -> bool {
        true
    }
}

/// The loop every fit shares: `cfg.epochs` passes over `n` examples in seeded random
/// minibatches (every example once per epoch), the optimizer of `cfg.optimizer`, `step` on
/// each minibatch (returning its mean loss), `eval` after each epoch (test accuracy, if
/// any), the observer's `epoch_end`, and a progress bar and one JSON line per epoch
/// unless the observer is quiet.
fn run_epochs(
    model: &mut Model<f32>,
    n: usize,
    cfg: &TrainConfig,
    log: &mut dyn Write,
    observer: &mut dyn Observer,
    mut step: impl FnMut(
        &mut Model<f32>,
        &mut dyn Optimizer<f32>,
        usize,
        &[usize],
        &mut dyn Observer,
    ) -> Result<f64>,
    eval: impl Fn(&Model<f32>) -> Result<Option<f64>>,
) -> Result<Vec<EpochLog>> {
    let quiet = observer.quiet();
    if cfg.batch == 0 || cfg.epochs == 0 {
        return invalid("--batch and --epochs must be at least 1");
    }
    // 0 is allowed here (nothing trains: the training record's before-the-update test);
    // the command line refuses it in TrainConfig::validate
    if !(cfg.lr >= 0.0 && cfg.lr.is_finite()) {
        return invalid(format!("learning rate must be ≥ 0, got {}", cfg.lr));
    }
    let mut rng = StdRng::seed_from_u64(cfg.seed ^ 0x5EED_5EED);
    let steps_per_epoch = n.div_ceil(cfg.batch);
    let total = steps_per_epoch * cfg.epochs;
    let (mut opt, schedule): (Box<dyn Optimizer<f32>>, _) = match cfg.optimizer {
        Optim::AdamCosine => (
            Box::new(Adam::new(cfg.lr)),
            Schedule::Cosine {
                total,
                min_lr: cfg.lr * 0.02,
            },
        ),
        Optim::Sgd { momentum } => (
            Box::new(Sgd::new(cfg.lr).momentum(momentum, false)),
            Schedule::Constant,
        ),
    };
    let pb = if quiet {
        ProgressBar::hidden()
    } else {
        progress_bar(total as u64, &model.arch.name)
    };
    let start = Instant::now();
    let mut logs = Vec::new();
    let mut step_no = 0;
    for epoch in 1..=cfg.epochs {
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng);
        let (mut loss_sum, mut seen) = (0.0, 0usize);
        for idx in order.chunks(cfg.batch) {
            opt.set_lr(schedule.lr(cfg.lr, step_no));
            let loss = step(model, opt.as_mut(), epoch, idx, observer)?;
            if !loss.is_finite() {
                return invalid(format!(
                    "training diverged at step {step_no} (loss {loss}); try a smaller --lr"
                ));
            }
            loss_sum += loss * idx.len() as f64;
            seen += idx.len();
            step_no += 1;
            pb.inc(1);
            if step_no % 20 == 0 {
                pb.set_message(format!("epoch {epoch} loss {:.4}", loss_sum / seen as f64));
            }
        }
        observer.epoch_end(epoch, model, opt.lr())?;
        let rec = EpochLog {
            epoch,
            loss: loss_sum / seen as f64,
            test_accuracy: eval(model)?,
            seconds: start.elapsed().as_secs_f64(),
        };
        let acc = rec
            .test_accuracy
            .map_or("null".to_string(), |a| format!("{a:.6}"));
        writeln!(
            log,
            "{{\"epoch\":{},\"steps\":{},\"loss\":{:.6},\"test_accuracy\":{},\"lr\":{:.3e},\"seconds\":{:.2}}}",
            epoch, step_no, rec.loss, acc, opt.lr(), rec.seconds
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
        if quiet {
        } else if pb.is_hidden() {
            eprintln!("{line}");
        } else {
            pb.println(line);
        }
        logs.push(rec);
    }
    pb.finish_and_clear();
    Ok(logs)
}

/// A model trained by [`train_new`], with its history and test evaluation.
pub struct Trained {
    pub model: Model<f32>,
    pub history: Vec<EpochLog>,
    pub eval: Evaluation,
}

/// The one training entry point (the command line, the tour and the tests use it): a
/// fresh `arch` model initialized from `cfg.seed`, trained on `data.train` with `cfg`
/// (one JSON line per epoch to `log`, every minibatch shown to `observer`), and
/// evaluated on `data.test`.
pub fn train_new(
    arch: Arch,
    data: &Loaded,
    cfg: &TrainConfig,
    log: &mut dyn Write,
    observer: &mut dyn Observer,
) -> Result<Trained> {
    let mut model = Model::<f32>::init(arch, cfg.seed);
    let history = fit_observed(
        &mut model,
        &data.train,
        Some(&data.test),
        cfg,
        log,
        observer,
    )?;
    let eval = evaluate(&model, &data.test)?;
    Ok(Trained {
        model,
        history,
        eval,
    })
}

/// Where a trained model came from, as model-file metadata: the data (structured, see
/// [`DataSpec::to_metadata`]), the split seed, the training settings, changes made to the
/// data (`notes`, e.g. ` limit=100 label-noise=0.1`), the test accuracy and the history.
pub struct Provenance {
    pub data: DataSpec,
    pub split_seed: u64,
    pub train: TrainConfig,
    pub notes: String,
}

impl Provenance {
    /// Everything that changes the weights, in one line (the tour's cache key).
    pub fn settings(&self) -> String {
        format!(
            "data={}{} {}",
            self.data.describe(),
            self.notes,
            self.train.describe()
        )
    }

    /// The metadata entries of a model trained with these settings.
    pub fn metadata(&self, t: &Trained) -> Vec<(String, String)> {
        self.metadata_with(
            &t.history,
            vec![(
                "test_accuracy".to_string(),
                format!("{:.6}", t.eval.accuracy),
            )],
        )
    }

    /// The metadata entries of a model trained with these settings, with `results` (the
    /// test figures) and its history.
    pub fn metadata_with(
        &self,
        history: &[EpochLog],
        results: Vec<(String, String)>,
    ) -> Vec<(String, String)> {
        let mut m = self.data.to_metadata();
        m.extend(self.train.to_metadata());
        m.extend([
            ("settings".to_string(), self.settings()),
            ("split_seed".to_string(), self.split_seed.to_string()),
        ]);
        m.extend(results);
        m.push(("history".to_string(), history_to_string(history)));
        m
    }

    /// The data spec and split seed a model file records, if it does.
    pub fn data_of(meta: &HashMap<String, String>) -> Option<(DataSpec, u64)> {
        let split = meta
            .get("split_seed")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Some((DataSpec::from_metadata(meta)?, split))
    }
}

/// `epoch:loss:test_accuracy` entries joined by `;`, each number in the shortest form that
/// reads back to the same f64, so a model loaded from its file draws the same curves as
/// the run that trained it (six decimals had moved a point of mnist-cnn's loss curve by
/// 0.1 px between a tour that trained and one that loaded).
pub fn history_to_string(h: &[EpochLog]) -> String {
    h.iter()
        .map(|e| {
            format!(
                "{}:{}:{}",
                e.epoch,
                e.loss,
                e.test_accuracy.unwrap_or(f64::NAN)
            )
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// Reads [`history_to_string`] back (unreadable entries are skipped).
pub fn history_from_string(s: &str) -> Vec<EpochLog> {
    s.split(';')
        .filter_map(|e| {
            let p: Vec<&str> = e.split(':').collect();
            Some(EpochLog {
                epoch: p.first()?.parse().ok()?,
                loss: p.get(1)?.parse().ok()?,
                test_accuracy: p.get(2)?.parse().ok().filter(|a: &f64| !a.is_nan()),
                seconds: 0.0,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_history_reads_back_bit_for_bit() {
        // values six decimals would round: the loss curve of a loaded model must be the
        // trained run's (the tour drew mnist-cnn's 0.1 px apart before)
        let h = vec![
            EpochLog {
                epoch: 1,
                loss: 0.123_456_789_012_345_67,
                test_accuracy: Some(0.987_654_321),
                seconds: 3.0,
            },
            EpochLog {
                epoch: 2,
                loss: 1e-9 / 3.0,
                test_accuracy: None,
                seconds: 3.0,
            },
        ];
        let back = history_from_string(&history_to_string(&h));
        assert_eq!(back.len(), 2);
        for (a, b) in h.iter().zip(&back) {
            assert_eq!(a.epoch, b.epoch);
            assert_eq!(a.loss.to_bits(), b.loss.to_bits());
            assert_eq!(
                a.test_accuracy.map(f64::to_bits),
                b.test_accuracy.map(f64::to_bits)
            );
        }
    }
}
