//! Training-data attribution: "which training examples explain this prediction?"
//!
//! One sign convention throughout: **positive = removing (or not training on) the
//! training example would increase the test loss — a proponent**; negative = an
//! opponent. Each method's file states where its paper or Captum differ.
//!
//! - [`record`]: what the model said about every example at every presentation
//!   (`lamppost train --record`), recorded by the training loop's observer
//!   ([`crate::fit::Observer`]), and TracIn's checkpoints;
//! - [`forgetting`], [`datamap`], [`tidy`]: read off the record;
//! - [`objective`]: the training loss as influence functions see it (closed-form
//!   softmax regression, or any model through the autodiff engine, with exact
//!   Hessian-vector products from [`crate::autodiff::hvp`]);
//! - [`influence`], [`tracin`], [`representer`]: scores of training examples for a test
//!   example.

pub mod datamap;
pub mod forgetting;
pub mod influence;
pub mod objective;
pub mod record;
pub mod representer;
pub mod tidy;
pub mod tracin;

/// The area under the ROC curve of `scores` for the positives `is_pos` (ties count a
/// half): the chance that a random positive scores above a random negative.
pub fn auroc(scores: &[f64], is_pos: &[bool]) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += (i..=j).filter(|&r| is_pos[idx[r]]).count() as f64 * mid;
        i = j + 1;
    }
    let p = is_pos.iter().filter(|&&b| b).count() as f64;
    let q = is_pos.len() as f64 - p;
    (rank_sum - p * (p + 1.0) / 2.0) / (p * q)
}
