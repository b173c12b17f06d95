//! `lamppost compare`: our attribution in float64 beside another implementation's.

use super::CompareArgs;
use crate::error::{Error, Result};
use crate::explain::compare::{AGREE, Subject, compare as run_compare};
use crate::io::read_tensors;
use std::path::Path;

pub fn compare(args: &CompareArgs) -> Result<()> {
    let opts = args.options.to_options()?;
    // FILE, or FILE:KEY when FILE alone does not exist
    let (file, key) = match args.theirs.rsplit_once(':') {
        Some((f, k)) if !Path::new(&args.theirs).exists() => (f, k),
        _ => (args.theirs.as_str(), "attribution"),
    };
    let (tensors, _) = read_tensors::<f64>(Path::new(file))?;
    let names: Vec<&str> = tensors.iter().map(|t| t.0.as_str()).collect();
    let theirs = tensors
        .iter()
        .find(|t| t.0 == key)
        .map(|t| t.1.clone())
        .ok_or_else(|| {
            Error::Io(format!(
                "{file}: no tensor named '{key}' (found: [{}]); name it with --theirs {file}:KEY",
                names.join(", ")
            ))
        })?;
    let loaded = args.input.model::<f64>()?;
    crate::explain::registry::build(&args.method, &opts, &loaded.model.arch)?;
    let x = args.input.batch::<f64>(&loaded.model)?;
    let n = x.shape()[0];
    let targets = args.input.targets(n, loaded.model.arch.num_classes(), || {
        loaded.model.predict(&x)?.argmax_rows()
    })?;
    let c = run_compare(
        &Subject {
            model: &loaded.model,
            x: &x,
            targets: &targets,
            method: &args.method,
            options: &opts,
        },
        &theirs,
    )?;
    let a = &c.agreement;
    println!(
        "{} on {n} example(s), targets {targets:?}, float64, against {file}:{key}",
        args.method
    );
    println!("max |ours − theirs|:               {:.3e}", a.max_abs);
    println!("max |ours − theirs| / max |ours|:  {:.3e}", a.max_rel);
    println!("correlation:                       {:.9}", a.correlation);
    println!("per-example sums (ours, theirs):");
    for (i, (o, t)) in c.sums.iter().enumerate() {
        println!("  {i:>3}: {o:>14.8} {t:>14.8}  ratio {:.6}", t / o);
    }
    if a.max_rel <= AGREE {
        println!("verdict: they agree (relative difference ≤ {AGREE:e})");
    } else if c.diagnoses.is_empty() {
        println!("verdict: they differ, and no known convention difference explains it");
    } else {
        println!("verdict: they differ; known convention differences that explain it:");
    }
    for d in &c.diagnoses {
        println!("  - {d}");
    }
    Ok(())
}
