//! Training-data attribution: "which training examples explain this prediction?"
//!
//! One sign convention throughout: **positive = removing (or not training on) the
//! training example would increase the test loss — a proponent**; negative = an
//! opponent. Each method's file states where its paper or Captum differ.
//!
//! - [`record`]: what the model said about every example at every presentation
//!   (`lamppost train --record`), recorded by the training loop's observer
//!   ([`crate::fit::Observer`]), and TracIn's checkpoints;
//! - [`forgetting`], [`datamap`], [`tidy`]: read off the record; [`removal`]: Toneva's
//!   experiment (retrain without the least-forgotten examples);
//! - [`objective`]: the training loss as influence functions see it (closed-form
//!   softmax regression, or any model through the autodiff engine, with exact
//!   Hessian-vector products from [`crate::autodiff::hvp`]);
//! - [`noise`]: the label-noise experiment, every score against the flipped labels;
//! - [`blocks`]: per-example gradients with linear layers kept factored, for the dot
//!   products TracIn and self-influence take;
//! - [`influence`], [`tracin`], [`representer`]: scores of training examples for a test
//!   example.

pub mod blocks;
pub mod datamap;
pub mod forgetting;
pub mod influence;
pub mod noise;
pub mod objective;
pub mod record;
pub mod removal;
pub mod representer;
pub mod tidy;
pub mod tracin;
