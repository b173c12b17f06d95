//! The safetensors reader: bounded read, tensor parsing and model loading never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lamppost::io::safetensors_file::{model_from_bytes, read_bounded_from, tensors_from_bytes};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let p = Path::new("fuzz.safetensors");
    if let Ok(bytes) = read_bounded_from(data, p) {
        let _ = tensors_from_bytes::<f32>(&bytes, p);
        let _ = tensors_from_bytes::<f64>(&bytes, p);
        let _ = model_from_bytes::<f32>(&bytes, p);
    }
});
