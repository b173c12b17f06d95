//! The CAM variants against pytorch-grad-cam 1.5.7 on the same weights and inputs, in
//! float64 (golden files from `tests/golden/make_grad_cam_golden.py`): the raw map before
//! the ReLU (`get_cam_image`) and after it, relative error ≤ 1e-5 of the largest value.
//! Eigen-CAM is compared up to the eigenvector's sign (LAPACK's is arbitrary; see
//! `explain::cam::eigen_cam`).

use lamppost::explain::attribution::AttributionMethod;
use lamppost::explain::cam::ablation_cam::AblationCamWeights;
use lamppost::explain::cam::eigen_cam::EigenCamWeights;
use lamppost::explain::cam::grad_cam::GradCamWeights;
use lamppost::explain::cam::grad_cam_pp::GradCamPlusPlusWeights;
use lamppost::explain::cam::hires_cam::HiResCamWeights;
use lamppost::explain::cam::layer_cam::LayerCamWeights;
use lamppost::explain::cam::xgrad_cam::XGradCamWeights;
use lamppost::explain::cam::{BaseCam, CamWeights};
use lamppost::io::{load_model, read_tensors};
use lamppost::nn::Model;
use lamppost::tensor::Tensor;
use std::collections::HashMap;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

struct Golden {
    model: Model<f64>,
    x: Tensor<f64>,
    layer: String,
    t: HashMap<String, Tensor<f64>>,
}

fn golden(stem: &str) -> Golden {
    let model = load_model::<f64>(&dir().join(format!("models/{stem}.safetensors"))).unwrap();
    let (t, meta) =
        read_tensors::<f64>(&dir().join(format!("grad_cam/{stem}.safetensors"))).unwrap();
    let t: HashMap<String, Tensor<f64>> = t.into_iter().collect();
    Golden {
        model,
        x: t["x"].clone(),
        layer: meta["layer"].clone(),
        t,
    }
}

/// max |ours − theirs| / max |theirs|, optionally allowing one sign per example.
fn rel(ours: &Tensor<f64>, theirs: &Tensor<f64>, up_to_sign: bool) -> f64 {
    assert_eq!(ours.shape(), theirs.shape());
    let n = ours.shape()[0];
    let per = ours.len() / n;
    let scale = theirs.max_abs().max(1e-300);
    (0..n)
        .map(|i| {
            let (a, b) = (
                &ours.data()[i * per..(i + 1) * per],
                &theirs.data()[i * per..(i + 1) * per],
            );
            let d = |s: f64| {
                a.iter()
                    .zip(b)
                    .fold(0.0f64, |m, (x, y)| m.max((s * x - y).abs()))
            };
            if up_to_sign {
                d(1.0).min(d(-1.0))
            } else {
                d(1.0)
            }
        })
        .fold(0.0, f64::max)
        / scale
}

fn check<W: CamWeights + Default>(name: &str, up_to_sign: bool) {
    for stem in ["mnist-cnn", "mnist-gap"] {
        let g = golden(stem);
        for (relu, key) in [(false, "raw"), (true, "relu")] {
            if up_to_sign && relu {
                continue; // after the ReLU the two signs keep different halves
            }
            let m = BaseCam {
                layer: g.layer.clone(),
                relu,
                weights: W::default(),
            };
            let ours = m.attribute(&g.model, &g.x, &[1, 3, 7]).unwrap().map;
            let r = rel(&ours, &g.t[&format!("{name}/{key}")], up_to_sign);
            eprintln!("{stem} {name} {key}: relative error {r:.2e}");
            assert!(r <= 1e-5, "{stem} {name} {key}: relative error {r:e}");
        }
    }
}

#[test]
fn grad_cam_matches_the_package() {
    check::<GradCamWeights>("grad-cam", false);
}

#[test]
fn grad_cam_plus_plus_matches_the_package() {
    check::<GradCamPlusPlusWeights>("grad-cam++", false);
}

#[test]
fn xgrad_cam_matches_the_package() {
    check::<XGradCamWeights>("xgrad-cam", false);
}

#[test]
fn hires_cam_matches_the_package() {
    check::<HiResCamWeights>("hires-cam", false);
}

#[test]
fn layer_cam_matches_the_package() {
    check::<LayerCamWeights>("layer-cam", false);
}

#[test]
fn eigen_cam_matches_the_package_up_to_sign() {
    check::<EigenCamWeights>("eigen-cam", true);
}

#[test]
fn ablation_cam_matches_the_package() {
    check::<AblationCamWeights>("ablation-cam", false);
}

/// HiResCAM's claim: on a GAP network, the unclipped map at the maps the GAP averages
/// sums to the class logit minus its bias.
#[test]
fn hires_cam_sums_to_the_logit_minus_bias_on_a_gap_network() {
    let g = golden("mnist-gap");
    let m = BaseCam {
        layer: "conv3.relu".into(),
        relu: false,
        weights: HiResCamWeights,
    };
    let targets = [1, 3, 7];
    let map = m.attribute(&g.model, &g.x, &targets).unwrap().map;
    let logits = g.model.predict(&g.x).unwrap();
    let bias = &g.model.params().last().unwrap().1;
    for (i, &t) in targets.iter().enumerate() {
        let s: f64 = map.data()[i * 49..(i + 1) * 49].iter().sum();
        let want = logits.data()[i * 10 + t] - bias.data()[t];
        assert!((s - want).abs() < 1e-10, "example {i}: {s} vs {want}");
    }
}
