//! What the test files share: the binary, a scratch folder, a run, and a quickly
//! trained mnist-cnn.
#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `lamppost` binary this test run built.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lamppost"))
}

/// A fresh, empty scratch folder for one test (per test process and tag).
pub fn tmp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lamppost-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `lamppost args` in `cwd`.
pub fn run(args: &[&str], cwd: &Path) -> Output {
    bin().args(args).current_dir(cwd).output().unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The whole MNIST data (training, test), as the tour loads it.
pub fn mnist() -> lamppost::data::source::Loaded {
    use lamppost::data::mnist;
    use lamppost::data::source::{DataSpec, load};
    let cache = std::env::temp_dir().join(format!("lamppost-mnist-{}", std::process::id()));
    let data = load(&DataSpec::Mnist(mnist::default_dir()), &cache, 0).unwrap();
    let _ = std::fs::remove_dir_all(&cache);
    data
}

/// mnist-cnn trained on the first 20 000 MNIST training digits for 2 epochs (the
/// reference settings otherwise; about 10 s), and the whole MNIST data.
pub fn mnist_cnn_2_epochs() -> (lamppost::nn::Model<f32>, lamppost::data::source::Loaded) {
    use lamppost::nn::{Arch, Model};
    let data = mnist();
    let arch = Arch::from_name("mnist-cnn").unwrap();
    let mut cfg = lamppost::profile::Profile::of(&arch).train;
    cfg.epochs = 2;
    let mut model = Model::<f32>::init(arch, 0);
    let train = data.train.subset(&(0..20_000).collect::<Vec<_>>()).unwrap();
    lamppost::fit::fit(&mut model, &train, None, &cfg, &mut std::io::sink()).unwrap();
    (model, data)
}
