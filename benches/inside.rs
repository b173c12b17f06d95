//! Inside-the-network methods beside scikit-learn:
//!
//! ```text
//! cargo bench --bench inside
//! python3 benches/sklearn_bench.py     # same data, 2 threads
//! ```
//!
//! PCA of the first 10 000 MNIST training images (10 000 × 784, 2 components) and exact
//! t-SNE (1000 iterations, PCA to 50 dimensions first) of the 2000 mnist-cnn features of
//! tests/golden/inside/tsne.safetensors.

use criterion::{Criterion, criterion_group, criterion_main};
use lamppost::data::mnist;
use lamppost::data::source::{DataSpec, load};
use lamppost::explain::inside::layers::rows_f64;
use lamppost::explain::inside::pca::pca;
use lamppost::explain::inside::tsne::{TsneOptions, tsne};
use lamppost::io::read_tensors;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

fn inside(c: &mut Criterion) {
    lamppost::runtime::tune_allocator();
    let cache = std::env::temp_dir().join("lamppost-bench-inside");
    let data = load(&DataSpec::Mnist(mnist::default_dir()), &cache, 0).unwrap();
    let x = data.train.x.slice_rows(0, 10_000).unwrap();
    let (rows, n, d) = rows_f64(&x);
    let mut g = c.benchmark_group("inside");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("pca_10000x784", |b| {
        b.iter(|| black_box(pca(&rows, n, d, 2).unwrap()))
    });
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/inside/tsne.safetensors");
    let (t, _) = read_tensors::<f64>(&p).unwrap();
    let f = t.into_iter().find(|t| t.0 == "features").unwrap().1;
    let (tn, td) = (f.shape()[0], f.shape()[1]);
    g.sample_size(10).measurement_time(Duration::from_secs(60));
    g.bench_function("tsne_exact_2000", |b| {
        b.iter(|| black_box(tsne(f.data(), tn, td, &TsneOptions::default(), |_| {}).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, inside);
criterion_main!(benches);
