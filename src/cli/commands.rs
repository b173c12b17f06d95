//! What each subcommand does.

use super::Command;
use crate::error::{Error, Result};
use crate::io::safetensors_file::check_overwrite;
use crate::io::{load_model, read_tensors, save_model, write_tensors};
use crate::nn::{Arch, Model};
use std::collections::HashMap;
use std::path::Path;

pub fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Init {
            arch,
            seed,
            out,
            force,
        } => init(&arch, seed, &out, force),
        Command::Predict {
            model,
            input,
            out,
            force,
        } => predict(&model, &input, &out, force),
        Command::Info { model } => info(&model),
    }
}

fn init(arch: &str, seed: u64, out: &Path, force: bool) -> Result<()> {
    check_overwrite(out, force)?;
    let model = Model::<f32>::init(Arch::from_name(arch)?, seed);
    save_model(&model, out, &[("seed", seed.to_string())], force)?;
    println!(
        "wrote {} ({arch}, {} parameters, seed {seed})",
        out.display(),
        model.num_params()
    );
    Ok(())
}

fn predict(model_path: &Path, input: &Path, out: &Path, force: bool) -> Result<()> {
    check_overwrite(out, force)?;
    let model = load_model::<f32>(model_path)?;
    let (tensors, _) = read_tensors::<f32>(input)?;
    let names: Vec<&str> = tensors.iter().map(|t| t.0.as_str()).collect();
    let x = tensors
        .iter()
        .find(|t| t.0 == "x")
        .map(|t| t.1.clone())
        .ok_or_else(|| {
            Error::Io(format!(
                "{}: no tensor named 'x' (found: [{}]); save the batch under the key 'x'",
                input.display(),
                names.join(", ")
            ))
        })?;
    let logits = model
        .predict(&x)
        .map_err(|e| Error::Invalid(format!("{}: {e}", input.display())))?;
    let meta = HashMap::from([("arch".to_string(), model.arch.name.clone())]);
    write_tensors(out, &[("logits".to_string(), logits.clone())], meta, force)?;
    println!("wrote {} (logits {:?})", out.display(), logits.shape());
    Ok(())
}

fn info(path: &Path) -> Result<()> {
    let model = load_model::<f32>(path)?;
    let (_, meta) = read_tensors::<f32>(path)?;
    println!("architecture: {}", model.arch.name);
    println!("parameters:   {}", model.num_params());
    for (name, t) in model.params() {
        println!("  {name:<20} {:?}", t.shape());
    }
    let mut keys: Vec<_> = meta.iter().filter(|(k, _)| k.as_str() != "arch").collect();
    keys.sort();
    for (k, v) in keys {
        println!("{k}: {v}");
    }
    Ok(())
}
