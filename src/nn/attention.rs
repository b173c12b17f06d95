//! Attention pooling over a sequence `h` `[N, T, H]` (mnist-attn-gru's head):
//!
//! ```text
//! α = softmax_t(vᵀ tanh(W h_t + b))      (`attn.proj` = W, b; `attn.v` = v)
//! out = Σ_t α_t h_t                        [N, H]
//! ```
//!
//! [`attention_weights`] records α with ops on the tape (gradients, named activations);
//! [`attention_pool`] computes `out` without a tape, with the same bits.

use super::linear::linear;
use crate::autodiff::{Tape, Var};
use crate::error::{Result, invalid};
use crate::float::Float;
use crate::ops::softmax::softmax_rows;
use crate::tensor::matmul::product;
use crate::tensor::vmath::{Curve, curve_into};
use crate::tensor::{fmt_shape, written};
use rayon::prelude::*;

/// `[N, T, H]` of a sequence, or why it is not one.
pub fn sequence_dims(shape: &[usize]) -> Result<[usize; 3]> {
    match shape {
        &[n, t, h] => Ok([n, t, h]),
        _ => invalid(format!(
            "attention pooling reads a sequence [N, T, H], got {}",
            fmt_shape(shape)
        )),
    }
}

/// `α = softmax_t(vᵀ tanh(W h_t + b))` for a sequence `h` `[N,T,H]`: `[N,T]`.
pub fn attention_weights<T: Float>(
    tape: &mut Tape<T>,
    h: Var,
    w: Var,
    b: Var,
    v: Var,
) -> Result<Var> {
    let [n, t, hd] = sequence_dims(tape.shape(h))?;
    let flat = tape.reshape(h, &[n * t, hd])?;
    let proj = linear(tape, flat, w, b)?;
    let act = tape.tanh(proj);
    let e = tape.matmul_nt(act, v)?;
    let e = tape.reshape(e, &[n, t])?;
    tape.softmax(e)
}

/// Sequences per parallel task of [`attention_pool`].
const POOL_SAMPLES: usize = 16;

/// `Σ_t α_t h_t` `[N, H]` without a tape, for `predict`: the projection, its bias and
/// tanh, the scores, their softmax and the weighted sum of a block of sequences at a
/// time, each in the same operations and order as the ops of [`attention_weights`] and
/// the model's product and sum over steps (the same products, by the same kernel for
/// any number of rows; the sum over steps one step at a time), so the bits are theirs
/// (`the_pooling_gives_the_ops_bits` below). It spares the ops' intermediate tensors,
/// the largest the `[N, T, H]` products. `T`, `H` and `b`'s length must be positive.
pub fn attention_pool<T: Float>(
    h: &[T],
    [n, t, hd]: [usize; 3],
    w: &[T],
    b: &[T],
    v: &[T],
) -> Vec<T> {
    let a = b.len();
    assert!(
        t > 0 && hd > 0 && a > 0,
        "attention_pool: steps, units and attention units must be positive (the ops handle empty ones)"
    );
    let mut out = vec![T::zero(); n * hd];
    out.par_chunks_mut(POOL_SAMPLES * hd)
        .zip(h.par_chunks(POOL_SAMPLES * t * hd))
        .for_each(|(out, h)| {
            let rows = h.len() / hd;
            let mut proj = product(rows, hd, a, h, false, w, true);
            proj.chunks_mut(a)
                .for_each(|p| p.iter_mut().zip(b).for_each(|(p, &b)| *p += b));
            let mut act = Vec::with_capacity(rows * a);
            curve_into(
                Curve::Tanh,
                &proj,
                &mut act.spare_capacity_mut()[..rows * a],
            );
            // SAFETY: curve_into wrote all rows·a values.
            let act = unsafe { written(&mut act.spare_capacity_mut()[..rows * a]) };
            let e = product(rows, a, 1, act, false, v, true);
            let alpha = softmax_rows(&e, t);
            for ((out, h), alpha) in out
                .chunks_mut(hd)
                .zip(h.chunks(t * hd))
                .zip(alpha.chunks(t))
            {
                for (h_t, &a_t) in h.chunks(hd).zip(alpha) {
                    out.iter_mut().zip(h_t).for_each(|(o, &x)| *o += a_t * x);
                }
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Tensor;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    /// [`attention_pool`] gives the bits of the ops the model records with a tape, on a
    /// batch of several blocks with a ragged last one, at mnist-attn-gru's sizes (28
    /// steps of 64 units, 32 attention units) and at small odd ones.
    #[test]
    fn the_pooling_gives_the_ops_bits() {
        let mut rng = StdRng::seed_from_u64(9);
        for [n, t, hd, a] in [[37, 28, 64, 32], [5, 3, 7, 5]] {
            let h = Tensor::<f32>::randn(&[n, t, hd], 1.0, &mut rng);
            let w = Tensor::<f32>::randn(&[a, hd], 0.3, &mut rng);
            let b = Tensor::<f32>::randn(&[a], 0.3, &mut rng);
            let v = Tensor::<f32>::randn(&[1, a], 0.5, &mut rng);
            let got = attention_pool(h.data(), [n, t, hd], w.data(), b.data(), v.data());
            let mut tape = Tape::no_grad();
            let [hv, wv, bv, vv] = [&h, &w, &b, &v].map(|x| tape.constant(x.clone()));
            let alpha = attention_weights(&mut tape, hv, wv, bv, vv).unwrap();
            let a3 = tape.reshape(alpha, &[n, t, 1]).unwrap();
            let weighted = tape.mul(a3, hv).unwrap();
            let want = tape.sum(weighted, &[1], false).unwrap();
            let want = tape.value(want).data();
            let differ = got
                .iter()
                .zip(want)
                .filter(|(p, q)| p.to_bits() != q.to_bits())
                .count();
            assert!(
                got.len() == want.len() && differ == 0,
                "{n}×{t}×{hd}, {a} units: {differ} differ"
            );
        }
    }
}
