//! Explanation methods, one family per folder. Each method is one file that opens with
//! the question it answers, its formula, its paper and the test that pins it; each is one
//! row of the [`registry`], from which the command line, its help and the tour take
//! their method lists.
//!
//! * [`attribution`]: the interface every attribution method implements, shared helpers.
//! * [`batched`]: many perturbed inputs through a model under one row budget; a forward
//!   pass that keeps a named layer.
//! * [`registry`]: the table of methods, their options and builders.
//! * [`local`]: attributions for one prediction (saliency, IG, occlusion, LIME, ...).
//! * [`cam`]: class activation maps on one CAM base (CAM, Grad-CAM, Grad-CAM++, ...).
//! * [`inside`]: what the layers represent (layer PCA and t-SNE, probes).
//! * [`global`]: what a filter or a class looks like to the network.
//! * [`data`]: which training examples explain a prediction.
//! * [`metrics`]: how far an explanation can be trusted.
//! * [`surrogate`]: decision trees, and tree regularization of deep models.
//! * [`compare`]: our attribution beside another implementation's, with a diagnosis.

pub mod attribution;
pub mod batched;
pub mod cam;
pub mod cards;
pub mod compare;
pub mod data;
pub mod global;
pub mod inside;
pub mod local;
pub mod metrics;
pub mod registry;
pub mod surrogate;
