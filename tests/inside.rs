//! Inside the network: PCA and t-SNE against scikit-learn (goldens by
//! tests/golden/make_inside_golden.py), determinism across thread counts, and the
//! chapter's claims (separation and probe accuracy grow with depth) on a trained mnist-cnn.

mod common;

use lamppost::data::Dataset;
use lamppost::explain::inside::layers::{activations, default_layers, rows_f64};
use lamppost::explain::inside::maps::separation_2d;
use lamppost::explain::inside::pca::pca;
use lamppost::explain::inside::probe::{ProbeConfig, control_task, linear_probe, probe_layers};
use lamppost::explain::inside::reconstruct::{DecoderConfig, mean_image_mse, reconstruct_layers};
use lamppost::explain::inside::separation::knn_accuracy;
use lamppost::explain::inside::top::top_examples;
use lamppost::explain::inside::tsne::{TsneOptions, tsne};
use lamppost::fit::evaluate;
use lamppost::io::{read_tensors, save_model};
use lamppost::tensor::Tensor;
use std::collections::HashMap;
use std::path::PathBuf;

fn golden(name: &str) -> HashMap<String, Tensor<f64>> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/golden/inside/{name}.safetensors"));
    read_tensors::<f64>(&p).unwrap().0.into_iter().collect()
}

#[test]
fn pca_matches_scikit_learn() {
    let g = golden("pca");
    for case in ["tall", "wide"] {
        let x = &g[&format!("{case}.x")];
        let (n, d) = (x.shape()[0], x.shape()[1]);
        let p = pca(x.data(), n, d, 5).unwrap();
        let worst = |ours: &[f64], key: &str| {
            ours.iter()
                .zip(g[&format!("{case}.{key}")].data())
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max)
        };
        let flat: Vec<f64> = p.components.iter().flatten().copied().collect();
        let (c, v, r) = (
            worst(&p.coords, "coords"),
            worst(&flat, "components"),
            worst(&p.explained_variance_ratio, "ratio"),
        );
        eprintln!(
            "{case} {n}×{d}: max |ours − sklearn| coords {c:.1e}, components {v:.1e}, ratios {r:.1e}"
        );
        assert!(c < 1e-8 && v < 1e-8 && r < 1e-10, "{case}");
        assert!(worst(&p.explained_variance, "variance") < 1e-8);
    }
}

#[test]
fn tsne_agrees_with_scikit_learn_and_repeats_on_any_thread_count() {
    let g = golden("tsne");
    let f = &g["features"];
    let (n, d) = (f.shape()[0], f.shape()[1]);
    let labels: Vec<usize> = g["labels"].data().iter().map(|&v| v as usize).collect();
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| tsne(f.data(), n, d, &TsneOptions::default(), |_| {}).unwrap())
    };
    let ours = run(2);
    let acc = knn_accuracy(&ours.embedding, 2, &labels, 5);
    let theirs = g["knn5"].data()[0];
    let sk_check = knn_accuracy(g["embedding"].data(), 2, &labels, 5);
    eprintln!(
        "t-SNE of {n} mnist-cnn fc1.relu features: 5-NN accuracy ours {acc:.4}, scikit-learn {theirs:.4} (recomputed {sk_check:.4}), KL {:.4}",
        ours.kl
    );
    assert!(
        (sk_check - theirs).abs() < 1e-12,
        "our 5-NN rule equals the golden script's"
    );
    assert!(
        (acc - theirs).abs() <= 0.02,
        "ours {acc} vs scikit-learn {theirs}"
    );
    // bit-identical with one thread
    assert_eq!(ours.embedding, run(1).embedding);
}

fn first(d: &Dataset, n: usize) -> Dataset {
    d.subset(&(0..n).collect::<Vec<_>>()).unwrap()
}

#[test]
fn the_chapter_claims_on_a_trained_mnist_cnn() {
    let (model, data) = common::mnist_cnn_2_epochs();
    let before = model.clone();
    let (train, test) = (first(&data.train, 5000), first(&data.test, 2000));
    let own = evaluate(&model, &test).unwrap().accuracy;
    let layers = default_layers(&model.arch);

    // separation grows with depth: the penultimate layer's PCA map beats the pixels'
    let maps_test = first(&data.test, 1000);
    let acts = activations(&model, &maps_test.x, &layers, |_| {}).unwrap();
    let sep: Vec<(f64, f64)> = acts
        .iter()
        .map(|a| {
            let (rows, n, d) = rows_f64(a);
            separation_2d(&pca(&rows, n, d, 2).unwrap().coords, &maps_test.y)
        })
        .collect();
    for (l, s) in layers.iter().zip(&sep) {
        eprintln!("{l}: PCA silhouette {:.3}, 5-NN {:.3}", s.0, s.1);
    }
    let (pix, pen) = (sep[0], sep[layers.len() - 2]);
    assert!(
        pen.0 > pix.0 + 0.05 && pen.1 > pix.1 + 0.1,
        "{pix:?} → {pen:?}"
    );

    // probes: accuracy grows from the pixels to the penultimate layer, which reads the
    // class at least as well as the model (−0.5 points); the model is untouched
    let cfg = ProbeConfig::default();
    let control = control_task(&train, &test, 100, 10, 0).unwrap();
    let rows = probe_layers(&model, &train, &test, &layers, &control, &cfg, |_| {}).unwrap();
    for r in &rows {
        eprintln!(
            "probe {}: {:.4} (untrained {:.4}, control {:.4}, selectivity {:+.4})",
            r.layer, r.accuracy, r.untrained, r.control, r.selectivity
        );
    }
    eprintln!("model's own accuracy on the same 2000 digits: {own:.4}");
    let pen = &rows[rows.len() - 2];
    assert_eq!(pen.layer, "fc1.relu");
    assert!(pen.accuracy >= own - 0.005, "{} vs {own}", pen.accuracy);
    for w in rows[..rows.len() - 1].windows(2) {
        assert!(
            w[1].accuracy > w[0].accuracy,
            "{} → {}",
            w[0].layer,
            w[1].layer
        );
    }
    assert!(
        rows.iter()
            .all(|r| r.selectivity > 0.0 && r.control < r.accuracy)
    );
    assert_eq!(model, before, "probing changed the model");

    // generative probes: the deeper the layer, the less of the picture comes back (but
    // always more than the mean image gives)
    let small = first(&data.train, 2000);
    let recs = reconstruct_layers(
        &model,
        &small,
        &first(&data.test, 500),
        &layers,
        &DecoderConfig::default(),
        &[0, 1],
        |_| {},
    )
    .unwrap();
    let base = mean_image_mse(&model, &small, &first(&data.test, 500)).unwrap();
    for q in &recs {
        eprintln!(
            "decoder from {}: test MSE {:.4} (mean image {base:.4})",
            q.layer, q.test_mse
        );
    }
    assert!(recs.iter().all(|q| q.test_mse < base));
    assert!(
        recs[recs.len() - 1].test_mse > recs[1].test_mse && recs[3].test_mse > recs[2].test_mse
    );
    assert_eq!(recs[0].images.shape(), &[2, 1, 28, 28]);

    // top examples: ranked by each channel's maximum, which they reproduce
    let top = top_examples(&model, &maps_test.x, "conv2.relu", 3, |_| {}).unwrap();
    let a = activations(&model, &maps_test.x, &["conv2.relu".to_string()], |_| {})
        .unwrap()
        .remove(0);
    let per = 14 * 14;
    let max_of = |i: usize, c: usize| {
        a.data()[(i * 16 + c) * per..(i * 16 + c + 1) * per]
            .iter()
            .fold(f32::NEG_INFINITY, |m, &v| m.max(v))
    };
    for c in 0..16 {
        let best = (0..1000)
            .map(|i| max_of(i, c))
            .fold(f32::NEG_INFINITY, f32::max);
        assert_eq!(top.value[c][0], best);
        assert!(top.value[c].windows(2).all(|w| w[0] >= w[1]));
        for (&i, &v) in top.index[c].iter().zip(&top.value[c]) {
            assert_eq!(max_of(i, c), v);
        }
        let [t, l, b, r] = top.region[c][0];
        assert!(b > t && r > l && b - t <= 8 && r - l <= 8);
    }

    // the command line on the same model: every file, and the numbers in the CSV
    let dir = common::tmp("inside-cli");
    let file = dir.join("m.safetensors");
    save_model(&model, &file, &[], false).unwrap();
    let out = dir.join("pca");
    let o = common::run(
        &[
            "inside",
            "pca",
            "--model",
            file.to_str().unwrap(),
            "--n",
            "500",
            "--out",
            out.to_str().unwrap(),
        ],
        &dir,
    );
    assert!(o.status.success(), "{}", common::stderr(&o));
    for f in [
        "results.csv",
        "results.safetensors",
        "index.html",
        "inside-pca-mnist-cnn.svg",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + layers.len());
    // again without --force: refused, nothing replaced
    let o = common::run(
        &[
            "inside",
            "pca",
            "--model",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &dir,
    );
    assert!(!o.status.success() && common::stderr(&o).contains("--force"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_one_hot_label_is_probed_perfectly() {
    let n = 400;
    let y: Vec<usize> = (0..n).map(|i| (i * 7) % 10).collect();
    let x = Tensor::one_hot(&y, 10).unwrap();
    let s = linear_probe(x.clone(), &y, x, &y, 10, &ProbeConfig::default()).unwrap();
    assert_eq!((s.train_accuracy, s.test_accuracy), (1.0, 1.0));
}

#[test]
fn bad_requests_say_what_to_do() {
    let dir = common::tmp("inside-bad");
    let file = dir.join("m.safetensors");
    let o = common::run(
        &["init", "mnist-cnn", "--out", file.to_str().unwrap()],
        &dir,
    );
    assert!(o.status.success());
    let m = file.to_str().unwrap();
    let out = dir.join("o");
    let o_ = out.to_str().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (
            &["inside", "attention", "--model", m, "--out", o_],
            "no attention layer",
        ),
        (
            &[
                "inside",
                "pca",
                "--model",
                m,
                "--perplexity",
                "5",
                "--out",
                o_,
            ],
            "only by tsne",
        ),
        (
            &[
                "inside", "pca", "--model", m, "--layer", "conv9", "--out", o_,
            ],
            "conv2.relu",
        ),
        (
            &["inside", "umap", "--model", m, "--out", o_],
            "pca, tsne, probe, reconstruct, attention, top-examples",
        ),
        (
            &["inside", "tsne", "--model", m, "--n", "20", "--out", o_],
            "perplexity",
        ),
        (
            &[
                "inside",
                "top-examples",
                "--model",
                m,
                "--layer",
                "conv1,conv2",
                "--out",
                o_,
            ],
            "single --layer",
        ),
    ];
    for (args, want) in cases {
        let o = common::run(args, &dir);
        let e = common::stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {e}");
        assert!(e.contains(want), "{args:?}: {e}");
        assert!(!e.contains("panicked"));
        assert!(!out.exists(), "{args:?} wrote before failing");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The reference attention model reaches the issue's ≥ 98.5% on the 10 000 MNIST test
/// digits. Training it takes about 60 s on 2 cores, too long for the suite, so the
/// weights are committed (`tests/fixtures/trained/`, written by `lamppost train
/// mnist-attn-gru` with the reference settings, its training log beside it). The test
/// checks that they were trained with exactly the settings the tour and `lamppost
/// train` use today (the tour's cache key), re-measures the accuracy from the weights,
/// and checks it against the figure the file records.
#[test]
fn reference_attention_model_reaches_98_5_percent() {
    use lamppost::data::mnist;
    use lamppost::data::source::DataSpec;
    use lamppost::io::safetensors_file::{model_from_bytes, read_bounded};
    use lamppost::nn::Arch;
    use lamppost::profile::Profile;
    use lamppost::report::cache::provenance;
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/trained/mnist-attn-gru.safetensors");
    let (model, meta) = model_from_bytes::<f32>(&read_bounded(&path).unwrap(), &path).unwrap();
    let cfg = Profile::of(&Arch::from_name("mnist-attn-gru").unwrap()).train;
    let prov = provenance(DataSpec::Mnist(mnist::default_dir()), &cfg, "");
    assert_eq!(
        meta.get("settings"),
        Some(&prov.settings()),
        "the reference settings changed: retrain with `lamppost train mnist-attn-gru` and commit the file"
    );
    let eval = evaluate(&model, &common::mnist().test).unwrap();
    println!(
        "mnist-attn-gru: {:.2}% on 10 000 test digits",
        100.0 * eval.accuracy
    );
    let total: usize = eval.confusion.iter().flatten().sum();
    assert_eq!(total, 10_000);
    assert!(eval.accuracy >= 0.985, "accuracy {}", eval.accuracy);
    assert_eq!(
        meta.get("test_accuracy"),
        Some(&format!("{:.6}", eval.accuracy))
    );
}
