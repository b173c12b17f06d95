//! The label-noise experiment: can the training data tell which labels are wrong?
//!
//! **Question.** After a fraction of the training labels were changed to another class
//! at random, which of the training-data scores ranks the changed ones first?
//!
//! **Setup.** mnist-cnn (its reference training settings, `epochs` epochs) trained on
//! `train` after [`inject_label_noise`] flipped `fraction` of the labels (seeded), every
//! presentation recorded before its update and the weights kept at two evenly spaced
//! epochs. Seven scores, larger = more suspect: `1 − confidence`, variability and
//! `1 − correctness` from the data map (Swayamdipta et al. 2020), the forgetting count
//! (Toneva et al. 2019), InterpretDL's TIDY score, last-layer self-influence (Koh &
//! Liang 2017, exact Hessian, damping 0.01) and TracIn self-influence on the last layer
//! (Pruthi et al. 2020). Each is judged by its AUROC for "label was flipped".
//!
//! **Pinned by** `tests/training_data.rs::flipped_labels_have_low_confidence` (10 000
//! digits, 5% flipped: the AUROC of `1 − confidence` is at least 0.95, the issue's
//! target); the tour's chapter "Which training examples?" shows the whole table.

use super::datamap::{MapPoint, data_map};
use super::forgetting::{Forgetting, forgetting_of};
use super::influence::{InverseHvp, Solver, self_influence};
use super::objective::{Objective, SoftmaxRegression, last_layer};
use super::record::{Kept, Record, Recorder, checkpoint_epochs};
use super::tidy::tidy;
use super::tracin::tracin_self;
use crate::data::Dataset;
use crate::data::inject_label_noise;
use crate::data::source::Loaded;
use crate::error::Result;
use crate::explain::surrogate::roc_auc;
use crate::fit::{Trained, train_new};
use crate::nn::Arch;
use crate::profile::Profile;

/// One score of the training examples (larger = more suspect).
#[derive(Clone, Debug)]
pub struct Finder {
    pub name: &'static str,
    pub scores: Vec<f64>,
}

impl Finder {
    /// The AUROC of the score for `flipped` (NaN when all or none are flipped).
    pub fn auroc(&self, flipped: &[bool]) -> f64 {
        roc_auc(&self.scores, flipped).unwrap_or(f64::NAN)
    }

    /// How many of the top-ranked examples, as many as there are flipped labels, were
    /// flipped (ties broken by index).
    pub fn hits(&self, flipped: &[bool]) -> usize {
        let k = flipped.iter().filter(|&&f| f).count();
        let mut order: Vec<usize> = (0..self.scores.len()).collect();
        order.sort_by(|&a, &b| self.scores[b].total_cmp(&self.scores[a]).then(a.cmp(&b)));
        order[..k].iter().filter(|&&i| flipped[i]).count()
    }
}

/// Everything one run of the experiment made.
pub struct NoiseRun {
    /// The training set with the flipped labels, and the test set.
    pub data: Loaded,
    /// The original label of each flipped example.
    pub was: Vec<Option<usize>>,
    pub flipped: Vec<bool>,
    pub epochs: usize,
    pub trained: Trained,
    pub record: Record,
    pub kept: Vec<Kept>,
    pub map: Vec<MapPoint>,
    pub forgetting: Vec<Forgetting>,
    /// The last layer as a softmax regression on its features, and its name.
    pub last: (SoftmaxRegression, String),
    /// The seven scores, in the order of the module documentation.
    pub finders: Vec<Finder>,
}

/// Runs the experiment (see the module documentation).
pub fn label_noise(
    train: &Dataset,
    test: &Dataset,
    epochs: usize,
    fraction: f64,
) -> Result<NoiseRun> {
    let arch = Arch::from_name("mnist-cnn")?;
    let mut cfg = Profile::of(&arch).train;
    cfg.epochs = epochs;
    let mut noisy = train.clone();
    let n = noisy.len();
    let changed = inject_label_noise(&mut noisy.y, noisy.classes.len(), fraction, cfg.seed)?;
    let mut flipped = vec![false; n];
    let mut was = vec![None; n];
    for &(i, orig) in &changed {
        flipped[i] = true;
        was[i] = Some(orig);
    }
    let data = Loaded {
        train: noisy,
        test: test.clone(),
        report: None,
    };
    let mut recorder = Recorder::new(epochs, n, checkpoint_epochs(2.min(epochs), epochs)?);
    let trained = train_new(arch, &data, &cfg, &mut std::io::sink(), &mut recorder)?;
    let (record, kept) =
        recorder.finish(&trained.model, "label noise", |e| format!("epoch {e}"))?;
    let noisy = &data.train;
    let map = data_map(&record);
    let forgetting = forgetting_of(&record);
    let (tidy_scores, _) = tidy(&record);
    let (reg, layer) = last_layer(&trained.model, &noisy.x, noisy.y.clone(), 0.0)?;
    let self_inf = {
        let inv = InverseHvp::new(&reg, 0.01, Solver::Explicit)?;
        self_influence(&inv, &(0..n).collect::<Vec<_>>())?
    };
    let objs = kept
        .iter()
        .map(|(_, lr, m)| Ok((*lr, last_layer(m, &noisy.x, noisy.y.clone(), 0.0)?.0)))
        .collect::<Result<Vec<_>>>()?;
    let pairs: Vec<(f64, &dyn Objective)> = objs
        .iter()
        .map(|(lr, o)| (*lr, o as &dyn Objective))
        .collect();
    let finders = vec![
        Finder {
            name: "1 − confidence (data map)",
            scores: map.iter().map(|p| 1.0 - p.confidence).collect(),
        },
        Finder {
            name: "variability (data map)",
            scores: map.iter().map(|p| p.variability).collect(),
        },
        Finder {
            name: "1 − correctness (data map)",
            scores: map.iter().map(|p| 1.0 - p.correctness).collect(),
        },
        Finder {
            name: "forgetting events (Toneva)",
            scores: forgetting.iter().map(|f| f.count as f64).collect(),
        },
        Finder {
            name: "TIDY score (InterpretDL)",
            scores: tidy_scores,
        },
        Finder {
            name: "self-influence, last layer (Koh & Liang)",
            scores: self_inf,
        },
        Finder {
            name: "TracIn self-influence, last layer",
            scores: tracin_self(&pairs)?,
        },
    ];
    Ok(NoiseRun {
        data,
        was,
        flipped,
        epochs,
        trained,
        record,
        kept,
        map,
        forgetting,
        last: (reg, layer),
        finders,
    })
}
