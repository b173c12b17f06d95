//! `lamppost compare`: our attribution in float64 beside another implementation's.

use super::CompareArgs;
use crate::error::Result;
use crate::explain::compare::{AGREE, Subject, compare as run_compare};
use crate::io::read_named;
use std::path::Path;

pub fn compare(args: &CompareArgs) -> Result<()> {
    let opts = args.options.to_options()?;
    args.input.check()?;
    // FILE, or FILE:KEY when FILE alone does not exist
    let (file, key) = match args.theirs.rsplit_once(':') {
        Some((f, k)) if !Path::new(&args.theirs).exists() => (f, k),
        _ => (args.theirs.as_str(), "attribution"),
    };
    let theirs = read_named::<f64>(
        Path::new(file),
        key,
        &format!("name it with --theirs {file}:KEY"),
    )?;
    let loaded = args.input.model::<f64>()?;
    let x = args.input.batch::<f64>(&loaded)?;
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
