//! Integrated Gradients (Sundararajan, Taly, Yan 2017).
//!
//! *Question:* how much of the change of the class score between a baseline `x′` and the
//! input `x` is due to each input value?
//! `IGᵢ = (xᵢ − x′ᵢ) · ∫₀¹ ∂F(x′ + α(x − x′))/∂xᵢ dα`, approximated by a quadrature
//! `Σₖ wₖ ∂F(x′ + αₖ(x − x′))/∂xᵢ`. Completeness: `Σᵢ IGᵢ = F(x) − F(x′)`; the returned
//! `delta` is `Σᵢ IGᵢ − (F(x) − F(x′))` per example.
//!
//! Rules: Riemann left, right, middle, trapezoid (weights sum to 1) and Gauss–Legendre
//! (default). Captum's `riemann_trapezoid` uses weights `1/n` halved at both ends, which
//! sum to `(n−1)/n`; [`PathRule::CaptumTrapezoid`] reproduces Captum's numbers exactly.
//!
//! Pinned by `tests/captum.rs` (Captum, trapezoid and Gauss–Legendre, to 1e-5) and by the
//! completeness tests there and below (exact for linear models and low-degree paths).

use crate::autodiff::BackwardRule;
use crate::error::{Result, invalid, shape_err};
use crate::explain::attribution::{Attribution, AttributionMethod, check_batch, target_scores};
use crate::explain::batched::gradient_rows;
use crate::float::Float;
use crate::nn::Model;
use crate::tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// How the path integral is approximated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathRule {
    RiemannLeft,
    RiemannRight,
    RiemannMiddle,
    RiemannTrapezoid,
    /// Captum's trapezoid: weights `1/n` halved at the ends (sum `(n−1)/n`).
    CaptumTrapezoid,
    GaussLegendre,
}

impl PathRule {
    /// Every rule, in the order `--rule` lists them.
    pub const ALL: [PathRule; 6] = [
        PathRule::RiemannLeft,
        PathRule::RiemannRight,
        PathRule::RiemannMiddle,
        PathRule::RiemannTrapezoid,
        PathRule::CaptumTrapezoid,
        PathRule::GaussLegendre,
    ];

    /// The `--rule` name.
    pub fn name(self) -> &'static str {
        match self {
            PathRule::RiemannLeft => "left",
            PathRule::RiemannRight => "right",
            PathRule::RiemannMiddle => "middle",
            PathRule::RiemannTrapezoid => "trapezoid",
            PathRule::CaptumTrapezoid => "captum-trapezoid",
            PathRule::GaussLegendre => "gauss-legendre",
        }
    }

    pub fn parse(s: &str) -> Result<PathRule> {
        Ok(match s {
            "left" | "riemann-left" => PathRule::RiemannLeft,
            "right" | "riemann-right" => PathRule::RiemannRight,
            "middle" | "riemann-middle" => PathRule::RiemannMiddle,
            "trapezoid" | "riemann-trapezoid" => PathRule::RiemannTrapezoid,
            "captum-trapezoid" => PathRule::CaptumTrapezoid,
            "gauss-legendre" | "gausslegendre" => PathRule::GaussLegendre,
            _ => {
                return invalid(format!(
                    "unknown rule '{s}': use left, right, middle, trapezoid, captum-trapezoid or gauss-legendre"
                ));
            }
        })
    }

    /// Points `αₖ ∈ [0, 1]` and weights `wₖ` of an `n`-point rule.
    pub fn nodes(self, n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
        if n < 2 {
            return invalid(format!("need at least 2 steps, got {n}"));
        }
        let nf = n as f64;
        let lin = |a: f64, b: f64| {
            (0..n)
                .map(|k| a + (b - a) * k as f64 / (nf - 1.0))
                .collect::<Vec<_>>()
        };
        Ok(match self {
            PathRule::RiemannLeft => (lin(0.0, 1.0 - 1.0 / nf), vec![1.0 / nf; n]),
            PathRule::RiemannRight => (lin(1.0 / nf, 1.0), vec![1.0 / nf; n]),
            PathRule::RiemannMiddle => (lin(0.5 / nf, 1.0 - 0.5 / nf), vec![1.0 / nf; n]),
            PathRule::RiemannTrapezoid | PathRule::CaptumTrapezoid => {
                let step = if self == PathRule::RiemannTrapezoid {
                    1.0 / (nf - 1.0)
                } else {
                    1.0 / nf
                };
                let mut w = vec![step; n];
                w[0] /= 2.0;
                w[n - 1] /= 2.0;
                // Captum takes its alphas from a float32 linspace
                let a = lin(0.0, 1.0);
                (
                    if self == PathRule::CaptumTrapezoid {
                        a.iter().map(|&v| v as f32 as f64).collect()
                    } else {
                        a
                    },
                    w,
                )
            }
            PathRule::GaussLegendre => {
                let (x, w) = gauss_legendre(n);
                (
                    x.iter().map(|v| 0.5 * (v + 1.0)).collect(),
                    w.iter().map(|v| 0.5 * v).collect(),
                )
            }
        })
    }
}

/// Nodes and weights of `n`-point Gauss–Legendre quadrature on [−1, 1], by Newton's
/// method on the Legendre polynomial `P_n` (nodes in increasing order).
pub fn gauss_legendre(n: usize) -> (Vec<f64>, Vec<f64>) {
    let (mut xs, mut ws) = (vec![0.0; n], vec![0.0; n]);
    for i in 0..n.div_ceil(2) {
        let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut dp = 0.0;
        for _ in 0..100 {
            // P_n(x) and P_n'(x) by the three-term recurrence
            let (mut p0, mut p1) = (1.0, x);
            for k in 2..=n {
                let p2 = ((2 * k - 1) as f64 * x * p1 - (k - 1) as f64 * p0) / k as f64;
                p0 = p1;
                p1 = p2;
            }
            let pn = if n == 1 { x } else { p1 };
            let pm = if n == 1 { 1.0 } else { p0 };
            dp = n as f64 * (x * pn - pm) / (x * x - 1.0);
            let dx = pn / dp;
            x -= dx;
            if dx.abs() < 1e-16 {
                break;
            }
        }
        let w = 2.0 / ((1.0 - x * x) * dp * dp);
        xs[i] = -x;
        xs[n - 1 - i] = x;
        ws[i] = w;
        ws[n - 1 - i] = w;
    }
    (xs, ws)
}

/// The reference input `x′`.
#[derive(Clone, Debug, PartialEq)]
pub enum Baseline {
    Zero,
    Constant(f64),
    /// A box blur of the input with this radius (pixels).
    Blurred(usize),
    /// Uniform noise in `[lo, hi)`, seeded.
    UniformNoise {
        lo: f64,
        hi: f64,
        seed: u64,
    },
    /// A tensor of the input's shape (or of one example's shape, shared by the batch).
    Tensor(Tensor<f64>),
}

impl Baseline {
    pub fn build<T: Float>(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        Ok(match self {
            Baseline::Zero => Tensor::zeros(x.shape()),
            Baseline::Constant(c) => Tensor::full(x.shape(), T::from_f64_lossy(*c)),
            Baseline::UniformNoise { lo, hi, seed } => {
                Tensor::uniform(x.shape(), *lo, *hi, &mut StdRng::seed_from_u64(*seed))
            }
            Baseline::Blurred(r) => box_blur(x, *r)?,
            Baseline::Tensor(t) => {
                if t.shape() == x.shape() {
                    t.cast()
                } else if t.shape() == &x.shape()[1..] {
                    let one: Vec<T> = t.data().iter().map(|&v| T::from_f64_lossy(v)).collect();
                    Tensor::new(
                        x.shape(),
                        one.iter().copied().cycle().take(x.len()).collect(),
                    )?
                } else {
                    return shape_err(format!(
                        "baseline {:?} does not match input {:?}",
                        t.shape(),
                        x.shape()
                    ));
                }
            }
        })
    }
}

/// Mean over the (2r+1)² window around each pixel (clipped at the borders), per channel.
fn box_blur<T: Float>(x: &Tensor<T>, r: usize) -> Result<Tensor<T>> {
    let (n, c, h, w) = crate::ops::expect_4d(x.shape(), "blurred baseline")?;
    let mut out = vec![T::zero(); x.len()];
    for p in 0..n * c {
        let src = &x.data()[p * h * w..(p + 1) * h * w];
        for i in 0..h {
            for j in 0..w {
                let (i0, i1, j0, j1) = (
                    i.saturating_sub(r),
                    (i + r).min(h - 1),
                    j.saturating_sub(r),
                    (j + r).min(w - 1),
                );
                let mut s = T::zero();
                for a in i0..=i1 {
                    for b in j0..=j1 {
                        s += src[a * w + b];
                    }
                }
                out[p * h * w + i * w + j] =
                    s / T::from_usize((i1 - i0 + 1) * (j1 - j0 + 1)).unwrap_or(T::one());
            }
        }
    }
    Tensor::new(x.shape(), out)
}

#[derive(Clone, Debug, PartialEq)]
pub struct IntegratedGradients {
    pub steps: usize,
    pub rule: PathRule,
    pub baseline: Baseline,
}

impl Default for IntegratedGradients {
    fn default() -> Self {
        IntegratedGradients {
            steps: 50,
            rule: PathRule::GaussLegendre,
            baseline: Baseline::Zero,
        }
    }
}

impl<T: Float> AttributionMethod<T> for IntegratedGradients {
    fn name(&self) -> &'static str {
        "integrated-gradients"
    }
    fn attribute(
        &self,
        model: &Model<T>,
        x: &Tensor<T>,
        targets: &[usize],
    ) -> Result<Attribution<T>> {
        check_batch(model, x, targets)?;
        let base = self.baseline.build(x)?;
        let (alphas, weights) = self.rule.nodes(self.steps)?;
        let n = x.shape()[0];
        let per = x.len() / n;
        let diff = x.zip(&base, |a, b| a - b)?;
        let mut total = vec![T::zero(); x.len()];
        // the path points of every example, in shared batched passes:
        // row r = (k, i) = x′ᵢ + αₖ(xᵢ − x′ᵢ) with k = r / n, i = r % n
        gradient_rows(
            model,
            &x.shape()[1..],
            alphas.len() * n,
            |r, row| {
                let (a, i) = (T::from_f64_lossy(alphas[r / n]), r % n);
                let (b, d) = (
                    &base.data()[i * per..(i + 1) * per],
                    &diff.data()[i * per..(i + 1) * per],
                );
                row.iter_mut()
                    .zip(b.iter().zip(d))
                    .for_each(|(o, (&b, &d))| *o = b + a * d);
            },
            |r| targets[r % n],
            BackwardRule::Standard,
            |r, g| {
                let (w, i) = (T::from_f64_lossy(weights[r / n]), r % n);
                for (acc, &gv) in total[i * per..(i + 1) * per].iter_mut().zip(g) {
                    *acc += w * gv;
                }
            },
        )?;
        let attr = Tensor::new(x.shape(), total)?.zip(&diff, |g, d| g * d)?;
        let fx = target_scores(model, x, targets)?;
        let fb = target_scores(model, &base, targets)?;
        let delta: Vec<T> = (0..n)
            .map(|i| {
                attr.data()[i * per..(i + 1) * per]
                    .iter()
                    .copied()
                    .sum::<T>()
                    - (fx[i] - fb[i])
            })
            .collect();
        Ok(Attribution {
            map: attr,
            extras: vec![("delta".into(), Tensor::new(&[n], delta)?)],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Arch;

    /// The lecture's elephant: "trunk length" matters, but past a length of 1 the score
    /// saturates, `F(x) = 1 − ReLU(1 − x₁)`. At `x₁ = 2` the gradient is 0 (saliency sees
    /// nothing) while Integrated Gradients gives the trunk its full effect `F(x) − F(0) = 1`.
    #[test]
    fn gradient_saturation_is_recovered_by_integrated_gradients() {
        use crate::explain::local::saliency::Saliency;
        let arch = Arch::from_name("seq:flatten,linear(2,1),relu,linear(1,1)").unwrap();
        let t = |s: &[usize], v: &[f64]| Tensor::from_f64(s, v).unwrap();
        let named = vec![
            ("1.weight".to_string(), t(&[1, 2], &[-1.0, 0.0])),
            ("1.bias".to_string(), t(&[1], &[1.0])),
            ("3.weight".to_string(), t(&[1, 1], &[-1.0])),
            ("3.bias".to_string(), t(&[1], &[1.0])),
        ];
        let model = Model::<f64>::from_named(arch, named).unwrap();
        let x = t(&[1, 2], &[2.0, 0.5]);
        let grad = Saliency { abs: false }
            .attribute(&model, &x, &[0])
            .unwrap()
            .map;
        assert_eq!(grad.data(), &[0.0, 0.0], "saturated: no gradient");
        for rule in [PathRule::GaussLegendre, PathRule::RiemannTrapezoid] {
            let ig = IntegratedGradients {
                steps: 50,
                rule,
                baseline: Baseline::Zero,
            }
            .attribute(&model, &x, &[0])
            .unwrap();
            assert!(
                (ig.map.data()[0] - 1.0).abs() < 0.02,
                "{rule:?}: trunk gets {}",
                ig.map.data()[0]
            );
            assert_eq!(ig.map.data()[1], 0.0);
        }
    }

    #[test]
    fn gauss_legendre_integrates_polynomials_exactly() {
        for n in [2usize, 5, 16, 50] {
            let (x, w) = gauss_legendre(n);
            assert!((w.iter().sum::<f64>() - 2.0).abs() < 1e-13);
            // ∫₋₁¹ t^(2n−2) dt = 2/(2n−1): degree 2n−2 ≤ 2n−1 is exact
            let got: f64 = x
                .iter()
                .zip(&w)
                .map(|(t, w)| w * t.powi(2 * n as i32 - 2))
                .sum();
            assert!((got - 2.0 / (2 * n - 1) as f64).abs() < 1e-12, "n={n}");
        }
    }

    #[test]
    fn rule_weights_sum_to_one_except_captums_trapezoid() {
        for rule in [
            PathRule::RiemannLeft,
            PathRule::RiemannRight,
            PathRule::RiemannMiddle,
            PathRule::RiemannTrapezoid,
            PathRule::GaussLegendre,
        ] {
            let (_, w) = rule.nodes(20).unwrap();
            assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{rule:?}");
        }
        let (_, w) = PathRule::CaptumTrapezoid.nodes(20).unwrap();
        assert!((w.iter().sum::<f64>() - 19.0 / 20.0).abs() < 1e-12);
    }

    /// For a linear model every rule is exact: IG = (x − x′) ⊙ w, delta 0 (to 1e-10 in f64).
    #[test]
    fn exact_for_a_linear_model_at_any_step_count() {
        let model = Model::<f64>::init(Arch::from_name("seq:flatten,linear(12,3)").unwrap(), 3);
        let x = crate::autodiff::gradcheck::test_input(&[2, 12], 4, 0.0)
            .reshape(&[2, 12])
            .unwrap();
        for rule in [
            PathRule::RiemannLeft,
            PathRule::RiemannTrapezoid,
            PathRule::GaussLegendre,
        ] {
            for steps in [2, 7, 50] {
                let ig = IntegratedGradients {
                    steps,
                    rule,
                    baseline: Baseline::Constant(0.3),
                };
                let a = ig.attribute(&model, &x, &[0, 2]).unwrap();
                assert!(
                    a.extra("delta").unwrap().max_abs() < 1e-10,
                    "{rule:?} {steps}"
                );
            }
        }
    }

    /// Along the path F(x′ + α(x − x′)) is a polynomial of degree ≤ 2n−1 in α for
    /// `y = Σ xᵢ^p` (degree p); n-point Gauss–Legendre integrates its derivative exactly.
    #[test]
    fn gauss_legendre_exact_for_polynomial_paths() {
        use crate::autodiff::Tape;
        let n = 3usize; // exact up to degree 5 in α for the integrand
        let (alphas, weights) = PathRule::GaussLegendre.nodes(n).unwrap();
        let x = [0.7f64, -1.3, 2.0];
        let p = 6.0; // F = Σ xᵢ⁶: the integrand ∂F/∂x along the path has degree 5
        let mut ig = [0.0; 3];
        for (a, w) in alphas.iter().zip(&weights) {
            let mut t = Tape::<f64>::new();
            let xv = t.leaf(Tensor::from_f64(&[3], &x.map(|v| a * v)).unwrap());
            let y = t.pow(xv, p);
            let s = t.sum_all(y);
            let g = t.backward(s).unwrap().get(xv);
            for i in 0..3 {
                ig[i] += w * g.data()[i] * x[i];
            }
        }
        let want: f64 = x.iter().map(|v| v.powf(p)).sum();
        assert!((ig.iter().sum::<f64>() - want).abs() < 1e-10 * want);
    }
}
