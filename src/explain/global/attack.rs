//! Adversarial images: the reason unregularized pixel ascent gives noise.
//!
//! *Question:* how small a change of the pixels changes the network's answer?
//!
//! *Formula:* with `ℓ` the cross-entropy of the true label and pixels in [0, 1],
//! * **FGSM** (Goodfellow et al. 2015): `x' = clip₀¹(x + ε·sign(∇ₓℓ(x, y)))`;
//! * **PGD** (Madry et al. 2018), L∞: a seeded random start `x₀ = clip₀¹(x + U(−ε, ε))`,
//!   then `x_{t+1} = Π(x_t + α·sign(∇ₓℓ(x_t, y)))` for `steps` steps, `Π` the projection
//!   onto the ε-ball around `x` intersected with [0, 1] (default 40 steps,
//!   `α = 2.5·ε/steps`, Madry's choice).
//!
//! The gradient is taken through the model's normalization of the pixels; ε is in pixel
//! units (MNIST: ε = 0.1 is about 25 grey levels).
//!
//! Pinned by `tests/global.rs`: on a two-class linear model FGSM is
//! `clip(x + ε·sign(w_other − w_y))`; PGD never leaves the ε-ball or [0, 1]; on
//! mnist-cnn PGD at ε = 0.1 is stronger than FGSM.

use crate::autodiff::Tape;
use crate::error::{Result, invalid, shape_err};
use crate::float::Float;
use crate::nn::Model;
use crate::tensor::{Tensor, fmt_shape};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// An L∞ attack.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Attack {
    Fgsm,
    Pgd {
        steps: usize,
        /// Step size; `None` is `2.5·ε/steps`.
        alpha: Option<f64>,
        seed: u64,
    },
}

impl Attack {
    /// PGD with Madry et al.'s settings (40 steps, α = 2.5·ε/40).
    pub fn pgd(seed: u64) -> Attack {
        Attack::Pgd {
            steps: 40,
            alpha: None,
            seed,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Attack::Fgsm => "fgsm",
            Attack::Pgd { .. } => "pgd",
        }
    }
}

/// Rows per pass of the attacks.
const CHUNK: usize = 256;

/// `∇ₓ Σᵢ ℓ(xᵢ, yᵢ)` with respect to the pixels, the model reading `a·x + b`.
fn pixel_gradient<T: Float>(
    model: &Model<T>,
    x: &Tensor<T>,
    y: &[usize],
    affine: (f64, f64),
) -> Result<Tensor<T>> {
    // hot, as every pass (see `runtime::hot`): `lamppost attack pgd --n 500 --steps 20` on
    // mnist-cnn, whole processes alternated three times, 1.52–1.96 → 1.42–1.43 s
    crate::runtime::on_pool_for(model.pass_work(x.shape()[0]), || {
        let mut tape = Tape::new();
        let xv = tape.leaf(x.clone());
        let a = tape.constant(Tensor::scalar(T::from_f64_lossy(affine.0)));
        let b = tape.constant(Tensor::scalar(T::from_f64_lossy(affine.1)));
        let s = tape.mul(xv, a)?;
        let input = tape.add(s, b)?;
        let params = model.bind(&mut tape, false);
        let logits = model.logits(&mut tape, input, &params)?;
        let loss = tape.cross_entropy(logits, y)?;
        Ok(tape.backward(loss)?.get(xv))
    })
}

/// Adversarial versions of pixels `x` `[N, …]` (in [0, 1]) with labels `y`, at radius `eps`.
pub fn attack<T: Float>(
    model: &Model<T>,
    x: &Tensor<T>,
    y: &[usize],
    eps: f64,
    how: Attack,
    affine: (f64, f64),
) -> Result<Tensor<T>> {
    let n = x.shape().first().copied().unwrap_or(0);
    attack_each(model, x, y, &vec![eps; n], how, affine)
}

/// [`attack`] with a radius per picture (`eps[i]` for row `i`): one batch for many radii
/// of the same digit ([`smallest_flip`]).
pub fn attack_each<T: Float>(
    model: &Model<T>,
    x: &Tensor<T>,
    y: &[usize],
    eps: &[f64],
    how: Attack,
    affine: (f64, f64),
) -> Result<Tensor<T>> {
    let n = x.shape().first().copied().unwrap_or(0);
    if n == 0 || y.len() != n || eps.len() != n {
        return shape_err(format!(
            "{} labels and {} radii for pictures {}; need one of each per picture, at least one",
            y.len(),
            eps.len(),
            fmt_shape(x.shape())
        ));
    }
    if let Some(e) = eps.iter().find(|e| !(e.is_finite() && **e >= 0.0)) {
        return invalid(format!("ε must be a number ≥ 0, got {e}"));
    }
    if x.data()
        .iter()
        .any(|v| !(v.to_f64() >= 0.0 && v.to_f64() <= 1.0))
    {
        return invalid("attacks read pixels in [0, 1]; map the inputs back to pixels first");
    }
    if let Attack::Pgd { steps: 0, .. } = how {
        return invalid("PGD needs at least one step");
    }
    let per = x.len() / n;
    let mut out = Vec::with_capacity(x.len());
    let mut rng = match how {
        Attack::Pgd { seed, .. } => StdRng::seed_from_u64(seed),
        Attack::Fgsm => StdRng::seed_from_u64(0),
    };
    let project = |v: T, o: T, e: T| {
        v.max_of(o - e)
            .min_of(o + e)
            .max_of(T::zero())
            .min_of(T::one())
    };
    for start in (0..n).step_by(CHUNK) {
        let idx: Vec<usize> = (start..(start + CHUNK).min(n)).collect();
        let x0 = x.select_rows(&idx)?;
        let yb = &y[start..start + idx.len()];
        // each pixel's radius and step
        let e: Vec<T> = eps[start..start + idx.len()]
            .iter()
            .flat_map(|&e| std::iter::repeat_n(T::from_f64_lossy(e), per))
            .collect();
        let signed_step = |xt: &Tensor<T>, step: &[T]| -> Result<Tensor<T>> {
            let g = pixel_gradient(model, xt, yb, affine)?;
            let moved = (0..xt.len())
                .map(|i| {
                    let v = xt.data()[i] + step[i] * sign(g.data()[i]);
                    project(v, x0.data()[i], e[i])
                })
                .collect();
            Tensor::new(xt.shape(), moved)
        };
        let adv = match how {
            Attack::Fgsm => signed_step(&x0, &e)?,
            Attack::Pgd { steps, alpha, .. } => {
                let step: Vec<T> = match alpha {
                    Some(a) => vec![T::from_f64_lossy(a); e.len()],
                    None => e
                        .iter()
                        .map(|&v| v * T::from_f64_lossy(2.5 / steps as f64))
                        .collect(),
                };
                let noise = Tensor::<T>::uniform(x0.shape(), -1.0, 1.0, &mut rng);
                let started = (0..x0.len())
                    .map(|i| {
                        let o = x0.data()[i];
                        project(o + noise.data()[i] * e[i], o, e[i])
                    })
                    .collect();
                let mut xt = Tensor::new(x0.shape(), started)?;
                for _ in 0..steps {
                    xt = signed_step(&xt, &step)?;
                }
                xt
            }
        };
        out.extend_from_slice(adv.data());
    }
    debug_assert_eq!(out.len(), n * per);
    Tensor::new(x.shape(), out)
}

fn sign<T: Float>(g: T) -> T {
    if g > T::zero() {
        T::one()
    } else if g < T::zero() {
        -T::one()
    } else {
        T::zero()
    }
}

/// The model's logits for pictures `x` (pixels, read through `affine`).
pub fn logits_of_pixels<T: Float>(
    model: &Model<T>,
    x: &Tensor<T>,
    affine: (f64, f64),
) -> Result<Tensor<T>> {
    let (a, b) = (T::from_f64_lossy(affine.0), T::from_f64_lossy(affine.1));
    model.predict(&x.map(|v| a * v + b))
}

/// The model's predicted class for each picture of `x` (pixels, read through `affine`).
pub fn predict_pixels<T: Float>(
    model: &Model<T>,
    x: &Tensor<T>,
    affine: (f64, f64),
) -> Result<Vec<usize>> {
    logits_of_pixels(model, x, affine)?.argmax_rows()
}

/// Accuracy on `x` under each attack at each ε: one row per ε, one column per attack.
pub fn accuracy_curve<T: Float>(
    model: &Model<T>,
    x: &Tensor<T>,
    y: &[usize],
    eps: &[f64],
    attacks: &[Attack],
    affine: (f64, f64),
    mut progress: impl FnMut(),
) -> Result<Vec<Vec<f64>>> {
    let mut rows = Vec::new();
    for &e in eps {
        let mut row = Vec::new();
        for &how in attacks {
            let adv = attack(model, x, y, e, how, affine)?;
            let p = predict_pixels(model, &adv, affine)?;
            row.push(p.iter().zip(y).filter(|(a, b)| a == b).count() as f64 / y.len() as f64);
            progress();
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The smallest ε of the increasing `grid` at which the attack changes the model's
/// answer on the single picture `x` `[1, …]`, with the adversarial picture and the new
/// class; `None` if no ε of the grid does. Every radius is attacked in one batch.
pub fn smallest_flip<T: Float>(
    model: &Model<T>,
    x: &Tensor<T>,
    label: usize,
    grid: &[f64],
    how: Attack,
    affine: (f64, f64),
) -> Result<Option<(f64, Tensor<T>, usize)>> {
    if grid.is_empty() {
        return Ok(None);
    }
    let copies = x.select_rows(&vec![0; grid.len()])?;
    let adv = attack_each(model, &copies, &vec![label; grid.len()], grid, how, affine)?;
    let pred = predict_pixels(model, &adv, affine)?;
    match pred.iter().position(|&p| p != label) {
        Some(i) => Ok(Some((grid[i], adv.select_rows(&[i])?, pred[i]))),
        None => Ok(None),
    }
}
