//! The `lamppost` command line. Every failure prints what was wrong and how to fix it
//! and exits non-zero; no existing output is replaced without `--force`.

mod commands;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "lamppost",
    version,
    about = "Explainable machine learning, from the autodiff engine up"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write a model file with fresh (PyTorch-style) initial weights.
    Init {
        /// mnist-cnn, mnist-gap, mnist-gru, pokedigi-gap, or a seq: layer list
        arch: String,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
        /// Replace an existing output file.
        #[arg(long)]
        force: bool,
    },
    /// Logits of a model for the inputs in a safetensors file (key `x`).
    Predict {
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        force: bool,
    },
    /// Describe a model file: architecture, parameters, metadata.
    Info {
        #[arg(long)]
        model: PathBuf,
    },
}

/// Parses the arguments, runs the command and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match commands::run(cli.command) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}
