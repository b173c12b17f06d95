//! safetensors files with PyTorch's names and layouts.
//!
//! A model file holds each parameter as f32 under its state-dict name and the metadata
//! entry `arch` (a reference name or a `seq:` list), so that
//! `module.load_state_dict(safetensors.torch.load_file(path), strict=True)` works, and a
//! file saved from PyTorch the same way loads here.
//!
//! Writes go to a temporary file that is renamed into place, and never replace an
//! existing file unless `force` is set.

use crate::error::{Error, Result};
use crate::float::Float;
use crate::io::outputs::write_atomic;
use crate::nn::{Arch, Model};
use crate::tensor::Tensor;
use safetensors::tensor::{Dtype, SafeTensors};
use std::collections::HashMap;
use std::path::Path;

/// Named tensors and the file's metadata.
pub type TensorFile<T> = (Vec<(String, Tensor<T>)>, HashMap<String, String>);

fn io_err(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::Io(format!("{}: {what}", path.display()))
}

/// Refuses to replace an existing file unless `force`.
pub fn check_overwrite(path: &Path, force: bool) -> Result<()> {
    if path.exists() && !force {
        return Err(io_err(path, "already exists; pass --force to overwrite it"));
    }
    Ok(())
}

/// Escapes a string for JSON.
fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out += "\\\"",
            '\\' => out += "\\\\",
            c if (c as u32) < 0x20 => out += &format!("\\u{:04x}", c as u32),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Serializes tensors as f32 safetensors bytes. Written here rather than by the
/// `safetensors` crate so that the header is byte-for-byte reproducible: metadata keys
/// sorted, tensors in the given (state-dict) order.
pub fn serialize_f32<T: Float>(
    tensors: &[(String, Tensor<T>)],
    metadata: &HashMap<String, String>,
) -> Vec<u8> {
    serialize(tensors, metadata, FileDtype::F32)
}

/// The element type a tensor file is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileDtype {
    /// PyTorch's default; model files are always F32.
    F32,
    /// Reference results (`--dtype f64`).
    F64,
}

/// [`serialize_f32`] in either element type.
pub fn serialize<T: Float>(
    tensors: &[(String, Tensor<T>)],
    metadata: &HashMap<String, String>,
    dtype: FileDtype,
) -> Vec<u8> {
    let (size, tag) = match dtype {
        FileDtype::F32 => (4, "F32"),
        FileDtype::F64 => (8, "F64"),
    };
    let mut meta: Vec<(&String, &String)> = metadata.iter().collect();
    meta.sort();
    let mut header = String::from("{");
    if !meta.is_empty() {
        let items: Vec<String> = meta
            .iter()
            .map(|(k, v)| format!("{}:{}", json_str(k), json_str(v)))
            .collect();
        header += &format!("\"__metadata__\":{{{}}}", items.join(","));
    }
    let mut offset = 0usize;
    for (name, t) in tensors {
        let end = offset + size * t.len();
        let shape: Vec<String> = t.shape().iter().map(|d| d.to_string()).collect();
        if header.len() > 1 {
            header.push(',');
        }
        header += &format!(
            "{}:{{\"dtype\":\"{tag}\",\"shape\":[{}],\"data_offsets\":[{offset},{end}]}}",
            json_str(name),
            shape.join(",")
        );
        offset = end;
    }
    header.push('}');
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut out = Vec::with_capacity(8 + header.len() + offset);
    out.extend((header.len() as u64).to_le_bytes());
    out.extend(header.as_bytes());
    for (_, t) in tensors {
        for v in t.data() {
            match dtype {
                FileDtype::F32 => out.extend((v.to_f64() as f32).to_le_bytes()),
                FileDtype::F64 => out.extend(v.to_f64().to_le_bytes()),
            }
        }
    }
    out
}

/// Writes tensors as f32 with the given metadata.
pub fn write_tensors<T: Float>(
    path: &Path,
    tensors: &[(String, Tensor<T>)],
    metadata: HashMap<String, String>,
    force: bool,
) -> Result<()> {
    write_tensors_as(path, tensors, metadata, force, FileDtype::F32)
}

/// [`write_tensors`] in the given element type.
pub fn write_tensors_as<T: Float>(
    path: &Path,
    tensors: &[(String, Tensor<T>)],
    metadata: HashMap<String, String>,
    force: bool,
    dtype: FileDtype,
) -> Result<()> {
    check_overwrite(path, force)?;
    write_atomic(path, &serialize(tensors, &metadata, dtype))
}

/// The largest safetensors header read (the format's own limit, 100 MB).
const MAX_HEADER: u64 = 100_000_000;

/// The largest tensor data read from one file: 8 GiB, far above every model of the course.
pub const MAX_FILE_DATA: u64 = 8 << 30;

/// The end of the tensor data a safetensors header announces: the largest
/// `data_offsets` end (0 for a header without tensors).
fn announced_data_len(header: &str) -> Option<u64> {
    let mut end = 0u64;
    let mut rest = header;
    while let Some(i) = rest.find("\"data_offsets\"") {
        rest = &rest[i + 14..];
        let open = rest.find('[')?;
        let close = rest.find(']')?;
        let pair = rest.get(open + 1..close)?;
        let (_, b) = pair.split_once(',')?;
        end = end.max(b.trim().parse().ok()?);
        rest = &rest[close..];
    }
    Some(end)
}

/// Reads a safetensors file with a size bound derived from its header: the 8-byte header
/// length (at most 100 MB), the header, then exactly the tensor data it announces (at
/// most [`MAX_FILE_DATA`]). A device or pipe that never ends (`/dev/zero`) is refused
/// instead of read until memory runs out.
pub fn read_bounded(path: &Path) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|e| io_err(path, e))?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(io_err(path, "is a folder; give a .safetensors file"));
    }
    read_bounded_from(std::io::BufReader::new(file), path)
}

/// [`read_bounded`] from any reader (`path` names it in errors).
pub fn read_bounded_from(mut r: impl std::io::Read, path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let corrupt = |what: String| io_err(path, format!("not a valid safetensors file ({what})"));
    let mut len = [0u8; 8];
    r.read_exact(&mut len)
        .map_err(|_| corrupt("shorter than the 8-byte header length".into()))?;
    let n = u64::from_le_bytes(len);
    if n == 0 || n > MAX_HEADER {
        return Err(corrupt(format!(
            "header length {n}; it must be between 1 and {MAX_HEADER} bytes"
        )));
    }
    let mut bytes = len.to_vec();
    r.by_ref()
        .take(n)
        .read_to_end(&mut bytes)
        .map_err(|e| io_err(path, e))?;
    if (bytes.len() as u64) < 8 + n {
        return Err(corrupt(format!("the file ends inside its {n}-byte header")));
    }
    let header =
        std::str::from_utf8(&bytes[8..]).map_err(|_| corrupt("header is not UTF-8".into()))?;
    let data = announced_data_len(header)
        .ok_or_else(|| corrupt("malformed data_offsets in the header".into()))?;
    if data > MAX_FILE_DATA {
        return Err(corrupt(format!(
            "the header announces {data} bytes of tensor data, above the {MAX_FILE_DATA}-byte limit"
        )));
    }
    // one byte more than announced, so trailing bytes are seen (and refused by the parser)
    r.take(data + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_err(path, e))?;
    Ok(bytes)
}

/// Reads every tensor of a safetensors file (f32 or f64) and its metadata.
pub fn read_tensors<T: Float>(path: &Path) -> Result<TensorFile<T>> {
    tensors_from_bytes(&read_bounded(path)?, path)
}

/// The tensor named `key` of a safetensors file; the error lists the names there are and
/// ends with `hint` (how to fix it).
pub fn read_named<T: Float>(path: &Path, key: &str, hint: &str) -> Result<Tensor<T>> {
    let (tensors, _) = read_tensors::<T>(path)?;
    let names: Vec<&str> = tensors.iter().map(|t| t.0.as_str()).collect();
    let found = format!(
        "no tensor named '{key}' (found: [{}]); {hint}",
        names.join(", ")
    );
    tensors
        .into_iter()
        .find(|t| t.0 == key)
        .map(|t| t.1)
        .ok_or_else(|| io_err(path, found))
}

/// [`read_tensors`] on a file's bytes already read (`path` names it in errors).
pub fn tensors_from_bytes<T: Float>(bytes: &[u8], path: &Path) -> Result<TensorFile<T>> {
    let corrupt =
        |e: &dyn std::fmt::Display| io_err(path, format!("not a valid safetensors file ({e})"));
    let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| corrupt(&e))?;
    let st = SafeTensors::deserialize(bytes).map_err(|e| corrupt(&e))?;
    let mut out = Vec::new();
    let mut names: Vec<String> = st.names().into_iter().map(String::from).collect();
    names.sort();
    for name in names {
        let view = st.tensor(&name).map_err(|e| corrupt(&e))?;
        let data: Vec<T> = match view.dtype() {
            Dtype::F32 => view
                .data()
                .chunks_exact(4)
                .map(|c| T::from_f64_lossy(f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64))
                .collect(),
            Dtype::F64 => view
                .data()
                .chunks_exact(8)
                .map(|c| T::from_f64_lossy(f64::from_le_bytes(c.try_into().expect("8 bytes"))))
                .collect(),
            other => {
                return Err(io_err(
                    path,
                    format!(
                        "tensor '{name}' has dtype {other:?}; only F32 and F64 are read (convert with .float())"
                    ),
                ));
            }
        };
        out.push((name, Tensor::new(view.shape(), data)?));
    }
    Ok((out, meta.metadata().clone().unwrap_or_default()))
}

/// Saves a model's parameters (as f32) with `arch` and any extra metadata.
pub fn save_model<T: Float>(
    model: &Model<T>,
    path: &Path,
    extra: &[(String, String)],
    force: bool,
) -> Result<()> {
    let mut meta: HashMap<String, String> = extra.iter().cloned().collect();
    meta.insert("arch".into(), model.arch.name.clone());
    meta.insert("format".into(), "pt".into());
    meta.insert(
        "producer".into(),
        format!("lamppost {}", env!("CARGO_PKG_VERSION")),
    );
    write_tensors(path, model.params(), meta, force)
}

/// Loads a model file; the architecture comes from its `arch` metadata.
pub fn load_model<T: Float>(path: &Path) -> Result<Model<T>> {
    let bytes = read_bounded(path)?;
    Ok(model_from_bytes(&bytes, path)?.0)
}

/// A model and its file's metadata from the file's bytes (read once by callers that also
/// fingerprint the file).
pub fn model_from_bytes<T: Float>(
    bytes: &[u8],
    path: &Path,
) -> Result<(Model<T>, HashMap<String, String>)> {
    let (tensors, meta) = tensors_from_bytes::<T>(bytes, path)?;
    let arch_name = meta.get("arch").ok_or_else(|| {
        io_err(path, "no 'arch' entry in the metadata; save with metadata={'arch': 'mnist-cnn'} (or a seq: list)")
    })?;
    let arch = Arch::from_name(arch_name).map_err(|e| io_err(path, e))?;
    let model = Model::from_named(arch, tensors).map_err(|e| io_err(path, e))?;
    Ok((model, meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("lamppost-io-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&d);
        d
    }

    #[test]
    fn model_round_trip_and_no_silent_overwrite() {
        let m = Model::<f32>::init(Arch::from_name("mnist-gru").unwrap(), 1);
        let p = tmp("rt.safetensors");
        save_model(&m, &p, &[], false).unwrap();
        assert_eq!(load_model::<f32>(&p).unwrap(), m);
        let e = save_model(&m, &p, &[], false).unwrap_err().to_string();
        assert!(e.contains("--force"), "{e}");
        save_model(&m, &p, &[], true).unwrap();
        std::fs::remove_file(p).unwrap();
    }

    #[test]
    fn header_is_reproducible_and_escaped() {
        let t = vec![("a".to_string(), Tensor::<f32>::ones(&[2]))];
        let meta: HashMap<String, String> = (0..20)
            .map(|i| (format!("k{i}"), format!("v\"{i}\\\n")))
            .collect();
        let a = serialize_f32(&t, &meta);
        let b = serialize_f32(&t, &meta.clone().into_iter().collect());
        assert_eq!(a, b);
        let (_, m) = SafeTensors::read_metadata(&a).unwrap();
        assert_eq!(m.metadata().as_ref().unwrap()["k3"], "v\"3\\\n");
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let m = Model::<f32>::init(Arch::from_name("seq:linear(3,2)").unwrap(), 1);
        let p = tmp("trunc.safetensors");
        save_model(&m, &p, &[], false).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        for cut in 0..bytes.len() {
            std::fs::write(&p, &bytes[..cut]).unwrap();
            assert!(load_model::<f32>(&p).is_err(), "cut at {cut}");
        }
        let mut flipped = bytes.clone();
        flipped[10] = b'{';
        std::fs::write(&p, &flipped).unwrap();
        assert!(load_model::<f32>(&p).is_err());
        std::fs::remove_file(p).unwrap();
    }

    #[test]
    fn missing_extra_and_misshapen_tensors_are_named() {
        let p = tmp("bad.safetensors");
        let arch = Arch::from_name("seq:linear(3,2)").unwrap();
        let meta = HashMap::from([("arch".to_string(), arch.name.clone())]);
        let w = ("0.weight".to_string(), Tensor::<f32>::zeros(&[2, 3]));
        let extra = ("0.extra".to_string(), Tensor::<f32>::zeros(&[1]));
        write_tensors(&p, &[w.clone(), extra], meta.clone(), true).unwrap();
        let e = load_model::<f32>(&p).unwrap_err().to_string();
        assert!(
            e.contains("missing [0.bias]") && e.contains("unexpected [0.extra]"),
            "{e}"
        );
        let wrong = ("0.bias".to_string(), Tensor::<f32>::zeros(&[3]));
        write_tensors(&p, &[w, wrong], meta, true).unwrap();
        let e = load_model::<f32>(&p).unwrap_err().to_string();
        assert!(
            e.contains("0.bias") && e.contains("[3]") && e.contains("[2]"),
            "{e}"
        );
        write_tensors(
            &p,
            &[("x".to_string(), Tensor::<f32>::zeros(&[1]))],
            HashMap::new(),
            true,
        )
        .unwrap();
        let e = load_model::<f32>(&p).unwrap_err().to_string();
        assert!(e.contains("'arch'"), "{e}");
        std::fs::remove_file(p).unwrap();
    }
}
