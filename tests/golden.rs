//! Agreement with PyTorch on numbers generated once by tests/golden/make_golden.py.

use lamppost::autodiff::{BackwardRule, Tape, Var};
use lamppost::io::{load_model, read_tensors};
use lamppost::nn::gru::{GruParams, gru};
use lamppost::tensor::Tensor;
use std::collections::HashMap;
use std::path::PathBuf;

fn golden(rel: &str) -> (HashMap<String, Tensor<f64>>, HashMap<String, String>) {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(rel);
    let (t, m) = read_tensors::<f64>(&p).unwrap_or_else(|e| panic!("{e}"));
    (t.into_iter().collect(), m)
}

/// max |a − b| / max(max |b|, 1e-12)
fn rel_err(a: &Tensor<f64>, b: &Tensor<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    let d = a
        .data()
        .iter()
        .zip(b.data())
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
    d / b.max_abs().max(1e-12)
}

fn assert_close(what: &str, a: &Tensor<f64>, b: &Tensor<f64>, tol: f64) {
    let e = rel_err(a, b);
    assert!(e <= tol, "{what}: relative error {e:e} > {tol:e}");
}

#[test]
fn conv2d_forward_and_backward_match_pytorch() {
    let (g, m) = golden("ops/conv2d.safetensors");
    let stride: usize = m["stride"].parse().unwrap();
    let pad: usize = m["padding"].parse().unwrap();
    let mut t = Tape::new();
    let (x, w, b) = (
        t.leaf(g["x"].clone()),
        t.leaf(g["w"].clone()),
        t.leaf(g["b"].clone()),
    );
    let y = t.conv2d(x, w, Some(b), stride, pad).unwrap();
    assert_close("y", t.value(y), &g["y"], 1e-12);
    let gr = t
        .backward_with(y, g["g"].clone(), BackwardRule::Standard)
        .unwrap();
    assert_close("dx", &gr.get(x), &g["dx"], 1e-12);
    assert_close("dw", &gr.get(w), &g["dw"], 1e-12);
    assert_close("db", &gr.get(b), &g["db"], 1e-12);
}

#[test]
fn maxpool_ties_route_the_gradient_like_pytorch() {
    for name in [
        "ops/maxpool_k2s2.safetensors",
        "ops/maxpool_k3s2.safetensors",
    ] {
        let (g, m) = golden(name);
        let k: usize = m["k"].parse().unwrap();
        let s: usize = m["stride"].parse().unwrap();
        let mut t = Tape::new();
        let x = t.leaf(g["x"].clone());
        let y = t.maxpool2d(x, k, s).unwrap();
        assert_eq!(t.value(y), &g["y"]);
        let gr = t
            .backward_with(y, g["g"].clone(), BackwardRule::Standard)
            .unwrap();
        assert_eq!(
            gr.get(x),
            g["dx"],
            "{name}: gradient routed to a different maximum"
        );
    }
}

#[test]
fn gru_matches_torch_nn_gru() {
    let (g, _) = golden("ops/gru.safetensors");
    let mut t = Tape::new();
    let names = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"];
    let x = t.leaf(g["x"].clone());
    let p: Vec<Var> = names.iter().map(|n| t.leaf(g[*n].clone())).collect();
    let states = gru(
        &mut t,
        x,
        GruParams {
            w_ih: p[0],
            w_hh: p[1],
            b_ih: p[2],
            b_hh: p[3],
        },
    )
    .unwrap();
    // stack the states as [N, T, H] like torch's output
    let stacked: Vec<Var> = states
        .iter()
        .map(|&s| {
            let sh = t.shape(s).to_vec();
            t.reshape(s, &[sh[0], 1, sh[1]]).unwrap()
        })
        .collect();
    let out = t.concat(&stacked, 1).unwrap();
    assert_close("out", t.value(out), &g["out"], 1e-12);
    let gr = t
        .backward_with(out, g["g"].clone(), BackwardRule::Standard)
        .unwrap();
    assert_close("dx", &gr.get(x), &g["dx"], 1e-12);
    for (n, &v) in names.iter().zip(&p) {
        assert_close(n, &gr.get(v), &g[&format!("d_{n}")], 1e-12);
    }
}

#[test]
fn cross_entropy_matches_pytorch() {
    let (g, _) = golden("ops/cross_entropy.safetensors");
    let target: Vec<usize> = g["target"].data().iter().map(|&v| v as usize).collect();
    let mut t = Tape::new();
    let x = t.leaf(g["logits"].clone());
    let mean = t.cross_entropy(x, &target).unwrap();
    assert!((t.value(mean).item().unwrap() - g["mean"].item().unwrap()).abs() < 1e-12);
    assert_close(
        "d_mean",
        &t.backward(mean).unwrap().get(x),
        &g["d_mean"],
        1e-12,
    );
    let per = t.cross_entropy_per_example(x, &target).unwrap();
    assert_close("per", t.value(per), &g["per"], 1e-12);
    let gr = t
        .backward_with(per, g["g"].clone(), BackwardRule::Standard)
        .unwrap();
    assert_close("d_per", &gr.get(x), &g["d_per"], 1e-12);
}

/// Model files saved from PyTorch load here, and give PyTorch's logits and input gradients.
#[test]
fn reference_architectures_match_pytorch_logits() {
    for stem in [
        "mnist-cnn",
        "mnist-gap",
        "mnist-gru",
        "mnist-attn-gru",
        "pokedigi-gap",
        "seq",
    ] {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/models");
        let model32 = load_model::<f32>(&dir.join(format!("{stem}.safetensors"))).unwrap();
        let model64 = load_model::<f64>(&dir.join(format!("{stem}.safetensors"))).unwrap();
        let (io, meta) = golden(&format!("models/{stem}_io.safetensors"));
        // f32 against torch's f32 forward
        let y32 = model32
            .predict(&io["x"].cast::<f32>())
            .unwrap()
            .cast::<f64>();
        assert_close(&format!("{stem} f32 logits"), &y32, &io["logits"], 1e-5);
        // f64 against torch's f64 forward on the same weights
        let mut t = Tape::new();
        let x = t.leaf(io["x"].clone());
        let params = model64.bind(&mut t, false);
        let f = model64.forward(&mut t, x, &params).unwrap();
        assert_close(
            &format!("{stem} f64 logits"),
            t.value(f.logits),
            &io["logits64"],
            1e-12,
        );
        let target: usize = meta["target"].parse().unwrap();
        let n = t.shape(f.logits)[0];
        let classes = t.shape(f.logits)[1];
        let seed = Tensor::one_hot(&vec![target; n], classes).unwrap();
        let gr = t
            .backward_with(f.logits, seed, BackwardRule::Standard)
            .unwrap();
        assert_close(
            &format!("{stem} dlogit/dx"),
            &gr.get(x),
            &io["dlogit_dx"],
            1e-10,
        );
    }
}
