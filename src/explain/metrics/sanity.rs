//! Sanity checks for saliency maps (Adebayo et al. 2018): model-parameter randomization
//! and data randomization.
//!
//! *Question:* does the map depend on what the model learned? If re-initializing the
//! weights leaves the map unchanged, the method shows the input (edges, ink), not the
//! model.
//!
//! *Formula.* Cascading randomization re-initializes the layers with parameters from the
//! logits down, cumulatively (stage `k` = the top `k` layers random), with the
//! architecture's own initializer (PyTorch's fan-in uniform, [`Model::init`]);
//! independent randomization re-initializes one layer at a time. The data randomization
//! test compares with a model of the same architecture trained on permuted labels
//! ([`permuted_label_model`]) instead. At each stage the maps
//! for the same inputs and targets (the class the trained model predicts) are compared
//! with the trained model's maps by
//!
//! * Spearman rank correlation with average ranks for ties (Pearson on the ranks), on
//!   `|map|` and on the signed map, on the whole image and on the object's support only
//!   (on MNIST the digit's pixels: the zero background saturates the whole-image figure
//!   of input-multiplied methods, which are 0 there whatever the model);
//! * SSIM of the two `|map|`s, each divided by its maximum (scikit-image's
//!   `structural_similarity` with its defaults: 7×7 uniform window, K1 = 0.01, K2 = 0.03,
//!   sample covariance, data range 1, the border of 3 pixels left out of the mean).
//!
//! A constant map has no order: its correlation is defined as 0 (SciPy returns NaN).
//! The harness calls a method a **failure** when its mean Spearman of `|map|` after every
//! layer is randomized stays at or above [`FAIL_AT`] (on the support when one is given).
//!
//! Quantus' MPRT (`quantus.MPRT`, top-down, `abs` on or off) is the same test with its
//! layers re-initialized by torch's generator, which lamppost does not reproduce; given
//! Quantus' randomized weights ([`stages_test`]) the Spearman values agree to 1e-12.
//! Quantus re-seeds torch with the same seed before every layer's reset.
//!
//! Pinned by `spearman_with_ties_by_hand`, `ssim_matches_scikit_image` below,
//! `tests/metrics.rs::mprt_matches_quantus` and
//! `tests/metrics.rs::papers_claims_on_a_trained_mnist_cnn` (gradient < guided backprop after full randomization
//! on mnist-cnn; an explainer that returns |x| scores 1.0 at every stage and fails).

use super::curves::check_maps;
use crate::data::Dataset;
use crate::error::Result;
use crate::explain::attribution::{Method, Precision};
use crate::fit::{TrainConfig, evaluate, fit};
use crate::float::Float;
use crate::nn::{Arch, Model};
use crate::tensor::Tensor;
use crate::tensor::image::pixel_map;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// Mean Spearman of `|map|` at or above which, after full randomization, a method fails.
pub const FAIL_AT: f64 = 0.5;

/// Similarity of one stage's maps to the trained model's, one value per example
/// ([`mean`] averages them).
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    /// `trained`, or the layers re-initialized (`fc2`, `fc2+fc1`, ...).
    pub name: String,
    pub spearman_abs: Vec<f64>,
    pub spearman_signed: Vec<f64>,
    /// On the support (empty when no support was given).
    pub spearman_abs_support: Vec<f64>,
    pub spearman_signed_support: Vec<f64>,
    pub ssim: Vec<f64>,
    /// The per-pixel maps of this stage (`[N, H, W]`), for the figure.
    pub maps: Tensor<f64>,
}

/// How layers are re-initialized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Randomization {
    /// From the logits down, cumulatively.
    Cascading,
    /// One layer at a time.
    Independent,
}

/// The layers with parameters, input to output (`conv1`, `conv2`, `fc1`, `fc2`).
pub fn layers<T: Float>(model: &Model<T>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (name, _) in model.params() {
        let layer = name
            .rsplit_once('.')
            .map_or(name.as_str(), |p| p.0)
            .to_string();
        if out.last() != Some(&layer) {
            out.push(layer);
        }
    }
    out
}

/// `model` with the named layers' parameters taken from a fresh initialization (`seed`).
pub fn randomized<T: Float>(model: &Model<T>, layers: &[String], seed: u64) -> Result<Model<T>> {
    let fresh = Model::<T>::init(model.arch.clone(), seed);
    let named = model
        .params()
        .iter()
        .zip(fresh.params())
        .map(|((name, t), (_, f))| {
            let layer = name.rsplit_once('.').map_or(name.as_str(), |p| p.0);
            let pick = if layers.iter().any(|l| l == layer) {
                f
            } else {
                t
            };
            (name.clone(), pick.clone())
        })
        .collect();
    Model::from_named(model.arch.clone(), named)
}

/// The stages of a randomization test of `method` on `x` (targets: the trained model's
/// classes), `support[i]` the object's pixels of example `i` when known.
pub fn randomization_test<T: Precision>(
    model: &Model<T>,
    method: &dyn Method,
    x: &Tensor<T>,
    targets: &[usize],
    support: Option<&[Vec<bool>]>,
    kind: Randomization,
    seed: u64,
) -> Result<Vec<Stage>> {
    let names = layers(model);
    let mut stages = Vec::with_capacity(names.len());
    for k in (0..names.len()).rev() {
        let set: Vec<String> = match kind {
            Randomization::Cascading => names[k..].iter().rev().cloned().collect(),
            Randomization::Independent => vec![names[k].clone()],
        };
        stages.push((set.join("+"), randomized(model, &set, seed)?));
    }
    stages_test(model, method, x, targets, support, stages)
}

/// [`randomization_test`] with the randomized models given: stage `k` compares the maps
/// of `stages[k].1` with those of `model`. The first stage returned is `trained` (the
/// model with itself). For models randomized elsewhere: `tests/metrics.rs` feeds it the
/// stages Quantus' MPRT made with torch's generator.
pub fn stages_test<T: Precision>(
    model: &Model<T>,
    method: &dyn Method,
    x: &Tensor<T>,
    targets: &[usize],
    support: Option<&[Vec<bool>]>,
    stages: Vec<(String, Model<T>)>,
) -> Result<Vec<Stage>> {
    let first = T::run(method, model, x, targets)?.map;
    let (_, h, w) = check_maps(x, &first)?;
    let flat = |m: &Tensor<T>| -> Result<Tensor<f64>> {
        let n = x.shape()[0];
        let mut v = Vec::with_capacity(n * h * w);
        for i in 0..n {
            v.extend(pixel_map(m, i, h, w)?.iter().map(|a| a.to_f64()));
        }
        Tensor::new(&[n, h, w], v)
    };
    let base = flat(&first)?;
    let mut out = Vec::with_capacity(stages.len() + 1);
    out.push(compare_stage(
        "trained".into(),
        &base,
        base.clone(),
        support,
        h,
        w,
    ));
    for (name, m) in stages {
        let maps = flat(&T::run(method, &m, x, targets)?.map)?;
        out.push(compare_stage(name, &base, maps, support, h, w));
    }
    Ok(out)
}

/// A similarity of example `i`'s trained and randomized maps.
type Similarity<'a> = &'a dyn Fn(&[f64], &[f64], usize) -> f64;

fn compare_stage(
    name: String,
    base: &Tensor<f64>,
    maps: Tensor<f64>,
    support: Option<&[Vec<bool>]>,
    h: usize,
    w: usize,
) -> Stage {
    let n = base.shape()[0];
    let hw = h * w;
    let each = |f: Similarity| -> Vec<f64> {
        (0..n)
            .map(|i| {
                f(
                    &base.data()[i * hw..(i + 1) * hw],
                    &maps.data()[i * hw..(i + 1) * hw],
                    i,
                )
            })
            .collect()
    };
    let abs = |v: &[f64]| v.iter().map(|a| a.abs()).collect::<Vec<f64>>();
    let on = |v: &[f64], i: usize| -> Vec<f64> {
        let s = &support.expect("support given")[i];
        v.iter().zip(s).filter(|p| *p.1).map(|p| *p.0).collect()
    };
    let (sa, ss) = match support {
        Some(_) => (
            each(&|a, b, i| spearman(&abs(&on(a, i)), &abs(&on(b, i)))),
            each(&|a, b, i| spearman(&on(a, i), &on(b, i))),
        ),
        None => (Vec::new(), Vec::new()),
    };
    Stage {
        name,
        spearman_abs: each(&|a, b, _| spearman(&abs(a), &abs(b))),
        spearman_signed: each(&|a, b, _| spearman(a, b)),
        spearman_abs_support: sa,
        spearman_signed_support: ss,
        ssim: each(&|a, b, _| ssim(&unit_max(&abs(a)), &unit_max(&abs(b)), h, w)),
        maps,
    }
}

/// A model for Adebayo et al.'s **data randomization test**: `arch` trained from
/// `cfg.seed` on `train` with its labels permuted (a seeded shuffle, so the class counts
/// stay), with `cfg`'s settings. Compare its maps with the true model's by
/// [`stages_test`] (one stage, `permuted labels`): a method that still draws the digit
/// for a model that learned nothing about digits shows the input, not the model.
/// Returns the model and its accuracy on the permuted labels it was trained on (how far
/// it memorized them; Adebayo et al. train until it reaches 100%).
pub fn permuted_label_model(
    arch: &Arch,
    train: &Dataset,
    cfg: &TrainConfig,
    seed: u64,
) -> Result<(Model<f32>, f64)> {
    let mut shuffled = train.clone();
    shuffled
        .y
        .shuffle(&mut StdRng::seed_from_u64(seed ^ 0x5EED_DA7A));
    let mut model = Model::<f32>::init(arch.clone(), cfg.seed);
    fit(&mut model, &shuffled, None, cfg, &mut std::io::sink())?;
    let fitted = evaluate(&model, &shuffled)?.accuracy;
    Ok((model, fitted))
}

/// The mean of per-example values (NaN when there are none).
pub fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Whether the stages say the method fails the check (see [`FAIL_AT`]).
pub fn fails(stages: &[Stage]) -> bool {
    let last = stages.last().expect("a test has stages");
    let s = if last.spearman_abs_support.is_empty() {
        &last.spearman_abs
    } else {
        &last.spearman_abs_support
    };
    mean(s) >= FAIL_AT
}

/// Ranks from 1, ties given the mean of the ranks they span.
pub fn average_ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]).then(a.cmp(&b)));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        idx[i..=j].iter().for_each(|&k| r[k] = rank);
        i = j + 1;
    }
    r
}

/// Pearson correlation; 0 when either side is constant.
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    if a.len() < 2 {
        return 0.0;
    }
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    if saa == 0.0 || sbb == 0.0 {
        0.0
    } else {
        sab / (saa * sbb).sqrt()
    }
}

/// Spearman rank correlation with average ranks.
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    pearson(&average_ranks(a), &average_ranks(b))
}

/// `v / max(v)` (unchanged when the maximum is 0).
fn unit_max(v: &[f64]) -> Vec<f64> {
    let m = v.iter().fold(0.0f64, |a, &b| a.max(b));
    if m > 0.0 {
        v.iter().map(|x| x / m).collect()
    } else {
        v.to_vec()
    }
}

/// Mean SSIM of two `h × w` images in [0, 1], as scikit-image's `structural_similarity`
/// with its defaults (7×7 uniform window, sample covariance, data range 1).
pub fn ssim(a: &[f64], b: &[f64], h: usize, w: usize) -> f64 {
    const WIN: usize = 7;
    if h < WIN || w < WIN {
        return f64::NAN;
    }
    let (c1, c2) = (0.01f64.powi(2), 0.03f64.powi(2));
    let np = (WIN * WIN) as f64;
    let cov_norm = np / (np - 1.0);
    let pad = WIN / 2;
    let mut total = 0.0;
    for i in pad..h - pad {
        for j in pad..w - pad {
            let (mut sa, mut sb, mut saa, mut sbb, mut sab) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for di in 0..WIN {
                for dj in 0..WIN {
                    let p = (i + di - pad) * w + (j + dj - pad);
                    let (x, y) = (a[p], b[p]);
                    sa += x;
                    sb += y;
                    saa += x * x;
                    sbb += y * y;
                    sab += x * y;
                }
            }
            let (ux, uy) = (sa / np, sb / np);
            let vx = cov_norm * (saa / np - ux * ux);
            let vy = cov_norm * (sbb / np - uy * uy);
            let vxy = cov_norm * (sab / np - ux * uy);
            total += ((2.0 * ux * uy + c1) * (2.0 * vxy + c2))
                / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
        }
    }
    total / ((h - 2 * pad) * (w - 2 * pad)) as f64
}

/// The digit's support in a normalized grey picture: pixels above the picture's minimum
/// (MNIST's black background).
pub fn ink_support<T: Float>(x: &Tensor<T>, i: usize) -> Vec<bool> {
    let per: usize = x.shape()[1..].iter().product();
    let row = &x.data()[i * per..(i + 1) * per];
    let hw = x.shape()[2] * x.shape()[3];
    let min = row.iter().fold(f64::INFINITY, |m, v| m.min(v.to_f64()));
    (0..hw)
        .map(|p| row.chunks(hw).any(|ch| ch[p].to_f64() > min + 1e-6))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_with_ties_by_hand() {
        // ranks of a: [1, 2.5, 2.5, 4]; of b: [1, 2, 3, 4]
        // Pearson: cov = Σ(ra−2.5)(rb−2.5) = 2.25+0+0+2.25 = 4.5 (×1/n cancels);
        // var a = 2.25+0+0+2.25 = 4.5, var b = 2.25+0.25+0.25+2.25 = 5 → 4.5/√22.5
        let a = [1.0, 2.0, 2.0, 3.0];
        let b = [10.0, 20.0, 30.0, 40.0];
        assert_eq!(average_ranks(&a), vec![1.0, 2.5, 2.5, 4.0]);
        assert!((spearman(&a, &b) - 4.5 / 22.5f64.sqrt()).abs() < 1e-12);
        assert_eq!(spearman(&[1.0; 4], &b), 0.0);
        assert!((spearman(&b, &[4.0, 3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
    }

    /// Golden from scikit-image 0.26: `structural_similarity(a, b, data_range=1)` on the
    /// 8×9 images below (tests/golden/make_metrics_goldens.py prints it). SciPy's
    /// `spearmanr([1,2,2,3], [10,20,30,40])` is 0.9486832980505139 = 4.5/√22.5.
    #[test]
    fn ssim_matches_scikit_image() {
        let (h, w) = (8, 9);
        let a: Vec<f64> = (0..h * w).map(|p| ((p * 37) % 17) as f64 / 16.0).collect();
        let b: Vec<f64> = (0..h * w)
            .map(|p| ((p * 11 + 3) % 13) as f64 / 12.0)
            .collect();
        assert!((ssim(&a, &a, h, w) - 1.0).abs() < 1e-12);
        let golden = SSIM_GOLDEN;
        assert!(
            (ssim(&a, &b, h, w) - golden).abs() < 1e-9,
            "{}",
            ssim(&a, &b, h, w)
        );
    }
    const SSIM_GOLDEN: f64 = 0.17057009656116282;
}
