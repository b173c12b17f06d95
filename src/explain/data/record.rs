//! The training record: what the model said about every training example each time it
//! saw it, and optional checkpoints.
//!
//! **Question.** How did the model's view of each training example change while it
//! learned? Forgetting events, data maps and TIDY are all read off this one record.
//!
//! **What is recorded.** For every presentation (an example is in exactly one minibatch
//! per epoch) the logits of the forward pass the loss is computed on, *before* the
//! optimizer updates the weights: whether the prediction was correct (argmax = gold
//! label, the first maximum on a tie), the probability of the gold label
//! `p = softmax(z)[y]`, and the margin `z_y − max_{c≠y} z_c`. Stored as `[epochs, N]`
//! tensors `correct`, `p_gold`, `margin` plus `labels` `[N]` (the labels trained on, after
//! any label noise), with the training settings and the final weights' fingerprint.
//!
//! **Checkpoints** (TracIn, Pruthi et al. 2020): with `K` of them, the weights after
//! epochs `round(k·E/K)`, `k = 1…K`, each with the learning rate of its last step (our
//! training uses Adam on a cosine schedule; that rate is the η TracInCP weighs it by).
//!
//! **Pinned by** `tests/training_data.rs::record_is_taken_before_the_update` (recorded
//! probabilities equal the untrained model's on the first minibatch, and a learning rate
//! of zero gives no forgetting events).

use crate::error::{Error, Result, invalid};
use crate::fit::Observer;
use crate::io::{FileDtype, stable_hash};
use crate::nn::Model;
use crate::tensor::Tensor;
use std::collections::HashMap;
use std::path::Path;

/// One saved checkpoint: the epoch it was taken after, the learning rate of that epoch's
/// last step, and its file name (in the record's folder).
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointInfo {
    pub epoch: usize,
    pub lr: f64,
    pub file: String,
}

/// A training record (see the module documentation).
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub epochs: usize,
    pub n: usize,
    /// `[epochs × n]`, presentation `e` of example `i` at `e·n + i`.
    pub correct: Vec<bool>,
    pub p_gold: Vec<f64>,
    pub margin: Vec<f64>,
    pub labels: Vec<usize>,
    pub checkpoints: Vec<CheckpointInfo>,
    /// The model file's `settings` line (data, notes, optimizer) and the final weights'
    /// fingerprint ([`weights_hash`]): what a record is matched against.
    pub settings: String,
    pub weights_hash: u64,
}

/// A fingerprint of a model's weights (FNV-1a over their f32 bytes in state-dict order).
pub fn weights_hash(model: &Model<f32>) -> u64 {
    let mut bytes = Vec::new();
    for (name, t) in model.params() {
        bytes.extend(name.as_bytes());
        for v in t.data() {
            bytes.extend(v.to_le_bytes());
        }
    }
    stable_hash(&bytes)
}

impl Record {
    /// Presentation `e` of example `i` as an index into the `[epochs × n]` vectors.
    fn at(&self, e: usize, i: usize) -> usize {
        e * self.n + i
    }

    /// Example `i`'s correctness at each presentation, in order.
    pub fn correct_of(&self, i: usize) -> Vec<bool> {
        (0..self.epochs)
            .map(|e| self.correct[self.at(e, i)])
            .collect()
    }

    /// Example `i`'s gold-label probability at each presentation, in order.
    pub fn p_gold_of(&self, i: usize) -> Vec<f64> {
        (0..self.epochs)
            .map(|e| self.p_gold[self.at(e, i)])
            .collect()
    }

    /// The record as safetensors bytes (f32 tensors; metadata carries the rest).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mat = |v: Vec<f64>| Tensor::new(&[self.epochs, self.n], v).expect("sizes");
        let tensors = vec![
            (
                "correct".to_string(),
                mat(self.correct.iter().map(|&c| c as u8 as f64).collect()),
            ),
            ("p_gold".to_string(), mat(self.p_gold.clone())),
            ("margin".to_string(), mat(self.margin.clone())),
            (
                "labels".to_string(),
                Tensor::new(&[self.n], self.labels.iter().map(|&y| y as f64).collect())
                    .expect("sizes"),
            ),
        ];
        let ckpts: Vec<String> = self
            .checkpoints
            .iter()
            .map(|c| format!("{}:{:e}:{}", c.epoch, c.lr, c.file))
            .collect();
        let meta: HashMap<String, String> = [
            ("kind", "lamppost training record".to_string()),
            ("record.epochs", self.epochs.to_string()),
            ("record.n", self.n.to_string()),
            ("settings", self.settings.clone()),
            ("weights_hash", format!("{:016x}", self.weights_hash)),
            ("checkpoints", ckpts.join(";")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        crate::io::safetensors_file::serialize(&tensors, &meta, FileDtype::F32)
    }

    /// Reads a record written by `lamppost train --record`; a file that is not one, or
    /// whose tensors disagree with its sizes, is refused with what is wrong.
    pub fn read(path: &Path) -> Result<Record> {
        let (tensors, meta) = crate::io::read_tensors::<f64>(path)?;
        let bad = |why: String| {
            Error::Invalid(format!(
                "{}: not a usable training record ({why}); write one with `lamppost train ARCH --record --out FILE`",
                path.display()
            ))
        };
        if meta.get("kind").map(String::as_str) != Some("lamppost training record") {
            return Err(bad("no 'kind: lamppost training record' metadata".into()));
        }
        let num = |k: &str| -> Result<usize> {
            meta.get(k)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| bad(format!("metadata '{k}' missing or not a number")))
        };
        let (epochs, n) = (num("record.epochs")?, num("record.n")?);
        let get = |name: &str, shape: &[usize]| -> Result<Vec<f64>> {
            let t = tensors
                .iter()
                .find(|t| t.0 == name)
                .ok_or_else(|| bad(format!("no tensor '{name}'")))?;
            if t.1.shape() != shape {
                return Err(bad(format!(
                    "tensor '{name}' has shape {:?}, expected {shape:?}",
                    t.1.shape()
                )));
            }
            if t.1.data().iter().any(|v| !v.is_finite()) {
                return Err(bad(format!("tensor '{name}' holds NaN or infinite values")));
            }
            Ok(t.1.data().to_vec())
        };
        let correct = get("correct", &[epochs, n])?;
        let labels = get("labels", &[n])?;
        if labels.iter().any(|&y| y < 0.0 || y.fract() != 0.0) {
            return Err(bad("labels are not whole non-negative numbers".into()));
        }
        let weights_hash = meta
            .get("weights_hash")
            .and_then(|h| u64::from_str_radix(h, 16).ok())
            .ok_or_else(|| bad("metadata 'weights_hash' missing".into()))?;
        let mut checkpoints = Vec::new();
        for c in meta
            .get("checkpoints")
            .map(String::as_str)
            .unwrap_or("")
            .split(';')
            .filter(|c| !c.is_empty())
        {
            let p: Vec<&str> = c.splitn(3, ':').collect();
            let parsed = (p.len() == 3)
                .then(|| Some((p[0].parse().ok()?, p[1].parse().ok()?)))
                .flatten();
            let Some((epoch, lr)) = parsed else {
                return Err(bad(format!("checkpoint entry '{c}' is not epoch:lr:file")));
            };
            checkpoints.push(CheckpointInfo {
                epoch,
                lr,
                file: p[2].to_string(),
            });
        }
        Ok(Record {
            epochs,
            n,
            correct: correct.iter().map(|&c| c > 0.5).collect(),
            p_gold: get("p_gold", &[epochs, n])?,
            margin: get("margin", &[epochs, n])?,
            labels: labels.iter().map(|&y| y as usize).collect(),
            checkpoints,
            settings: meta.get("settings").cloned().unwrap_or_default(),
            weights_hash,
        })
    }

    /// Refuses a record that was not written while training `model` (`model_settings`
    /// is the model file's `settings` metadata).
    pub fn check_model(&self, model: &Model<f32>, model_settings: Option<&str>) -> Result<()> {
        let hint = "pass the record written beside this model by `lamppost train --record`";
        if weights_hash(model) != self.weights_hash {
            return invalid(format!(
                "the record was written for other weights (fingerprint {:016x}, the model's is {:016x}); {hint}",
                self.weights_hash,
                weights_hash(model)
            ));
        }
        if let Some(s) = model_settings
            && s != self.settings
        {
            return invalid(format!(
                "the record's training settings '{}' differ from the model's '{s}'; {hint}",
                self.settings
            ));
        }
        Ok(())
    }
}

/// The epochs after which `k` of `epochs` evenly spaced checkpoints are taken:
/// `round(j·epochs/k)` for `j = 1…k` (the last is always the final epoch).
pub fn checkpoint_epochs(k: usize, epochs: usize) -> Result<Vec<usize>> {
    if k == 0 || k > epochs {
        return invalid(format!(
            "--checkpoints {k}: checkpoints are taken after whole epochs, so give 1 to {epochs} (the number of epochs), or train for more epochs"
        ));
    }
    Ok((1..=k)
        .map(|j| ((j * epochs) as f64 / k as f64).round() as usize)
        .collect())
}

/// A checkpoint kept in memory: the epoch it follows, that epoch's last learning rate
/// and the weights.
pub type Kept = (usize, f64, Model<f32>);

/// The observer that writes a [`Record`] (and keeps checkpoints) during training.
pub struct Recorder {
    epochs: usize,
    n: usize,
    correct: Vec<bool>,
    p_gold: Vec<f64>,
    margin: Vec<f64>,
    labels: Vec<usize>,
    seen: Vec<usize>,
    checkpoint_at: Vec<usize>,
    /// `(epoch, lr, weights)` of each checkpoint taken.
    pub checkpoints: Vec<Kept>,
}

impl Recorder {
    /// A recorder for `epochs` passes over `n` training examples, keeping checkpoints
    /// after the epochs in `checkpoint_at`.
    pub fn new(epochs: usize, n: usize, checkpoint_at: Vec<usize>) -> Recorder {
        Recorder {
            epochs,
            n,
            correct: vec![false; epochs * n],
            p_gold: vec![0.0; epochs * n],
            margin: vec![0.0; epochs * n],
            labels: vec![0; n],
            seen: vec![0; epochs],
            checkpoint_at,
            checkpoints: Vec::new(),
        }
    }

    /// The record, once training ended (`settings` and the final `model` identify it;
    /// `file_of(epoch)` names each checkpoint's file).
    pub fn finish(
        self,
        model: &Model<f32>,
        settings: &str,
        file_of: impl Fn(usize) -> String,
    ) -> Result<(Record, Vec<Kept>)> {
        if let Some(e) = self.seen.iter().position(|&s| s != self.n) {
            return invalid(format!(
                "epoch {} presented {} of {} examples; the record needs every example once per epoch",
                e + 1,
                self.seen[e],
                self.n
            ));
        }
        let record = Record {
            epochs: self.epochs,
            n: self.n,
            correct: self.correct,
            p_gold: self.p_gold,
            margin: self.margin,
            labels: self.labels,
            checkpoints: self
                .checkpoints
                .iter()
                .map(|(e, lr, _)| CheckpointInfo {
                    epoch: *e,
                    lr: *lr,
                    file: file_of(*e),
                })
                .collect(),
            settings: settings.to_string(),
            weights_hash: weights_hash(model),
        };
        Ok((record, self.checkpoints))
    }
}

/// Probability of `gold`, margin `z_gold − max_{c≠gold} z_c`, and whether the first
/// maximum is `gold`, of one row of logits (in f64).
pub fn gold_stats(row: &[f32], gold: usize) -> (f64, f64, bool) {
    let z: Vec<f64> = row.iter().map(|&v| v as f64).collect();
    let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let s: f64 = z.iter().map(|v| (v - m).exp()).sum();
    let other = z
        .iter()
        .enumerate()
        .filter(|&(c, _)| c != gold)
        .map(|(_, &v)| v)
        .fold(f64::NEG_INFINITY, f64::max);
    let first_max = z.iter().position(|&v| v == m).unwrap_or(0);
    ((z[gold] - m).exp() / s, z[gold] - other, first_max == gold)
}

impl Observer for Recorder {
    fn minibatch(
        &mut self,
        epoch: usize,
        indices: &[usize],
        logits: &Tensor<f32>,
        labels: &[usize],
    ) -> Result<()> {
        let e = epoch - 1;
        if e >= self.epochs {
            return invalid(format!(
                "the recorder was made for {} epochs but saw epoch {epoch}",
                self.epochs
            ));
        }
        let k = logits.shape()[1];
        for ((&i, row), &y) in indices.iter().zip(logits.data().chunks(k)).zip(labels) {
            let (p, margin, ok) = gold_stats(row, y);
            let at = e * self.n + i;
            self.p_gold[at] = p;
            self.margin[at] = margin;
            self.correct[at] = ok;
            self.labels[i] = y;
        }
        self.seen[e] += indices.len();
        Ok(())
    }

    fn epoch_end(&mut self, epoch: usize, model: &Model<f32>, lr: f64) -> Result<()> {
        if self.checkpoint_at.contains(&epoch) {
            self.checkpoints.push((epoch, lr, model.clone()));
        }
        Ok(())
    }
}
