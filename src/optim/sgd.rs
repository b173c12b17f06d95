//! SGD as `torch.optim.SGD` (dampening 0):
//! `g ← ∇ + λw`; with momentum `b ← μb + g` (b = g on the first step) and
//! `g ← g + μb` (Nesterov) or `g ← b`; then `w ← w − lr·g`.

use super::{Optimizer, check_grads, state_like, update_each};
use crate::error::Result;
use crate::float::Float;
use crate::tensor::Tensor;

#[derive(Clone, Debug)]
pub struct Sgd<T> {
    pub lr: f64,
    pub momentum: f64,
    pub nesterov: bool,
    pub weight_decay: f64,
    buf: Vec<Tensor<T>>,
}

impl<T: Float> Sgd<T> {
    pub fn new(lr: f64) -> Self {
        Sgd {
            lr,
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
            buf: vec![],
        }
    }
    pub fn momentum(mut self, m: f64, nesterov: bool) -> Self {
        self.momentum = m;
        self.nesterov = nesterov;
        self
    }
    pub fn weight_decay(mut self, wd: f64) -> Self {
        self.weight_decay = wd;
        self
    }
}

impl<T> Sgd<T> {
    /// The momentum buffers, one per parameter in the parameters' order (none before
    /// the first step, or without momentum).
    pub fn buffers_mut(&mut self) -> &mut [Tensor<T>] {
        &mut self.buf
    }
}

impl<T: Float> Optimizer<T> for Sgd<T> {
    fn step(&mut self, params: &mut [&mut Tensor<T>], grads: &[Tensor<T>]) -> Result<()> {
        check_grads(params, grads)?;
        let first = self.buf.is_empty();
        if self.momentum != 0.0 {
            state_like(&mut self.buf, params);
        }
        let (lr, mu, wd) = (
            T::from_f64_lossy(self.lr),
            T::from_f64_lossy(self.momentum),
            T::from_f64_lossy(self.weight_decay),
        );
        let decay = self.weight_decay != 0.0;
        let nesterov = self.nesterov;
        for (i, (p, g)) in params.iter_mut().zip(grads).enumerate() {
            let grad = move |w: T, g: T| if decay { g + wd * w } else { g };
            if self.momentum == 0.0 {
                update_each(p.data_mut(), g.data(), [], move |w, g, []| {
                    *w -= lr * grad(*w, g);
                });
                continue;
            }
            update_each(
                p.data_mut(),
                g.data(),
                [self.buf[i].data_mut()],
                move |w, g, [b]| {
                    let d = grad(*w, g);
                    *b = if first { d } else { mu * *b + d };
                    let d = if nesterov { d + mu * *b } else { *b };
                    *w -= lr * d;
                },
            );
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
    fn momentum_and_nesterov_follow_pytorch() {
        // hand-computed: w0 = 1, grads 1 then 2, lr 0.1, mu 0.9, wd 0
        let mut w = Tensor::<f64>::from_f64(&[1], &[1.0]).unwrap();
        let mut o = Sgd::new(0.1).momentum(0.9, false);
        o.step(&mut [&mut w], &[Tensor::from_f64(&[1], &[1.0]).unwrap()])
            .unwrap();
        o.step(&mut [&mut w], &[Tensor::from_f64(&[1], &[2.0]).unwrap()])
            .unwrap();
        assert!((w.data()[0] - (1.0 - 0.1 - 0.1 * 2.9)).abs() < 1e-15);
        let mut w = Tensor::<f64>::from_f64(&[1], &[1.0]).unwrap();
        let mut o = Sgd::new(0.1).momentum(0.9, true).weight_decay(0.5);
        o.step(&mut [&mut w], &[Tensor::from_f64(&[1], &[1.0]).unwrap()])
            .unwrap();
        // g = 1 + 0.5 = 1.5, b = 1.5, step = g + 0.9 b = 2.85
        assert!((w.data()[0] - (1.0 - 0.285)).abs() < 1e-15);
    }
}
