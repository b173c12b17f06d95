//! Agreement with Captum on fixed weights and inputs (numbers generated once by
//! tests/golden/make_captum_golden.py), and the papers' claims that pin each method.

use lamppost::explain::attribution::AttributionMethod;
use lamppost::explain::cam::cam::Cam;
use lamppost::explain::cam::grad_cam::{GradCam, GradCamWeights};
use lamppost::explain::cam::guided_grad_cam::GuidedGradCam;
use lamppost::explain::local::deconvnet::Deconvnet;
use lamppost::explain::local::grad_x_input::GradXInput;
use lamppost::explain::local::guided_backprop::GuidedBackprop;
use lamppost::explain::local::integrated_gradients::{Baseline, IntegratedGradients, PathRule};
use lamppost::explain::local::occlusion::Occlusion;
use lamppost::explain::local::saliency::Saliency;
use lamppost::io::{load_model, read_tensors};
use lamppost::nn::Model;
use lamppost::tensor::Tensor;
use std::collections::HashMap;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The model in f64 (as Captum ran it) and Captum's float64 attributions.
#[allow(clippy::type_complexity)]
fn golden(
    stem: &str,
) -> (
    Model<f64>,
    HashMap<String, Tensor<f64>>,
    HashMap<String, String>,
) {
    let model = load_model::<f64>(&dir().join(format!("models/{stem}.safetensors"))).unwrap();
    let (t, meta) = read_tensors::<f64>(&dir().join(format!("captum/{stem}.safetensors"))).unwrap();
    (model, t.into_iter().collect(), meta)
}

/// max |ours − captum| / max |captum|
fn rel(ours: &Tensor<f64>, theirs: &Tensor<f64>) -> f64 {
    assert_eq!(
        ours.len(),
        theirs.len(),
        "sizes differ: {:?} vs {:?}",
        ours.shape(),
        theirs.shape()
    );
    let d = ours
        .data()
        .iter()
        .zip(theirs.data())
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    d / theirs.max_abs().max(1e-30)
}

fn check(stem: &str, key: &str, method: &dyn AttributionMethod<f64>) {
    let (model, g, _) = golden(stem);
    let targets: Vec<usize> = g["target"].data().iter().map(|&v| v as usize).collect();
    let a = method.attribute(&model, &g["x"], &targets).unwrap();
    let e = rel(&a.map, &g[key]);
    eprintln!("{stem} {key}: max difference / max magnitude = {e:.1e}");
    assert!(e <= 1e-5, "{stem} {key}: relative difference {e:e} > 1e-5");
    if let Some(d) = g.get(&format!("{key}_delta")) {
        let e = rel(a.extra("delta").unwrap(), d);
        assert!(e <= 1e-5, "{stem} {key} delta: {e:e}");
    }
}

#[test]
fn gradient_methods_match_captum() {
    for stem in ["mnist-cnn", "mnist-gap"] {
        check(stem, "saliency_abs", &Saliency { abs: true });
        check(stem, "saliency_signed", &Saliency { abs: false });
        check(stem, "input_x_gradient", &GradXInput);
        check(stem, "guided_backprop", &GuidedBackprop);
        check(stem, "deconvolution", &Deconvnet);
    }
}

#[test]
fn integrated_gradients_match_captum() {
    for stem in ["mnist-cnn", "mnist-gap"] {
        let ig = |rule| IntegratedGradients {
            steps: 50,
            rule,
            baseline: Baseline::Zero,
        };
        check(stem, "ig_riemann_trapezoid", &ig(PathRule::CaptumTrapezoid));
        check(stem, "ig_gausslegendre", &ig(PathRule::GaussLegendre));
    }
}

#[test]
fn occlusion_matches_captum() {
    for stem in ["mnist-cnn", "mnist-gap"] {
        check(
            stem,
            "occlusion",
            &Occlusion {
                window: [1, 4, 4],
                strides: [1, 2, 2],
                fill: 0.0,
            },
        );
    }
}

#[test]
fn grad_cam_and_guided_grad_cam_match_captum() {
    for stem in ["mnist-cnn", "mnist-gap"] {
        let (_, _, meta) = golden(stem);
        let layer = meta["layer"].clone();
        check(
            stem,
            "layer_grad_cam",
            &GradCam {
                layer: layer.clone(),
                relu: false,
                weights: GradCamWeights,
            },
        );
        check(stem, "guided_grad_cam", &GuidedGradCam { layer });
    }
}

/// On a GAP network, Grad-CAM at the maps the GAP averages (ReLU off, no upsampling)
/// is CAM / (h·w); and mean(CAM) + bias is the logit.
#[test]
fn grad_cam_equals_cam_over_hw_on_mnist_gap() {
    let model = load_model::<f64>(&dir().join("models/mnist-gap.safetensors")).unwrap();
    let x = golden("mnist-gap").1["x"].clone();
    let targets = [1, 3, 7];
    let cam = Cam::for_arch(&model.arch)
        .unwrap()
        .attribute(&model, &x, &targets)
        .unwrap()
        .map;
    let gc = GradCam {
        layer: "conv3.relu".into(),
        relu: false,
        weights: GradCamWeights,
    }
    .attribute(&model, &x, &targets)
    .unwrap()
    .map;
    assert_eq!(cam.shape(), &[3, 7, 7]);
    let scaled = cam.map(|v| v / 49.0);
    let d = gc
        .data()
        .iter()
        .zip(scaled.data())
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    assert!(d <= 1e-6 * scaled.max_abs(), "Grad-CAM vs CAM/49: {d:e}");
    let logits = model.predict(&x).unwrap();
    let bias = &model.params().last().unwrap().1;
    #[allow(clippy::needless_range_loop)]
    for i in 0..3 {
        let mean: f64 = cam.data()[i * 49..(i + 1) * 49].iter().sum::<f64>() / 49.0;
        assert!(
            (mean + bias.data()[targets[i]] - logits.data()[i * 10 + targets[i]]).abs() < 1e-10
        );
    }
}

/// Completeness on mnist-cnn with Gauss–Legendre: |delta| ≤ 1e-2·|F(x) − F(x′)| at 300
/// steps and ≤ 1e-3 at 2,000.
#[test]
fn integrated_gradients_completeness_on_mnist_cnn() {
    let model = load_model::<f64>(&dir().join("models/mnist-cnn.safetensors")).unwrap();
    let x = golden("mnist-cnn").1["x"].clone();
    let targets = [1, 3, 7];
    let logits = model.predict(&x).unwrap();
    let zero = model.predict(&Tensor::zeros(x.shape())).unwrap();
    for (steps, tol) in [(300, 1e-2), (2000, 1e-3)] {
        let ig = IntegratedGradients {
            steps,
            rule: PathRule::GaussLegendre,
            baseline: Baseline::Zero,
        };
        let a = ig.attribute(&model, &x, &targets).unwrap();
        #[allow(clippy::needless_range_loop)]
        for i in 0..3 {
            let change =
                (logits.data()[i * 10 + targets[i]] - zero.data()[i * 10 + targets[i]]).abs();
            let delta = a.extra("delta").unwrap().data()[i].abs();
            assert!(
                delta <= tol * change,
                "{steps} steps, example {i}: |delta| {delta:e} > {tol}·{change:e}"
            );
        }
    }
}
