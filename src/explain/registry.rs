//! The table of attribution methods. The command line's method list and help, the
//! builder, `lamppost compare` and the tour's galleries all come from [`METHODS`]; a new
//! method is its own file plus one row here.
//!
//! Each row names the options the method reads; an option given to a method that does not
//! read it is an error that says so (not silently ignored). Unset options take the
//! method's own defaults (`IntegratedGradients::default()`, `Lime::default()`, ...), and
//! each builder validates what it reads before any work starts.

use super::attribution::Method;
use super::cam::ablation_cam::AblationCamWeights;
use super::cam::eigen_cam::EigenCamWeights;
use super::cam::grad_cam::GradCamWeights;
use super::cam::grad_cam_pp::GradCamPlusPlusWeights;
use super::cam::guided_grad_cam::GuidedGradCam;
use super::cam::hires_cam::HiResCamWeights;
use super::cam::layer_cam::LayerCamWeights;
use super::cam::score_cam::ScoreCamWeights;
use super::cam::xgrad_cam::XGradCamWeights;
use super::cam::{BaseCam, CamWeights, cam::Cam};
use super::local::integrated_gradients::{Baseline, IntegratedGradients, PathRule};
use super::local::lime::{Lime, Segmenter, Selection};
use super::local::lime_tabular::{FeatureStats, LimeTabular};
use super::local::normlime::NormLime;
use super::local::occlusion::Occlusion;
use super::local::rise::Rise;
use super::local::smoothgrad::{SmoothGrad, SmoothGradKind};
use super::local::{deconvnet, grad_x_input, guided_backprop, saliency};
use crate::error::{Error, Result, invalid};
use crate::nn::Arch;
use crate::profile::{FeatureSplit, Profile};

/// The families of the table, in the order the help lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Gradients of the class score with respect to the input.
    Gradient,
    /// The class score of changed inputs.
    Perturbation,
    /// Class activation maps at a convolutional layer.
    Cam,
    /// A simple model fitted around the input.
    Surrogate,
}

/// The options a method can read, by their command-line names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opt {
    Steps,
    Rule,
    Baseline,
    Layer,
    Window,
    Stride,
    Fill,
    Samples,
    Sigma,
    Seed,
    Abs,
    Selection,
    NumFeatures,
    Background,
    NoRelu,
    Segmenter,
    Cells,
    Keep,
}

impl Opt {
    pub fn flag(self) -> &'static str {
        match self {
            Opt::Steps => "--steps",
            Opt::Rule => "--rule",
            Opt::Baseline => "--baseline",
            Opt::Layer => "--layer",
            Opt::Window => "--window",
            Opt::Stride => "--stride",
            Opt::Fill => "--fill",
            Opt::Samples => "--samples",
            Opt::Sigma => "--sigma",
            Opt::Seed => "--seed",
            Opt::Abs => "--abs",
            Opt::Selection => "--selection",
            Opt::Segmenter => "--segmenter",
            Opt::NumFeatures => "--num-features",
            Opt::Background => "--background",
            Opt::NoRelu => "--no-relu",
            Opt::Cells => "--cells",
            Opt::Keep => "--keep",
        }
    }
}

/// Method options as typed values; `None` means the method's own default.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MethodOptions {
    pub steps: Option<usize>,
    pub rule: Option<PathRule>,
    pub baseline: Option<Baseline>,
    pub layer: Option<String>,
    pub window: Option<[usize; 3]>,
    pub stride: Option<[usize; 3]>,
    /// Value of hidden inputs (occlusion: 0 if unset; LIME: each superpixel's mean colour if unset).
    pub fill: Option<f64>,
    pub samples: Option<usize>,
    pub sigma: Option<f64>,
    pub seed: Option<u64>,
    pub abs: bool,
    pub selection: Option<Selection>,
    /// LIME: how the picture is cut into features (default: the architecture's).
    pub segmenter: Option<Segmenter>,
    pub num_features: Option<usize>,
    /// Tabular LIME: the training rows' feature means and scales.
    pub background: Option<FeatureStats>,
    /// CAM variants: keep the map's negative values (no final ReLU).
    pub no_relu: bool,
    /// RISE: grid cells per side.
    pub cells: Option<usize>,
    /// RISE: probability that a cell is kept.
    pub keep: Option<f64>,
}

impl MethodOptions {
    /// The options that are set.
    pub fn given(&self) -> Vec<Opt> {
        let set = [
            (Opt::Steps, self.steps.is_some()),
            (Opt::Rule, self.rule.is_some()),
            (Opt::Baseline, self.baseline.is_some()),
            (Opt::Layer, self.layer.is_some()),
            (Opt::Window, self.window.is_some()),
            (Opt::Stride, self.stride.is_some()),
            (Opt::Fill, self.fill.is_some()),
            (Opt::Samples, self.samples.is_some()),
            (Opt::Sigma, self.sigma.is_some()),
            (Opt::Seed, self.seed.is_some()),
            (Opt::Abs, self.abs),
            (Opt::Selection, self.selection.is_some()),
            (Opt::Segmenter, self.segmenter.is_some()),
            (Opt::NumFeatures, self.num_features.is_some()),
            (Opt::Background, self.background.is_some()),
            (Opt::NoRelu, self.no_relu),
            (Opt::Cells, self.cells.is_some()),
            (Opt::Keep, self.keep.is_some()),
        ];
        set.iter().filter(|s| s.1).map(|s| s.0).collect()
    }
}

/// What a builder knows about the model: its architecture and profile.
pub struct Context<'a> {
    pub arch: &'a Arch,
    pub profile: Profile,
}

/// One row of the table.
pub struct MethodInfo {
    pub name: &'static str,
    pub family: Family,
    /// One line for the help.
    pub about: &'static str,
    /// The options the method reads.
    pub options: &'static [Opt],
    pub build: fn(&MethodOptions, &Context) -> Result<Box<dyn Method>>,
}

use Opt::*;

/// SmoothGrad of one kind, with the options given.
fn smoothgrad_kind(o: &MethodOptions, kind: SmoothGradKind) -> Result<Box<dyn Method>> {
    let d = SmoothGrad::default();
    Ok(Box::new(SmoothGrad {
        samples: positive(o.samples, d.samples, "--samples")?,
        sigma: non_negative(o.sigma, d.sigma, "--sigma")?,
        seed: o.seed.unwrap_or(d.seed),
        kind,
    }))
}

/// Every attribution method, in the order the help and the tour show them.
pub const METHODS: &[MethodInfo] = &[
    MethodInfo {
        name: "saliency",
        family: Family::Gradient,
        about: "∂y_c/∂x (signed, or |·| with --abs)",
        options: &[Abs],
        build: |o, _| Ok(Box::new(saliency::Saliency { abs: o.abs })),
    },
    MethodInfo {
        name: "grad-x-input",
        family: Family::Gradient,
        about: "x ⊙ ∂y_c/∂x",
        options: &[],
        build: |_, _| Ok(Box::new(grad_x_input::GradXInput)),
    },
    MethodInfo {
        name: "smoothgrad",
        family: Family::Gradient,
        about: "mean gradient over noisy copies (σ a fraction of the input's range)",
        options: &[Samples, Sigma, Seed],
        build: |o, _| smoothgrad_kind(o, SmoothGradKind::Mean),
    },
    MethodInfo {
        name: "smoothgrad-squared",
        family: Family::Gradient,
        about: "mean squared gradient over noisy copies (Hooker et al.'s SG-SQ)",
        options: &[Samples, Sigma, Seed],
        build: |o, _| smoothgrad_kind(o, SmoothGradKind::Squared),
    },
    MethodInfo {
        name: "vargrad",
        family: Family::Gradient,
        about: "variance of the gradient over noisy copies (Adebayo et al.'s VarGrad)",
        options: &[Samples, Sigma, Seed],
        build: |o, _| smoothgrad_kind(o, SmoothGradKind::VarGrad),
    },
    MethodInfo {
        name: "integrated-gradients",
        family: Family::Gradient,
        about: "path integral of gradients from a baseline, with completeness delta",
        options: &[Steps, Rule, Opt::Baseline],
        build: |o, _| {
            let d = IntegratedGradients::default();
            let steps = o.steps.unwrap_or(d.steps);
            let rule = o.rule.unwrap_or(d.rule);
            rule.nodes(steps)?; // validates the step count before any work
            Ok(Box::new(IntegratedGradients {
                steps,
                rule,
                baseline: o.baseline.clone().unwrap_or(d.baseline),
            }))
        },
    },
    MethodInfo {
        name: "guided-backprop",
        family: Family::Gradient,
        about: "gradient with negative signals stopped at every ReLU",
        options: &[],
        build: |_, _| Ok(Box::new(guided_backprop::GuidedBackprop)),
    },
    MethodInfo {
        name: "deconvnet",
        family: Family::Gradient,
        about: "ReLU applied to the backward signal (Zeiler & Fergus)",
        options: &[],
        build: |_, _| Ok(Box::new(deconvnet::Deconvnet)),
    },
    MethodInfo {
        name: "occlusion",
        family: Family::Perturbation,
        about: "score drop when a sliding window is filled",
        options: &[Window, Stride, Fill],
        build: |o, _| {
            let d = Occlusion::default();
            Ok(Box::new(Occlusion {
                window: o.window.unwrap_or(d.window),
                strides: o.stride.unwrap_or(d.strides),
                fill: finite(o.fill, d.fill, "--fill")?,
            }))
        },
    },
    MethodInfo {
        name: "rise",
        family: Family::Perturbation,
        about: "class probability of randomly masked copies, averaged over the masks",
        options: &[Samples, Cells, Keep, Fill, Seed],
        build: |o, _| {
            let d = Rise::default();
            let m = Rise {
                samples: positive(o.samples, d.samples, "--samples")?,
                cells: positive(o.cells, d.cells, "--cells")?,
                keep: o.keep.unwrap_or(d.keep),
                fill: finite(o.fill, d.fill, "--fill")?,
                seed: o.seed.unwrap_or(d.seed),
            };
            m.check()?;
            Ok(Box::new(m))
        },
    },
    MethodInfo {
        name: "cam",
        family: Family::Cam,
        about: "the linear head's weights on the maps the GAP averages",
        options: &[],
        build: |_, c| Ok(Box::new(Cam::for_arch(c.arch)?)),
    },
    cam_row::<GradCamWeights>("mean gradient per channel (Selvaraju et al.)"),
    MethodInfo {
        name: "guided-grad-cam",
        family: Family::Cam,
        about: "guided backprop ⊙ upsampled Grad-CAM",
        options: &[Layer],
        build: |o, c| {
            Ok(Box::new(GuidedGradCam {
                layer: layer(o, c)?,
            }))
        },
    },
    cam_row::<GradCamPlusPlusWeights>("positive gradients weighted for several instances"),
    cam_row::<XGradCamWeights>("gradients weighted by normalized activations"),
    cam_row::<HiResCamWeights>("element-wise gradient ⊙ activation"),
    cam_row::<LayerCamWeights>("element-wise positive gradient ⊙ activation"),
    cam_row::<EigenCamWeights>("first principal component of the maps (class-agnostic)"),
    cam_row::<AblationCamWeights>("relative score drop when each map is zeroed"),
    cam_row::<ScoreCamWeights>("class probability of the input masked by each map"),
    MethodInfo {
        name: "lime",
        family: Family::Surrogate,
        about: "weighted linear surrogate on superpixels (or feature columns, with --background)",
        options: &[
            Samples,
            Seed,
            Fill,
            Opt::Selection,
            NumFeatures,
            Background,
            Opt::Segmenter,
        ],
        build: build_lime,
    },
    MethodInfo {
        name: "normlime",
        family: Family::Surrogate,
        about: "LIME weights normalized over a batch, on fixed grid cells",
        options: &[Samples, Seed, Fill],
        build: |o, c| {
            let d = Lime::default();
            Ok(Box::new(NormLime {
                lime: Lime {
                    samples: positive(o.samples, d.samples, "--samples")?,
                    seed: o.seed.unwrap_or(d.seed),
                    fill: o.fill.map(|f| finite(Some(f), 0.0, "--fill")).transpose()?,
                    segmenter: segmenter(c.profile.normlime_features),
                    ..d
                },
            }))
        },
    },
];

/// A CAM variant's row: its name from [`CamWeights::NAME`], the `--layer` and `--no-relu` options.
const fn cam_row<W: CamWeights + Default + 'static>(about: &'static str) -> MethodInfo {
    MethodInfo {
        name: W::NAME,
        family: Family::Cam,
        about,
        options: &[Layer, NoRelu],
        build: |o, c| {
            Ok(Box::new(BaseCam {
                layer: layer(o, c)?,
                relu: !o.no_relu,
                weights: W::default(),
            }))
        },
    }
}

fn layer(o: &MethodOptions, c: &Context) -> Result<String> {
    match &o.layer {
        Some(l) => Ok(l.clone()),
        None => c.profile.cam_layer(c.arch),
    }
}

fn segmenter(f: FeatureSplit) -> Segmenter {
    match f {
        FeatureSplit::Slic { segments } => Segmenter::Slic {
            n_segments: segments,
        },
        FeatureSplit::Rows => Segmenter::Rows,
        FeatureSplit::Grid { cell } => Segmenter::Grid { cell },
        FeatureSplit::Superpixels | FeatureSplit::Columns => Segmenter::Quickshift,
    }
}

fn build_lime(o: &MethodOptions, c: &Context) -> Result<Box<dyn Method>> {
    let selection = o.selection.unwrap_or(Selection::Auto);
    if let Some(0) = o.num_features {
        return invalid("--num-features must be at least 1");
    }
    if c.profile.takes_rows() {
        let stats = o.background.clone().ok_or_else(|| {
            Error::Invalid(
                "lime on a model of feature rows needs the training rows' means and scales: \
                 pass --background TRAIN.safetensors (training rows [M, F] under key x)"
                    .into(),
            )
        })?;
        let d = LimeTabular::new(stats);
        let num_features = o.num_features.unwrap_or(d.num_features);
        return Ok(Box::new(LimeTabular {
            samples: lime_samples(o, d.samples, num_features)?,
            seed: o.seed.unwrap_or(d.seed),
            selection,
            num_features: o.num_features.unwrap_or(d.num_features),
            ..d
        }));
    }
    if o.background.is_some() {
        return invalid(
            "--background is for models of feature rows; this model reads pictures (LIME samples superpixels)",
        );
    }
    let d = Lime::default();
    let num_features = o.num_features.unwrap_or(d.num_features);
    Ok(Box::new(Lime {
        samples: lime_samples(o, d.samples, num_features)?,
        seed: o.seed.unwrap_or(d.seed),
        fill: o.fill.map(|f| finite(Some(f), 0.0, "--fill")).transpose()?,
        segmenter: o
            .segmenter
            .unwrap_or_else(|| segmenter(c.profile.lime_features)),
        to_unit: c.profile.to_unit(),
        selection,
        num_features: o.num_features.unwrap_or(d.num_features),
        ..d
    }))
}

fn positive(v: Option<usize>, default: usize, flag: &str) -> Result<usize> {
    match v.unwrap_or(default) {
        0 => invalid(format!("{flag} must be at least 1")),
        n => Ok(n),
    }
}

fn non_negative(v: Option<f64>, default: f64, flag: &str) -> Result<f64> {
    match v.unwrap_or(default) {
        x if x >= 0.0 && x.is_finite() => Ok(x),
        x => invalid(format!("{flag} must be a finite number ≥ 0, got {x}")),
    }
}

fn finite(v: Option<f64>, default: f64, flag: &str) -> Result<f64> {
    match v.unwrap_or(default) {
        x if x.is_finite() => Ok(x),
        x => invalid(format!("{flag} must be a finite number, got {x}")),
    }
}

/// The most path points `--steps` may ask for.
pub const MAX_STEPS: usize = 10_000;
/// The most perturbations or noisy copies `--samples` may ask for.
pub const MAX_SAMPLES: usize = 200_000;

/// LIME's smallest sample count: the surrogate fits `num_features` weights and an
/// intercept, so it needs more samples than that (and at least 10).
fn lime_samples(o: &MethodOptions, default: usize, num_features: usize) -> Result<usize> {
    let n = positive(o.samples, default, "--samples")?;
    let min = (num_features + 1).max(10);
    if n < min {
        return invalid(format!(
            "--samples {n} is too few for LIME: its surrogate fits {num_features} weights and an intercept; give at least {min} (lime's default is 1000)"
        ));
    }
    Ok(n)
}

/// Every method's name, in table order.
pub fn names() -> Vec<&'static str> {
    METHODS.iter().map(|m| m.name).collect()
}

/// The methods that work on `arch` with their default options, in table order (CAM
/// variants need a convolution, some methods need pictures).
pub fn usable(arch: &Arch) -> Vec<&'static str> {
    METHODS
        .iter()
        .filter(|m| build(m.name, &MethodOptions::default(), arch).is_ok())
        .map(|m| m.name)
        .collect()
}

/// The row of a method, or an error listing the names there are.
pub fn find(name: &str) -> Result<&'static MethodInfo> {
    METHODS.iter().find(|m| m.name == name).ok_or_else(|| {
        Error::Invalid(format!(
            "unknown method '{name}': use one of {}",
            names().join(", ")
        ))
    })
}

/// Builds a method for a model's architecture; an option the method does not read is an
/// error naming it.
pub fn build(name: &str, o: &MethodOptions, arch: &Arch) -> Result<Box<dyn Method>> {
    let info = find(name)?;
    let unused: Vec<&str> = o
        .given()
        .into_iter()
        .filter(|g| !info.options.contains(g))
        .map(|g| g.flag())
        .collect();
    if !unused.is_empty() {
        let reads: Vec<&str> = info.options.iter().map(|g| g.flag()).collect();
        return invalid(format!(
            "{name} does not use {}; its options are: {}",
            unused.join(", "),
            if reads.is_empty() {
                "none".to_string()
            } else {
                reads.join(", ")
            }
        ));
    }
    if let Some(n) = o.steps.filter(|&n| n > MAX_STEPS) {
        return invalid(format!(
            "--steps {n}: each step is one gradient pass per example; at most {MAX_STEPS} \
             (Sundararajan et al. use 20 to 300; the completeness delta tells when enough)"
        ));
    }
    if let Some(n) = o.samples.filter(|&n| n > MAX_SAMPLES) {
        return invalid(format!(
            "--samples {n}: each sample is one forward (or gradient) pass; at most {MAX_SAMPLES} \
             (the defaults are 50 for SmoothGrad and 1000 for LIME)"
        ));
    }
    let ctx = Context {
        arch,
        profile: Profile::of(arch),
    };
    (info.build)(o, &ctx)
}

/// The help text: one line per method, by family.
pub fn help() -> String {
    METHODS
        .iter()
        .map(|m| {
            let opts: Vec<&str> = m.options.iter().map(|o| o.flag()).collect();
            format!(
                "  {:<21} {:?}: {}{}",
                m.name,
                m.family,
                m.about,
                if opts.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", opts.join(" "))
                }
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_builds_on_a_cnn_and_names_are_unique() {
        let arch = Arch::from_name("mnist-gap").unwrap();
        let mut seen = std::collections::HashSet::new();
        for m in METHODS {
            assert!(seen.insert(m.name), "duplicate {}", m.name);
            build(m.name, &MethodOptions::default(), &arch)
                .unwrap_or_else(|e| panic!("{}: {e}", m.name));
        }
    }

    #[test]
    fn unused_options_are_named() {
        let arch = Arch::from_name("mnist-cnn").unwrap();
        let o = MethodOptions {
            steps: Some(10),
            ..Default::default()
        };
        let Err(e) = build("saliency", &o, &arch) else {
            panic!("saliency accepted --steps")
        };
        assert!(e.to_string().contains("does not use --steps"), "{e}");
        let Err(e) = build(
            "smoothgrad",
            &MethodOptions {
                samples: Some(0),
                ..Default::default()
            },
            &arch,
        ) else {
            panic!("--samples 0 accepted")
        };
        assert!(
            e.to_string().contains("--samples must be at least 1"),
            "{e}"
        );
    }
}
