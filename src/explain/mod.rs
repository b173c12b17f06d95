//! Explanation methods. Each method is one file that opens with the question it answers,
//! its formula, its paper and the test that pins it.
//!
//! * [`local`]: attributions for one prediction (saliency, IG, occlusion, CAMs, ...).
//! * [`surrogate`]: decision trees, and tree regularization of deep models.

pub mod local;
pub mod surrogate;
