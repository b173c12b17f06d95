//! `compare` on committed Captum and pytorch-grad-cam outputs: it agrees where the
//! conventions agree, and names the convention each planted difference comes from.

use lamppost::explain::compare::{AGREE, Comparison, Subject, compare};
use lamppost::explain::local::integrated_gradients::PathRule;
use lamppost::explain::registry::MethodOptions;
use lamppost::io::{load_model, read_tensors};
use lamppost::nn::Model;
use lamppost::tensor::Tensor;
use std::collections::HashMap;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn file(path: &str) -> HashMap<String, Tensor<f64>> {
    read_tensors::<f64>(&dir().join(path))
        .unwrap()
        .0
        .into_iter()
        .collect()
}

fn run(stem: &str, method: &str, options: MethodOptions, theirs: &Tensor<f64>) -> Comparison {
    let model: Model<f64> = load_model(&dir().join(format!("models/{stem}.safetensors"))).unwrap();
    let x = file(&format!("captum/{stem}.safetensors"))["x"].clone();
    let c = compare(
        &Subject {
            model: &model,
            x: &x,
            targets: &[1, 3, 7],
            method,
            options: &options,
        },
        theirs,
    )
    .unwrap();
    eprintln!("{stem} {method}: {:?} {:?}", c.agreement, c.diagnoses);
    c
}

fn says(c: &Comparison, what: &str) {
    assert!(
        c.diagnoses.iter().any(|d| d.contains(what)),
        "expected a diagnosis containing '{what}', got {:?}",
        c.diagnoses
    );
}

#[test]
fn agrees_with_captum_where_the_conventions_agree() {
    let t = file("captum/mnist-cnn.safetensors");
    let c = run(
        "mnist-cnn",
        "grad-x-input",
        MethodOptions::default(),
        &t["input_x_gradient"],
    );
    assert!(c.agreement.max_rel < AGREE && c.diagnoses.is_empty());
    assert!((c.agreement.correlation - 1.0).abs() < 1e-12);
    // per-example sums are reported for both sides
    assert_eq!(c.sums.len(), 3);
    let ig = MethodOptions {
        rule: Some(PathRule::GaussLegendre),
        ..Default::default()
    };
    let c = run(
        "mnist-cnn",
        "integrated-gradients",
        ig,
        &t["ig_gausslegendre"],
    );
    assert!(c.agreement.max_rel < 1e-7, "{:?}", c.agreement);
}

#[test]
fn finds_captums_trapezoid_weights() {
    let t = file("captum/mnist-cnn.safetensors");
    let c = run(
        "mnist-cnn",
        "integrated-gradients",
        MethodOptions::default(),
        &t["ig_riemann_trapezoid"],
    );
    assert!(c.agreement.max_rel > AGREE);
    says(&c, "--rule captum-trapezoid");
}

#[test]
fn finds_grad_cam_without_its_relu() {
    let t = file("captum/mnist-gap.safetensors");
    let c = run(
        "mnist-gap",
        "grad-cam",
        MethodOptions::default(),
        &t["layer_grad_cam"],
    );
    says(&c, "--no-relu");
}

#[test]
fn finds_grad_cam_at_the_pre_relu_layer() {
    let t = file("compare/mnist-gap.safetensors");
    let c = run(
        "mnist-gap",
        "grad-cam",
        MethodOptions::default(),
        &t["grad_cam_conv3_pre_relu"],
    );
    says(&c, "--layer conv3");
}

#[test]
fn finds_the_cam_to_grad_cam_factor() {
    // Captum's LayerGradCam (ReLU off) at the GAP's maps is CAM / (h·w)
    let t = file("captum/mnist-gap.safetensors");
    let c = run(
        "mnist-gap",
        "cam",
        MethodOptions::default(),
        &t["layer_grad_cam"],
    );
    says(&c, "1/(h·w)");
}

#[test]
fn finds_absolute_values() {
    let t = file("captum/mnist-cnn.safetensors");
    let c = run(
        "mnist-cnn",
        "saliency",
        MethodOptions::default(),
        &t["saliency_abs"],
    );
    says(&c, "absolute value");
}

#[test]
fn finds_float32_arithmetic() {
    // Captum's occlusion run in float32 on the same weights
    let t = file("compare/mnist-gap.safetensors");
    let c = run(
        "mnist-gap",
        "occlusion",
        MethodOptions::default(),
        &t["occlusion_float32"],
    );
    assert!(c.agreement.max_rel > 1e-9);
    says(&c, "float32");
    // and a float64 result rounded to float32 afterwards
    let t = file("captum/mnist-cnn.safetensors");
    let rounded = t["input_x_gradient"].cast::<f32>().cast::<f64>();
    let c = run(
        "mnist-cnn",
        "grad-x-input",
        MethodOptions::default(),
        &rounded,
    );
    says(&c, "float32");
}

#[test]
fn finds_pytorch_grad_cams_scaled_upsampled_output() {
    let t = file("grad_cam/mnist-gap.safetensors");
    let c = run(
        "mnist-gap",
        "grad-cam",
        MethodOptions::default(),
        &t["grad-cam/output"],
    );
    says(&c, "min-max scaled");
}
