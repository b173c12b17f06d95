//! Finite-difference gradient checks in f64.
//!
//! For `y = f(x₁, …, xₖ)` and a random, non-uniform upstream gradient `u` (seeded), the
//! tape's vector-Jacobian product `uᵀ ∂y/∂xᵢ` is compared with central differences of
//! the scalar `Σ u ⊙ f(x)`: `(s(x + h·eⱼ) − s(x − h·eⱼ)) / 2h`.

use super::{BackwardRule, Tape, Var};
use crate::error::{Result, invalid};
use crate::tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Step of the central differences.
pub const STEP: f64 = 1e-6;

/// Largest error of the analytic gradient over all inputs, relative to the largest
/// numerical gradient entry of that input (floored at 1e-3 so an all-zero gradient is
/// judged absolutely): `max_j |a_j − n_j| / max(max_j |n_j|, 1e-3)`.
pub fn gradcheck<F>(f: F, inputs: &[Tensor<f64>], seed: u64) -> Result<f64>
where
    F: Fn(&mut Tape<f64>, &[Var]) -> Result<Var>,
{
    let mut tape = Tape::new();
    let vars: Vec<Var> = inputs.iter().map(|t| tape.leaf(t.clone())).collect();
    let y = f(&mut tape, &vars)?;
    let mut rng = StdRng::seed_from_u64(seed);
    let upstream = Tensor::<f64>::uniform(tape.shape(y), 0.5, 1.5, &mut rng).zip(
        &Tensor::<f64>::randn(tape.shape(y), 1.0, &mut rng),
        |a, b| a * b,
    )?;
    let grads = tape.backward_with(y, upstream.clone(), BackwardRule::Standard)?;
    let scalar = |xs: &[Tensor<f64>]| -> Result<f64> {
        let mut t = Tape::no_grad();
        let vs: Vec<Var> = xs.iter().map(|x| t.constant(x.clone())).collect();
        let y = f(&mut t, &vs)?;
        Ok(t.value(y)
            .data()
            .iter()
            .zip(upstream.data())
            .map(|(a, b)| a * b)
            .sum())
    };
    let mut worst = 0.0f64;
    for (i, v) in vars.iter().enumerate() {
        let analytic = grads.get(*v);
        let mut xs = inputs.to_vec();
        let mut numeric = Vec::with_capacity(inputs[i].len());
        for j in 0..inputs[i].len() {
            let x0 = inputs[i].data()[j];
            xs[i].data_mut()[j] = x0 + STEP;
            let plus = scalar(&xs)?;
            xs[i].data_mut()[j] = x0 - STEP;
            let minus = scalar(&xs)?;
            xs[i].data_mut()[j] = x0;
            numeric.push((plus - minus) / (2.0 * STEP));
        }
        let scale = numeric.iter().fold(1e-3f64, |m, v| m.max(v.abs()));
        for (a, n) in analytic.data().iter().zip(&numeric) {
            if !a.is_finite() {
                return invalid(format!("non-finite analytic gradient for input {i}"));
            }
            worst = worst.max((a - n).abs() / scale);
        }
    }
    Ok(worst)
}

/// Panics with the error if the check fails the 1e-6 tolerance (for tests).
pub fn assert_gradcheck<F>(f: F, inputs: &[Tensor<f64>])
where
    F: Fn(&mut Tape<f64>, &[Var]) -> Result<Var>,
{
    let err = gradcheck(f, inputs, 7).expect("gradcheck failed to run");
    assert!(err <= 1e-6, "gradient check: relative error {err:e} > 1e-6");
}

/// Deterministic test input in `[-1, 1]` kept at least `gap` away from 0 (away from
/// ReLU and abs kinks); values are distinct so max-pooling has no ties.
pub fn test_input(shape: &[usize], seed: u64, gap: f64) -> Tensor<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let n: usize = shape.iter().product();
    let mut t = Tensor::<f64>::uniform(shape, -1.0, 1.0, &mut rng);
    for (j, v) in t.data_mut().iter_mut().enumerate() {
        let sign = if *v < 0.0 { -1.0 } else { 1.0 };
        *v = sign * (gap + v.abs() * (1.0 - gap)) + (j as f64) * 1e-4 / n as f64;
    }
    t
}
