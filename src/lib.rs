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
//! * [`data`], [`fit`], [`profile`]: datasets, training (one entry point, provenance,
//!   an observer of every minibatch) and what each architecture needs.
//! * [`explain`]: every explanation method, one family per folder, and their registry.
//! * [`viz`], [`report`]: pictures of tensors, and the tour that assembles them.
//! * [`cli`]: the `lamppost` command line (the top layer: nothing imports it).
//!
//! ```
//! use lamppost::{BackwardRule, Tape, Tensor};
//!
//! // y = Σ relu(w · x): the gradient reaches every node, here the input and the weight
//! let mut tape = Tape::<f64>::new();
//! let x = tape.leaf(Tensor::from_f64(&[1, 2], &[1.0, -2.0])?);
//! let w = tape.leaf(Tensor::from_f64(&[2, 2], &[1.0, 0.5, 3.0, -1.0])?);
//! let h = tape.matmul(x, w)?; // [1·1 − 2·3, 1·0.5 + 2·1] = [−5, 2.5]
//! let r = tape.relu(h);
//! let y = tape.sum_all(r);
//! let grads = tape.backward(y)?;
//! assert_eq!(grads.get(x).data(), &[0.5, -1.0]); // only the second column is active
//! // the same output under guided backprop: negative gradients stop at the ReLU
//! let seed = Tensor::ones(&[]);
//! let guided = tape.backward_with(y, seed, BackwardRule::GuidedBackprop)?;
//! assert_eq!(guided.get(h).data(), &[0.0, 1.0]);
//! # Ok::<(), lamppost::Error>(())
//! ```

pub mod autodiff;
pub mod cli;
pub mod data;
pub mod error;
pub mod explain;
pub mod fit;
pub mod float;
pub mod io;
pub mod nn;
pub mod ops;
pub mod optim;
pub mod profile;
pub mod report;
pub mod runtime;
pub mod tensor;
pub mod viz;

pub use autodiff::{BackwardRule, Gradients, Tape, Var};
pub use error::{Error, Result};
pub use float::Float;
pub use tensor::Tensor;
