//! Explanation methods per image, beside Captum and the lime package:
//!
//! ```text
//! cargo bench --bench explain
//! python3 benches/captum_bench.py     # same models, same settings, 2 threads
//! ```

use criterion::{Criterion, criterion_group, criterion_main};
use lamppost::explain::attribution::{AttributionMethod, Precision};
use lamppost::explain::local::lime::{Lime, Segmenter};
use lamppost::explain::local::segmentation::{quickshift, slic};
use lamppost::explain::registry::{MethodOptions, build};
use lamppost::io::{load_model, read_tensors};
use lamppost::nn::{Arch, Model};
use lamppost::tensor::Tensor;
use std::hint::black_box;
use std::path::PathBuf;

fn golden(stem: &str) -> (Model<f32>, Tensor<f32>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/models");
    let model = load_model::<f32>(&dir.join(format!("{stem}.safetensors"))).unwrap();
    let (t, _) = read_tensors::<f32>(&dir.join(format!("{stem}_io.safetensors"))).unwrap();
    let x = t
        .into_iter()
        .find(|t| t.0 == "x")
        .unwrap()
        .1
        .select_rows(&[0])
        .unwrap();
    (model, x)
}

fn per_image(c: &mut Criterion) {
    lamppost::runtime::tune_allocator();
    let (model, x) = golden("mnist-cnn");
    let mut g = c.benchmark_group("mnist-cnn_per_image");
    let opts = MethodOptions::default();
    for name in [
        "integrated-gradients",
        "smoothgrad",
        "occlusion",
        "grad-cam",
        "score-cam",
    ] {
        let m = build(name, &opts, &model.arch).unwrap();
        g.bench_function(name, |b| {
            b.iter(|| black_box(f32::run(m.as_ref(), &model, &x, &[1]).unwrap()))
        });
    }
    g.finish();
    let (poke, _) = golden("pokedigi-gap");
    // a smooth test picture: red/green gradients and a blue disc (same formula as the Python side)
    let img: Vec<f64> = (0..3 * 64 * 64)
        .map(|i| {
            let (c, y, x) = (i / 4096, (i % 4096) / 64, i % 64);
            let disc = ((y as f64 - 32.0).powi(2) + (x as f64 - 32.0).powi(2)).sqrt() < 15.0;
            [
                x as f64 / 64.0,
                y as f64 / 64.0,
                if disc { 0.9 } else { 0.2 },
            ][c]
        })
        .collect();
    let xi = Tensor::<f32>::new(&[1, 3, 64, 64], img.iter().map(|&v| v as f32).collect()).unwrap();
    let mut g = c.benchmark_group("pokedigi_64x64");
    g.sample_size(10);
    g.bench_function("slic_100", |b| {
        b.iter(|| black_box(slic(&img, 3, 64, 64, 100, 10.0).unwrap()))
    });
    g.bench_function("quickshift", |b| {
        b.iter(|| black_box(quickshift(&img, 3, 64, 64, 4.0, 200.0, 0.2).unwrap()))
    });
    let lime = Lime {
        samples: 1000,
        segmenter: Segmenter::Quickshift,
        ..Lime::default()
    };
    g.bench_function("lime_1000_quickshift", |b| {
        b.iter(|| black_box(lime.attribute(&poke, &xi, &[0]).unwrap()))
    });
    // LIME's own work (segmentation, sampling, masking, kernel, ridge) with a model whose
    // forward pass costs nothing: mean colour → linear, the same on the Python side.
    let tiny = Model::<f32>::init(
        Arch::from_name("seq:adaptiveavgpool2d(1),flatten,linear(3,2)").unwrap(),
        0,
    );
    g.bench_function("lime_1000_quickshift_tiny_model", |b| {
        b.iter(|| black_box(lime.attribute(&tiny, &xi, &[0]).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, per_image);
criterion_main!(benches);
