//! Files: PyTorch-compatible safetensors model files and tensor files.

pub mod safetensors_file;

pub use safetensors_file::{load_model, read_tensors, save_model, write_tensors};
