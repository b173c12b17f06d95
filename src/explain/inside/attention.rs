//! Attention as explanation: *do the attention weights over the rows say which rows the
//! prediction used?*
//!
//! For `mnist-attn-gru` (a GRU over the 28 rows, attention pooling
//! `e_t = vᵀ tanh(W h_t + b)`, `α = softmax(e)`, `c = Σ_t α_t h_t`, logits `U c + β`),
//! each example gets
//! * the raw weights `α_t`, and the exact **contributions** `α_t · u_kᵀ h_t` of each row to
//!   the logit of class k, which sum to `logit_k − β_k`;
//! * the faithfulness checks of Jain & Wallace 2019 ("Attention is not Explanation") and
//!   Wiegreffe & Pinter 2019 ("Attention is not not Explanation"): Kendall τ-b between α
//!   (and the contributions) and two other importance measures, leave-one-row-out Δlogit
//!   (the row set to black) and the gradient norm per row; the output change (total
//!   variation distance between the softmax outputs) when α is randomly permuted, median
//!   over the permutations; and the accuracy with α frozen to uniform at test time.
//!
//! Caveat: `h_t` has read rows 1…t, so a weight on row t is a weight on a summary of
//! everything above it, not on row t alone.
//!
//! Pinned by the tests below (α sums to 1, contributions sum to logit − bias (1e-10 in
//! float64), equal
//! states make α irrelevant, Kendall τ-b against SciPy with ties).

use super::layers::activations;
use crate::autodiff::BackwardRule;
use crate::error::{Error, Result};
use crate::explain::batched::{gradient_rows, predict_rows};
use crate::explain::metrics::curves::mix;
use crate::float::Float;
use crate::nn::Model;
use crate::nn::arch::LayerSpec;
use crate::tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// Kendall's τ-b (ties in either ranking corrected as SciPy's `kendalltau`); NaN when
/// either ranking is constant.
pub fn kendall_tau_b(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (mut concordant, mut discordant, mut tie_a, mut tie_b) = (0i64, 0i64, 0i64, 0i64);
    for i in 0..n {
        for j in i + 1..n {
            let sa = (a[i] - a[j]).partial_cmp(&0.0).map_or(0, |o| o as i64);
            let sb = (b[i] - b[j]).partial_cmp(&0.0).map_or(0, |o| o as i64);
            if sa == 0 {
                tie_a += 1;
            }
            if sb == 0 {
                tie_b += 1;
            }
            match sa * sb {
                p if p > 0 => concordant += 1,
                p if p < 0 => discordant += 1,
                _ => {}
            }
        }
    }
    let pairs = (n * n.saturating_sub(1) / 2) as i64;
    let denom = (((pairs - tie_a) * (pairs - tie_b)) as f64).sqrt();
    (concordant - discordant) as f64 / denom
}

/// Each row's contribution `α_t u_kᵀ h_t` for one example's states `h` (`T × H`), its
/// weights `α` and the head's row `u_k`; they sum to `logit_k − β_k`.
pub fn contributions_of<T: Float>(h: &[T], alpha: &[T], u_k: &[T]) -> Vec<f64> {
    let hd = u_k.len();
    alpha
        .iter()
        .enumerate()
        .map(|(s, a)| {
            let dot: f64 = u_k
                .iter()
                .zip(&h[s * hd..(s + 1) * hd])
                .map(|(w, v)| w.to_f64() * v.to_f64())
                .sum();
            a.to_f64() * dot
        })
        .collect()
}

/// The logits `U Σ_t α_t h_t + β` of one example's states `h` (`T × H`, row-major).
pub fn pooled_logits(h: &[f32], alpha: &[f32], u: &[f32], beta: &[f32]) -> Vec<f64> {
    let hd = h.len() / alpha.len().max(1);
    let mut c = vec![0.0f64; hd];
    for (t, &a) in alpha.iter().enumerate() {
        for (cj, &v) in c.iter_mut().zip(&h[t * hd..(t + 1) * hd]) {
            *cj += a as f64 * v as f64;
        }
    }
    beta.iter()
        .enumerate()
        .map(|(k, &b)| {
            b as f64
                + u[k * hd..(k + 1) * hd]
                    .iter()
                    .zip(&c)
                    .map(|(&w, &x)| w as f64 * x)
                    .sum::<f64>()
        })
        .collect()
}

fn softmax(l: &[f64]) -> Vec<f64> {
    let m = l.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    let e: Vec<f64> = l.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

/// Everything [`analyze`] measures, per example (`[N, T]` tensors) and in summary.
#[derive(Clone, Debug)]
pub struct AttentionReport {
    pub alpha: Tensor<f32>,
    /// `α_t u_kᵀ h_t` for the predicted class k.
    pub contributions: Tensor<f32>,
    /// `logit_k(x) − logit_k(x with row t black)`.
    pub leave_one_out: Tensor<f32>,
    /// `‖∂ logit_k / ∂ row_t‖`.
    pub gradient_norm: Tensor<f32>,
    pub predicted: Vec<usize>,
    pub tau_alpha_loo: Vec<f64>,
    pub tau_alpha_gradient: Vec<f64>,
    pub tau_contribution_loo: Vec<f64>,
    pub tau_contribution_gradient: Vec<f64>,
    /// Median total variation distance of the output under random permutations of α.
    pub permutation_tvd: Vec<f64>,
    pub accuracy: f64,
    /// Accuracy with α replaced by 1/T.
    pub uniform_accuracy: f64,
}

/// The attention layer's name, the recurrent layer feeding it and the linear head after
/// it; an error for a model without them.
pub fn attention_layers(model: &Model<f32>) -> Result<(String, String, String)> {
    let l = &model.arch.layers;
    let at = l
        .iter()
        .position(|x| matches!(x, LayerSpec::AttentionPool { .. }))
        .ok_or_else(|| {
            Error::Invalid(format!(
                "'{}' has no attention layer; attention analysis needs a model such as mnist-attn-gru",
                model.arch.name
            ))
        })?;
    match (at.checked_sub(1).map(|i| &l[i]), l.get(at + 1), l.len() == at + 2) {
        (Some(LayerSpec::Gru { name: g, .. }), Some(LayerSpec::Linear { name: f, .. }), true) => {
            Ok((l[at].name().to_string(), g.clone(), f.clone()))
        }
        _ => Err(Error::Invalid(
            "attention analysis needs a recurrent layer, the attention pooling, then one linear layer"
                .into(),
        )),
    }
}

/// Attention weights, contributions and the faithfulness checks for the examples `x`
/// (labels for the accuracies; `black` is the input value of a black pixel; α permuted
/// `permutations` times per example from `seed`).
pub fn analyze(
    model: &Model<f32>,
    x: &Tensor<f32>,
    labels: &[usize],
    black: f32,
    permutations: usize,
    seed: u64,
) -> Result<AttentionReport> {
    let (attn, gru, fc) = attention_layers(model)?;
    let acts = activations(model, x, &[gru, format!("{attn}.alpha")], |_| {})?;
    let (states, alpha) = (&acts[0], &acts[1]);
    let (n, t, hd) = (states.shape()[0], states.shape()[1], states.shape()[2]);
    let u = model.param(&format!("{fc}.weight"))?.data();
    let beta = model.param(&format!("{fc}.bias"))?.data();
    let logits = model.predict(x)?;
    let k = logits.shape()[1];
    let predicted = logits.argmax_rows()?;
    let mut contributions = vec![0.0f32; n * t];
    let (mut uniform_hits, mut hits) = (0usize, 0usize);
    let mut permutation_tvd = Vec::with_capacity(n);
    for e in 0..n {
        let h = &states.data()[e * t * hd..(e + 1) * t * hd];
        let a = &alpha.data()[e * t..(e + 1) * t];
        let c = predicted[e];
        let row = contributions_of(h, a, &u[c * hd..(c + 1) * hd]);
        for (dst, v) in contributions[e * t..(e + 1) * t].iter_mut().zip(row) {
            *dst = v as f32;
        }
        hits += usize::from(labels.get(e) == Some(&c));
        let uniform = pooled_logits(h, &vec![1.0 / t as f32; t], u, beta);
        let best = (0..k).fold(0, |b, j| if uniform[j] > uniform[b] { j } else { b });
        uniform_hits += usize::from(labels.get(e) == Some(&best));
        let base = softmax(&pooled_logits(h, a, u, beta));
        let mut rng = StdRng::seed_from_u64(mix(seed, e));
        let mut order: Vec<usize> = (0..t).collect();
        let mut tvds: Vec<f64> = (0..permutations)
            .map(|_| {
                order.shuffle(&mut rng);
                let permuted: Vec<f32> = order.iter().map(|&i| a[i]).collect();
                let p = softmax(&pooled_logits(h, &permuted, u, beta));
                0.5 * p.iter().zip(&base).map(|(x, y)| (x - y).abs()).sum::<f64>()
            })
            .collect();
        tvds.sort_by(f64::total_cmp);
        permutation_tvd.push(if tvds.is_empty() {
            f64::NAN
        } else {
            tvds[tvds.len() / 2]
        });
    }
    // leave one row out: every (example, row) pair in one batched pass
    let per = x.len() / n;
    let width = per / t;
    let blanked = predict_rows(model, &x.shape()[1..], n * t, |r, row| {
        let (e, s) = (r / t, r % t);
        row.copy_from_slice(&x.data()[e * per..(e + 1) * per]);
        row[s * width..(s + 1) * width].fill(black);
    })?;
    let loo: Vec<f32> = (0..n * t)
        .map(|r| {
            let e = r / t;
            logits.data()[e * k + predicted[e]] - blanked.data()[r * k + predicted[e]]
        })
        .collect();
    // per-row gradient norms, in passes under the shared gradient budget
    let mut gnorm = vec![0.0f32; n * t];
    gradient_rows(
        model,
        &x.shape()[1..],
        n,
        |e, row| row.copy_from_slice(&x.data()[e * per..(e + 1) * per]),
        |e| predicted[e],
        BackwardRule::Standard,
        |e, g| {
            for (s, row) in g.chunks(width).enumerate() {
                gnorm[e * t + s] = row.iter().map(|v| v * v).sum::<f32>().sqrt();
            }
        },
    )?;
    let f64s = |v: &[f32]| v.iter().map(|&a| a as f64).collect::<Vec<f64>>();
    let tau = |a: &[f32], b: &[f32]| -> Vec<f64> {
        (0..n)
            .map(|e| kendall_tau_b(&f64s(&a[e * t..(e + 1) * t]), &f64s(&b[e * t..(e + 1) * t])))
            .collect()
    };
    Ok(AttentionReport {
        tau_alpha_loo: tau(alpha.data(), &loo),
        tau_alpha_gradient: tau(alpha.data(), &gnorm),
        tau_contribution_loo: tau(&contributions, &loo),
        tau_contribution_gradient: tau(&contributions, &gnorm),
        alpha: alpha.clone(),
        contributions: Tensor::new(&[n, t], contributions)?,
        leave_one_out: Tensor::new(&[n, t], loo)?,
        gradient_norm: Tensor::new(&[n, t], gnorm)?,
        predicted,
        permutation_tvd,
        accuracy: hits as f64 / n as f64,
        uniform_accuracy: uniform_hits as f64 / n as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Arch;

    #[test]
    fn kendall_tau_b_matches_scipy_with_ties() {
        // scipy.stats.kendalltau values
        let t = kendall_tau_b(&[1.0, 2.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 2.0, 5.0]);
        assert!((t - 0.6666666666666666).abs() < 1e-12, "{t}");
        let a = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        let b = [2.0, 7.0, 1.0, 8.0, 2.0, 8.0, 1.0, 8.0];
        assert!((kendall_tau_b(&a, &b) - 0.16051447078102563).abs() < 1e-12);
        assert!(kendall_tau_b(&[1.0, 1.0], &[1.0, 2.0]).is_nan());
    }

    #[test]
    fn weights_contributions_and_equal_states() {
        let model = Model::<f32>::init(Arch::from_name("mnist-attn-gru").unwrap(), 2);
        let x = Tensor::new(
            &[3, 1, 28, 28],
            (0..3 * 784)
                .map(|i| ((i * 7) % 19) as f32 / 9.0 - 1.0)
                .collect(),
        )
        .unwrap();
        let r = analyze(&model, &x, &[0, 1, 2], -0.42, 20, 0).unwrap();
        let logits = model.predict(&x).unwrap();
        let beta = model.param("fc.bias").unwrap();
        for e in 0..3 {
            let a = &r.alpha.data()[e * 28..(e + 1) * 28];
            assert!(a.iter().all(|&v| v >= 0.0));
            assert!((a.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            let c = r.predicted[e];
            let sum: f32 = r.contributions.data()[e * 28..(e + 1) * 28].iter().sum();
            let want = logits.data()[e * 10 + c] - beta.data()[c];
            assert!((sum - want).abs() < 1e-5, "{sum} vs {want}");
        }
        // in float64 (the model's weights are exact in f64): Σ contributions = logit − bias to 1e-10
        let m64 = model.cast::<f64>();
        let mut tape = crate::autodiff::Tape::no_grad();
        let xv = tape.constant(x.cast::<f64>());
        let params = m64.bind(&mut tape, false);
        let f = m64.forward(&mut tape, xv, &params).unwrap();
        let (h, a) = (
            f.activation("gru").unwrap(),
            f.activation("attn.alpha").unwrap(),
        );
        let (h, a, l) = (tape.value(h), tape.value(a), tape.value(f.logits));
        let w = m64.param("fc.weight").unwrap();
        let b = m64.param("fc.bias").unwrap();
        for e in 0..3 {
            for c in 0..10 {
                let sum: f64 = contributions_of(
                    &h.data()[e * 28 * 64..(e + 1) * 28 * 64],
                    &a.data()[e * 28..(e + 1) * 28],
                    &w.data()[c * 64..(c + 1) * 64],
                )
                .iter()
                .sum();
                let want = l.data()[e * 10 + c] - b.data()[c];
                assert!((sum - want).abs() < 1e-10, "{sum} vs {want}");
            }
        }
        // identical states: any α gives the same output
        let h: Vec<f32> = (0..4 * 3).map(|i| [0.5, -1.0, 2.0][i % 3]).collect();
        let u = [1.0, 2.0, 3.0, -1.0, 0.5, 0.0];
        let one = pooled_logits(&h, &[0.1, 0.2, 0.3, 0.4], &u, &[0.0, 1.0]);
        let two = pooled_logits(&h, &[0.7, 0.1, 0.1, 0.1], &u, &[0.0, 1.0]);
        assert!(one.iter().zip(&two).all(|(a, b)| (a - b).abs() < 1e-6));
        let other = Model::<f32>::init(Arch::from_name("mnist-gru").unwrap(), 0);
        assert!(
            analyze(&other, &x, &[0, 1, 2], 0.0, 1, 0)
                .unwrap_err()
                .to_string()
                .contains("attention")
        );
    }
}
