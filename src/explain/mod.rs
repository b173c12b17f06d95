//! Explanation methods. Each method is one file that opens with the question it answers,
//! its formula, its paper and the test that pins it.
//!
//! * [`surrogate`]: decision trees, and tree regularization of deep models.

pub mod surrogate;
