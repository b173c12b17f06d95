//! Time of four evaluation metrics alone, on a batch in memory, for the side-by-side with
//! Quantus and Captum (`benches/compare_metrics.py` runs this and the Python side on the
//! same weights and digits). Best of `REPEATS` calls each, after a warm-up call; prints
//! one JSON object of milliseconds.
//!
//! - `pixel_flipping`: the deletion curve, 28 pixels a step to 0, softmax of the target,
//!   for the given saliency maps (Quantus' `PixelFlipping`);
//! - `mprt`: cascading randomization from the logits down, the saliency map recomputed
//!   at every stage, Spearman of |maps| (Quantus' `MPRT`);
//! - `infidelity`: 10 Gaussian perturbations (σ 0.1) per digit, Captum's default
//!   (`captum.metrics.infidelity`), the saliency maps given;
//! - `sensitivity`: 10 draws in the L∞ ball of radius 0.02, the saliency map recomputed
//!   for each (`captum.metrics.sensitivity_max`).
//!
//!     cargo run --release --example metrics_compute -- MODEL.safetensors X.safetensors [REPEATS]
//!
//! `X.safetensors` holds the digits under `x` and their targets under `target`.

use lamppost::explain::attribution::AttributionMethod;
use lamppost::explain::local::saliency::Saliency;
use lamppost::explain::metrics::curves::{CurveSpec, Substrate, curves};
use lamppost::explain::metrics::robustness::{
    Perturbation, infidelity_with, perturbations, sensitivity_with, uniform_ball,
};
use lamppost::explain::metrics::sanity::{Randomization, randomization_test};
use lamppost::io::read_named;
use lamppost::io::safetensors_file::load_model;
use std::path::Path;
use std::time::Instant;

fn best(repeats: usize, mut f: impl FnMut() -> lamppost::error::Result<()>) -> f64 {
    f().expect("warm-up");
    (0..repeats)
        .map(|_| {
            let t = Instant::now();
            f().expect("run");
            t.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() -> lamppost::error::Result<()> {
    lamppost::runtime::tune_allocator();
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: metrics_compute MODEL.safetensors X.safetensors [REPEATS]");
        std::process::exit(2);
    }
    let model = load_model::<f32>(Path::new(&args[1]))?;
    let path = Path::new(&args[2]);
    let x = read_named::<f32>(path, "x", "save the digits under the key 'x'")?;
    let t = read_named::<f32>(path, "target", "save the targets under 'target'")?;
    let targets: Vec<usize> = t.data().iter().map(|&v| v as usize).collect();
    let repeats: usize = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(3);
    let saliency = Saliency { abs: false };
    let maps = AttributionMethod::<f32>::attribute(&saliency, &model, &x, &targets)?.map;
    let spec = CurveSpec::deletion(Substrate::Zero, 28);
    let pf = best(repeats, || {
        curves(&model, &x, &maps, &targets, &spec).map(|_| ())
    });
    let mprt = best(repeats, || {
        randomization_test(
            &model,
            &saliency,
            &x,
            &targets,
            None,
            Randomization::Cascading,
            0,
        )
        .map(|_| ())
    });
    let infid = best(repeats, || {
        let p = perturbations(&x, Perturbation::Gaussian(0.1), 10, 0)?;
        infidelity_with(&model, &x, &maps, &targets, &p, false).map(|_| ())
    });
    let sens = best(repeats, || {
        let d = uniform_ball(&x, 0.02, 10, 0)?;
        sensitivity_with(&model, &saliency, &x, &targets, &d).map(|_| ())
    });
    println!(
        "{{\"n\": {}, \"pixel_flipping\": {pf:.3}, \"mprt\": {mprt:.3}, \"infidelity\": {infid:.3}, \"sensitivity\": {sens:.3}}}",
        x.shape()[0]
    );
    Ok(())
}
