//! LIME (Ribeiro, Singh, Guestrin 2016) for images, written for the course.
//!
//! *Question:* which parts of this image, kept or hidden, move the prediction, according
//! to a simple model that is faithful near this image?
//! The image is cut into superpixels (SLIC or quickshift). Samples `z ∈ {0,1}^K` keep or
//! hide superpixels (hidden = the superpixel's mean colour, or a fill value); the first
//! sample keeps everything. Each is weighted by `π(z) = √(exp(−d²/w²))` with `d` the
//! cosine distance between `z` and the all-ones vector and `w = 0.25`. Features are
//! chosen (`forward`, `highest_weights`, `lasso_path`, `none`, or `auto`: forward for ≤ 6
//! features, else highest weights) and a weighted ridge regression (α = 1, unpenalized intercept) of
//! `P(target | image(z))` on `z` is the explanation; its weighted R² (`score`) and its
//! prediction at `z = 1` (`local_pred`) are returned. Seeded. For sequences, each image
//! row (time step) can be a feature ([`Segmenter::Rows`]); a fixed grid
//! ([`Segmenter::Grid`]) gives features that line up across images, for NormLIME.
//! `lasso_path` selection takes the largest active set of at most k features on the
//! weighted lasso path (least-angle regression, as the lime package through scikit-learn).
//!
//! Pinned by the tests below (the weighted ridge recovers a known linear model's
//! coefficients; every pixel of a segment gets the segment's weight) and by
//! `tests/lime_package.rs`: on the same samples, labels and distances, the kernel weights,
//! chosen features (every selection rule), coefficients, intercept, score and local
//! prediction equal the lime package's to 1e-8.

use super::segmentation::{quickshift, slic};
use crate::error::{Result, invalid};
use crate::explain::attribution::{Attribution, AttributionMethod, check_batch};
use crate::explain::batched::{predict_rows, probabilities};
use crate::float::Float;
use crate::nn::Model;
use crate::tensor::Tensor;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Weighted ridge regression with an unpenalized intercept:
/// `min Σᵢ wᵢ (yᵢ − b − xᵢᵀβ)² + α‖β‖²`. Returns `(β, b)`.
pub fn weighted_ridge(
    x: &[Vec<f64>],
    y: &[f64],
    wts: &[f64],
    alpha: f64,
) -> Result<(Vec<f64>, f64)> {
    let n = x.len();
    let d = x.first().map_or(0, Vec::len);
    let sw: f64 = wts.iter().sum();
    if n == 0 || sw <= 0.0 {
        return invalid("ridge regression needs samples with positive weight");
    }
    let mx: Vec<f64> = (0..d)
        .map(|j| (0..n).map(|i| wts[i] * x[i][j]).sum::<f64>() / sw)
        .collect();
    let my = (0..n).map(|i| wts[i] * y[i]).sum::<f64>() / sw;
    // normal equations (XcᵀWXc + αI) β = XcᵀW yc
    let mut a = vec![vec![0.0; d]; d];
    let mut rhs = vec![0.0; d];
    for i in 0..n {
        for j in 0..d {
            let xj = x[i][j] - mx[j];
            rhs[j] += wts[i] * xj * (y[i] - my);
            for k in 0..d {
                a[j][k] += wts[i] * xj * (x[i][k] - mx[k]);
            }
        }
    }
    for (j, row) in a.iter_mut().enumerate() {
        row[j] += alpha.max(1e-12);
    }
    let beta = solve_spd(a, rhs)?;
    let b = my - beta.iter().zip(&mx).map(|(b, m)| b * m).sum::<f64>();
    Ok((beta, b))
}

/// Solves a symmetric positive definite system by Cholesky decomposition.
fn solve_spd(a: Vec<Vec<f64>>, b: Vec<f64>) -> Result<Vec<f64>> {
    let n = b.len();
    let flat: Vec<f64> = a.into_iter().flatten().collect();
    match crate::tensor::linalg::cholesky(&flat, n) {
        Some(l) => Ok(crate::tensor::linalg::cholesky_solve(&l, n, &b)),
        None => invalid("ridge system is not positive definite"),
    }
}

/// Weighted R² of a linear fit.
pub fn weighted_r2(x: &[Vec<f64>], y: &[f64], wts: &[f64], beta: &[f64], b: f64) -> f64 {
    let sw: f64 = wts.iter().sum();
    let my = y.iter().zip(wts).map(|(y, w)| y * w).sum::<f64>() / sw;
    let (mut ss_res, mut ss_tot) = (0.0, 0.0);
    for i in 0..y.len() {
        let p = b + x[i].iter().zip(beta).map(|(a, c)| a * c).sum::<f64>();
        ss_res += wts[i] * (y[i] - p).powi(2);
        ss_tot += wts[i] * (y[i] - my).powi(2);
    }
    if ss_tot > 0.0 {
        1.0 - ss_res / ss_tot
    } else {
        0.0
    }
}

fn columns(x: &[Vec<f64>], cols: &[usize]) -> Vec<Vec<f64>> {
    x.iter()
        .map(|r| cols.iter().map(|&c| r[c]).collect())
        .collect()
}

/// LIME's proximity kernel `√exp(−d²/w²)`.
pub fn kernel(d: f64, width: f64) -> f64 {
    (-(d * d) / (width * width)).exp().sqrt()
}

/// The local surrogate LIME reports: chosen features, their ridge coefficients, the
/// intercept, the weighted R² and the prediction at the explained row (the first sample).
#[derive(Clone, Debug, PartialEq)]
pub struct Surrogate {
    pub features: Vec<usize>,
    pub coef: Vec<f64>,
    pub intercept: f64,
    pub score: f64,
    pub local_pred: f64,
}

/// Selects features, then fits the weighted ridge (α = 1) of `y` on them, as the lime
/// package's `explain_instance_with_data`. `x[0]` is the explained row.
pub fn fit_surrogate(
    x: &[Vec<f64>],
    y: &[f64],
    wts: &[f64],
    num_features: usize,
    selection: Selection,
) -> Result<Surrogate> {
    if x.is_empty() || x.len() != y.len() || y.len() != wts.len() {
        return invalid(
            "LIME's surrogate needs as many samples, labels and weights (and at least one)",
        );
    }
    let features = select_features(x, y, wts, num_features, selection)?;
    let xs = columns(x, &features);
    let (coef, intercept) = weighted_ridge(&xs, y, wts, 1.0)?;
    let score = weighted_r2(&xs, y, wts, &coef, intercept);
    let local_pred = intercept + coef.iter().zip(&xs[0]).map(|(c, v)| c * v).sum::<f64>();
    Ok(Surrogate {
        features,
        coef,
        intercept,
        score,
        local_pred,
    })
}

/// Feature selection, as the lime package does it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection {
    Forward,
    HighestWeights,
    /// The largest active set of at most k features on the weighted lasso path.
    LassoPath,
    /// Every feature (the lime package's `none`).
    All,
    Auto,
}

impl Selection {
    pub fn parse(s: &str) -> Result<Selection> {
        Ok(match s {
            "forward" => Selection::Forward,
            "highest-weights" | "highest_weights" => Selection::HighestWeights,
            "lasso-path" | "lasso_path" => Selection::LassoPath,
            "none" => Selection::All,
            "auto" => Selection::Auto,
            _ => {
                return invalid(format!(
                    "unknown feature selection '{s}': use forward, highest-weights, lasso-path, none or auto"
                ));
            }
        })
    }
}

/// The active sets along the lasso path of `‖y − Xβ‖²/2 + α‖β‖₁`, one per breakpoint,
/// by least-angle regression with the lasso modification (Efron, Hastie, Johnstone,
/// Tibshirani 2004), as scikit-learn's `lars_path(method="lasso")`, which the lime
/// package calls. Each step moves the active coefficients along the direction that
/// keeps their correlations with the residual equal, until an inactive feature's
/// correlation catches up (it joins) or an active coefficient reaches 0 (it leaves).
pub fn lasso_path_active_sets(x: &[Vec<f64>], y: &[f64]) -> Vec<Vec<usize>> {
    let d = x.first().map_or(0, Vec::len);
    let mut beta = vec![0.0; d];
    let mut sets: Vec<Vec<usize>> = vec![Vec::new()];
    let corr = |beta: &[f64]| -> Vec<f64> {
        let resid: Vec<f64> = x
            .iter()
            .zip(y)
            .map(|(r, v)| v - r.iter().zip(beta).map(|(a, b)| a * b).sum::<f64>())
            .collect();
        (0..d)
            .map(|j| x.iter().zip(&resid).map(|(r, e)| r[j] * e).sum())
            .collect()
    };
    let c0 = corr(&beta);
    let Some(first) = (0..d).max_by(|&a, &b| c0[a].abs().total_cmp(&c0[b].abs())) else {
        return sets;
    };
    if c0[first].abs() < 1e-12 {
        return sets;
    }
    let mut active = vec![first];
    for _ in 0..8 * d + 8 {
        let c = corr(&beta);
        let cmax = active.iter().map(|&j| c[j].abs()).fold(0.0, f64::max);
        if cmax < 1e-12 {
            break;
        }
        let sign: Vec<f64> = active.iter().map(|&j| c[j].signum()).collect();
        // Gram matrix of the sign-adjusted active columns; equiangular weights q = G⁻¹1
        let gram: Vec<Vec<f64>> = active
            .iter()
            .zip(&sign)
            .map(|(&j, sj)| {
                active
                    .iter()
                    .zip(&sign)
                    .map(|(&k, sk)| sj * sk * x.iter().map(|r| r[j] * r[k]).sum::<f64>())
                    .collect()
            })
            .collect();
        let Ok(q) = solve_spd(gram, vec![1.0; active.len()]) else {
            break;
        };
        let aa = 1.0 / q.iter().sum::<f64>().sqrt();
        let dir: Vec<f64> = q.iter().zip(&sign).map(|(qi, s)| aa * qi * s).collect();
        // correlation of every feature with the equiangular direction u = X_A·dir
        let u: Vec<f64> = x
            .iter()
            .map(|r| active.iter().zip(&dir).map(|(&j, dj)| r[j] * dj).sum())
            .collect();
        let a: Vec<f64> = (0..d)
            .map(|j| x.iter().zip(&u).map(|(r, ui)| r[j] * ui).sum())
            .collect();
        let mut join = (cmax / aa, None);
        for j in (0..d).filter(|j| !active.contains(j)) {
            for g in [(cmax - c[j]) / (aa - a[j]), (cmax + c[j]) / (aa + a[j])] {
                if g > 1e-12 && g < join.0 {
                    join = (g, Some(j));
                }
            }
        }
        let mut leave = (f64::INFINITY, None);
        for (i, (&j, dj)) in active.iter().zip(&dir).enumerate() {
            let g = -beta[j] / dj;
            if g > 1e-12 && g < leave.0 {
                leave = (g, Some(i));
            }
        }
        let gamma = join.0.min(leave.0);
        for (&j, dj) in active.iter().zip(&dir) {
            beta[j] += gamma * dj;
        }
        match (leave, join) {
            ((g, Some(i)), _) if g < join.0 => {
                beta[active[i]] = 0.0;
                active.remove(i);
            }
            (_, (_, Some(j))) => active.push(j),
            // every feature active: this step reached the least-squares solution
            _ => {
                sets.push((0..d).filter(|&j| beta[j] != 0.0).collect());
                break;
            }
        }
        sets.push((0..d).filter(|&j| beta[j] != 0.0).collect());
    }
    sets
}

/// Chooses `k` features of `x`.
pub fn select_features(
    x: &[Vec<f64>],
    y: &[f64],
    wts: &[f64],
    k: usize,
    sel: Selection,
) -> Result<Vec<usize>> {
    let d = x.first().map_or(0, Vec::len);
    let sel = match sel {
        Selection::Auto if k <= 6 => Selection::Forward,
        Selection::Auto => Selection::HighestWeights,
        s => s,
    };
    let k = k.min(d);
    Ok(match sel {
        Selection::All => (0..d).collect(),
        Selection::Forward => {
            let mut used: Vec<usize> = Vec::new();
            for _ in 0..k {
                let mut best = (f64::NEG_INFINITY, usize::MAX);
                for f in (0..d).filter(|f| !used.contains(f)) {
                    let mut cols = used.clone();
                    cols.push(f);
                    let xs = columns(x, &cols);
                    let (beta, b) = weighted_ridge(&xs, y, wts, 0.0)?;
                    let score = weighted_r2(&xs, y, wts, &beta, b);
                    if score > best.0 {
                        best = (score, f);
                    }
                }
                used.push(best.1);
            }
            used
        }
        Selection::LassoPath => {
            // weighted centring, as lime does before calling lars_path
            let sw: f64 = wts.iter().sum();
            let mx: Vec<f64> = (0..d)
                .map(|j| x.iter().zip(wts).map(|(r, w)| w * r[j]).sum::<f64>() / sw)
                .collect();
            let my = y.iter().zip(wts).map(|(v, w)| v * w).sum::<f64>() / sw;
            let xw: Vec<Vec<f64>> = x
                .iter()
                .zip(wts)
                .map(|(r, w)| r.iter().zip(&mx).map(|(v, m)| (v - m) * w.sqrt()).collect())
                .collect();
            let yw: Vec<f64> = y
                .iter()
                .zip(wts)
                .map(|(v, w)| (v - my) * w.sqrt())
                .collect();
            let sets = lasso_path_active_sets(&xw, &yw);
            sets.into_iter()
                .rev()
                .find(|s| s.len() <= k)
                .unwrap_or_default()
        }
        _ => {
            // rank by |coefficient × the explained row's value| (the first sample)
            let (beta, _) = weighted_ridge(x, y, wts, 0.01)?;
            let size: Vec<f64> = beta.iter().zip(&x[0]).map(|(b, v)| (b * v).abs()).collect();
            let mut order: Vec<usize> = (0..d).collect();
            order.sort_by(|&a, &b| size[b].total_cmp(&size[a]).then(a.cmp(&b)));
            order.truncate(k);
            order
        }
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segmenter {
    Slic {
        n_segments: usize,
    },
    Quickshift,
    /// Square cells of this side (features that line up across images, for NormLIME).
    Grid {
        cell: usize,
    },
    /// One feature per image row: the time steps of a sequence model such as mnist-gru.
    Rows,
}

impl Segmenter {
    /// Parses `slic[:N]` (N superpixels, default 30), `quickshift`, `grid[:CELL]`
    /// (default 4) or `rows`.
    pub fn parse(s: &str) -> Result<Segmenter> {
        let (kind, arg) = s.split_once(':').unwrap_or((s, ""));
        let num = |default: usize| -> Result<usize> {
            if arg.is_empty() {
                return Ok(default);
            }
            match arg.trim().parse::<usize>() {
                Ok(n) if (1..=10_000).contains(&n) => Ok(n),
                _ => invalid(format!(
                    "--segmenter {s}: '{arg}' is not a whole number from 1 to 10000"
                )),
            }
        };
        Ok(match kind {
            "slic" => Segmenter::Slic {
                n_segments: num(30)?,
            },
            "quickshift" if arg.is_empty() => Segmenter::Quickshift,
            "grid" => Segmenter::Grid { cell: num(4)? },
            "rows" if arg.is_empty() => Segmenter::Rows,
            _ => {
                return invalid(format!(
                    "unknown segmenter '{s}': use slic[:N], quickshift, grid[:CELL] or rows"
                ));
            }
        })
    }

    /// A short name for captions: `SLIC (30)`, `quickshift`, `4×4 grid`, `rows`.
    pub fn describe(&self) -> String {
        match self {
            Segmenter::Slic { n_segments } => format!("SLIC ({n_segments} requested)"),
            Segmenter::Quickshift => "quickshift".into(),
            Segmenter::Grid { cell } => format!("{cell}×{cell} grid"),
            Segmenter::Rows => "one feature per row".into(),
        }
    }
}

/// How many features (superpixels, cells, rows) each example of a LIME attribution was
/// cut into, from its `segments` extra (labels 0..k per pixel); empty if it has none.
pub fn segment_counts<T: Float>(a: &Attribution<T>) -> Vec<usize> {
    let Some((_, seg)) = a.extras.iter().find(|e| e.0 == "segments") else {
        return Vec::new();
    };
    let n = seg.shape().first().copied().unwrap_or(0).max(1);
    seg.data()
        .chunks((seg.len() / n).max(1))
        .map(|c| c.iter().fold(0.0f64, |m, v| m.max(v.to_f64())) as usize + 1)
        .collect()
}

/// Segment labels of an `h × w` image for the fixed segmenters.
pub fn fixed_segments(seg: Segmenter, h: usize, w: usize) -> Option<Vec<usize>> {
    match seg {
        Segmenter::Grid { cell } => {
            let cell = cell.max(1);
            let cols = w.div_ceil(cell);
            Some(
                (0..h * w)
                    .map(|p| (p / w / cell) * cols + (p % w) / cell)
                    .collect(),
            )
        }
        Segmenter::Rows => Some((0..h * w).map(|p| p / w).collect()),
        _ => None,
    }
}

#[derive(Clone, Debug)]
pub struct Lime {
    pub samples: usize,
    pub num_features: usize,
    pub kernel_width: f64,
    pub selection: Selection,
    pub segmenter: Segmenter,
    /// Hidden superpixels take this value; `None` = each superpixel's mean colour.
    pub fill: Option<f64>,
    pub seed: u64,
    /// Maps model inputs to [0, 1] for segmentation.
    pub to_unit: fn(f32) -> f32,
}

impl Default for Lime {
    fn default() -> Self {
        Lime {
            samples: 1000,
            num_features: 10,
            kernel_width: 0.25,
            selection: Selection::Auto,
            segmenter: Segmenter::Quickshift,
            fill: None,
            seed: 0,
            to_unit: |v| v,
        }
    }
}

impl<T: Float> AttributionMethod<T> for Lime {
    fn name(&self) -> &'static str {
        "lime"
    }

    /// `map`: each pixel gets its superpixel's weight (0 if not selected); extras
    /// `segments` `[N, H, W]`, `weights` `[N, K_max]`, `score` and `local_pred` `[N]`.
    fn attribute(
        &self,
        model: &Model<T>,
        x: &Tensor<T>,
        targets: &[usize],
    ) -> Result<Attribution<T>> {
        check_batch(model, x, targets)?;
        if self.samples < 2 {
            return invalid("lime needs at least 2 samples");
        }
        let (n, c, h, w) = crate::ops::expect_4d(x.shape(), "lime")?;
        let per = c * h * w;
        let mut rng = StdRng::seed_from_u64(self.seed);
        let (mut maps, mut segs, mut all_w, mut scores, mut preds) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut kmax = 0;
        for (i, &target) in targets.iter().enumerate() {
            let img: Vec<f64> = x.data()[i * per..(i + 1) * per]
                .iter()
                .map(|v| f64::from((self.to_unit)(v.to_f64() as f32)))
                .collect();
            let labels = match self.segmenter {
                Segmenter::Slic { n_segments } => slic(&img, c, h, w, n_segments, 10.0)?,
                Segmenter::Quickshift => quickshift(&img, c, h, w, 4.0, 200.0, 0.2)?,
                fixed => fixed_segments(fixed, h, w).expect("fixed segmenter"),
            };
            let k = labels.iter().max().map_or(0, |m| m + 1);
            kmax = kmax.max(k);
            // hidden value per (segment, channel), in model input units: hide[s·c + ch]
            let mut hide = vec![0.0f64; k * c];
            let mut count = vec![0usize; k];
            for (p, &s) in labels.iter().enumerate() {
                count[s] += 1;
                for ch in 0..c {
                    hide[s * c + ch] += x.data()[i * per + ch * h * w + p].to_f64();
                }
            }
            for (j, v) in hide.iter_mut().enumerate() {
                *v = self.fill.unwrap_or(*v / count[j / c].max(1) as f64);
            }
            let z: Vec<Vec<f64>> = (0..self.samples)
                .map(|r| {
                    (0..k)
                        .map(|_| {
                            if r == 0 {
                                1.0
                            } else {
                                f64::from(rng.gen_range(0..2u8))
                            }
                        })
                        .collect()
                })
                .collect();
            let image = &x.data()[i * per..(i + 1) * per];
            let hidden: Vec<T> = (0..per)
                .map(|j| T::from_f64_lossy(hide[labels[j % (h * w)] * c + j / (h * w)]))
                .collect();
            let logits = predict_rows(model, &[c, h, w], z.len(), |r, out| {
                perturb(out, image, &hidden, &labels, &z[r])
            })?;
            let probs: Vec<f64> = probabilities(&logits, |_| target)
                .into_iter()
                .map(|p| p.to_f64())
                .collect();
            let wts: Vec<f64> = z
                .iter()
                .map(|zr| {
                    let on: f64 = zr.iter().sum();
                    let cos = if on > 0.0 {
                        on / (on.sqrt() * (k as f64).sqrt())
                    } else {
                        0.0
                    };
                    kernel(1.0 - cos, self.kernel_width)
                })
                .collect();
            let fit = fit_surrogate(&z, &probs, &wts, self.num_features, self.selection)?;
            scores.push(fit.score);
            preds.push(fit.local_pred);
            let mut seg_w = vec![0.0; k];
            for (&f, &c) in fit.features.iter().zip(&fit.coef) {
                seg_w[f] = c;
            }
            maps.extend(
                (0..c)
                    .flat_map(|_| labels.iter().map(|&s| seg_w[s]))
                    .collect::<Vec<_>>(),
            );
            segs.extend(labels.iter().map(|&s| s as f64));
            all_w.push(seg_w);
        }
        let weights: Vec<f64> = all_w
            .iter()
            .flat_map(|r| (0..kmax).map(|j| r.get(j).copied().unwrap_or(0.0)))
            .collect();
        Ok(Attribution {
            map: Tensor::from_f64(x.shape(), &maps)?,
            extras: vec![
                ("segments".into(), Tensor::from_f64(&[n, h, w], &segs)?),
                ("weights".into(), Tensor::from_f64(&[n, kmax], &weights)?),
                ("score".into(), Tensor::from_f64(&[n], &scores)?),
                ("local_pred".into(), Tensor::from_f64(&[n], &preds)?),
            ],
        })
    }
}

/// One perturbed image: pixels of kept segments (`z[s] = 1`) from `image`, the others from
/// `hidden` (the same image with every segment hidden); `labels` is per pixel, shared by
/// all channels.
fn perturb<T: Float>(out: &mut [T], image: &[T], hidden: &[T], labels: &[usize], z: &[f64]) {
    let hw = labels.len();
    let keep: Vec<bool> = labels.iter().map(|&s| z[s] == 1.0).collect();
    for ch in 0..out.len() / hw {
        let r = ch * hw..(ch + 1) * hw;
        for (((o, &a), &b), &k) in out[r.clone()]
            .iter_mut()
            .zip(&image[r.clone()])
            .zip(&hidden[r])
            .zip(&keep)
        {
            *o = if k { a } else { b };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// LIME's surrogate recovers a known linear model of binary features.
    #[test]
    fn weighted_ridge_recovers_known_coefficients() {
        let mut rng = StdRng::seed_from_u64(3);
        let truth = [0.8, -0.5, 0.0, 0.3, 0.05, -0.2];
        // the first sample keeps every feature, as in LIME
        let x: Vec<Vec<f64>> = (0..1000)
            .map(|i| {
                (0..6)
                    .map(|_| {
                        if i == 0 {
                            1.0
                        } else {
                            f64::from(rng.gen_range(0..2u8))
                        }
                    })
                    .collect()
            })
            .collect();
        let y: Vec<f64> = x
            .iter()
            .map(|r| 0.1 + r.iter().zip(&truth).map(|(a, b)| a * b).sum::<f64>())
            .collect();
        let w: Vec<f64> = (0..1000).map(|i| 0.5 + (i % 7) as f64 / 7.0).collect();
        let (beta, b) = weighted_ridge(&x, &y, &w, 1.0).unwrap();
        for (got, want) in beta.iter().zip(&truth) {
            assert!((got - want).abs() < 0.01, "{got} vs {want}");
        }
        assert!((b - 0.1).abs() < 0.01);
        assert!(weighted_r2(&x, &y, &w, &beta, b) > 0.999);
        let f = select_features(&x, &y, &w, 3, Selection::Forward).unwrap();
        assert_eq!(f, vec![0, 1, 3]);
        let f = select_features(&x, &y, &w, 3, Selection::HighestWeights).unwrap();
        assert_eq!(f, vec![0, 1, 3]);
        let mut f = select_features(&x, &y, &w, 3, Selection::LassoPath).unwrap();
        f.sort();
        assert_eq!(f, vec![0, 1, 3]);
    }

    #[test]
    fn every_pixel_gets_its_segments_weight() {
        use crate::nn::Arch;
        let model = Model::<f64>::init(Arch::from_name("pokedigi-gap").unwrap(), 1);
        let mut x = Tensor::<f64>::zeros(&[1, 3, 64, 64]);
        for p in 0..64 * 64 {
            x.data_mut()[p] = if p % 64 < 32 { 0.9 } else { 0.1 };
        }
        let lime = Lime {
            samples: 64,
            segmenter: Segmenter::Slic { n_segments: 16 },
            ..Lime::default()
        };
        let a = lime.attribute(&model, &x, &[1]).unwrap();
        let seg = a.extra("segments").unwrap();
        let w = a.extra("weights").unwrap();
        for p in 0..64 * 64 {
            assert_eq!(a.map.data()[p], w.data()[seg.data()[p] as usize]);
        }
        assert!(a.extra("score").unwrap().data()[0].is_finite());
    }
}
