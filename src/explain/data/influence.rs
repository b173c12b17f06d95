//! Influence functions (Koh & Liang, "Understanding Black-box Predictions via Influence
//! Functions", ICML 2017).
//!
//! **Question.** How would the loss on a test example change if one training example
//! had been left out?
//!
//! **Formula.** With `L(θ) = (1/n) Σ ℓ(zᵢ; θ) + (λ/2)‖θ‖²` minimized at `θ̂`, `H = ∇²L(θ̂)`
//! and damping `δ`:
//!
//! `I(z, z_test) = ∇ℓ(z_test)ᵀ (H + δI)⁻¹ ∇ℓ(z) / n`
//!
//! is the first-order change of the test loss when `z` is removed (its weight goes from
//! 1 to 0, `ε = −1/n` in the paper). **Sign: positive = removing `z` would increase the
//! test loss, `z` is a proponent** (helpful). Koh & Liang's `I_up,loss` is the
//! derivative for *up*-weighting: `−n·I`. Captum's `NaiveInfluenceFunction` reports
//! `∇ℓ_testᵀ H_sum⁻¹ ∇ℓ_z` with `H_sum = Σ ∇²ℓ + reg·I` (a sum, not a mean); with
//! `δ = reg / n` the two are equal. *Self-influence* `∇ℓ(z)ᵀ(H + δI)⁻¹∇ℓ(z)/n` is large for
//! examples the model bends to fit, such as mislabeled ones.
//!
//! **Solvers** for `s = (H + δI)⁻¹ ∇ℓ_test`:
//! - [`Solver::Explicit`]: the Hessian formed and factored (Cholesky), for small θ;
//! - [`Solver::Cg`]: conjugate gradient with exact Hessian-vector products; it stops
//!   with an error naming the damping at a direction of negative curvature;
//! - [`Solver::Minres`] (Paige & Saunders 1975): the same products, for `H + δI` that is
//!   symmetric but indefinite, as a network's Hessian away from a minimum often is (the
//!   formula's inverse still exists when no eigenvalue is exactly −δ);
//! - [`Solver::Lissa`] (Agarwal et al. 2017, as Koh & Liang use it):
//!   `h₀ = v`, `h_j = v + (I − (H + δI)/scale) h_{j−1}` on minibatch products,
//!   `s ≈ h_depth / scale`, averaged over repeats. It converges only if `scale` exceeds
//!   the largest eigenvalue of `H + δI`; divergence is an error, never a NaN.
//!
//! Then `I(zᵢ, z_test) = ∇ℓ(zᵢ)ᵀ s / n` for every training example at once
//! ([`Objective::train_dots`]: one forward pass on dual numbers for a model).
//!
//! **Pinned by** `tests/training_data.rs`: ridge regression's exact leave-one-out change equals the
//! prediction divided by `1 − leverage`; CG equals a direct solve; LiSSA converges on a
//! 5 × 5 matrix; logistic regression on MNIST 1-vs-7 (Koh & Liang Fig. 2): Pearson
//! correlation of predicted and actual leave-one-out changes ≥ 0.99; and Captum's
//! `NaiveInfluenceFunction` on the same weights (golden, float64).

use super::objective::Objective;
use crate::error::{Error, Result, invalid};
use crate::tensor::linalg::{cholesky, cholesky_solve};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// How `(H + δI)⁻¹ v` is computed.
#[derive(Clone, Debug, PartialEq)]
pub enum Solver {
    /// Form `H` (`dim` products or a closed form) and factor it.
    Explicit,
    /// Conjugate gradient until `‖r‖ ≤ tol·‖v‖` or `max_iter` steps.
    Cg { tol: f64, max_iter: usize },
    /// MINRES until `‖r‖ ≤ tol·‖v‖` or `max_iter` steps (indefinite `H + δI` allowed).
    Minres { tol: f64, max_iter: usize },
    /// LiSSA: `repeats` runs of `depth` steps on minibatches of `batch` examples (all
    /// examples when `None`), seeded.
    Lissa {
        scale: f64,
        depth: usize,
        repeats: usize,
        batch: Option<usize>,
        seed: u64,
    },
}

impl Solver {
    pub fn name(&self) -> &'static str {
        match self {
            Solver::Explicit => "explicit",
            Solver::Cg { .. } => "cg",
            Solver::Minres { .. } => "minres",
            Solver::Lissa { .. } => "lissa",
        }
    }
}

/// Called after every step of an iterative solver: CG's iteration and relative residual
/// `‖r‖/‖v‖`, or LiSSA's step (counted over the repeats) and the size of its last change.
pub type StepHook<'a> = Box<dyn Fn(usize, f64) + Sync + 'a>;

/// `(H + δI)⁻¹` applied by one solver (the explicit one keeps its factor).
pub struct InverseHvp<'a> {
    obj: &'a dyn Objective,
    damping: f64,
    solver: Solver,
    factor: Option<Vec<f64>>,
    on_step: Option<StepHook<'a>>,
}

const DAMPING_HINT: &str = "raise --damping until H + δI is positive definite (a network's Hessian often has negative eigenvalues; try ten times the current value)";

impl<'a> InverseHvp<'a> {
    /// Prepares the solver (the explicit one forms and factors the Hessian now).
    pub fn new(obj: &'a dyn Objective, damping: f64, solver: Solver) -> Result<Self> {
        if !(damping >= 0.0 && damping.is_finite()) {
            return invalid(format!("--damping must be ≥ 0, got {damping}"));
        }
        let factor = match solver {
            Solver::Explicit => {
                let d = obj.dim();
                let mut h = obj.hessian()?;
                for j in 0..d {
                    h[j * d + j] += damping;
                }
                Some(cholesky(&h, d).ok_or_else(|| {
                    Error::Invalid(format!(
                        "the Hessian plus damping {damping} is not positive definite (the training loss is flat or curved downward along some direction); {DAMPING_HINT}"
                    ))
                })?)
            }
            Solver::Cg { tol, max_iter } | Solver::Minres { tol, max_iter }
                if tol.is_nan() || tol <= 0.0 || max_iter == 0 =>
            {
                return invalid(
                    "CG and MINRES need a positive tolerance and at least one iteration",
                );
            }
            Solver::Lissa {
                scale,
                depth,
                repeats,
                ..
            } if !(scale > 0.0 && scale.is_finite()) || depth == 0 || repeats == 0 => {
                return invalid(
                    "LiSSA needs a positive --lissa-scale, --lissa-depth ≥ 1 and --lissa-repeats ≥ 1",
                );
            }
            _ => None,
        };
        Ok(InverseHvp {
            obj,
            damping,
            solver,
            factor,
            on_step: None,
        })
    }

    /// Reports every step of the iterative solvers to `hook` (a progress bar).
    pub fn on_step(mut self, hook: impl Fn(usize, f64) + Sync + 'a) -> Self {
        self.on_step = Some(Box::new(hook));
        self
    }

    fn step(&self, i: usize, v: f64) {
        if let Some(h) = &self.on_step {
            h(i, v);
        }
    }

    /// `(H + δI) v`.
    fn damped(&self, rows: Option<&[usize]>, v: &[f64]) -> Result<Vec<f64>> {
        let h = self.obj.hvp_rows(rows, v)?;
        Ok(h.iter().zip(v).map(|(a, b)| a + self.damping * b).collect())
    }

    /// `(H + δI)⁻¹ v`.
    pub fn solve(&self, v: &[f64]) -> Result<Vec<f64>> {
        let d = self.obj.dim();
        if v.len() != d {
            return invalid(format!("vector has {} values, θ has {d}", v.len()));
        }
        match &self.solver {
            Solver::Explicit => Ok(cholesky_solve(
                self.factor.as_ref().expect("factored"),
                d,
                v,
            )),
            Solver::Cg { tol, max_iter } => self.cg(v, *tol, *max_iter),
            Solver::Minres { tol, max_iter } => self.minres(v, *tol, *max_iter),
            Solver::Lissa {
                scale,
                depth,
                repeats,
                batch,
                seed,
            } => self.lissa(v, *scale, *depth, *repeats, *batch, *seed),
        }
    }

    fn cg(&self, b: &[f64], tol: f64, max_iter: usize) -> Result<Vec<f64>> {
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        let bnorm = dot(b, b).sqrt();
        let mut x = vec![0.0; b.len()];
        if bnorm == 0.0 {
            return Ok(x);
        }
        let mut r = b.to_vec();
        let mut p = r.clone();
        let mut rr = dot(&r, &r);
        for it in 0..max_iter {
            let hp = self.damped(None, &p)?;
            let curv = dot(&p, &hp);
            if curv.is_nan() || curv <= 0.0 {
                return invalid(format!(
                    "conjugate gradient met a direction of non-positive curvature (pᵀ(H + δI)p = {curv:.3e}): the Hessian plus damping {} is not positive definite; {DAMPING_HINT}",
                    self.damping
                ));
            }
            let alpha = rr / curv;
            x.iter_mut().zip(&p).for_each(|(xi, pi)| *xi += alpha * pi);
            r.iter_mut().zip(&hp).for_each(|(ri, hi)| *ri -= alpha * hi);
            let rr_new = dot(&r, &r);
            self.step(it + 1, rr_new.sqrt() / bnorm);
            if rr_new.sqrt() <= tol * bnorm {
                return Ok(x);
            }
            let beta = rr_new / rr;
            p.iter_mut()
                .zip(&r)
                .for_each(|(pi, ri)| *pi = ri + beta * *pi);
            rr = rr_new;
        }
        invalid(format!(
            "conjugate gradient did not reach relative residual {tol:e} in {max_iter} iterations (now {:.3e}); raise --cg-iterations, --cg-tol or --damping",
            rr.sqrt() / bnorm
        ))
    }

    /// MINRES without preconditioning (the recurrences of SciPy's `minres`): Lanczos
    /// vectors of `H + δI`, the tridiagonal system solved by Givens rotations, `x`
    /// updated every step; `‖b − (H + δI)x‖` is known without another product.
    fn minres(&self, b: &[f64], tol: f64, max_iter: usize) -> Result<Vec<f64>> {
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        let d = b.len();
        let beta1 = dot(b, b).sqrt();
        let mut x = vec![0.0; d];
        if beta1 == 0.0 {
            return Ok(x);
        }
        let (mut r1, mut r2, mut y) = (b.to_vec(), b.to_vec(), b.to_vec());
        let (mut oldb, mut beta, mut dbar, mut epsln, mut phibar) = (0.0, beta1, 0.0, 0.0, beta1);
        let (mut cs, mut sn) = (-1.0f64, 0.0f64);
        let (mut w, mut w2) = (vec![0.0; d], vec![0.0; d]);
        for it in 0..max_iter {
            let v: Vec<f64> = y.iter().map(|yi| yi / beta).collect();
            y = self.damped(None, &v)?;
            if it > 0 {
                y.iter_mut()
                    .zip(&r1)
                    .for_each(|(yi, ri)| *yi -= beta / oldb * ri);
            }
            let alfa = dot(&v, &y);
            y.iter_mut()
                .zip(&r2)
                .for_each(|(yi, ri)| *yi -= alfa / beta * ri);
            r1 = std::mem::replace(&mut r2, y.clone());
            oldb = beta;
            beta = dot(&r2, &y).sqrt();
            let oldeps = epsln;
            let delta = cs * dbar + sn * alfa;
            let gbar = sn * dbar - cs * alfa;
            epsln = sn * beta;
            dbar = -cs * beta;
            let gamma = gbar.hypot(beta).max(f64::EPSILON);
            cs = gbar / gamma;
            sn = beta / gamma;
            let phi = cs * phibar;
            phibar *= sn;
            let w1 = std::mem::replace(&mut w2, w.clone());
            for j in 0..d {
                w[j] = (v[j] - oldeps * w1[j] - delta * w2[j]) / gamma;
                x[j] += phi * w[j];
            }
            let rel = phibar / beta1;
            if !rel.is_finite() {
                return invalid(format!(
                    "MINRES broke down at iteration {} (residual {rel}); {DAMPING_HINT}",
                    it + 1
                ));
            }
            self.step(it + 1, rel);
            if rel <= tol || beta == 0.0 {
                return Ok(x);
            }
        }
        invalid(format!(
            "MINRES did not reach relative residual {tol:e} in {max_iter} iterations (now {:.3e}); raise --cg-iterations, --cg-tol or --damping",
            phibar / beta1
        ))
    }

    fn lissa(
        &self,
        v: &[f64],
        scale: f64,
        depth: usize,
        repeats: usize,
        batch: Option<usize>,
        seed: u64,
    ) -> Result<Vec<f64>> {
        let n = self.obj.len();
        let mut rng = StdRng::seed_from_u64(seed);
        let vnorm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        let mut sum = vec![0.0; v.len()];
        for rep in 0..repeats {
            let mut h = v.to_vec();
            let mut order: Vec<usize> = (0..n).collect();
            let mut at = n;
            for step in 0..depth {
                let rows = batch.map(|b| {
                    let b = b.clamp(1, n);
                    if at + b > n {
                        order.shuffle(&mut rng);
                        at = 0;
                    }
                    at += b;
                    order[at - b..at].to_vec()
                });
                let hh = self.obj.hvp_rows(rows.as_deref(), &h)?;
                for j in 0..h.len() {
                    h[j] = v[j] + h[j] - (hh[j] + self.damping * h[j]) / scale;
                }
                let norm = h.iter().map(|a| a * a).sum::<f64>().sqrt();
                self.step(rep * depth + step + 1, norm / vnorm.max(1e-300));
                if !norm.is_finite() || norm > 1e6 * vnorm.max(1e-300) * (step + 1) as f64 {
                    return invalid(format!(
                        "LiSSA diverged (repeat {}, step {}, ‖h‖ = {norm:.3e}): --lissa-scale {scale} is below the largest eigenvalue of H + δI; raise it",
                        rep + 1,
                        step + 1
                    ));
                }
            }
            sum.iter_mut().zip(&h).for_each(|(s, hj)| *s += hj / scale);
        }
        Ok(sum.into_iter().map(|s| s / repeats as f64).collect())
    }
}

/// `I(zᵢ, z_test) = ∇ℓ(zᵢ)ᵀ (H + δI)⁻¹ ∇ℓ_test / n` for every training example.
pub fn influence(inv: &InverseHvp, test_grad: &[f64]) -> Result<Vec<f64>> {
    let s = inv.solve(test_grad)?;
    let n = inv.obj.len() as f64;
    Ok(inv.obj.train_dots(&s)?.into_iter().map(|d| d / n).collect())
}

/// Self-influence `∇ℓ(zᵢ)ᵀ (H + δI)⁻¹ ∇ℓ(zᵢ) / n` of the training examples `rows` (one
/// solve each; the explicit solver makes that cheap).
pub fn self_influence(inv: &InverseHvp, rows: &[usize]) -> Result<Vec<f64>> {
    let n = inv.obj.len() as f64;
    let grads = inv.obj.train_grads(rows)?;
    grads
        .iter()
        .map(|g| {
            let s = inv.solve(g)?;
            Ok(g.iter().zip(&s).map(|(a, b)| a * b).sum::<f64>() / n)
        })
        .collect()
}

/// Pearson's correlation coefficient (NaN when either side is constant).
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len()) as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma).powi(2);
        sbb += (y - mb).powi(2);
    }
    sab / (saa * sbb).sqrt()
}
