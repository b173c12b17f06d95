//! Adam and AdamW as `torch.optim.Adam` / `AdamW`:
//! `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
//! `w ← w − (lr/(1−β₁ᵗ)) · m / (√v/√(1−β₂ᵗ) + ε)`.
//! Adam adds the weight decay to the gradient (`g ← ∇ + λw`); AdamW decays the weight
//! directly (`w ← w(1 − lr·λ)`) before the update.

use super::{Optimizer, check_grads, state_like, update_each};
use crate::error::Result;
use crate::float::Float;
use crate::tensor::Tensor;

#[derive(Clone, Debug)]
pub struct Adam<T> {
    pub lr: f64,
    pub betas: (f64, f64),
    pub eps: f64,
    pub weight_decay: f64,
    /// Decoupled weight decay (AdamW).
    pub decoupled: bool,
    t: i32,
    m: Vec<Tensor<T>>,
    v: Vec<Tensor<T>>,
}

impl<T: Float> Adam<T> {
    pub fn new(lr: f64) -> Self {
        Adam {
            lr,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
            t: 0,
            m: vec![],
            v: vec![],
        }
    }
    /// AdamW with PyTorch's default decay 0.01.
    pub fn adamw(lr: f64) -> Self {
        Adam {
            weight_decay: 0.01,
            decoupled: true,
            ..Self::new(lr)
        }
    }
    pub fn weight_decay(mut self, wd: f64) -> Self {
        self.weight_decay = wd;
        self
    }
}

impl<T: Float> Optimizer<T> for Adam<T> {
    fn step(&mut self, params: &mut [&mut Tensor<T>], grads: &[Tensor<T>]) -> Result<()> {
        check_grads(params, grads)?;
        state_like(&mut self.m, params);
        state_like(&mut self.v, params);
        self.t += 1;
        let (b1, b2) = self.betas;
        let bc1 = 1.0 - b1.powi(self.t);
        let bc2_sqrt = (1.0 - b2.powi(self.t)).sqrt();
        let f = T::from_f64_lossy;
        let (b1t, b2t, step, eps) = (f(b1), f(b2), f(self.lr / bc1), f(self.eps));
        let (wd, decay) = (f(self.weight_decay), f(1.0 - self.lr * self.weight_decay));
        let bc2t = f(bc2_sqrt);
        let (coupled, decoupled) = (
            self.weight_decay != 0.0 && !self.decoupled,
            self.weight_decay != 0.0 && self.decoupled,
        );
        for (i, (p, g)) in params.iter_mut().zip(grads).enumerate() {
            let state = [self.m[i].data_mut(), self.v[i].data_mut()];
            update_each(p.data_mut(), g.data(), state, move |w, g, [m, v]| {
                let (mut wv, mut d) = (*w, g);
                if decoupled {
                    wv *= decay;
                } else if coupled {
                    d += wd * wv;
                }
                *m = b1t * *m + (T::one() - b1t) * d;
                *v = b2t * *v + (T::one() - b2t) * d * d;
                let denom = v.sqrt() / bc2t + eps;
                *w = wv - step * *m / denom;
            });
        }
        Ok(())
    }
    fn lr(&self) -> f64 {
        self.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_moves_each_weight_by_lr() {
        // after one step m̂ = g and v̂ = g², so the step is lr·g/(|g| + ε) ≈ lr·sign(g)
        let mut w = Tensor::<f64>::from_f64(&[2], &[1.0, 1.0]).unwrap();
        let mut o = Adam::new(0.01);
        o.step(
            &mut [&mut w],
            &[Tensor::from_f64(&[2], &[3.0, -0.5]).unwrap()],
        )
        .unwrap();
        assert!((w.data()[0] - 0.99).abs() < 1e-9 && (w.data()[1] - 1.01).abs() < 1e-9);
        let mut w = Tensor::<f64>::from_f64(&[1], &[1.0]).unwrap();
        let mut o = Adam::adamw(0.01).weight_decay(0.1);
        o.step(&mut [&mut w], &[Tensor::from_f64(&[1], &[0.0]).unwrap()])
            .unwrap();
        assert!((w.data()[0] - 0.999).abs() < 1e-12, "decoupled decay only");
    }
}
