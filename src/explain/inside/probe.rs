//! Linear probes: *can the class be read off this layer by a linear classifier?*
//! (Alain & Bengio 2016, "Understanding intermediate layers using linear classifier
//! probes").
//!
//! For a layer's activations `h(x)` (frozen: computed once, no gradient reaches the
//! model), standardized with the probe training set's mean and standard deviation (each
//! deviation floored at a tenth of the layer's RMS deviation), a
//! softmax regression `softmax(W h + b)` is trained by [`crate::fit::fit_observed`] with the same
//! budget for every layer ([`ProbeConfig`]: 20 epochs of Adam, batch 128, learning rate
//! 1e-2 on a cosine schedule, no weight decay) and its test accuracy reported. (With 10
//! epochs at 1e-3 the probe on mnist-cnn's 10 logits stopped at 52%: too short a budget
//! reads as a bad layer.)
//!
//! A probe's accuracy alone says little: a strong enough probe reads the class from raw
//! pixels. Each row therefore carries
//! * the same probe on the same layer of an **untrained** network of the same
//!   architecture (its initialization),
//! * a **control task** (Hewitt & Liang 2019, "Designing and Interpreting Probes with
//!   Control Tasks", adapted to images): the pixels are clustered by k-means (k = 100)
//!   and every cluster gets a random label; the control accuracy measures how much the
//!   probe can memorize, and **selectivity = accuracy − control accuracy**.
//!
//! Pinned by `tests/inside.rs`: a one-hot label feature is probed at 100%, the model is
//! bit-identical after probing, the penultimate layer's probe reaches the model's own
//! accuracy within 0.5 points, and probe accuracy on mnist-cnn grows with depth.

use super::kmeans::{assign, kmeans};
use super::layers::{features, rows_f64};
use crate::data::Dataset;
use crate::error::{Result, invalid};
use crate::fit::{Quiet, evaluate, fit_observed};
use crate::nn::{Arch, Model};
use crate::tensor::Tensor;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The budget every probe gets.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeConfig {
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    pub seed: u64,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            epochs: 20,
            batch: 128,
            lr: 1e-2,
            seed: 0,
        }
    }
}

/// Train and test accuracy of one probe.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProbeScores {
    pub train_accuracy: f64,
    pub test_accuracy: f64,
}

/// Standardizes the columns of both `[N, F]` tensors with the first one's mean and
/// standard deviation. Each deviation is floored at a tenth of the layer's RMS deviation:
/// a pixel almost never inked in the training set would otherwise be multiplied by
/// hundreds and a test digit that inks it would land far outside anything seen (a
/// constant column becomes 0).
pub(crate) fn standardize(train: &mut Tensor<f32>, test: &mut Tensor<f32>) {
    let f = train.shape()[1];
    let n = train.shape()[0] as f64;
    let mut mean = vec![0.0f64; f];
    let mut sq = vec![0.0f64; f];
    for row in train.data().chunks(f) {
        for (j, &v) in row.iter().enumerate() {
            mean[j] += v as f64;
            sq[j] += (v as f64) * (v as f64);
        }
    }
    let sds: Vec<f64> = (0..f)
        .map(|j| {
            let m = mean[j] / n;
            (sq[j] / n - m * m).max(0.0).sqrt()
        })
        .collect();
    let floor = 0.1 * (sds.iter().map(|s| s * s).sum::<f64>() / f.max(1) as f64).sqrt();
    let scale: Vec<(f32, f32)> = (0..f)
        .map(|j| {
            let m = mean[j] / n;
            let sd = sds[j];
            (
                m as f32,
                if sd > 1e-6 {
                    (1.0 / sd.max(floor)) as f32
                } else {
                    0.0
                },
            )
        })
        .collect();
    for t in [train, test] {
        for row in t.data_mut().chunks_mut(f) {
            row.iter_mut()
                .zip(&scale)
                .for_each(|(v, (m, s))| *v = (*v - m) * s);
        }
    }
}

/// Trains a softmax-regression probe on `train_x` (`[N, F]`) and scores it on `test_x`.
pub fn linear_probe(
    train_x: Tensor<f32>,
    train_y: &[usize],
    test_x: Tensor<f32>,
    test_y: &[usize],
    classes: usize,
    cfg: &ProbeConfig,
) -> Result<ProbeScores> {
    Ok(linear_probes(train_x, test_x, &[(train_y, test_y)], classes, cfg)?[0])
}

/// [`linear_probe`] for several label sets on the same features (the task and its
/// control), standardizing and holding the features once.
pub fn linear_probes(
    mut train_x: Tensor<f32>,
    mut test_x: Tensor<f32>,
    labels: &[(&[usize], &[usize])],
    classes: usize,
    cfg: &ProbeConfig,
) -> Result<Vec<ProbeScores>> {
    let f = train_x.len() / train_x.shape()[0].max(1);
    if train_x.shape().len() != 2 || test_x.shape().len() != 2 || test_x.shape()[1] != f {
        return invalid(format!(
            "probe: features must be [N, F] for both sets, got {:?} and {:?}",
            train_x.shape(),
            test_x.shape()
        ));
    }
    for (train_y, test_y) in labels {
        if train_y.len() != train_x.shape()[0] || test_y.len() != test_x.shape()[0] {
            return invalid("probe: one label per example");
        }
        if let Some(&bad) = train_y.iter().chain(test_y.iter()).find(|&&y| y >= classes) {
            return invalid(format!("probe: label {bad} with {classes} classes"));
        }
    }
    let tc = crate::fit::TrainConfig {
        epochs: cfg.epochs,
        batch: cfg.batch,
        lr: cfg.lr,
        seed: cfg.seed,
        optimizer: Default::default(),
    };
    tc.validate()?;
    standardize(&mut train_x, &mut test_x);
    let names: Vec<String> = (0..classes).map(|c| c.to_string()).collect();
    let set = |x: Tensor<f32>| Dataset {
        names: Vec::new(),
        x,
        y: Vec::new(),
        classes: names.clone(),
    };
    let (mut train, mut test) = (set(train_x), set(test_x));
    let arch = Arch::from_name(&format!("seq:linear({f},{classes})"))?;
    let mut out = Vec::new();
    for (train_y, test_y) in labels {
        train.y = train_y.to_vec();
        test.y = test_y.to_vec();
        let mut probe = Model::<f32>::init(arch.clone(), cfg.seed);
        fit_observed(
            &mut probe,
            &train,
            None,
            &tc,
            &mut std::io::sink(),
            &mut Quiet,
        )?;
        out.push(ProbeScores {
            train_accuracy: evaluate(&probe, &train)?.accuracy,
            test_accuracy: evaluate(&probe, &test)?.accuracy,
        });
    }
    Ok(out)
}

/// Random labels per k-means cluster of the pixels: the control task.
#[derive(Clone, Debug)]
pub struct ControlTask {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
    pub clusters: usize,
}

/// Clusters the training examples' pixels into `k` groups (k-means, 20 rounds), gives
/// each group a uniformly random label among `classes`, and labels the test examples by
/// their nearest centroid.
pub fn control_task(
    train: &Dataset,
    test: &Dataset,
    k: usize,
    classes: usize,
    seed: u64,
) -> Result<ControlTask> {
    let (x, _, d) = rows_f64(&train.x);
    let km = kmeans(&x, d, k.min(train.len()), seed, 20)?;
    let mut rng = StdRng::seed_from_u64(seed ^ 0x0C04_7201);
    let label: Vec<usize> = (0..km.k).map(|_| rng.gen_range(0..classes)).collect();
    let (tx, _, _) = rows_f64(&test.x);
    let (near, _) = assign(&tx, d, &km.centroids);
    Ok(ControlTask {
        train: km.labels.iter().map(|&c| label[c]).collect(),
        test: near.iter().map(|&c| label[c]).collect(),
        clusters: km.k,
    })
}

/// One layer's probe results.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeRow {
    pub layer: String,
    pub features: usize,
    pub accuracy: f64,
    pub train_accuracy: f64,
    /// The same probe on the same layer of the untrained network.
    pub untrained: f64,
    /// Test accuracy on the control task.
    pub control: f64,
    /// `accuracy − control`.
    pub selectivity: f64,
}

/// Probes `layers` of `model` (and of its untrained twin, and on the control task),
/// training on `train` and testing on `test`; `tick(i)` after each layer.
pub fn probe_layers(
    model: &Model<f32>,
    train: &Dataset,
    test: &Dataset,
    layers: &[String],
    control: &ControlTask,
    cfg: &ProbeConfig,
    mut tick: impl FnMut(usize),
) -> Result<Vec<ProbeRow>> {
    super::layers::check_layers(&model.arch, layers)?;
    if train.is_empty() || test.is_empty() {
        return invalid("probe: the training and test sets must not be empty");
    }
    let classes = model.arch.num_classes();
    let untrained = Model::<f32>::init(model.arch.clone(), cfg.seed);
    let mut rows = Vec::new();
    for (i, layer) in layers.iter().enumerate() {
        let feats = |m: &Model<f32>, d: &Dataset| features(m, &d.x, layer);
        let (tr, te) = (feats(model, train)?, feats(model, test)?);
        let features = tr.shape()[1];
        let tasks: [(&[usize], &[usize]); 2] =
            [(&train.y, &test.y), (&control.train, &control.test)];
        let [real, ctrl] = linear_probes(tr, te, &tasks, classes, cfg)?[..] else {
            unreachable!("two label sets give two probes")
        };
        let raw = linear_probe(
            feats(&untrained, train)?,
            &train.y,
            feats(&untrained, test)?,
            &test.y,
            classes,
            cfg,
        )?;
        rows.push(ProbeRow {
            layer: layer.clone(),
            features,
            accuracy: real.test_accuracy,
            train_accuracy: real.train_accuracy,
            untrained: raw.test_accuracy,
            control: ctrl.test_accuracy,
            selectivity: real.test_accuracy - ctrl.test_accuracy,
        });
        tick(i + 1);
    }
    Ok(rows)
}
