//! The `lamppost` command line. Every failure prints what was wrong and how to fix it
//! and exits non-zero; no existing output is replaced without `--force`.

mod commands;
pub mod explain;

use clap::{Args, Parser, Subcommand};
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
    /// Train a model on its default data (MNIST, or the synthetic Pokémon/Digimon set) or on --data.
    Train {
        /// mnist-cnn, mnist-gap, mnist-gru, pokedigi-gap, or a seq: layer list
        arch: String,
        /// MNIST IDX folder, or a folder with pokemon/*.png and digimon/*.jpg
        #[arg(long)]
        data: Option<PathBuf>,
        #[arg(long)]
        epochs: Option<usize>,
        #[arg(long)]
        batch: Option<usize>,
        #[arg(long)]
        lr: Option<f64>,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
        /// Flip this fraction of the training labels (recorded in FILE.noise.json).
        #[arg(long, default_value_t = 0.0)]
        label_noise: f64,
        /// Size of the synthetic Pokémon/Digimon set when --data is not given.
        #[arg(long, default_value_t = 1000)]
        synth_n: usize,
        /// Use the synthetic set with random backgrounds.
        #[arg(long)]
        debias: bool,
        /// Where generated data is kept.
        #[arg(long, default_value = ".lamppost-cache")]
        cache: PathBuf,
        /// Train on the first N training examples only.
        #[arg(long)]
        limit: Option<usize>,
        #[arg(long)]
        force: bool,
    },
    /// Accuracy, per-class accuracy and confusion matrix of a model on its test data.
    Eval {
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        data: Option<PathBuf>,
        #[arg(long, default_value = ".lamppost-cache")]
        cache: PathBuf,
    },
    /// Dataset tools.
    Datasets {
        #[command(subcommand)]
        command: DatasetCommand,
    },
    /// The main job: train (or load) every reference model and write DIR/index.html.
    Tour {
        #[arg(long, default_value = "tour-out")]
        out: PathBuf,
        /// Small subsets and short training (under a minute), for smoke tests.
        #[arg(long)]
        quick: bool,
        /// Trained models are kept here and reused when the settings match.
        #[arg(long, default_value = ".lamppost-cache")]
        cache: PathBuf,
        #[arg(long)]
        force: bool,
    },
    /// Tree regularization (Wu et al. 2018): sweep λ for tree, L1 and L2 regularizers and a
    /// plain decision tree; write results.csv, auc-vs-apl.png and the tree that mimics the model.
    Treereg {
        /// hmm (signal-and-noise HMM, GRU) or parabola (2-D toy, MLP)
        #[arg(long, default_value = "hmm")]
        task: String,
        /// Strengths for every regularizer, comma-separated (default: a grid per regularizer).
        #[arg(long, value_delimiter = ',')]
        lambdas: Option<Vec<f64>>,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
        /// Smaller data, fewer strengths and iterations.
        #[arg(long)]
        quick: bool,
        #[arg(long)]
        force: bool,
    },
    /// Explain predictions: saliency, grad-x-input, smoothgrad, integrated-gradients,
    /// guided-backprop, deconvnet, occlusion, cam, grad-cam, guided-grad-cam, score-cam,
    /// lime, normlime.
    Explain(Box<ExplainArgs>),
    /// Describe a model file: architecture, parameters, metadata.
    Info {
        #[arg(long)]
        model: PathBuf,
    },
}

/// The options of `lamppost explain`.
#[derive(Args, Debug)]
pub struct ExplainArgs {
    pub method: String,
    #[arg(long)]
    pub model: PathBuf,
    /// A safetensors file with the batch under key x.
    #[arg(long, conflicts_with_all = ["image", "index"])]
    pub input: Option<PathBuf>,
    /// One PNG/JPEG image.
    #[arg(long, conflicts_with = "index")]
    pub image: Option<PathBuf>,
    /// A test example of the model's default data (or of --data).
    #[arg(long)]
    pub index: Option<usize>,
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[arg(long, default_value = ".lamppost-cache")]
    pub cache: PathBuf,
    /// Class to explain (default: the predicted class).
    #[arg(long)]
    pub target: Option<usize>,
    #[arg(long)]
    pub out: PathBuf,
    /// Integrated gradients: number of points.
    #[arg(long, default_value_t = 50)]
    pub steps: usize,
    /// Integrated gradients: left, right, middle, trapezoid, captum-trapezoid, gauss-legendre.
    #[arg(long, default_value = "gauss-legendre")]
    pub rule: String,
    /// Integrated gradients: zero, constant:V, blur:R, noise[:SEED].
    #[arg(long, default_value = "zero")]
    pub baseline: String,
    /// Grad-CAM, guided Grad-CAM, Score-CAM: layer name (default: last conv's ReLU).
    #[arg(long)]
    pub layer: Option<String>,
    /// Occlusion window: 4, 4,4 or C,4,4.
    #[arg(long, default_value = "4")]
    pub window: String,
    /// Occlusion strides: 2, 2,2 or C,2,2.
    #[arg(long, default_value = "2")]
    pub stride: String,
    /// Value of hidden inputs (occlusion: default 0; LIME: default each superpixel's mean colour).
    #[arg(long)]
    pub fill: Option<f64>,
    /// SmoothGrad's noisy copies (default 50) or LIME's perturbations (default 1000).
    #[arg(long)]
    pub samples: Option<usize>,
    /// SmoothGrad: noise σ as a fraction of the input's range.
    #[arg(long, default_value_t = 0.15)]
    pub sigma: f64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Saliency: absolute values.
    #[arg(long)]
    pub abs: bool,
    /// LIME: feature selection (forward, highest-weights, lasso-path, none, auto).
    #[arg(long, default_value = "auto")]
    pub selection: String,
    /// LIME: number of superpixels (or features) in the explanation.
    #[arg(long, default_value_t = 10)]
    pub num_features: usize,
    /// LIME on a model of feature rows: training rows [M, F] under key x, for the
    /// features' means and scales.
    #[arg(long)]
    pub background: Option<PathBuf>,
    #[arg(long)]
    pub force: bool,
}

#[derive(Subcommand, Debug)]
pub enum DatasetCommand {
    /// Write the synthetic Pokémon/Digimon set as DIR/pokemon/*.png and DIR/digimon/*.jpg
    /// (--debias: random backgrounds and JPEG for both).
    SynthPokedigi {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1000)]
        n: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Random backgrounds for both classes (no shortcut).
        #[arg(long)]
        debias: bool,
        #[arg(long)]
        force: bool,
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
