//! The `lamppost` command line. Every failure prints what was wrong and how to fix it
//! and exits non-zero; no existing output is replaced without `--force`.

mod commands;
pub mod compare;
pub mod data;
pub mod evaluate;
mod evaluate_retrain;
pub mod explain;
pub mod global;
pub mod inside;
pub mod reproduce;
mod reproduce_influence;
mod results;

use clap::{Args, Parser, Subcommand, ValueEnum};
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
        /// mnist-cnn, mnist-gap, mnist-gru, mnist-attn-gru, mnist-linear, mnist-vae, pokedigi-gap, or a seq: layer list
        arch: String,
        #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = seed)]
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
        /// Arithmetic: f32 (default) or f64 (logits written as f64).
        #[arg(long, default_value = "f32")]
        dtype: String,
        #[arg(long)]
        force: bool,
    },
    /// Train a model on its default data (MNIST, or the synthetic Pokémon/Digimon set) or on --data.
    Train {
        /// mnist-cnn, mnist-gap, mnist-gru, mnist-attn-gru, mnist-linear, mnist-vae, pokedigi-gap, or a seq: layer list
        arch: String,
        /// MNIST IDX folder, or a folder with pokemon/*.png and digimon/*.jpg
        #[arg(long)]
        data: Option<PathBuf>,
        #[arg(long, allow_negative_numbers = true, value_parser = count)]
        epochs: Option<usize>,
        #[arg(long, allow_negative_numbers = true, value_parser = count)]
        batch: Option<usize>,
        /// The learning rate (a positive number): Adam's peak on its cosine schedule, or
        /// SGD's constant rate with --sgd-momentum.
        #[arg(long, allow_negative_numbers = true, value_parser = positive)]
        lr: Option<f64>,
        /// Train with SGD at a constant rate and this momentum (0 ≤ m < 1) instead of Adam on
        /// a cosine schedule (Toneva et al.'s forgetting runs: --lr 0.01 --sgd-momentum 0.5).
        #[arg(long, allow_negative_numbers = true, value_parser = fraction)]
        sgd_momentum: Option<f64>,
        #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = seed)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
        /// Flip this fraction of the training labels (recorded in FILE.noise.json).
        #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_parser = fraction)]
        label_noise: f64,
        /// Size of the synthetic Pokémon/Digimon set when --data is not given.
        #[arg(long, default_value_t = 1000, allow_negative_numbers = true, value_parser = count)]
        synth_n: usize,
        /// Use the synthetic set with random backgrounds.
        #[arg(long)]
        debias: bool,
        /// Where generated data is kept.
        #[arg(long, default_value = ".lamppost-cache")]
        cache: PathBuf,
        /// Train on the first N training examples only.
        #[arg(long, allow_negative_numbers = true, value_parser = count)]
        limit: Option<usize>,
        /// Record every training example at every presentation (correct, p(gold),
        /// margin, before the update) in FILE.record.safetensors, for `lamppost data`.
        #[arg(long)]
        record: bool,
        /// With --record: keep K evenly spaced checkpoints (FILE.ckpt-EPOCH.safetensors) for TracIn.
        #[arg(long, allow_negative_numbers = true, value_parser = count)]
        checkpoints: Option<usize>,
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
    /// plain decision tree over seeds; write results.csv, budgets.csv (the claim tested at
    /// each APL budget), auc-vs-apl.svg, frontier.svg, the tree that mimics the model and,
    /// for the parabola, boundary.svg.
    Treereg {
        /// hmm (signal-and-noise HMM, GRU) or parabola (2-D toy, MLP)
        #[arg(long, default_value = "hmm")]
        task: String,
        /// ours (mean loss, decision-node APL) or authors (their code's summed loss, leaf-index
        /// APL and strength grid)
        #[arg(long, default_value = "ours")]
        protocol: String,
        /// What L1/L2 penalize: all (every parameter) or weights (matrices, not biases)
        #[arg(long, default_value = "all")]
        penalize: String,
        /// Strengths for every regularizer, comma-separated (default: the protocol's grid).
        #[arg(long, value_delimiter = ',', allow_negative_numbers = true, value_parser = non_negative)]
        lambdas: Option<Vec<f64>>,
        /// The first seed (data and initialization).
        #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = seed)]
        seed: u64,
        /// How many seeds, from --seed on.
        #[arg(long, default_value_t = 1, value_parser = count)]
        seeds: usize,
        #[arg(long)]
        out: PathBuf,
        /// Smaller data, fewer strengths and iterations.
        #[arg(long)]
        quick: bool,
        #[arg(long)]
        force: bool,
    },
    /// Explain predictions with one attribution method (the list: `lamppost explain --help`).
    #[command(after_help = explain_help())]
    Explain(Box<ExplainArgs>),
    /// Our attribution in float64 beside another implementation's, with agreement figures
    /// and a diagnosis of known convention differences.
    Compare(Box<CompareArgs>),
    /// How far each attribution method can be trusted: deletion, insertion, aopc, road,
    /// sanity, infidelity, sensitivity, localization, or benchmark (all of them); writes
    /// DIR/results.csv (mean and 95% interval per method and metric) and DIR/index.html
    /// with the curves and the sanity-check figure.
    Evaluate(Box<EvaluateArgs>),
    /// Inside the network: pca, tsne (2-D maps of each layer with class separation),
    /// probe (linear probes with an untrained network and a control task), reconstruct
    /// (decoders that redraw the input from each layer), attention (attention weights
    /// against leave-one-row-out and gradients) or top-examples (the test
    /// examples that excite each channel most); writes
    /// DIR/results.csv, DIR/results.safetensors and DIR/index.html with its figures.
    Inside(Box<InsideArgs>),
    /// Which training examples explain a model: forgetting, datamap, tidy (from the
    /// training record of `train --record`), influence, tracin, representer.
    Data(Box<DataArgs>),
    /// What a filter or a class looks like to the network: filter (mean activation of
    /// each channel of --layer), class (each class's logit) or generator (each class's
    /// logit over a VAE's latent space, --generator); writes DIR/results.safetensors
    /// (the pictures), DIR/results.csv and DIR/index.html.
    Visualize(Box<VisualizeArgs>),
    /// Adversarial images: fgsm or pgd at each --eps; accuracy against ε and the
    /// smallest ε that flips a few digits.
    Attack(Box<AttackArgs>),
    /// Distil a model into a decision tree on its pixels: fidelity, accuracy and size
    /// against depth.
    Distil(Box<DistilArgs>),
    /// Reproduce a training-data paper's experiment: forgetting-removal (Toneva et al.:
    /// remove the least-forgotten digits or as many at random, retrain) or influence-cnn
    /// (Koh & Liang: influence predicted against leave-one-out retraining for a small
    /// tanh CNN); writes DIR/results.csv and DIR/index.html with the figure.
    Reproduce(Box<ReproduceArgs>),
    /// Describe a model file: architecture, parameters, metadata.
    Info {
        #[arg(long)]
        model: PathBuf,
    },
}

/// The method options shared by `explain` and `compare` (unset = the method's default;
/// an option the method does not read is an error).
#[derive(Args, Debug, Clone)]
pub struct MethodArgs {
    /// Integrated gradients: number of points (default 50).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub steps: Option<usize>,
    /// Integrated gradients: left, right, middle, trapezoid, captum-trapezoid, gauss-legendre (default).
    #[arg(long)]
    pub rule: Option<String>,
    /// Integrated gradients: zero (default), constant:V, blur:R, noise[:SEED].
    #[arg(long)]
    pub baseline: Option<String>,
    /// CAM variants and guided Grad-CAM: layer name (default: last conv's ReLU).
    #[arg(long)]
    pub layer: Option<String>,
    /// CAM variants: keep negative values (no final ReLU; Captum's LayerGradCam default).
    #[arg(long)]
    pub no_relu: bool,
    /// Occlusion window: 4, 4,4 or C,4,4 (default 4).
    #[arg(long)]
    pub window: Option<String>,
    /// Occlusion strides: 2, 2,2 or C,2,2 (default 2).
    #[arg(long)]
    pub stride: Option<String>,
    /// Value of hidden inputs (occlusion, RISE: default 0; LIME: default each superpixel's mean colour).
    #[arg(long, allow_negative_numbers = true, value_parser = finite)]
    pub fill: Option<f64>,
    /// SmoothGrad's noisy copies (default 50), LIME's perturbations (default 1000) or RISE's masks (default 2000).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub samples: Option<usize>,
    /// SmoothGrad: noise σ as a fraction of the input's range (default 0.15).
    #[arg(long, allow_negative_numbers = true, value_parser = positive)]
    pub sigma: Option<f64>,
    /// SmoothGrad, LIME, RISE: random seed (default 0).
    #[arg(long, allow_negative_numbers = true, value_parser = seed)]
    pub seed: Option<u64>,
    /// Saliency: absolute values.
    #[arg(long)]
    pub abs: bool,
    /// LIME: feature selection (forward, highest-weights, lasso-path, none, auto).
    #[arg(long)]
    pub selection: Option<String>,
    /// LIME: how pictures are cut into features: slic[:N] (default for MNIST, N = 30),
    /// quickshift (default for colour pictures), grid[:CELL] or rows.
    #[arg(long)]
    pub segmenter: Option<String>,
    /// LIME: number of superpixels (or features) in the explanation (default 10).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub num_features: Option<usize>,
    /// RISE: grid cells per side (default 7).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub cells: Option<usize>,
    /// RISE: probability that a grid cell is kept (default 0.5).
    #[arg(long, allow_negative_numbers = true, value_parser = probability)]
    pub keep: Option<f64>,
    /// LIME on a model of feature rows: training rows [M, F] under key x, for the
    /// features' means and scales.
    #[arg(long)]
    pub background: Option<PathBuf>,
}

/// Where the inputs come from, shared by `explain` and `compare`.
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    #[arg(long)]
    pub model: PathBuf,
    /// A safetensors file with the batch under key x.
    #[arg(long, conflicts_with_all = ["image", "index"])]
    pub input: Option<PathBuf>,
    /// One PNG/JPEG image.
    #[arg(long, conflicts_with = "index")]
    pub image: Option<PathBuf>,
    /// With --image: invert the picture (a dark digit on white paper becomes MNIST's
    /// white digit on black).
    #[arg(long, requires = "image")]
    pub invert: bool,
    /// A test example of the data recorded in the model file (or of --data).
    #[arg(long, allow_negative_numbers = true, value_parser = index)]
    pub index: Option<usize>,
    /// With --index: the dataset to read instead of the one the model file records.
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[arg(long, default_value = ".lamppost-cache")]
    pub cache: PathBuf,
    /// Class to explain: one for every example (3) or one per example (3,1,7); default:
    /// the predicted class.
    #[arg(long)]
    pub target: Option<String>,
}

/// The options of `lamppost explain`.
#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The method (see `lamppost explain --help` for the list).
    pub method: String,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub options: MethodArgs,
    /// Arithmetic: f32 (default) or f64, the reference precision for checking another
    /// implementation (the model's f32 weights are exact in f64; outputs are written as f64).
    #[arg(long, default_value = "f32")]
    pub dtype: String,
    /// Pictures beside the attributions: `grid` (default) one labelled PNG, a row per
    /// example (input, map, overlay); `each` the grid plus a heatmap and an overlay PNG
    /// per example; `none` only the safetensors file.
    #[arg(long, value_enum, default_value_t = Pictures::Grid)]
    pub pictures: Pictures,
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long)]
    pub force: bool,
}

/// The options of `lamppost evaluate`.
#[derive(Args, Debug)]
pub struct EvaluateArgs {
    /// deletion, insertion, aopc, road, sanity, infidelity, sensitivity, localization,
    /// benchmark (all of these), or the two that retrain models: roar, data-randomization
    pub metric: String,
    #[arg(long)]
    pub model: PathBuf,
    /// Methods, comma-separated (default: every method that works on the model).
    #[arg(long, value_delimiter = ',')]
    pub methods: Option<Vec<String>>,
    /// Test examples evaluated, the first N (default 100; roar 2000, the retrained
    /// models' test set; sensitivity, sanity and data-randomization use at most 32).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub n: Option<usize>,
    /// Seed of random orders, noise, perturbations and re-initialized weights.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = seed)]
    pub seed: u64,
    /// Pixels per deletion/insertion step (default: ⌈H·W/28⌉, 28 steps a curve).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub step: Option<usize>,
    /// Deletion's and AOPC's substrate: zero (default; blur is added beside it),
    /// constant:V, blur[:SIGMA], mean or road[:SEED].
    #[arg(long)]
    pub substrate: Option<String>,
    /// Insertion's start: blur[:SIGMA] (default, σ = side/10), zero, constant:V or mean.
    #[arg(long)]
    pub insertion_substrate: Option<String>,
    /// AOPC: side of the square regions (default 4).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub region: Option<usize>,
    /// AOPC: regions removed, one a step (default 20).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub steps: Option<usize>,
    /// roar, data-randomization: training examples, the first N (default: roar 10000,
    /// data-randomization 1000).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub train_n: Option<usize>,
    /// roar, data-randomization: epochs of every training run (default: roar 2,
    /// data-randomization 80, enough to memorize 1000 permuted labels).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub epochs: Option<usize>,
    /// roar: shares of every picture's pixels removed, comma-separated (default
    /// 0.1,0.3,0.5,0.7,0.9).
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true, value_parser = number)]
    pub fractions: Option<Vec<f64>>,
    #[command(flatten)]
    pub io: DataOutArgs,
}

/// Where a model's data comes from and where a report folder goes (`evaluate`, `inside`).
#[derive(Args, Debug)]
pub struct DataOutArgs {
    /// The dataset to read instead of the one the model file records.
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[arg(long, default_value = ".lamppost-cache")]
    pub cache: PathBuf,
    /// The report folder (refused if it holds files, unless --force).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long)]
    pub force: bool,
}

/// The options of `lamppost reproduce`.
#[derive(Args, Debug)]
pub struct ReproduceArgs {
    /// forgetting-removal or influence-cnn
    pub claim: String,
    /// MNIST IDX folder (default: the one the crate ships).
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[arg(long, default_value = ".lamppost-cache")]
    pub cache: PathBuf,
    /// Training digits, the first N (default: forgetting-removal 20000, influence-cnn 5500).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub train_n: Option<usize>,
    /// Epochs of every training run (default: forgetting-removal 10, influence-cnn 30).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub epochs: Option<usize>,
    /// forgetting-removal: runs per setting, seeds 0 to K−1 (default 2).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub seeds: Option<usize>,
    /// forgetting-removal: shares of the training digits removed, comma-separated
    /// (default 0.1,0.3,0.5,0.7).
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true, value_parser = number)]
    pub fractions: Option<Vec<f64>>,
    /// influence-cnn: training digits left out one at a time, those of largest |predicted
    /// influence| (default 50).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub removals: Option<usize>,
    /// influence-cnn: damping δ added to the Hessian's diagonal (default 1; the paper's
    /// 0.01, and 0.1, leave H + δI indefinite at our θ̂).
    #[arg(long, allow_negative_numbers = true, value_parser = non_negative)]
    pub damping: Option<f64>,
    /// influence-cnn: the test digit (default: the one of the first 100 the model finds
    /// hardest, largest loss).
    #[arg(long, allow_negative_numbers = true, value_parser = index)]
    pub test_index: Option<usize>,
    /// Smaller data and shorter training (about a minute), for a first look.
    #[arg(long)]
    pub quick: bool,
    /// The report folder (refused if it holds files, unless --force).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long)]
    pub force: bool,
}

/// The options of `lamppost data`.
#[derive(Args, Debug)]
pub struct DataArgs {
    /// forgetting, datamap, tidy, influence, tracin or representer
    pub method: String,
    #[arg(long)]
    pub model: PathBuf,
    /// The training record (default: MODEL.record.safetensors beside the model).
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// influence, tracin, representer: test examples to explain, comma-separated, with
    /// A-B for every position from A to B (default 0; e.g. 0-999 or 3,10-12).
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true, value_parser = span)]
    pub test_index: Option<Vec<Span>>,
    /// Examples shown per list: proponents and opponents, most forgotten, … (default 5).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub top: Option<usize>,
    /// influence, tracin: last (default: the last linear layer, in closed form), all, or
    /// layer names, comma-separated (conv1,fc1).
    #[arg(long, value_delimiter = ',')]
    pub params: Option<Vec<String>>,
    /// influence: explicit, cg, minres (for a Hessian with negative eigenvalues) or lissa
    /// (default: explicit up to 3000 parameters, else cg).
    #[arg(long)]
    pub solver: Option<String>,
    /// influence: damping δ added to the Hessian's diagonal (default 0.01).
    #[arg(long, allow_negative_numbers = true, value_parser = non_negative)]
    pub damping: Option<f64>,
    /// influence with --solver cg or minres: stop at this relative residual ‖r‖/‖v‖
    /// (default 1e-6).
    #[arg(long, allow_negative_numbers = true, value_parser = positive)]
    pub cg_tol: Option<f64>,
    /// influence with --solver cg or minres: at most this many iterations (default 500).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub cg_iterations: Option<usize>,
    /// influence with --solver lissa: scale, above the Hessian's largest eigenvalue (default 10).
    #[arg(long, allow_negative_numbers = true, value_parser = positive)]
    pub lissa_scale: Option<f64>,
    /// influence with --solver lissa: recursion depth (default 1000).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub lissa_depth: Option<usize>,
    /// influence with --solver lissa: repeats averaged (default 1).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub lissa_repeats: Option<usize>,
    /// representer: the refit's L2 penalty λ (default 0.003).
    #[arg(long, allow_negative_numbers = true, value_parser = positive)]
    pub lambda: Option<f64>,
    /// influence, tracin, representer: score the first N training examples (default all
    /// the record covers).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub train_n: Option<usize>,
    /// datamap: fraction of the examples in each region's list (default 0.05).
    #[arg(long, allow_negative_numbers = true, value_parser = fraction)]
    pub fraction: Option<f64>,
    /// Seed of LiSSA's minibatches.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = seed)]
    pub seed: u64,
    #[command(flatten)]
    pub io: DataOutArgs,
}

/// The options of `lamppost inside`.
#[derive(Args, Debug)]
pub struct InsideArgs {
    /// pca, tsne, probe, reconstruct, attention or top-examples
    pub method: String,
    #[arg(long)]
    pub model: PathBuf,
    /// Layers, comma-separated (default: the pixels, each block's output and the logits;
    /// top-examples: the last convolution's ReLU). `input` is the pixels.
    #[arg(long, value_delimiter = ',')]
    pub layer: Option<Vec<String>>,
    /// Test examples (the first N; default: pca 2000, tsne 1000, probe 2000, top-examples all).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub n: Option<usize>,
    /// probe, reconstruct: training examples the probes or decoders learn from (the first N; default 5000).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub train_n: Option<usize>,
    /// Seed of t-SNE's random start (with --init random), the probes, the control task and the decoders.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = seed)]
    pub seed: u64,
    /// tsne: perplexity (default 30).
    #[arg(long, allow_negative_numbers = true, value_parser = positive)]
    pub perplexity: Option<f64>,
    /// tsne: iterations (default 1000, the first 250 with early exaggeration 12).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub iterations: Option<usize>,
    /// tsne: pca (default, scikit-learn's) or random.
    #[arg(long)]
    pub init: Option<String>,
    /// probe, reconstruct: epochs of every probe (default 20) or decoder (default 10).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub epochs: Option<usize>,
    /// probe: k-means clusters of the control task (default 100).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub control_clusters: Option<usize>,
    /// top-examples: examples kept per channel (default 8).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub top: Option<usize>,
    #[command(flatten)]
    pub io: DataOutArgs,
}

/// The options of `lamppost visualize`.
#[derive(Args, Debug)]
pub struct VisualizeArgs {
    /// filter, class or generator
    pub kind: String,
    #[arg(long)]
    pub model: PathBuf,
    /// generator: the VAE (`lamppost train mnist-vae`).
    #[arg(long)]
    pub generator: Option<PathBuf>,
    /// filter: the layer (default: the last convolution, before its ReLU).
    #[arg(long)]
    pub layer: Option<String>,
    /// filter: channels, comma-separated (default: all).
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true, value_parser = index)]
    pub channels: Option<Vec<usize>>,
    /// class, generator: classes, comma-separated (default: all).
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true, value_parser = index)]
    pub classes: Option<Vec<usize>>,
    /// Weight of Σ|x| (default 0).
    #[arg(long, allow_negative_numbers = true, value_parser = non_negative)]
    pub l1: Option<f64>,
    /// Weight of Σx² (default 0).
    #[arg(long, allow_negative_numbers = true, value_parser = non_negative)]
    pub l2: Option<f64>,
    /// Weight of the total variation (default 0).
    #[arg(long, allow_negative_numbers = true, value_parser = non_negative)]
    pub tv: Option<f64>,
    /// Roll the picture by up to ± this many pixels every step (default 0).
    #[arg(long, allow_negative_numbers = true, value_parser = index)]
    pub jitter: Option<usize>,
    /// Gaussian blur of this σ (pixels) every --blur-every steps.
    #[arg(long, allow_negative_numbers = true, value_parser = positive)]
    pub blur: Option<f64>,
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub blur_every: Option<usize>,
    /// generator: weight μ of the latent prior μ/2‖z‖² (default 1).
    #[arg(long, allow_negative_numbers = true, value_parser = non_negative)]
    pub mu: Option<f64>,
    /// Adam steps (default 300).
    #[arg(long, default_value_t = 300, allow_negative_numbers = true, value_parser = count)]
    pub steps: usize,
    /// Adam's learning rate on the pixels' logits or the latent vector (default 0.1).
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true, value_parser = positive)]
    pub lr: f64,
    /// class, generator: an independently trained model whose verdict on each picture is reported.
    #[arg(long)]
    pub judge: Option<PathBuf>,
    /// Seed of the start and the jitter.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = seed)]
    pub seed: u64,
    #[command(flatten)]
    pub io: DataOutArgs,
}

/// The options of `lamppost attack`.
#[derive(Args, Debug)]
pub struct AttackArgs {
    /// fgsm or pgd
    pub method: String,
    #[arg(long)]
    pub model: PathBuf,
    /// Radii in pixel units [0, 1], comma-separated (default 0.05,0.1,0.15,0.2,0.3).
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true, value_parser = non_negative)]
    pub eps: Option<Vec<f64>>,
    /// Test examples attacked (the first N; default 1000).
    #[arg(long, default_value_t = 1000, allow_negative_numbers = true, value_parser = count)]
    pub n: usize,
    /// pgd: steps (default 40) and step size (default 2.5·ε/steps).
    #[arg(long, allow_negative_numbers = true, value_parser = count)]
    pub steps: Option<usize>,
    #[arg(long, allow_negative_numbers = true, value_parser = positive)]
    pub alpha: Option<f64>,
    /// Digits shown with the smallest ε that flips them (default 8; 0 for none).
    #[arg(long, default_value_t = 8, allow_negative_numbers = true, value_parser = index)]
    pub show: usize,
    /// pgd: seed of the random start.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = seed)]
    pub seed: u64,
    #[command(flatten)]
    pub io: DataOutArgs,
}

/// The options of `lamppost distil`.
#[derive(Args, Debug)]
pub struct DistilArgs {
    #[arg(long)]
    pub model: PathBuf,
    /// Deepest tree (default 12); every depth from 1 is reported.
    #[arg(long, default_value_t = 12, allow_negative_numbers = true, value_parser = count)]
    pub max_depth: usize,
    /// Training examples the tree is fitted to (the first N; default 10000).
    #[arg(long, default_value_t = 10_000, allow_negative_numbers = true, value_parser = count)]
    pub train_n: usize,
    /// Held-out test examples for fidelity (the first N; default 10000).
    #[arg(long, default_value_t = 10_000, allow_negative_numbers = true, value_parser = count)]
    pub n: usize,
    #[command(flatten)]
    pub io: DataOutArgs,
}

/// Which pictures `lamppost explain` writes.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pictures {
    None,
    Grid,
    Each,
}

/// The options of `lamppost compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// The method whose attributions `--theirs` holds.
    #[arg(long)]
    pub method: String,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub options: MethodArgs,
    /// Their attributions: FILE.safetensors or FILE.safetensors:KEY (default key: attribution).
    #[arg(long)]
    pub theirs: String,
}

#[derive(Subcommand, Debug)]
pub enum DatasetCommand {
    /// Write the synthetic Pokémon/Digimon set as DIR/pokemon/*.png and DIR/digimon/*.jpg
    /// (--debias: random backgrounds and JPEG for both).
    SynthPokedigi {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1000, allow_negative_numbers = true, value_parser = count)]
        n: usize,
        #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = seed)]
        seed: u64,
        /// Random backgrounds for both classes (no shortcut).
        #[arg(long)]
        debias: bool,
        #[arg(long)]
        force: bool,
    },
}

// Parsers for numeric options: our own messages, also for negative numbers (which clap
// would otherwise take for flags and answer with a `-- -1` tip).

/// A count: a whole number ≥ 1.
fn count(s: &str) -> std::result::Result<usize, String> {
    match s.trim().parse::<i128>() {
        Ok(n) if n >= 1 && n <= usize::MAX as i128 => Ok(n as usize),
        Ok(n) => Err(format!(
            "{n} is not a count; give a whole number of at least 1"
        )),
        Err(_) => Err(format!(
            "'{s}' is not a whole number; give a count such as 10"
        )),
    }
}

/// A position: a whole number ≥ 0.
fn index(s: &str) -> std::result::Result<usize, String> {
    match s.trim().parse::<i128>() {
        Ok(n) if n >= 0 && n <= usize::MAX as i128 => Ok(n as usize),
        Ok(n) => Err(format!("{n} is negative; positions start at 0")),
        Err(_) => Err(format!(
            "'{s}' is not a whole number; give a position such as 0"
        )),
    }
}

/// Refuses an option given to a command kind that does not read it: `given` lists each
/// option, whether it was set, and the kinds that read it.
pub(crate) fn refuse_unread(
    kind: &str,
    given: &[(&str, bool, &[&str])],
) -> crate::error::Result<()> {
    for (flag, set, readers) in given {
        if *set && !readers.contains(&kind) {
            return Err(crate::error::Error::Invalid(format!(
                "{flag} is not read by '{kind}' (only by {}); leave it out",
                readers.join(", ")
            )));
        }
    }
    Ok(())
}

/// Positions `first..=last`, given as `A` or `A-B`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Span {
    pub first: usize,
    pub last: usize,
}

/// A position (`7`) or an inclusive range of positions (`0-999`).
fn span(s: &str) -> std::result::Result<Span, String> {
    match s.trim().split_once('-') {
        Some((a, b)) if !a.trim().is_empty() => {
            let (first, last) = (index(a)?, index(b)?);
            if first > last {
                return Err(format!(
                    "'{s}' runs backwards; write the smaller position first"
                ));
            }
            Ok(Span { first, last })
        }
        _ => index(s).map(|i| Span { first: i, last: i }),
    }
}

/// Every position of `spans`, in order, after checking that each is below `len` (so an
/// absurd range is refused before it is spelled out). `what` names the option.
pub fn positions(spans: &[Span], len: usize, what: &str) -> crate::error::Result<Vec<usize>> {
    if let Some(bad) = spans.iter().find(|s| s.last >= len) {
        return Err(crate::error::Error::Invalid(format!(
            "{what} {}: there are {len} examples (0 to {})",
            bad.last,
            len.saturating_sub(1)
        )));
    }
    Ok(spans.iter().flat_map(|s| s.first..=s.last).collect())
}

/// A random seed: a whole number from 0 to 2^64 − 1.
fn seed(s: &str) -> std::result::Result<u64, String> {
    match s.trim().parse::<i128>() {
        Ok(n) if n >= 0 && n <= u64::MAX as i128 => Ok(n as u64),
        _ => Err(format!(
            "'{s}' is not a seed; give a whole number from 0 to 2^64 − 1"
        )),
    }
}

fn number(s: &str) -> std::result::Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        Ok(x) => Err(format!("{x} is not a finite number")),
        Err(_) => Err(format!("'{s}' is not a number")),
    }
}

/// Any finite number.
fn finite(s: &str) -> std::result::Result<f64, String> {
    number(s)
}

/// A finite number > 0.
fn positive(s: &str) -> std::result::Result<f64, String> {
    match number(s)? {
        x if x > 0.0 => Ok(x),
        x => Err(format!("{x} is not positive; give a number above 0")),
    }
}

/// A finite number ≥ 0.
fn non_negative(s: &str) -> std::result::Result<f64, String> {
    match number(s)? {
        x if x >= 0.0 => Ok(x),
        x => Err(format!("{x} is negative; give a number of at least 0")),
    }
}

/// A probability in (0, 1].
fn probability(s: &str) -> std::result::Result<f64, String> {
    match number(s)? {
        x if x > 0.0 && x <= 1.0 => Ok(x),
        x => Err(format!("{x} is not a probability in (0, 1], such as 0.5")),
    }
}

/// A fraction in [0, 1).
fn fraction(s: &str) -> std::result::Result<f64, String> {
    match number(s)? {
        x if (0.0..1.0).contains(&x) => Ok(x),
        x => Err(format!("{x} is not a fraction in [0, 1), such as 0.2")),
    }
}

/// The method table for `explain --help`, from the registry.
fn explain_help() -> String {
    format!("Methods:\n{}", crate::explain::registry::help())
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
