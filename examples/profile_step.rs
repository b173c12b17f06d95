//! Runs training steps and inference of one reference architecture in a loop, for a
//! profiler: `cargo run --release --example profile_step -- mnist-gru 200 [infer]`.

use lamppost::nn::train::train_step;
use lamppost::nn::{Arch, Model};
use lamppost::optim::Sgd;
use lamppost::tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn main() -> lamppost::Result<()> {
    lamppost::runtime::tune_allocator();
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map(String::as_str).unwrap_or("mnist-cnn");
    let steps: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100);
    let arch = Arch::from_name(name)?;
    let mut shape = vec![64];
    shape.extend(arch.input.clone().unwrap_or_default());
    let x = Tensor::<f32>::randn(&shape, 1.0, &mut StdRng::seed_from_u64(0));
    let y: Vec<usize> = (0..64).map(|i| i % arch.num_classes()).collect();
    let mut model = Model::<f32>::init(arch, 0);
    let mut opt = Sgd::new(0.01).momentum(0.9, false);
    let infer_only = args.get(3).is_some_and(|a| a == "infer");
    let start = std::time::Instant::now();
    for _ in 0..if infer_only { 0 } else { steps } {
        train_step(&mut model, &mut opt, &x, &y)?;
    }
    let t = start.elapsed().as_secs_f64();
    println!(
        "{name}: {:.0} images/s training (batch 64)",
        steps as f64 * 64.0 / t
    );
    shape[0] = 256;
    let xi = Tensor::<f32>::randn(&shape, 1.0, &mut StdRng::seed_from_u64(1));
    let start = std::time::Instant::now();
    for _ in 0..steps / 4 {
        model.predict(&xi)?;
    }
    let t = start.elapsed().as_secs_f64();
    println!(
        "{name}: {:.0} images/s inference (batch 256)",
        (steps / 4) as f64 * 256.0 / t
    );
    Ok(())
}
