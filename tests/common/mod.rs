//! What the command-line test files share: the binary, a scratch folder, a run.
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
