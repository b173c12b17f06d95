//! `lamppost reproduce influence-cnn`: Koh & Liang's check that influence functions
//! predict leave-one-out retraining on a non-convex model (their Figure 2, middle),
//! scaled to two cores.
//!
//! A small GAP-CNN with tanh activations (smooth, so the loss has a Hessian everywhere)
//! is trained in float64 on the first `--train-n` MNIST digits (5500 as in the paper) by
//! SGD (rate 0.1, momentum 0.9, weight decay λ = 0.001) to `θ̂`. For the test digit of the
//! first 100 that the model finds hardest (or `--test-index`), the influence of every
//! training digit is computed over every parameter with conjugate gradient and exact
//! Hessian-vector products, damping 1 (`--damping`): with the paper's 0.01, or 0.1,
//! `H + δI` has negative curvature at our `θ̂` on 5500 digits and conjugate gradient
//! stops there (MINRES, which allows it, did not reach a residual of 1e-8 in 1000
//! iterations on 1000 digits). The `--removals` digits of largest
//! |prediction| are then each left out, and the model retrained from `θ̂` for a third of
//! the epochs with the same minibatches (the left-out digit dropped from its own
//! batch, every example weighed 1/64 so nothing else changes); the change of the test
//! loss is measured against the same retraining with every digit. The paper reports a
//! Pearson correlation of 0.86 between predicted and actual changes.

use super::ReproduceArgs;
use crate::autodiff::Tape;
use crate::autodiff::backward::BackwardRule;
use crate::data::source::Loaded;
use crate::error::Result;
use crate::explain::data::influence::{InverseHvp, Solver, influence, pearson};
use crate::explain::data::objective::{ModelObjective, Objective, ParamSet};
use crate::fit::progress_bar;
use crate::nn::{Arch, Model};
use crate::optim::{Optimizer, Schedule, Sgd};
use crate::tensor::Tensor;
use crate::viz::plot::COLORS;
use crate::viz::report::Report;
use crate::viz::svg::{Chart, Line, charts_svg};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// The network: three stride-2 tanh convolutions, global average pooling, a linear
/// layer (14 378 parameters).
const ARCH: &str = "seq:conv2d(1,16,3,stride=2,padding=1),tanh,conv2d(16,32,3,stride=2,padding=1),tanh,conv2d(32,32,3,stride=2,padding=1),tanh,adaptiveavgpool2d(1),flatten,linear(32,10)";
const BATCH: usize = 64;
const WEIGHT_DECAY: f64 = 0.001;
const LR: f64 = 0.1;
/// Retraining from θ̂ at a constant rate, a tenth of the initial one.
const RETRAIN_LR: f64 = 0.01;

/// SGD epochs on `x`, `y` from the model's weights: the minibatches of a seeded order of
/// every example, `skip` dropped from its batch, each example's loss weighed 1/64.
#[allow(clippy::too_many_arguments)]
fn sgd(
    model: &mut Model<f64>,
    x: &Tensor<f64>,
    y: &[usize],
    skip: Option<usize>,
    epochs: usize,
    lr: f64,
    schedule: Schedule,
    seed: u64,
) -> Result<()> {
    let n = y.len();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut opt = Sgd::new(lr).momentum(0.9, false).weight_decay(WEIGHT_DECAY);
    let mut step = 0;
    for _ in 0..epochs {
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng);
        for chunk in order.chunks(BATCH) {
            opt.set_lr(schedule.lr(lr, step));
            step += 1;
            let idx: Vec<usize> = chunk.iter().copied().filter(|&i| Some(i) != skip).collect();
            let xb = x.select_rows(&idx)?;
            let yb: Vec<usize> = idx.iter().map(|&i| y[i]).collect();
            let mut tape = Tape::new();
            let xv = tape.constant(xb);
            let params = model.bind(&mut tape, true);
            let logits = model.logits(&mut tape, xv, &params)?;
            let per = tape.cross_entropy_per_example(logits, &yb)?;
            let seed = Tensor::full(&[yb.len()], 1.0 / BATCH as f64);
            let grads = tape.backward_with(per, seed, BackwardRule::Standard)?;
            let g: Vec<Tensor<f64>> = params.iter().map(|&p| grads.get(p)).collect();
            opt.step(&mut model.param_tensors_mut(), &g)?;
        }
    }
    Ok(())
}

/// The cross-entropy of each example of `x`, `y`.
fn losses(model: &Model<f64>, x: &Tensor<f64>, y: &[usize]) -> Result<Vec<f64>> {
    let mut tape = Tape::no_grad();
    let xv = tape.constant(x.clone());
    let params = model.bind(&mut tape, false);
    let logits = model.logits(&mut tape, xv, &params)?;
    let per = tape.cross_entropy_per_example(logits, y)?;
    Ok(tape.value(per).data().to_vec())
}

pub fn influence_cnn(args: &ReproduceArgs, data: &Loaded) -> Result<(Report, String)> {
    let quick = args.quick;
    let train = data
        .train
        .first(args.train_n.unwrap_or(if quick { 1000 } else { 5500 }))?;
    let test = data.test.first(100)?;
    let epochs = args.epochs.unwrap_or(if quick { 6 } else { 30 });
    let re_epochs = epochs.div_ceil(3);
    let removals = args
        .removals
        .unwrap_or(if quick { 10 } else { 50 })
        .min(train.len());
    let (x, y) = (train.x.cast::<f64>(), train.y.clone());
    let (xt, yt) = (test.x.cast::<f64>(), test.y.clone());
    let n = y.len();
    let arch = Arch::from_name(ARCH)?;
    let mut model = Model::<f64>::init(arch, 0);
    eprintln!("influence-cnn: training the tanh CNN on {n} digits for {epochs} epochs (float64)");
    let t0 = std::time::Instant::now();
    sgd(&mut model, &x, &y, None, epochs, LR, Schedule::Constant, 1)?;
    let train_acc = crate::fit::evaluate(&model.cast(), &train)?.accuracy;
    let test_losses = losses(&model, &xt, &yt)?;
    let t = match args.test_index {
        Some(t) if t < yt.len() => t,
        Some(t) => {
            return Err(crate::error::Error::Invalid(format!(
                "--test-index {t}: influence-cnn uses the first {} test digits (0 to {})",
                yt.len(),
                yt.len() - 1
            )));
        }
        None => (0..yt.len())
            .max_by(|&a, &b| test_losses[a].total_cmp(&test_losses[b]))
            .unwrap_or(0),
    };
    eprintln!(
        "influence-cnn: trained in {:.0}s, training accuracy {:.2}%; test digit {t} (label {}, loss {:.3})",
        t0.elapsed().as_secs_f64(),
        100.0 * train_acc,
        yt[t],
        test_losses[t]
    );
    // predicted: every training digit's influence on the test digit's loss
    let damping = args.damping.unwrap_or(1.0);
    let obj = ModelObjective::new(
        model.clone(),
        &ParamSet::All,
        x.clone(),
        y.clone(),
        WEIGHT_DECAY,
    )?;
    let pb = progress_bar(1000, "CG");
    let inv = InverseHvp::new(
        &obj,
        damping,
        Solver::Cg {
            tol: 1e-6,
            max_iter: 1000,
        },
    )?
    .on_step(|i, r| {
        pb.set_position(i as u64);
        pb.set_message(format!("residual {r:.2e}"));
    });
    let xt1 = xt.select_rows(&[t])?;
    let g = obj.grads_of(&xt1, &yt[t..t + 1])?;
    let predicted = influence(&inv, &g[0])?;
    pb.finish_and_clear();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        predicted[b]
            .abs()
            .total_cmp(&predicted[a].abs())
            .then(a.cmp(&b))
    });
    let chosen = &order[..removals];
    // actual: retrain from θ̂ without each, against the same retraining with all
    let test_loss = |m: &Model<f64>| -> Result<f64> { Ok(losses(m, &xt1, &yt[t..t + 1])?[0]) };
    let mut control = model.clone();
    sgd(
        &mut control,
        &x,
        &y,
        None,
        re_epochs,
        RETRAIN_LR,
        Schedule::Constant,
        2,
    )?;
    let base = test_loss(&control)?;
    let pb = progress_bar(removals as u64, "leave-one-out");
    let mut actual = Vec::with_capacity(removals);
    for &i in chosen {
        let mut m = model.clone();
        sgd(
            &mut m,
            &x,
            &y,
            Some(i),
            re_epochs,
            RETRAIN_LR,
            Schedule::Constant,
            2,
        )?;
        actual.push(test_loss(&m)? - base);
        pb.inc(1);
    }
    pb.finish_and_clear();
    let pred: Vec<f64> = chosen.iter().map(|&i| predicted[i]).collect();
    let r = pearson(&pred, &actual);
    let mut page =
        Report::new("Influence against leave-one-out retraining, a small CNN (Koh & Liang 2017)");
    page.paragraph(&format!(
        "A GAP-CNN with tanh activations ({} parameters) trained in float64 on the first {n} MNIST training digits \
         ({epochs} epochs of SGD, learning rate {LR}, momentum 0.9, weight decay {WEIGHT_DECAY}, batch {BATCH}; \
         training accuracy {:.2}%). Test digit {t} (label {}, loss {:.3}, the hardest of the first 100 unless \
         chosen). Predicted: the influence of each training digit on its loss over every parameter (conjugate \
         gradient with exact Hessian-vector products, damping {damping}; the paper's 0.01 and 0.1 leave H + δI \
         with negative curvature at this θ̂). Actual: for the {removals} digits of \
         largest |prediction|, the test loss after {re_epochs} more epochs from θ̂ without the digit minus the same \
         retraining with every digit (same minibatches). Pearson correlation {r:.3} (the paper: 0.86).",
        obj.dim(),
        100.0 * train_acc,
        yt[t],
        test_losses[t]
    ));
    let csv = loo_figure(&mut page, chosen, &y, &pred, &actual, r);
    eprintln!("influence-cnn: Pearson {r:.3} over {removals} removals (the paper: 0.86)");
    Ok((page, csv))
}

/// The scatter of predicted against actual changes (with y = x) on `page`, and the CSV
/// rows `train_index,label,predicted,actual`.
fn loo_figure(
    page: &mut Report,
    chosen: &[usize],
    y: &[usize],
    pred: &[f64],
    actual: &[f64],
    r: f64,
) -> String {
    let lo = pred
        .iter()
        .chain(actual)
        .cloned()
        .fold(f64::INFINITY, f64::min);
    let hi = pred
        .iter()
        .chain(actual)
        .cloned()
        .fold(f64::NEG_INFINITY, f64::max);
    let chart = Chart {
        title: format!("Predicted against actual change of the test loss (Pearson {r:.3})"),
        x_label: "actual change when left out and refitted".into(),
        y_label: "predicted by the influence function".into(),
        lines: vec![
            Line {
                label: "y = x".into(),
                color: [150, 150, 150],
                points: vec![(lo, lo), (hi, hi)],
                markers: false,
                connect: true,
                dashed: true,
                band: Vec::new(),
            },
            Line {
                label: "training digit".into(),
                color: COLORS[0],
                points: actual.iter().zip(pred).map(|(a, p)| (*a, *p)).collect(),
                markers: true,
                connect: false,
                dashed: false,
                band: Vec::new(),
            },
        ],
        y_range: None,
        y_percent: false,
        marker_radius: None,
    };
    page.svg_figure(
        "influence-vs-loo.svg",
        charts_svg(&[chart], 560.0, 480.0, "influence against leave-one-out"),
        "Each dot is a training digit among those of largest |predicted influence|: x the change of the test \
         digit's loss when it is left out and the model refitted, y the influence function's prediction \
         (positive: removing it raises the test loss).",
    );
    let mut csv = String::from("train_index,label,predicted,actual\n");
    for (k, &i) in chosen.iter().enumerate() {
        csv += &format!("{i},{},{:e},{:e}\n", y[i], pred[k], actual[k]);
    }
    csv
}
