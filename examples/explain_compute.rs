//! Time of one explanation method's computation alone, on a batch already in memory (the
//! model loaded once, the warm-up call excluded): the part of a `lamppost explain` process
//! that is not starting, reading or writing. Best of `REPEATS` calls.
//!
//!     cargo run --release --example explain_compute -- MODEL.safetensors X.safetensors grad-cam [REPEATS]

use lamppost::explain::attribution::AttributionMethod;
use lamppost::explain::registry::{MethodOptions, build};
use lamppost::io::read_named;
use lamppost::io::safetensors_file::load_model;
use std::path::Path;
use std::time::Instant;

fn main() -> lamppost::error::Result<()> {
    lamppost::runtime::tune_allocator();
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: explain_compute MODEL.safetensors X.safetensors METHOD [REPEATS]");
        std::process::exit(2);
    }
    let model = load_model::<f32>(Path::new(&args[1]))?;
    let x = read_named::<f32>(Path::new(&args[2]), "x", "save the batch under the key 'x'")?;
    let repeats: usize = args.get(4).and_then(|r| r.parse().ok()).unwrap_or(7);
    let m = build(&args[3], &MethodOptions::default(), &model.arch)?;
    let n = x.shape()[0];
    let targets = vec![1; n];
    AttributionMethod::<f32>::attribute(m.as_ref(), &model, &x, &targets)?;
    let mut best = f64::INFINITY;
    for _ in 0..repeats {
        let t = Instant::now();
        AttributionMethod::<f32>::attribute(m.as_ref(), &model, &x, &targets)?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{}: {n} example(s), best of {repeats}: {:.2} ms",
        args[3],
        best * 1e3
    );
    Ok(())
}
