//! TracIn (Pruthi et al., "Estimating Training Data Influence by Tracing Gradient
//! Descent", NeurIPS 2020), in its checkpoint form TracInCP.
//!
//! **Question.** How much did training on `z` lower the loss on `z_test`, summed over the
//! run?
//!
//! **Formula.** With checkpoints `θ_k` and learning rates `η_k`:
//!
//! `TracInCP(z, z_test) = Σ_k η_k ∇ℓ(z; θ_k)ᵀ ∇ℓ(z_test; θ_k)`
//!
//! **Sign: positive = a proponent** (a gradient step on `z` lowers the test loss), the
//! same as Captum's `TracInCP`. Restricted to the last layer (`--params last`) the
//! per-example gradient is `[δ fᵀ, δ]` with `δ = softmax(z) − onehot(y)`; Captum's
//! `TracInCPFast` keeps only the weight's part `δ fᵀ`, so its score lacks our `δ·δ′` bias
//! term (the golden test compares the weight-only form). *Self-influence* `Σ_k η_k ‖∇ℓ(z; θ_k)‖²` flags
//! mislabeled examples.
//!
//! **Pinned by** `tests/training_data.rs`: one checkpoint of logistic regression gives
//! `(σ(wᵀx)−y)(σ(wᵀx′)−y′)(xᵀx′ + 1)`; and Captum's `TracInCP` and `TracInCPFast` on the
//! same checkpoints (golden, float64).

use super::blocks::GradBlocks;
use super::objective::Objective;
use crate::error::{Result, invalid};

/// One checkpoint's share of TracInCP: its learning rate, its training objective and
/// the test examples' loss gradients at its weights.
pub struct Checkpoint<'a> {
    pub lr: f64,
    pub train: &'a dyn Objective,
    pub test: GradBlocks,
}

/// TracInCP's `[n_test, n_train]` scores (row-major) and every training example's
/// self-influence, from the same gradients.
#[derive(Clone, Debug, PartialEq)]
pub struct TracIn {
    pub scores: Vec<f64>,
    pub self_influence: Vec<f64>,
}

/// Training gradients kept in memory at once (values of their dense form).
const GRAD_BUDGET: usize = 1 << 24;

/// Training examples per chunk for gradients of `dim` values.
fn chunk_rows(dim: usize, n: usize) -> usize {
    (GRAD_BUDGET / dim.max(1)).clamp(1, n.max(1))
}

/// TracInCP of every test example of the checkpoints against every training example;
/// `progress(done, total)` after every chunk of training examples.
pub fn tracin(ckpts: &[Checkpoint], mut progress: impl FnMut(usize, usize)) -> Result<TracIn> {
    let Some(first) = ckpts.first() else {
        return invalid("TracIn needs at least one checkpoint");
    };
    let (m, n) = (first.test.n, first.train.len());
    let mut out = TracIn {
        scores: vec![0.0; m * n],
        self_influence: vec![0.0; n],
    };
    let total = ckpts.len() * n;
    let mut done = 0;
    for ck in ckpts {
        let d = ck.train.dim();
        if ck.train.len() != n || ck.test.n != m {
            return invalid("every checkpoint needs the same training and test examples");
        }
        if ck.test.dim() != d {
            return invalid(format!("a test gradient does not have the {d} parameters"));
        }
        let step = chunk_rows(d, n);
        for start in (0..n).step_by(step) {
            let rows: Vec<usize> = (start..(start + step).min(n)).collect();
            let g = ck.train.train_blocks(&rows)?;
            let s = ck.test.gram(&g)?;
            for r in 0..m {
                for (c, &v) in s[r * rows.len()..(r + 1) * rows.len()].iter().enumerate() {
                    out.scores[r * n + start + c] += ck.lr * v;
                }
            }
            for (i, v) in rows.iter().zip(g.sq_norms()) {
                out.self_influence[*i] += ck.lr * v;
            }
            done += rows.len();
            progress(done, total);
        }
    }
    Ok(out)
}

/// Self-influence `Σ_k η_k ‖∇ℓ(zᵢ; θ_k)‖²` of every training example.
pub fn tracin_self(ckpts: &[(f64, &dyn Objective)]) -> Result<Vec<f64>> {
    let Some((_, first)) = ckpts.first() else {
        return invalid("TracIn needs at least one checkpoint");
    };
    let n = first.len();
    let mut out = vec![0.0; n];
    for (lr, obj) in ckpts {
        let step = chunk_rows(obj.dim(), n);
        for start in (0..n).step_by(step) {
            let rows: Vec<usize> = (start..(start + step).min(n)).collect();
            for (i, v) in rows.iter().zip(obj.train_blocks(&rows)?.sq_norms()) {
                out[*i] += lr * v;
            }
        }
    }
    Ok(out)
}
