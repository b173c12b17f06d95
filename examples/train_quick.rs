//! Trains one reference model on its default data and prints test accuracy:
//! `cargo run --release --example train_quick -- mnist-cnn 1`.

use lamppost::data::mnist;
use lamppost::fit::{evaluate, fit};
use lamppost::nn::{Arch, Model};
use lamppost::profile::Profile;

fn main() -> lamppost::Result<()> {
    lamppost::runtime::tune_allocator();
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map(String::as_str).unwrap_or("mnist-cnn");
    let arch = Arch::from_name(name)?;
    let mut cfg = Profile::of(&arch).train;
    if let Some(e) = args.get(2).and_then(|s| s.parse().ok()) {
        cfg.epochs = e;
    }
    if let Some(lr) = args.get(3).and_then(|s| s.parse().ok()) {
        cfg.lr = lr;
    }
    let (train, test) = mnist::load(&mnist::default_dir())?;
    let mut model = Model::<f32>::init(arch, cfg.seed);
    let t = std::time::Instant::now();
    fit(&mut model, &train, Some(&test), &cfg, &mut std::io::sink())?;
    let e = evaluate(&model, &test)?;
    println!(
        "{name}: {} -> test accuracy {:.2}% in {:.1}s",
        cfg.describe(),
        100.0 * e.accuracy,
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
