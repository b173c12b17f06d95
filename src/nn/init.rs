//! PyTorch's default initialization.
//!
//! `nn.Linear` and `nn.Conv2d` use `kaiming_uniform_(w, a=√5)`: the bound is
//! `gain·√(3/fan_in)` with `gain = √(2/(1+a²)) = √(1/3)`, i.e. `1/√fan_in`; the bias is
//! uniform in `±1/√fan_in`. `nn.GRU` draws every weight and bias from `±1/√hidden`.
//! (Same distributions as PyTorch; the random stream is ours, so the numbers differ.)

use crate::float::Float;
use crate::tensor::Tensor;
use rand::Rng;

/// `U(−1/√fan_in, 1/√fan_in)`, the bound shared by weights and biases.
pub fn fan_in_uniform<T: Float>(shape: &[usize], fan_in: usize, rng: &mut impl Rng) -> Tensor<T> {
    let bound = 1.0 / (fan_in.max(1) as f64).sqrt();
    Tensor::uniform(shape, -bound, bound, rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn bound_is_one_over_sqrt_fan_in() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let t: Tensor<f64> = fan_in_uniform(&[1000, 9], 9, &mut rng);
        let m = t.max_abs();
        assert!(m <= 1.0 / 3.0 && m > 0.33, "max |w| = {m}");
        let mean = t.sum() / t.len() as f64;
        assert!(mean.abs() < 0.01);
    }
}
