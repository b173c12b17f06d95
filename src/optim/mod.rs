//! Optimizers with PyTorch's update formulas, penalty helpers and learning-rate schedules.

pub mod adam;
pub mod penalty;
pub mod schedule;
pub mod sgd;

pub use adam::Adam;
pub use schedule::Schedule;
pub use sgd::Sgd;

use crate::error::{Result, shape_err};
use crate::float::Float;
use crate::tensor::{Tensor, fmt_shape};
use rayon::prelude::*;

/// Updates parameters in place from their gradients (same order, same shapes).
pub trait Optimizer<T: Float>: Send {
    fn step(&mut self, params: &mut [&mut Tensor<T>], grads: &[Tensor<T>]) -> Result<()>;
    fn lr(&self) -> f64;
    fn set_lr(&mut self, lr: f64);
}

/// Checks that gradients line up with parameters.
pub(crate) fn check_grads<T: Float>(params: &[&mut Tensor<T>], grads: &[Tensor<T>]) -> Result<()> {
    if params.len() != grads.len() {
        return shape_err(format!(
            "{} parameters but {} gradients",
            params.len(),
            grads.len()
        ));
    }
    for (p, g) in params.iter().zip(grads) {
        if p.shape() != g.shape() {
            return shape_err(format!(
                "gradient {} does not match parameter {}",
                fmt_shape(g.shape()),
                fmt_shape(p.shape())
            ));
        }
    }
    Ok(())
}

/// Per-parameter state buffers, created on the first step.
pub(crate) fn state_like<T: Float>(state: &mut Vec<Tensor<T>>, params: &[&mut Tensor<T>]) {
    if state.is_empty() {
        *state = params.iter().map(|p| Tensor::zeros(p.shape())).collect();
    }
}

/// One chunk of a parameter, of its gradient and of its state buffers.
type Chunk<'a, T, const S: usize> = (&'a mut [T], &'a [T], [&'a mut [T]; S]);

/// Runs `f(w, g, state)` on every element of one parameter `w`, its gradient `g` and its
/// `S` state buffers (each as long as `w`). Long parameters are cut into fixed chunks
/// spread over threads; every element is updated alone, so the result does not depend
/// on the split.
///
/// One place for the optimizers' loops: written per element through `data()` and
/// `data_mut()` they were bounds-checked and never vectorized, and SGD's step was a
/// quarter of an mnist-vae training step (benches/engine.rs, perf).
pub(crate) fn update_each<T: Float, const S: usize>(
    w: &mut [T],
    g: &[T],
    state: [&mut [T]; S],
    f: impl Fn(&mut T, T, [&mut T; S]) + Sync + Clone,
) {
    const CHUNK: usize = 1 << 14;
    let n = w.len();
    assert!(
        g.len() == n && state.iter().all(|s| s.len() == n),
        "parameter, gradient and state lengths differ"
    );
    let run = |w: &mut [T], g: &[T], mut st: [&mut [T]; S]| {
        // a copy of `f` per chunk: its captured constants are then known not to change
        // while the loop stores weights, and stay in registers
        let f = f.clone();
        for j in 0..w.len() {
            f(&mut w[j], g[j], st.each_mut().map(|s| &mut s[j]));
        }
    };
    if n < 4 * CHUNK {
        return run(w, g, state);
    }
    let mut parts: Vec<Chunk<T, S>> = Vec::new();
    let mut state = state.map(|s| s.chunks_mut(CHUNK));
    for (w, g) in w.chunks_mut(CHUNK).zip(g.chunks(CHUNK)) {
        let st = state.each_mut().map(|it| it.next().expect("same length"));
        parts.push((w, g, st));
    }
    parts.into_par_iter().for_each(|(w, g, st)| run(w, g, st));
}
