//! Infidelity and max-sensitivity (Yeh et al. 2019, "On the (In)fidelity and
//! Sensitivity of Explanations").
//!
//! *Question:* does the map predict how the score changes under a perturbation
//! (infidelity: lower is better), and does the map itself jump when the input barely
//! moves (max-sensitivity: lower is better)?
//!
//! *Formulas.* For a perturbation `I` (the perturbed input is `x − I`) and the target's
//! logit `f_c`,
//!
//! * **infidelity, Captum's default** (`captum.metrics.infidelity`, `normalize=False`):
//!   `INFD = E_I[(Σ a⊙I − (f_c(x) − f_c(x − I)))²]`, the mean over `n` perturbations;
//! * **infidelity, Yeh's official code**: the same after the optimal rescaling of the map,
//!   `β = E[ab] / E[a²]` with `a = Σ a⊙I`, `b = f_c(x) − f_c(x − I)`, so
//!   `INFD = E[(βa − b)²]` (Captum's `normalize=True` computes this same value), with
//!   square-patch perturbations: `I` is `x` on one random `k × k` square, 0 elsewhere
//!   (the square is removed to 0). The official MNIST protocol uses every square of side
//!   1 to 10 at every position instead of random draws: [`every_square`];
//! * **max-sensitivity** (`captum.metrics.sensitivity_max` defaults): `max over n draws of
//!   ‖Φ(x + δ) − Φ(x)‖₂ / ‖Φ(x)‖₂`, `δ` uniform in the L∞ ball of radius `r` (0.02), `n`
//!   = 10, the explanation recomputed for the same target; a zero map's norm counts as 1.
//!
//! The gradient of a linear model is a perfect explanation: both infidelities are 0, and
//! so is the sensitivity (the map does not change), pinned by `linear_model_is_perfect`.
//! Agreement with Captum 0.9 on the same fixed perturbations: `tests/metrics.rs`
//! (goldens by `tests/golden/make_metrics_goldens.py`).

use super::curves::mix;
use crate::error::{Result, invalid};
use crate::explain::attribution::{Method, Precision, target_scores};
use crate::float::Float;
use crate::nn::Model;
use crate::tensor::Tensor;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

/// How infidelity perturbs the input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Perturbation {
    /// `I ~ N(0, σ²)` per input value (Captum's tutorial), no rescaling.
    Gaussian(f64),
    /// One random `k × k` square of `x` removed to 0, optimally rescaled (Yeh's code).
    Square(usize),
}

/// `n` perturbations `I` per example, example-major `[N·n, C, H, W]`.
pub fn perturbations<T: Float>(
    x: &Tensor<T>,
    kind: Perturbation,
    n: usize,
    seed: u64,
) -> Result<Tensor<T>> {
    let (b, per) = (x.shape()[0], x.len() / x.shape()[0].max(1));
    let mut data = vec![T::zero(); b * n * per];
    for i in 0..b {
        let mut rng = StdRng::seed_from_u64(mix(seed, i));
        for s in 0..n {
            let row = &mut data[(i * n + s) * per..(i * n + s + 1) * per];
            match kind {
                Perturbation::Gaussian(sigma) => row.iter_mut().for_each(|v| {
                    let e: f64 = StandardNormal.sample(&mut rng);
                    *v = T::from_f64_lossy(sigma * e);
                }),
                Perturbation::Square(k) => {
                    let &[_, c, h, w] = x.shape() else {
                        return invalid("square perturbations need pictures [N, C, H, W]");
                    };
                    if k == 0 || k > h.min(w) {
                        return invalid(format!("a {k}×{k} square does not fit a {h}×{w} picture"));
                    }
                    let (top, left) = (rng.gen_range(0..=h - k), rng.gen_range(0..=w - k));
                    let src = &x.data()[i * per..(i + 1) * per];
                    for ch in 0..c {
                        for a in top..top + k {
                            for q in left..left + k {
                                let p = ch * h * w + a * w + q;
                                row[p] = src[p];
                            }
                        }
                    }
                }
            }
        }
    }
    let mut shape = x.shape().to_vec();
    shape[0] = b * n;
    Tensor::new(&shape, data)
}

/// Yeh et al.'s official MNIST protocol ("Square" in their `infid_sen_utils.py`): every
/// square of side 1 to `max_side` (10 in the paper) at every position, `I` = `x` on the
/// square (all channels) and 0 elsewhere, so `x − I` has the square set to 0. Sides in
/// increasing order, positions row-major, example-major `[N·n, C, H, W]` with `n =
/// Σ_k (H−k+1)(W−k+1)` (5605 on 28×28). Deterministic: with the rescaled infidelity it
/// gives their number (`tests/metrics.rs::yeh_square_infidelity_matches_the_official_protocol`).
/// Their explanation is the gradient times the input summed over the square, which is
/// `Σ a⊙I` for `a` the gradient. The tensor holds `N·n·C·H·W` values (17.6 MB per MNIST
/// digit in float32): pass a few examples at a time.
pub fn every_square<T: Float>(x: &Tensor<T>, max_side: usize) -> Result<Tensor<T>> {
    let &[b, c, h, w] = x.shape() else {
        return invalid("square perturbations need pictures [N, C, H, W]");
    };
    if max_side == 0 || max_side > h.min(w) {
        return invalid(format!(
            "squares up to side {max_side} do not fit a {h}×{w} picture"
        ));
    }
    let per = c * h * w;
    let n: usize = (1..=max_side).map(|k| (h - k + 1) * (w - k + 1)).sum();
    let mut data = vec![T::zero(); b * n * per];
    for i in 0..b {
        let src = &x.data()[i * per..(i + 1) * per];
        let mut s = 0;
        for k in 1..=max_side {
            for top in 0..=h - k {
                for left in 0..=w - k {
                    let row = &mut data[(i * n + s) * per..(i * n + s + 1) * per];
                    for ch in 0..c {
                        for a in top..top + k {
                            let p = ch * h * w + a * w;
                            row[p + left..p + left + k]
                                .copy_from_slice(&src[p + left..p + left + k]);
                        }
                    }
                    s += 1;
                }
            }
        }
    }
    Tensor::new(&[b * n, c, h, w], data)
}

/// Infidelity of each example's map `a` (the input's shape) under the given
/// perturbations (`[N·n, …]`, example-major), Captum's value when `rescale` is false and
/// Yeh's optimally rescaled value when true.
pub fn infidelity_with<T: Float>(
    model: &Model<T>,
    x: &Tensor<T>,
    maps: &Tensor<T>,
    targets: &[usize],
    perturbations: &Tensor<T>,
    rescale: bool,
) -> Result<Vec<f64>> {
    Probe::new(model, x, targets, perturbations.clone())?.infidelity(maps, rescale)
}

/// Perturbations `I` of a batch and the score changes they cause, `f_c(x) − f_c(x − I)`:
/// what infidelity compares each map with. The changes do not depend on the map, so
/// one probe scores any number of methods with one batched pass.
pub struct Probe<T> {
    shape: Vec<usize>,
    perturbations: Tensor<T>,
    /// `f_c(x) − f_c(x − I)`, example-major.
    changes: Vec<f64>,
    n: usize,
}

impl<T: Float> Probe<T> {
    pub fn new(
        model: &Model<T>,
        x: &Tensor<T>,
        targets: &[usize],
        perturbations: Tensor<T>,
    ) -> Result<Probe<T>> {
        let (moved, rep, n) = repeated(x, targets, &perturbations, -T::one())?;
        let f0 = target_scores(model, x, targets)?;
        let f1 = target_scores(model, &moved, &rep)?;
        let changes = f1
            .iter()
            .enumerate()
            .map(|(r, f)| f0[r / n].to_f64() - f.to_f64())
            .collect();
        Ok(Probe {
            shape: x.shape().to_vec(),
            perturbations,
            changes,
            n,
        })
    }

    /// The infidelity of each example's map (see [`infidelity_with`]).
    pub fn infidelity(&self, maps: &Tensor<T>, rescale: bool) -> Result<Vec<f64>> {
        if maps.shape() != self.shape.as_slice() {
            return invalid(format!(
                "infidelity needs maps of the input's shape {}; got {} (upsample layer maps first)",
                crate::tensor::fmt_shape(&self.shape),
                crate::tensor::fmt_shape(maps.shape())
            ));
        }
        maps.check_finite("attribution map")?;
        let (b, n) = (self.shape[0], self.n);
        let per = maps.len() / b;
        Ok((0..b)
            .map(|i| {
                let a_row = &maps.data()[i * per..(i + 1) * per];
                let (mut aa, mut ab, mut bb, mut plain) = (0.0, 0.0, 0.0, 0.0);
                for s in 0..n {
                    let r = i * n + s;
                    let p = &self.perturbations.data()[r * per..(r + 1) * per];
                    let a: f64 = a_row
                        .iter()
                        .zip(p)
                        .map(|(a, d)| a.to_f64() * d.to_f64())
                        .sum();
                    let d = self.changes[r];
                    aa += a * a;
                    ab += a * d;
                    bb += d * d;
                    plain += (a - d) * (a - d);
                }
                if rescale {
                    let beta = if aa == 0.0 { 0.0 } else { ab / aa };
                    (beta * beta * aa - 2.0 * beta * ab + bb) / n as f64
                } else {
                    plain / n as f64
                }
            })
            .collect())
    }
}

/// Max-sensitivity of `method` at each example under the given input changes `δ`
/// (`[N·n, …]`, example-major; [`uniform_ball`] draws Captum's).
pub fn sensitivity_with<T: Precision>(
    model: &Model<T>,
    method: &dyn Method,
    x: &Tensor<T>,
    targets: &[usize],
    deltas: &Tensor<T>,
) -> Result<Vec<f64>> {
    let (moved, rep, n) = repeated(x, targets, deltas, T::one())?;
    let b = x.shape()[0];
    let base = T::run(method, model, x, targets)?.map;
    let maps = T::run(method, model, &moved, &rep)?.map;
    let m = base.len() / b;
    Ok((0..b)
        .map(|i| {
            let e = &base.data()[i * m..(i + 1) * m];
            let norm = e.iter().map(|v| v.to_f64().powi(2)).sum::<f64>().sqrt();
            let norm = if norm == 0.0 { 1.0 } else { norm };
            (0..n)
                .map(|s| {
                    let r = i * n + s;
                    let d = &maps.data()[r * m..(r + 1) * m];
                    e.iter()
                        .zip(d)
                        .map(|(a, b)| (a.to_f64() - b.to_f64()).powi(2))
                        .sum::<f64>()
                        .sqrt()
                        / norm
                })
                .fold(0.0, f64::max)
        })
        .collect())
}

/// Each example of `x` once per change in `changes` (`[B·n, …]`, example-major) with
/// `sign · change` added, the targets repeated alike, and `n`.
fn repeated<T: Float>(
    x: &Tensor<T>,
    targets: &[usize],
    changes: &Tensor<T>,
    sign: T,
) -> Result<(Tensor<T>, Vec<usize>, usize)> {
    let b = x.shape()[0];
    let fits = b > 0
        && changes.shape()[1..] == x.shape()[1..]
        && changes.shape()[0] > 0
        && changes.shape()[0].is_multiple_of(b);
    if !fits {
        return invalid(format!(
            "perturbations of shape {} do not hold a whole number of changes for each of {b} inputs of shape {}",
            crate::tensor::fmt_shape(changes.shape()),
            crate::tensor::fmt_shape(x.shape())
        ));
    }
    if targets.len() != b {
        return invalid(format!("{} targets for {b} inputs", targets.len()));
    }
    let n = changes.shape()[0] / b;
    let per = x.len() / b;
    let data = changes
        .data()
        .chunks(per)
        .enumerate()
        .flat_map(|(r, d)| {
            let row = &x.data()[(r / n) * per..(r / n + 1) * per];
            row.iter().zip(d).map(move |(&x, &d)| x + sign * d)
        })
        .collect();
    let rep = targets
        .iter()
        .flat_map(|&t| std::iter::repeat_n(t, n))
        .collect();
    Ok((Tensor::new(changes.shape(), data)?, rep, n))
}

/// `n` draws per example, uniform in the L∞ ball of radius `r`, example-major.
pub fn uniform_ball<T: Float>(x: &Tensor<T>, r: f64, n: usize, seed: u64) -> Result<Tensor<T>> {
    let b = x.shape()[0];
    let per = x.len() / b.max(1);
    let mut data = Vec::with_capacity(b * n * per);
    for i in 0..b {
        let mut rng = StdRng::seed_from_u64(mix(seed, i));
        data.extend((0..n * per).map(|_| T::from_f64_lossy(rng.gen_range(-r..r))));
    }
    let mut shape = x.shape().to_vec();
    shape[0] = b * n;
    Tensor::new(&shape, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::local::saliency::Saliency;
    use crate::nn::Arch;

    #[test]
    fn linear_model_is_perfect() {
        let m = Model::<f64>::init(Arch::from_name("seq:flatten,linear(9,3)").unwrap(), 4);
        let x = Tensor::<f64>::from_f64(
            &[2, 1, 3, 3],
            &(0..18).map(|v| v as f64 / 7.0).collect::<Vec<_>>(),
        )
        .unwrap();
        let t = [2, 0];
        let g = f64::run(&Saliency { abs: false }, &m, &x, &t).unwrap().map;
        for kind in [Perturbation::Gaussian(0.3), Perturbation::Square(2)] {
            let p = perturbations(&x, kind, 6, 1).unwrap();
            for rescale in [false, true] {
                let v = infidelity_with(&m, &x, &g, &t, &p, rescale).unwrap();
                assert!(v.iter().all(|v| v.abs() < 1e-15), "{kind:?} {v:?}");
            }
        }
        let d = uniform_ball(&x, 0.02, 5, 0).unwrap();
        let s = sensitivity_with(&m, &Saliency { abs: false }, &x, &t, &d).unwrap();
        assert!(s.iter().all(|v| v.abs() < 1e-12));
        // a wrong map is unfaithful
        let bad = g.map(|v| -v);
        let p = perturbations(&x, Perturbation::Gaussian(0.3), 6, 1).unwrap();
        assert!(infidelity_with(&m, &x, &bad, &t, &p, false).unwrap()[0] > 1e-3);
    }
}
