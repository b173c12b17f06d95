//! Tree regularization (Wu, Hughes, Parbhoo, Zazzi, Roth, Doshi-Velez; AAAI 2018).
//!
//! *Question:* can we train a deep model so that a small decision tree simulates it
//! well, trading a little accuracy for a model a person can follow?
//!
//! `Ω(W)` = average path length (decision nodes visited, [`AplDefinition::DecisionNodes`])
//! of a CART tree fit to the model's thresholded predictions on the training inputs.
//! `Ω` is not differentiable, so a surrogate MLP `Ω̂(W)` (one hidden layer of 25 tanh
//! units, softplus output, input = the model's flattened parameters) is fit by squared
//! error plus a small L2 penalty to pairs `(W, Ω(W))` collected during training (the
//! recent weights and random perturbations of them), and the model minimizes
//! `loss(W) + λ·Ω̂(W)`, the gradient flowing through the surrogate. The surrogate is
//! re-fit every `retrain_every` iterations (paper: 25), warm-started or, as in the
//! authors' code, re-initialized ([`TreeRegConfig::fresh_surrogate`]), its output scaled
//! by the pairs' mean APL ([`Surrogate::scale`]). [`TreeRegConfig::hmm_authors`] follows
//! the authors' code: the loss summed over the minibatch, their APL (the mean leaf index)
//! as the surrogate's target. Baselines: L1 and L2 penalties swept over strength, and a
//! decision tree fit to the true labels swept over `min_samples_leaf`.
//!
//! Pinned by the tests below (the regularized loss passes a gradient check in both
//! configurations, runs are deterministic, a strong penalty shortens the tree) and by
//! `lamppost treereg --task hmm --protocol authors --seeds 5`, whose budget frontiers and
//! verdicts (`super::budget`) test the paper's claim; the README gives the numbers.

use super::datasets::SeqData;
use super::roc_auc;
use super::tree::{AplDefinition, DecisionTree, TreeParams};
use crate::autodiff::{Tape, Var};
use crate::error::{Result, invalid};
use crate::nn::gru::{GruParams, gru};
use crate::optim::penalty::{l1_penalty, l2_penalty};
use crate::optim::{Adam, Optimizer};
use crate::tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// Which penalty is added to the loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Regularizer {
    Tree,
    L1,
    L2,
}

impl Regularizer {
    pub fn name(self) -> &'static str {
        match self {
            Regularizer::Tree => "tree",
            Regularizer::L1 => "l1",
            Regularizer::L2 => "l2",
        }
    }
}

/// How the task loss enters the objective.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossScale {
    /// Mean binary cross-entropy over the minibatch's steps.
    Mean,
    /// Summed negative log-likelihood over the minibatch's steps (the authors' code).
    /// With Adam this only rescales λ: `Sum` at λ is `Mean` at λ / steps.
    Sum,
}

/// Which parameters the L1 and L2 baselines penalize.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PenaltySet {
    /// Every parameter, biases included (the authors' flat weight vector, whose GRU folds
    /// the biases into its input weights, and what the tree surrogate sees).
    All,
    /// The weight matrices only (the usual weight decay).
    Weights,
}

impl PenaltySet {
    pub fn parse(s: &str) -> Result<PenaltySet> {
        match s {
            "all" => Ok(PenaltySet::All),
            "weights" => Ok(PenaltySet::Weights),
            _ => invalid(format!("unknown penalty set '{s}': use all or weights")),
        }
    }
    pub fn describe(self) -> &'static str {
        match self {
            PenaltySet::All => "L1/L2 on every parameter",
            PenaltySet::Weights => "L1/L2 on the weight matrices, not the biases",
        }
    }
}

/// The deep model: a GRU with a per-step logistic output, or a one-hidden-layer MLP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetKind {
    Gru { hidden: usize },
    Mlp { hidden: usize },
}

/// A model and its parameters (f64).
#[derive(Clone, Debug, PartialEq)]
pub struct Net {
    pub kind: NetKind,
    pub input: usize,
    pub params: Vec<Tensor<f64>>,
}

impl Net {
    /// PyTorch-style uniform initialization, seeded.
    pub fn init(kind: NetKind, input: usize, seed: u64) -> Net {
        let mut rng = StdRng::seed_from_u64(seed);
        let u = |shape: &[usize], fan: usize, rng: &mut StdRng| {
            crate::nn::init::fan_in_uniform(shape, fan, rng)
        };
        let params = match kind {
            NetKind::Gru { hidden: h } => vec![
                u(&[3 * h, input], h, &mut rng),
                u(&[3 * h, h], h, &mut rng),
                u(&[3 * h], h, &mut rng),
                u(&[3 * h], h, &mut rng),
                u(&[1, h], h, &mut rng),
                u(&[1], h, &mut rng),
            ],
            NetKind::Mlp { hidden: h } => {
                vec![
                    u(&[h, input], input, &mut rng),
                    u(&[h], input, &mut rng),
                    u(&[1, h], h, &mut rng),
                    u(&[1], h, &mut rng),
                ]
            }
        };
        Net {
            kind,
            input,
            params,
        }
    }

    /// The weight matrices (not the biases), for [`PenaltySet::Weights`].
    fn weight_indices(&self) -> &'static [usize] {
        match self.kind {
            NetKind::Gru { .. } => &[0, 1, 4],
            NetKind::Mlp { .. } => &[0, 2],
        }
    }

    pub fn num_params(&self) -> usize {
        self.params.iter().map(Tensor::len).sum()
    }

    /// One logit per step, `[n·t]` in (sequence, step) order.
    pub fn logits(&self, tape: &mut Tape<f64>, x: Var, p: &[Var]) -> Result<Var> {
        match self.kind {
            NetKind::Gru { hidden } => {
                let n = tape.shape(x)[0];
                let states = gru(
                    tape,
                    x,
                    GruParams {
                        w_ih: p[0],
                        w_hh: p[1],
                        b_ih: p[2],
                        b_hh: p[3],
                    },
                )?;
                let t = states.len();
                let all = tape.concat(&states, 1)?; // [n, t·h]: row n holds h₁ … h_t
                let all = tape.reshape(all, &[n * t, hidden])?;
                let out = tape.matmul_nt(all, p[4])?;
                let out = tape.add(out, p[5])?;
                tape.reshape(out, &[n * t])
            }
            NetKind::Mlp { .. } => {
                let s = tape.shape(x).to_vec();
                let flat = tape.reshape(x, &[s[0] * s[1], s[2]])?;
                let h = crate::nn::linear::linear(tape, flat, p[0], p[1])?;
                let h = tape.tanh(h);
                let out = crate::nn::linear::linear(tape, h, p[2], p[3])?;
                tape.reshape(out, &[s[0] * s[1]])
            }
        }
    }

    /// P(y = 1) for every step of every sequence.
    pub fn predict_proba(&self, data: &SeqData) -> Result<Vec<f64>> {
        let mut tape = Tape::no_grad();
        let x = tape.constant(Tensor::new(&[data.n, data.t, data.d], data.x.clone())?);
        let p: Vec<Var> = self
            .params
            .iter()
            .map(|t| tape.constant(t.clone()))
            .collect();
        let l = self.logits(&mut tape, x, &p)?;
        Ok(tape
            .value(l)
            .data()
            .iter()
            .map(|&v| crate::float::Float::sigmoid(v))
            .collect())
    }

    pub fn flat(&self) -> Vec<f64> {
        self.params
            .iter()
            .flat_map(|t| t.data().iter().copied())
            .collect()
    }

    pub fn with_flat(&self, v: &[f64]) -> Result<Net> {
        let mut out = self.clone();
        let mut off = 0;
        for t in &mut out.params {
            let n = t.len();
            t.data_mut().copy_from_slice(&v[off..off + n]);
            off += n;
        }
        Ok(out)
    }
}

/// `Ω(W)`: fits a tree to the thresholded predictions on `data`'s steps and returns its
/// average path length (by `def`) on the same inputs, with the tree.
pub fn tree_of_net(
    net: &Net,
    data: &SeqData,
    min_samples_leaf: usize,
    def: AplDefinition,
) -> Result<(f64, DecisionTree)> {
    let pred: Vec<usize> = net
        .predict_proba(data)?
        .iter()
        .map(|&p| usize::from(p > 0.5))
        .collect();
    let params = TreeParams {
        min_samples_leaf,
        ..TreeParams::default()
    };
    let tree = DecisionTree::fit(&data.x, data.d, &pred, 2, &params)?;
    Ok((tree.average_path_length(&data.x, def)?, tree))
}

/// The surrogate `Ω̂`: flattened parameters → 25 tanh units → softplus.
#[derive(Clone, Debug, PartialEq)]
pub struct Surrogate {
    pub params: Vec<Tensor<f64>>,
    /// `Ω̂ = scale · softplus(·)`, `scale` the mean APL of the pairs last fitted, so the
    /// softplus works near 1 whatever the APL's units. Without it, a strong penalty pushed
    /// the weights where the softplus was flat: the surrogate's gradient fell to 1e-14 and
    /// the penalty stopped acting (2 of 5 seeds of the HMM at λ = 3000).
    pub scale: f64,
}

/// `softplus(z) = relu(z) + ln(1 + e^{−|z|})`, from ops.
fn softplus(tape: &mut Tape<f64>, z: Var) -> Result<Var> {
    let r = tape.relu(z);
    let a = tape.abs(z);
    let na = tape.neg(a);
    let e = tape.exp(na);
    let one = tape.constant(Tensor::scalar(1.0));
    let s = tape.add(e, one)?;
    let l = tape.log(s);
    tape.add(r, l)
}

impl Surrogate {
    pub fn new(inputs: usize, hidden: usize, seed: u64) -> Surrogate {
        let mut rng = StdRng::seed_from_u64(seed);
        let u = |shape: &[usize], fan: usize, rng: &mut StdRng| {
            crate::nn::init::fan_in_uniform(shape, fan, rng)
        };
        Surrogate {
            scale: 1.0,
            params: vec![
                u(&[hidden, inputs], inputs, &mut rng),
                u(&[hidden], inputs, &mut rng),
                u(&[1, hidden], hidden, &mut rng),
                u(&[1], hidden, &mut rng),
            ],
        }
    }

    /// `Ω̂` of each row of `w` (`[k, P]`): `[k]`.
    pub fn forward(&self, tape: &mut Tape<f64>, w: Var, p: &[Var]) -> Result<Var> {
        let h = crate::nn::linear::linear(tape, w, p[0], p[1])?;
        let h = tape.tanh(h);
        let o = crate::nn::linear::linear(tape, h, p[2], p[3])?;
        let o = softplus(tape, o)?;
        let scale = tape.constant(Tensor::scalar(self.scale));
        let o = tape.mul(o, scale)?;
        let k = tape.shape(o)[0];
        tape.reshape(o, &[k])
    }

    /// Fits to `(weights, apl)` pairs by mean squared error (in units of `scale`, set
    /// here to the pairs' mean APL) + `l2·Σw²`, from the current parameters.
    pub fn fit(
        &mut self,
        ws: &[Vec<f64>],
        apls: &[f64],
        iters: usize,
        lr: f64,
        l2: f64,
    ) -> Result<f64> {
        if ws.is_empty() {
            return invalid("no (weights, APL) pairs to fit the surrogate to");
        }
        let pdim = ws[0].len();
        self.scale = (apls.iter().sum::<f64>() / apls.len() as f64).max(1e-3);
        let x = Tensor::new(&[ws.len(), pdim], ws.concat())?;
        let y = Tensor::new(&[apls.len()], apls.iter().map(|a| a / self.scale).collect())?;
        let mut opt = Adam::new(lr);
        let mut last = f64::NAN;
        for _ in 0..iters {
            let mut tape = Tape::new();
            let xv = tape.constant(x.clone());
            let yv = tape.constant(y.clone());
            let p: Vec<Var> = self.params.iter().map(|t| tape.leaf(t.clone())).collect();
            let pred = self.forward(&mut tape, xv, &p)?;
            let unit = tape.constant(Tensor::scalar(1.0 / self.scale));
            let pred = tape.mul(pred, unit)?;
            let mse = tape.mse(pred, yv)?;
            last = tape.value(mse).item()?;
            let pen = l2_penalty(&mut tape, &[p[0], p[2]])?;
            let c = tape.constant(Tensor::scalar(l2));
            let pen = tape.mul(pen, c)?;
            let loss = tape.add(mse, pen)?;
            let mut g = tape.backward(loss)?;
            let grads: Vec<Tensor<f64>> = p.iter().map(|&v| g.take(v)).collect();
            opt.step(&mut self.params.iter_mut().collect::<Vec<_>>(), &grads)?;
        }
        Ok(last)
    }
}

/// Settings of one training run.
#[derive(Clone, Debug, PartialEq)]
pub struct TreeRegConfig {
    pub iters: usize,
    /// Sequences per minibatch.
    pub batch: usize,
    pub lr: f64,
    pub retrain_every: usize,
    /// Random perturbations of the current weights added at each surrogate re-fit.
    pub perturbations: usize,
    /// Relative size of those perturbations (times the weights' RMS).
    pub perturb_scale: f64,
    /// Most recent (W, APL) pairs kept for the surrogate.
    pub keep_pairs: usize,
    pub surrogate_iters: usize,
    pub min_samples_leaf: usize,
    pub loss_scale: LossScale,
    pub penalize: PenaltySet,
    /// The APL the surrogate learns and the penalty uses.
    pub target: AplDefinition,
    /// Re-initialize the surrogate (seeded) before each re-fit, as the authors' code
    /// does, instead of warm-starting it.
    pub fresh_surrogate: bool,
}

impl TreeRegConfig {
    /// The paper's HMM settings (its public code: 300 iterations, batch 10, Adam 1e-2,
    /// re-fit every 25 iterations, trees with min_samples_leaf = 25).
    pub fn hmm() -> TreeRegConfig {
        TreeRegConfig {
            iters: 300,
            batch: 10,
            lr: 1e-2,
            retrain_every: 25,
            perturbations: 10,
            perturb_scale: 0.1,
            keep_pairs: 250,
            surrogate_iters: 300,
            min_samples_leaf: 25,
            loss_scale: LossScale::Mean,
            penalize: PenaltySet::All,
            target: AplDefinition::DecisionNodes,
            fresh_surrogate: false,
        }
    }
    /// The HMM settings as the authors' code has them: the negative log-likelihood summed
    /// over the minibatch, the surrogate fit to the mean leaf index (their APL) and
    /// re-initialized at every re-fit, L1/L2 on their flat parameter vector (all
    /// parameters).
    pub fn hmm_authors() -> TreeRegConfig {
        TreeRegConfig {
            loss_scale: LossScale::Sum,
            target: AplDefinition::LeafIndex,
            fresh_surrogate: true,
            ..TreeRegConfig::hmm()
        }
    }
    pub fn parabola() -> TreeRegConfig {
        TreeRegConfig {
            iters: 500,
            batch: 350,
            lr: 1e-2,
            retrain_every: 25,
            perturbations: 10,
            perturb_scale: 0.1,
            keep_pairs: 250,
            surrogate_iters: 300,
            min_samples_leaf: 5,
            loss_scale: LossScale::Mean,
            penalize: PenaltySet::All,
            target: AplDefinition::DecisionNodes,
            fresh_surrogate: false,
        }
    }
    /// The parabola settings with the authors' loss scale and APL (see [`Self::hmm_authors`]).
    pub fn parabola_authors() -> TreeRegConfig {
        TreeRegConfig {
            loss_scale: LossScale::Sum,
            target: AplDefinition::LeafIndex,
            fresh_surrogate: true,
            ..TreeRegConfig::parabola()
        }
    }
}

/// One point of the AUC-versus-APL figure: one row of a sweep's results.csv.
#[derive(Clone, Debug, PartialEq)]
pub struct RunPoint {
    pub method: String,
    pub strength: f64,
    /// The seed of the data split and of the model's initialization.
    pub seed: u64,
    /// Decision nodes visited, averaged over the training steps (the paper's APL).
    pub apl: f64,
    /// The same tree's APL as the authors' code computes it (mean leaf index).
    pub apl_leaf_index: f64,
    pub test_auc: f64,
}

/// A run: its point, the tree that mimics it and the trained model (none for the trees
/// fit to the labels).
#[derive(Clone, Debug, PartialEq)]
pub struct RunResult {
    pub point: RunPoint,
    pub tree: DecisionTree,
    pub net: Option<Net>,
}

impl std::ops::Deref for RunResult {
    type Target = RunPoint;
    fn deref(&self) -> &RunPoint {
        &self.point
    }
}

/// The task's loss on a minibatch (scaled as `cfg.loss_scale`) plus the chosen penalty
/// (L1/L2 over `cfg.penalize`); returns the loss var.
#[allow(clippy::too_many_arguments)]
pub fn regularized_loss(
    tape: &mut Tape<f64>,
    net: &Net,
    x: Var,
    y: Var,
    p: &[Var],
    reg: Regularizer,
    strength: f64,
    surrogate: Option<(&Surrogate, &[Var])>,
    cfg: &TreeRegConfig,
) -> Result<Var> {
    let logits = net.logits(tape, x, p)?;
    let mut loss = tape.bce_with_logits(logits, y)?;
    if cfg.loss_scale == LossScale::Sum {
        let steps = tape.constant(Tensor::scalar(tape.value(logits).len() as f64));
        loss = tape.mul(loss, steps)?;
    }
    let penalized: Vec<Var> = match cfg.penalize {
        PenaltySet::All => p.to_vec(),
        PenaltySet::Weights => net.weight_indices().iter().map(|&i| p[i]).collect(),
    };
    let penalty = match (reg, surrogate) {
        (Regularizer::L1, _) => Some(l1_penalty(tape, &penalized)?),
        (Regularizer::L2, _) => Some(l2_penalty(tape, &penalized)?),
        (Regularizer::Tree, Some((s, sp))) => {
            let rows: Vec<Var> = p
                .iter()
                .map(|&v| {
                    let n = tape.value(v).len();
                    tape.reshape(v, &[1, n])
                })
                .collect::<Result<_>>()?;
            let w = tape.concat(&rows, 1)?;
            let omega = s.forward(tape, w, sp)?;
            Some(tape.sum_all(omega))
        }
        (Regularizer::Tree, None) => None,
    };
    match penalty {
        None => Ok(loss),
        Some(pen) => {
            let c = tape.constant(Tensor::scalar(strength));
            let pen = tape.mul(pen, c)?;
            tape.add(loss, pen)
        }
    }
}

fn rms(v: &[f64]) -> f64 {
    (v.iter().map(|x| x * x).sum::<f64>() / v.len().max(1) as f64).sqrt()
}

/// Trains one model with one regularizer at one strength, and measures it.
pub fn train_run(
    kind: NetKind,
    train: &SeqData,
    test: &SeqData,
    reg: Regularizer,
    strength: f64,
    cfg: &TreeRegConfig,
    seed: u64,
) -> Result<RunResult> {
    let mut net = Net::init(kind, train.d, seed);
    let mut rng = StdRng::seed_from_u64(seed ^ 0xA5A5);
    let mut opt = Adam::new(cfg.lr);
    let mut surrogate = Surrogate::new(net.num_params(), 25, seed ^ 0x5A5A);
    let mut fitted = false;
    let (mut pair_w, mut pair_apl): (Vec<Vec<f64>>, Vec<f64>) = (Vec::new(), Vec::new());
    let mut recent: Vec<Vec<f64>> = Vec::new();
    let mut order: Vec<usize> = (0..train.n).collect();
    let batches = train.n.div_ceil(cfg.batch.max(1));
    for it in 0..cfg.iters {
        if it % batches == 0 {
            order.shuffle(&mut rng);
        }
        let b = it % batches;
        let idx = &order[b * cfg.batch..((b + 1) * cfg.batch).min(train.n)];
        let mb = train.subset(idx);
        let mut tape = Tape::new();
        let x = tape.constant(Tensor::new(&[mb.n, mb.t, mb.d], mb.x)?);
        let y = tape.constant(Tensor::new(
            &[mb.n * mb.t],
            mb.y.iter().map(|&v| f64::from(u8::from(v))).collect(),
        )?);
        let p: Vec<Var> = net.params.iter().map(|t| tape.leaf(t.clone())).collect();
        let sp: Vec<Var> = surrogate
            .params
            .iter()
            .map(|t| tape.constant(t.clone()))
            .collect();
        let sur = (reg == Regularizer::Tree && fitted).then_some((&surrogate, sp.as_slice()));
        let loss = regularized_loss(&mut tape, &net, x, y, &p, reg, strength, sur, cfg)?;
        let mut g = tape.backward(loss)?;
        let grads: Vec<Tensor<f64>> = p.iter().map(|&v| g.take(v)).collect();
        opt.step(&mut net.params.iter_mut().collect::<Vec<_>>(), &grads)?;
        if reg != Regularizer::Tree {
            continue;
        }
        recent.push(net.flat());
        if (it + 1) % cfg.retrain_every == 0 {
            // the surrogate's data: a few recent weights and perturbations of the current ones
            let cur = net.flat();
            let scale = cfg.perturb_scale * rms(&cur);
            let mut batch_w: Vec<Vec<f64>> = recent.iter().step_by(5).cloned().collect();
            for _ in 0..cfg.perturbations {
                let noise = Tensor::<f64>::randn(&[cur.len()], scale, &mut rng);
                batch_w.push(cur.iter().zip(noise.data()).map(|(a, b)| a + b).collect());
            }
            for w in batch_w {
                let (apl, _) =
                    tree_of_net(&net.with_flat(&w)?, train, cfg.min_samples_leaf, cfg.target)?;
                pair_w.push(w);
                pair_apl.push(apl);
            }
            let drop = pair_w.len().saturating_sub(cfg.keep_pairs);
            pair_w.drain(..drop);
            pair_apl.drain(..drop);
            if cfg.fresh_surrogate {
                let k = ((it + 1) / cfg.retrain_every) as u64;
                surrogate = Surrogate::new(net.num_params(), 25, seed ^ 0x5A5A ^ (k << 32));
            }
            surrogate.fit(&pair_w, &pair_apl, cfg.surrogate_iters, 1e-3, 1e-4)?;
            fitted = true;
            recent.clear();
        }
    }
    let (apl, tree) = tree_of_net(
        &net,
        train,
        cfg.min_samples_leaf,
        AplDefinition::DecisionNodes,
    )?;
    let apl_leaf_index = leaf_index_apl(&tree, train)?;
    let test_auc = roc_auc(&net.predict_proba(test)?, &test.y).unwrap_or(f64::NAN);
    Ok(RunResult {
        point: RunPoint {
            method: reg.name().into(),
            strength,
            seed,
            apl,
            apl_leaf_index,
            test_auc,
        },
        tree,
        net: Some(net),
    })
}

/// The APL the authors' code reports (mean leaf index) on the training steps.
fn leaf_index_apl(tree: &DecisionTree, train: &SeqData) -> Result<f64> {
    tree.average_path_length(&train.x, AplDefinition::LeafIndex)
}

/// The baseline: a decision tree fit to the true labels.
pub fn tree_baseline(
    train: &SeqData,
    test: &SeqData,
    min_samples_leaf: usize,
    seed: u64,
) -> Result<RunResult> {
    let y: Vec<usize> = train.y.iter().map(|&v| usize::from(v)).collect();
    let tree = DecisionTree::fit(
        &train.x,
        train.d,
        &y,
        2,
        &TreeParams {
            min_samples_leaf,
            ..TreeParams::default()
        },
    )?;
    let apl = tree.average_path_length(&train.x, AplDefinition::DecisionNodes)?;
    let apl_leaf_index = leaf_index_apl(&tree, train)?;
    let scores: Vec<f64> = test
        .x
        .chunks(test.d)
        .map(|s| tree.predict_proba(s)[1])
        .collect();
    let test_auc = roc_auc(&scores, &test.y).unwrap_or(f64::NAN);
    Ok(RunResult {
        point: RunPoint {
            method: "decision-tree".into(),
            strength: min_samples_leaf as f64,
            seed,
            apl,
            apl_leaf_index,
            test_auc,
        },
        tree,
        net: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autodiff::gradcheck::assert_gradcheck;
    use crate::explain::surrogate::datasets::{parabola, signal_noise_hmm};

    #[test]
    fn surrogate_regularized_loss_passes_gradcheck() {
        let data = signal_noise_hmm(2, 4, 3);
        let net = Net::init(NetKind::Gru { hidden: 3 }, 14, 1);
        let sur = Surrogate::new(net.num_params(), 5, 2);
        let x = Tensor::new(&[2, 4, 14], data.x.clone()).unwrap();
        let y = Tensor::new(
            &[8],
            data.y.iter().map(|&v| f64::from(u8::from(v))).collect(),
        )
        .unwrap();
        let authors = TreeRegConfig {
            penalize: PenaltySet::Weights,
            ..TreeRegConfig::hmm_authors()
        };
        for cfg in [TreeRegConfig::hmm(), authors] {
            for reg in [Regularizer::Tree, Regularizer::L1, Regularizer::L2] {
                assert_gradcheck(
                    |t, v| {
                        let (xv, yv) = (t.constant(x.clone()), t.constant(y.clone()));
                        let sp: Vec<Var> =
                            sur.params.iter().map(|p| t.constant(p.clone())).collect();
                        regularized_loss(t, &net, xv, yv, v, reg, 0.7, Some((&sur, &sp)), &cfg)
                    },
                    &net.params,
                );
            }
        }
    }

    #[test]
    fn tree_regularized_training_is_deterministic_and_changes_the_model() {
        let all = parabola(120, 1);
        let (train, test) = (
            all.subset(&(0..80).collect::<Vec<_>>()),
            all.subset(&(80..120).collect::<Vec<_>>()),
        );
        let cfg = TreeRegConfig {
            iters: 60,
            batch: 80,
            retrain_every: 20,
            perturbations: 4,
            surrogate_iters: 30,
            ..TreeRegConfig::parabola()
        };
        let kind = NetKind::Mlp { hidden: 8 };
        let a = train_run(kind, &train, &test, Regularizer::Tree, 0.5, &cfg, 7).unwrap();
        let b = train_run(kind, &train, &test, Regularizer::Tree, 0.5, &cfg, 7).unwrap();
        assert_eq!(a, b);
        let plain = train_run(kind, &train, &test, Regularizer::Tree, 0.0, &cfg, 7).unwrap();
        assert_ne!(
            a.net, plain.net,
            "the surrogate penalty must change the weights"
        );
        assert!(a.test_auc > 0.6, "{}", a.test_auc);
    }

    #[test]
    fn a_strong_tree_penalty_shortens_the_mimicking_tree() {
        let all = parabola(200, 2);
        let (train, test) = (
            all.subset(&(0..140).collect::<Vec<_>>()),
            all.subset(&(140..200).collect::<Vec<_>>()),
        );
        let cfg = TreeRegConfig {
            batch: 140,
            ..TreeRegConfig::parabola_authors()
        };
        let kind = NetKind::Mlp { hidden: 20 };
        let run = |s: f64| train_run(kind, &train, &test, Regularizer::Tree, s, &cfg, 3).unwrap();
        let (plain, strong) = (run(0.0), run(1000.0));
        assert!(
            strong.apl_leaf_index < 0.5 * plain.apl_leaf_index,
            "APL (leaf index) {} with λ = 1000 against {} without",
            strong.apl_leaf_index,
            plain.apl_leaf_index
        );
    }
}
