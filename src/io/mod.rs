//! Files: PyTorch-compatible safetensors model files and tensor files.

pub mod outputs;
pub mod safetensors_file;

pub use outputs::{Outputs, write_atomic};

pub use safetensors_file::{
    FileDtype, load_model, read_named, read_tensors, save_model, write_tensors, write_tensors_as,
};

/// FNV-1a over bytes: a hash that is the same on every machine and Rust version (cache
/// keys, the model-file fingerprint in provenance metadata).
pub fn stable_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}
