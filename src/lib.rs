//! # lamppost
//!
//! Explainable machine learning, from the autodiff engine up. A drunk searches for his
//! keys under the lamppost because that is where the light is; lamppost moves the
//! light onto the models.
//!
//! * [`tensor`]: `Tensor<T>` and graph-free kernels (GEMM, im2col convolution, pooling).
//! * [`autodiff`]: the tape (a Wengert list), backward with selectable ReLU rules,
//!   gradient checks and exact Hessian-vector products.
//! * [`ops`]: one file per differentiable op.
//! * [`nn`]: layers, PyTorch initialization and the reference architectures.
//! * [`optim`]: SGD, Adam, AdamW, penalties and learning-rate schedules.
//! * [`io`]: PyTorch-compatible safetensors model files.

pub mod autodiff;
pub mod cli;
pub mod data;
pub mod error;
pub mod fit;
pub mod float;
pub mod io;
pub mod nn;
pub mod ops;
pub mod optim;
pub mod runtime;
pub mod tensor;
pub mod tour;
pub mod viz;

pub use autodiff::{BackwardRule, Gradients, Tape, Var};
pub use error::{Error, Result};
pub use float::Float;
pub use tensor::Tensor;
