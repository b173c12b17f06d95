//! Generative probes: *what of the input can be resynthesized from this layer?* (the
//! lecture's "resynthesize the input from a layer" probe; Mahendran & Vedaldi 2015,
//! "Understanding Deep Image Representations by Inverting Them", invert with an
//! optimizer; Dosovitskiy & Brox 2016, "Inverting Visual Representations with
//! Convolutional Networks", train a decoder, as here).
//!
//! For a layer's frozen activations `h(x)` (standardized with the training set's
//! statistics, as the linear probes'), a small decoder
//! `x̂ = W₂ relu(W₁ h + b₁) + b₂` (256 hidden units) is trained by
//! [`crate::fit::fit_regression`] to minimize the mean squared error to the input's
//! pixels in [0, 1], with the same budget for every layer ([`DecoderConfig`]). Reported:
//! the test MSE beside the MSE of always answering the mean training image (what a
//! decoder that learned nothing reaches), and reconstructions of fixed test examples.
//! Early layers keep the stroke; late layers keep the class and lose the style.
//!
//! Pinned by `tests/inside.rs` (`reconstruction_error_grows_with_depth`).

use super::layers::{check_layers, features};
use super::probe::standardize;
use crate::data::Dataset;
use crate::error::Result;
use crate::fit::{TrainConfig, fit_regression};
use crate::nn::{Arch, Model};
use crate::profile::Profile;
use crate::tensor::Tensor;

/// The budget every decoder gets.
#[derive(Clone, Debug, PartialEq)]
pub struct DecoderConfig {
    pub hidden: usize,
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    pub seed: u64,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        DecoderConfig {
            hidden: 256,
            epochs: 10,
            batch: 64,
            lr: 2e-3,
            seed: 0,
        }
    }
}

/// One layer's decoder results.
#[derive(Clone, Debug)]
pub struct Reconstruction {
    pub layer: String,
    pub features: usize,
    pub train_mse: f64,
    pub test_mse: f64,
    /// `[k, C, H, W]` reconstructions (pixels in [0, 1]) of the chosen test examples.
    pub images: Tensor<f32>,
}

/// The inputs as decoder targets: pixels in [0, 1], one flattened row per example.
pub fn pixel_targets(model: &Model<f32>, x: &Tensor<f32>) -> Result<Tensor<f32>> {
    let to_unit = Profile::of(&model.arch).to_unit();
    let n = x.shape()[0];
    x.map(to_unit).reshape(&[n, x.len() / n.max(1)])
}

fn mse(a: &Tensor<f32>, b: &Tensor<f32>) -> f64 {
    let s: f64 = a
        .data()
        .iter()
        .zip(b.data())
        .map(|(p, q)| ((p - q) as f64).powi(2))
        .sum();
    s / a.len().max(1) as f64
}

/// The test MSE of always answering the mean training image.
pub fn mean_image_mse(model: &Model<f32>, train: &Dataset, test: &Dataset) -> Result<f64> {
    let (tr, te) = (
        pixel_targets(model, &train.x)?,
        pixel_targets(model, &test.x)?,
    );
    let d = tr.shape()[1];
    let mut mean = vec![0.0f32; d];
    for row in tr.data().chunks(d) {
        mean.iter_mut().zip(row).for_each(|(m, v)| *m += v);
    }
    let n = train.len().max(1) as f32;
    mean.iter_mut().for_each(|m| *m /= n);
    let rows = te.shape()[0];
    let guess = Tensor::new(&[rows, d], mean.repeat(rows))?;
    Ok(mse(&guess, &te))
}

/// Trains one decoder per layer on `train` and measures it on `test`, keeping the
/// reconstructions of the test examples `show`; `tick(i)` after each layer.
pub fn reconstruct_layers(
    model: &Model<f32>,
    train: &Dataset,
    test: &Dataset,
    layers: &[String],
    cfg: &DecoderConfig,
    show: &[usize],
    mut tick: impl FnMut(usize),
) -> Result<Vec<Reconstruction>> {
    check_layers(&model.arch, layers)?;
    let (tr_target, te_target) = (
        pixel_targets(model, &train.x)?,
        pixel_targets(model, &test.x)?,
    );
    let d = tr_target.shape()[1];
    let mut out = Vec::new();
    for (i, layer) in layers.iter().enumerate() {
        let mut tr = features(model, &train.x, layer)?;
        let mut te = features(model, &test.x, layer)?;
        standardize(&mut tr, &mut te);
        let f = tr.shape()[1];
        let arch = Arch::from_name(&format!(
            "seq:linear({f},{h}),relu,linear({h},{d})",
            h = cfg.hidden
        ))?;
        let mut decoder = Model::<f32>::init(arch, cfg.seed);
        let tc = TrainConfig {
            epochs: cfg.epochs,
            batch: cfg.batch,
            lr: cfg.lr,
            seed: cfg.seed,
            optimizer: Default::default(),
        };
        tc.validate()?;
        fit_regression(&mut decoder, &tr, &tr_target, &tc)?;
        let (ptr, pte) = (decoder.predict(&tr)?, decoder.predict(&te)?);
        let mut shape = vec![show.len()];
        shape.extend_from_slice(&test.x.shape()[1..]);
        let images = pte
            .select_rows(show)?
            .map(|v| v.clamp(0.0, 1.0))
            .reshape(&shape)?;
        out.push(Reconstruction {
            layer: layer.clone(),
            features: f,
            train_mse: mse(&ptr, &tr_target),
            test_mse: mse(&pte, &te_target),
            images,
        });
        tick(i + 1);
    }
    Ok(out)
}
