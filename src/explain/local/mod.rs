//! Local explanations: "why this prediction for this input?"
//!
//! Every method implements [`AttributionMethod`]: a batch of inputs and one target class
//! per example in, an attribution tensor out (plus method-specific extras such as the
//! Integrated Gradients completeness delta). Pixel methods return the input's layout;
//! CAM-style methods return raw `[N, h, w]` maps at the layer's resolution.

pub mod cam;
pub mod deconvnet;
pub mod grad_cam;
pub mod grad_x_input;
pub mod guided_backprop;
pub mod guided_grad_cam;
pub mod integrated_gradients;
pub mod lime;
pub mod lime_tabular;
pub mod normlime;
pub mod occlusion;
pub mod saliency;
pub mod score_cam;
pub mod segmentation;
pub mod smoothgrad;

use crate::autodiff::{BackwardRule, Tape};
use crate::error::{Error, Result, invalid, shape_err};
use crate::float::Float;
use crate::nn::Model;
use crate::tensor::Tensor;

/// An attribution and named extras (`delta`, `probability_map`, ...).
#[derive(Clone, Debug, PartialEq)]
pub struct Attribution<T> {
    pub map: Tensor<T>,
    pub extras: Vec<(String, Tensor<T>)>,
}

impl<T: Float> Attribution<T> {
    pub fn plain(map: Tensor<T>) -> Self {
        Attribution {
            map,
            extras: Vec::new(),
        }
    }
    pub fn extra(&self, name: &str) -> Option<&Tensor<T>> {
        self.extras.iter().find(|e| e.0 == name).map(|e| &e.1)
    }
}

/// One explanation method.
pub trait AttributionMethod<T: Float> {
    fn name(&self) -> &'static str;
    fn attribute(
        &self,
        model: &Model<T>,
        x: &Tensor<T>,
        targets: &[usize],
    ) -> Result<Attribution<T>>;
}

/// Checks a batch and its targets against the model.
pub(crate) fn check_batch<T: Float>(
    model: &Model<T>,
    x: &Tensor<T>,
    targets: &[usize],
) -> Result<()> {
    model.check_input(x.shape())?;
    x.check_finite("input")?;
    if targets.len() != x.shape()[0] {
        return shape_err(format!(
            "{} targets for a batch of {}",
            targets.len(),
            x.shape()[0]
        ));
    }
    let k = model.arch.num_classes();
    if let Some(&t) = targets.iter().find(|&&t| t >= k) {
        return invalid(format!(
            "target class {t} out of range: the model has {k} classes"
        ));
    }
    Ok(())
}

/// Logits and `∂ logit[target] / ∂ x` for each example, with ReLU following `rule`.
pub(crate) fn input_gradient<T: Float>(
    model: &Model<T>,
    x: &Tensor<T>,
    targets: &[usize],
    rule: BackwardRule,
) -> Result<(Tensor<T>, Tensor<T>)> {
    let mut tape = Tape::new();
    let xv = tape.leaf(x.clone());
    let params = model.bind(&mut tape, false);
    let f = model.forward(&mut tape, xv, &params)?;
    let k = tape.shape(f.logits)[1];
    let seed = Tensor::one_hot(targets, k)?;
    let g = tape.backward_with(f.logits, seed, rule)?;
    Ok((tape.value(f.logits).clone(), g.get(xv)))
}

/// The named layer's output and the gradient of `logit[target]` there.
pub(crate) fn layer_gradient<T: Float>(
    model: &Model<T>,
    x: &Tensor<T>,
    targets: &[usize],
    layer: &str,
) -> Result<(Tensor<T>, Tensor<T>)> {
    let mut tape = Tape::new();
    let xv = tape.leaf(x.clone());
    let params = model.bind(&mut tape, false);
    let f = model.forward(&mut tape, xv, &params)?;
    let a = f.activation(layer)?;
    let k = tape.shape(f.logits)[1];
    let g = tape.backward_with(
        f.logits,
        Tensor::one_hot(targets, k)?,
        BackwardRule::Standard,
    )?;
    Ok((tape.value(a).clone(), g.get(a)))
}

/// `softmax(row)[c]`, computed stably.
pub(crate) fn softmax_prob<T: Float>(row: &[T], c: usize) -> T {
    let m = row.iter().fold(row[0], |a, &b| a.max_of(b));
    let s: T = row.iter().map(|&v| (v - m).exp()).sum();
    (row[c] - m).exp() / s
}

/// `logit[target]` of each example, without gradients.
pub(crate) fn target_scores<T: Float>(
    model: &Model<T>,
    x: &Tensor<T>,
    targets: &[usize],
) -> Result<Vec<T>> {
    let logits = model.predict(x)?;
    let k = logits.shape()[1];
    Ok(targets
        .iter()
        .enumerate()
        .map(|(i, &t)| logits.data()[i * k + t])
        .collect())
}

/// Options shared by the command line and the tour; each method reads the ones it has.
#[derive(Clone, Debug, PartialEq)]
pub struct MethodOptions {
    pub steps: usize,
    pub rule: String,
    pub baseline: integrated_gradients::Baseline,
    pub layer: Option<String>,
    pub window: [usize; 3],
    pub stride: [usize; 3],
    /// Value of hidden inputs (occlusion: 0 if unset; LIME: each superpixel's mean colour if unset).
    pub fill: Option<f64>,
    /// SmoothGrad's noisy copies (default 50) or LIME's perturbations (default 1000).
    pub samples: Option<usize>,
    pub sigma: f64,
    pub seed: u64,
    pub abs: bool,
    /// LIME's feature selection: forward, highest-weights, lasso-path, auto.
    pub selection: String,
    /// LIME's number of features.
    pub num_features: usize,
    /// Tabular LIME: the training rows' feature means and scales.
    pub background: Option<lime_tabular::FeatureStats>,
}

impl Default for MethodOptions {
    fn default() -> Self {
        MethodOptions {
            steps: 50,
            rule: "gauss-legendre".into(),
            baseline: integrated_gradients::Baseline::Zero,
            layer: None,
            window: [1, 4, 4],
            stride: [1, 2, 2],
            fill: None,
            samples: None,
            sigma: 0.15,
            seed: 0,
            abs: false,
            selection: "auto".into(),
            num_features: 10,
            background: None,
        }
    }
}

/// Whether the model reads rows of features `[N, F]` (its first layer is linear).
pub fn takes_rows<T: Float>(model: &Model<T>) -> bool {
    match &model.arch.input {
        Some(shape) => shape.len() == 1,
        None => matches!(
            model.arch.layers.first(),
            Some(crate::nn::LayerSpec::Linear { .. })
        ),
    }
}

/// The method names, in the order the tour shows them.
pub const METHODS: [&str; 13] = [
    "saliency",
    "grad-x-input",
    "smoothgrad",
    "integrated-gradients",
    "guided-backprop",
    "deconvnet",
    "occlusion",
    "cam",
    "grad-cam",
    "guided-grad-cam",
    "score-cam",
    "lime",
    "normlime",
];

/// The output of the last convolution's ReLU, where Grad-CAM and Score-CAM look by default.
pub fn default_layer<T: Float>(model: &Model<T>) -> Result<String> {
    use crate::nn::LayerSpec;
    let layers = &model.arch.layers;
    (1..layers.len())
        .rev()
        .find(|&i| {
            matches!(layers[i], LayerSpec::Relu { .. })
                && matches!(layers[i - 1], LayerSpec::Conv2d { .. })
        })
        .map(|i| layers[i].name().to_string())
        .ok_or_else(|| {
            crate::error::Error::Invalid(format!(
                "'{}' has no convolutional layer for CAM methods",
                model.arch.name
            ))
        })
}

/// A method by name.
pub fn build_method<T: Float>(
    name: &str,
    o: &MethodOptions,
    model: &Model<T>,
) -> Result<Box<dyn AttributionMethod<T>>> {
    let layer = || o.layer.clone().map_or_else(|| default_layer(model), Ok);
    Ok(match name {
        "saliency" => Box::new(saliency::Saliency { abs: o.abs }),
        "grad-x-input" => Box::new(grad_x_input::GradXInput),
        "smoothgrad" => Box::new(smoothgrad::SmoothGrad {
            samples: o.samples.unwrap_or(50),
            sigma: o.sigma,
            seed: o.seed,
            kind: smoothgrad::SmoothGradKind::Mean,
        }),
        "integrated-gradients" => Box::new(integrated_gradients::IntegratedGradients {
            steps: o.steps,
            rule: integrated_gradients::PathRule::parse(&o.rule)?,
            baseline: o.baseline.clone(),
        }),
        "guided-backprop" => Box::new(guided_backprop::GuidedBackprop),
        "deconvnet" => Box::new(deconvnet::Deconvnet),
        "occlusion" => Box::new(occlusion::Occlusion {
            window: o.window,
            strides: o.stride,
            fill: o.fill.unwrap_or(0.0),
        }),
        "cam" => Box::new(cam::Cam),
        "grad-cam" => Box::new(grad_cam::GradCam {
            layer: layer()?,
            relu: true,
        }),
        "guided-grad-cam" => Box::new(guided_grad_cam::GuidedGradCam { layer: layer()? }),
        "score-cam" => Box::new(score_cam::ScoreCam { layer: layer()? }),
        "lime" if takes_rows(model) => {
            let stats = o.background.clone().ok_or_else(|| {
                Error::Invalid(
                    "lime on a model of feature rows needs the training rows' means and scales: \
                     pass --background TRAIN.safetensors (training rows [M, F] under key x)"
                        .into(),
                )
            })?;
            Box::new(lime_tabular::LimeTabular {
                samples: o.samples.unwrap_or(5000),
                seed: o.seed,
                selection: lime::Selection::parse(&o.selection)?,
                num_features: o.num_features,
                ..lime_tabular::LimeTabular::new(stats)
            })
        }
        "lime" => {
            // a sequence model's features are its time steps (the image rows)
            let segmenter = if model.arch.name == "mnist-gru" {
                lime::Segmenter::Rows
            } else {
                lime::Segmenter::Quickshift
            };
            let to_unit = crate::data::to_unit_fn(&model.arch);
            let samples = o.samples.unwrap_or(1000);
            Box::new(lime::Lime {
                samples,
                seed: o.seed,
                fill: o.fill,
                segmenter,
                to_unit,
                selection: lime::Selection::parse(&o.selection)?,
                num_features: o.num_features,
                ..lime::Lime::default()
            })
        }
        "normlime" => {
            let cell = if model.arch.input.as_deref() == Some(&[3, 64, 64]) {
                8
            } else {
                4
            };
            let segmenter = if model.arch.name == "mnist-gru" {
                lime::Segmenter::Rows
            } else {
                lime::Segmenter::Grid { cell }
            };
            let samples = o.samples.unwrap_or(1000);
            Box::new(normlime::NormLime {
                lime: lime::Lime {
                    samples,
                    seed: o.seed,
                    fill: o.fill,
                    segmenter,
                    ..lime::Lime::default()
                },
            })
        }
        _ => {
            return invalid(format!(
                "unknown method '{name}': use one of {}",
                METHODS.join(", ")
            ));
        }
    })
}
