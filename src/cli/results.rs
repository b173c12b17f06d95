//! The results folder that `inside` and `data` write: `index.html` with its figures,
//! `results.csv` and `results.safetensors`, whose metadata start with the same
//! provenance.

use crate::error::Result;
use crate::float::Float;
use crate::io::safetensors_file::{FileDtype, serialize};
use crate::io::{Outputs, stable_hash};
use crate::tensor::Tensor;
use crate::viz::report::Report;
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

/// The metadata every results file carries: the method, the model file and the FNV-1a
/// fingerprint of its bytes, its architecture, the data and this program; then `extra`.
pub fn provenance(
    method: &str,
    model: &Path,
    model_bytes: &[u8],
    arch: &str,
    data: &str,
    extra: Vec<(&str, String)>,
) -> HashMap<String, String> {
    let mut meta = HashMap::from([
        ("method".to_string(), method.to_string()),
        ("model".to_string(), model.display().to_string()),
        (
            "model_fnv1a64".to_string(),
            format!("{:016x}", stable_hash(model_bytes)),
        ),
        ("arch".to_string(), arch.to_string()),
        ("data".to_string(), data.to_string()),
        (
            "producer".to_string(),
            format!("lamppost {}", env!("CARGO_PKG_VERSION")),
        ),
    ]);
    meta.extend(extra.into_iter().map(|(k, v)| (k.to_string(), v)));
    meta
}

/// The tensors of `results.safetensors` with their metadata and element type.
pub struct Tensors<'a, T> {
    pub tensors: &'a [(String, Tensor<T>)],
    pub meta: HashMap<String, String>,
    pub dtype: FileDtype,
}

/// Writes the folder (all paths were checked by `outputs` before the work) and says so.
pub fn write<T: Float>(
    outputs: &Outputs,
    out: &Path,
    page: Report,
    csv: String,
    results: Tensors<T>,
    start: Instant,
) -> Result<()> {
    let mut files = page.into_files("index.html");
    files.push(("results.csv".into(), csv.into_bytes()));
    files.push((
        "results.safetensors".into(),
        serialize(results.tensors, &results.meta, results.dtype),
    ));
    outputs.write_folder(out, &files)?;
    eprintln!(
        "wrote {}/results.csv, results.safetensors and index.html in {:.1}s",
        out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
