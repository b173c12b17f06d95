//! Layers built from ops, PyTorch's default initialization, and the reference
//! architectures.
//!
//! A model is an [`Arch`] (a list of [`LayerSpec`]s, each naming its parameters the way
//! `torch.nn` does) plus the parameter tensors in state-dict order.

pub mod arch;
pub mod attention;
pub mod conv;
pub mod gru;
pub mod init;
pub mod linear;
pub mod model;
pub mod train;
pub mod vae;

pub use arch::{Arch, LayerSpec};
pub use model::{Forward, Model};
