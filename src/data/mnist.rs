//! MNIST: the four IDX files shipped in `datasets/mnist/`, and the standard
//! normalization `(x/255 − 0.1307)/0.3081`, done here and nowhere else.

use super::Dataset;
use super::idx::{IdxArray, read_idx};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use std::path::{Path, PathBuf};

pub const MEAN: f32 = 0.1307;
pub const STD: f32 = 0.3081;

/// The standard MNIST preprocessing of one pixel.
pub fn normalize(pixel: u8) -> f32 {
    (pixel as f32 / 255.0 - MEAN) / STD
}

/// Inverse of [`normalize`], for pictures.
pub fn denormalize(v: f32) -> f32 {
    (v * STD + MEAN).clamp(0.0, 1.0)
}

/// `datasets/mnist` under the current folder if it is there, else the crate's own copy.
pub fn default_dir() -> PathBuf {
    let local = PathBuf::from("datasets/mnist");
    if local.join("train-labels-idx1-ubyte.gz").exists() {
        local
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("datasets/mnist")
    }
}

/// Finds `stem.gz` or `stem` in `dir`.
fn find(dir: &Path, stem: &str) -> Result<PathBuf> {
    for name in [format!("{stem}.gz"), stem.to_string()] {
        let p = dir.join(name);
        if p.exists() {
            return Ok(p);
        }
    }
    Err(Error::Io(format!(
        "{}: no {stem}(.gz) here; point --data at a folder holding the four MNIST IDX files",
        dir.display()
    )))
}

fn to_dataset(
    images: IdxArray,
    labels: IdxArray,
    img_path: &Path,
    prefix: &str,
) -> Result<Dataset> {
    let bad = |what: String| Error::Io(format!("{}: {what}", img_path.display()));
    if images.dims.len() != 3 || images.dims[1] != 28 || images.dims[2] != 28 {
        return Err(bad(format!(
            "images must be [N, 28, 28], found {:?}",
            images.dims
        )));
    }
    if labels.dims.len() != 1 || labels.dims[0] != images.dims[0] {
        return Err(bad(format!(
            "{} images but labels of shape {:?}",
            images.dims[0], labels.dims
        )));
    }
    if let Some(&l) = labels.data.iter().find(|&&l| l > 9) {
        return Err(bad(format!("label {l} is not a digit")));
    }
    let n = images.dims[0];
    let x = Tensor::new(
        &[n, 1, 28, 28],
        images.data.iter().map(|&p| normalize(p)).collect(),
    )?;
    Ok(Dataset {
        x,
        y: labels.data.iter().map(|&l| l as usize).collect(),
        classes: (0..10).map(|d| d.to_string()).collect(),
        names: (0..n).map(|i| format!("{prefix}[{i}]")).collect(),
    })
}

/// Loads one part, `train` (60,000) or `t10k` (10,000).
pub fn load_part(dir: &Path, part: &str) -> Result<Dataset> {
    let ip = find(dir, &format!("{part}-images-idx3-ubyte"))?;
    let lp = find(dir, &format!("{part}-labels-idx1-ubyte"))?;
    to_dataset(read_idx(&ip)?, read_idx(&lp)?, &ip, part)
}

/// (train, test).
pub fn load(dir: &Path) -> Result<(Dataset, Dataset)> {
    Ok((load_part(dir, "train")?, load_part(dir, "t10k")?))
}
