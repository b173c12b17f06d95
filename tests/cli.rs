//! The command line as a user meets it: outputs, refusals, errors, determinism.

use std::path::Path;

mod common;
use common::{run, stderr, tmp};

/// In `d`: `g.safetensors`, a fresh mnist-gap from `seed`, and `x.safetensors`, two
/// random 28×28 inputs from `seed` under key `x`.
fn gap_model_and_batch(d: &Path, seed: u64) {
    let seed_s = seed.to_string();
    let o = run(
        &[
            "init",
            "mnist-gap",
            "--seed",
            &seed_s,
            "--out",
            "g.safetensors",
        ],
        d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let x = lamppost::Tensor::<f32>::randn(
        &[2, 1, 28, 28],
        1.0,
        &mut <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed - 1),
    );
    lamppost::io::write_tensors(
        &d.join("x.safetensors"),
        &[("x".into(), x)],
        Default::default(),
        false,
    )
    .unwrap();
}

#[test]
fn init_predict_and_refusing_to_overwrite() {
    let d = tmp("predict");
    assert!(
        run(
            &["init", "mnist-cnn", "--seed", "1", "--out", "m.safetensors"],
            &d
        )
        .status
        .success()
    );
    let again = run(&["init", "mnist-cnn", "--out", "m.safetensors"], &d);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("--force"));
    // an input file with key x
    let x = lamppost::Tensor::<f32>::zeros(&[3, 1, 28, 28]);
    lamppost::io::write_tensors(
        &d.join("x.safetensors"),
        &[("x".into(), x)],
        Default::default(),
        false,
    )
    .unwrap();
    let ok = run(
        &[
            "predict",
            "--model",
            "m.safetensors",
            "--input",
            "x.safetensors",
            "--out",
            "y.safetensors",
        ],
        &d,
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
    let (t, _) = lamppost::io::read_tensors::<f32>(&d.join("y.safetensors")).unwrap();
    assert_eq!(t[0].0, "logits");
    assert_eq!(t[0].1.shape(), &[3, 10]);
    let before = std::fs::read(d.join("y.safetensors")).unwrap();
    let refused = run(
        &[
            "predict",
            "--model",
            "m.safetensors",
            "--input",
            "x.safetensors",
            "--out",
            "y.safetensors",
        ],
        &d,
    );
    assert!(!refused.status.success());
    assert_eq!(
        std::fs::read(d.join("y.safetensors")).unwrap(),
        before,
        "output must be untouched"
    );
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn bad_inputs_give_clear_errors_and_no_panic() {
    let d = tmp("bad");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["init", "resnet50", "--out", "a.safetensors"],
            "unknown architecture",
        ),
        (
            vec![
                "predict",
                "--model",
                "missing.safetensors",
                "--input",
                "x",
                "--out",
                "y",
            ],
            "missing.safetensors",
        ),
        (
            vec!["eval", "--model", "garbage.safetensors"],
            "not a valid safetensors",
        ),
        (
            vec![
                "predict",
                "--model",
                "m.safetensors",
                "--input",
                "wrongkey.safetensors",
                "--out",
                "y.safetensors",
            ],
            "no tensor named 'x'",
        ),
        (
            vec![
                "predict",
                "--model",
                "m.safetensors",
                "--input",
                "wrongshape.safetensors",
                "--out",
                "y.safetensors",
            ],
            "[N, 1, 28, 28]",
        ),
        (
            vec![
                "predict",
                "--model",
                "m.safetensors",
                "--input",
                "nan.safetensors",
                "--out",
                "y.safetensors",
            ],
            "non-finite",
        ),
        (
            vec![
                "train",
                "mnist-cnn",
                "--data",
                "nowhere",
                "--out",
                "t.safetensors",
            ],
            "nowhere",
        ),
        (
            vec![
                "train",
                "mnist-cnn",
                "--lr=0",
                "--limit",
                "64",
                "--out",
                "t.safetensors",
            ],
            "not positive",
        ),
    ];
    std::fs::write(
        d.join("garbage.safetensors"),
        b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}",
    )
    .unwrap();
    assert!(
        run(&["init", "mnist-cnn", "--out", "m.safetensors"], &d)
            .status
            .success()
    );
    let w = |name: &str, key: &str, t: lamppost::Tensor<f32>| {
        lamppost::io::write_tensors(&d.join(name), &[(key.into(), t)], Default::default(), false)
            .unwrap()
    };
    w(
        "wrongkey.safetensors",
        "input",
        lamppost::Tensor::zeros(&[1, 1, 28, 28]),
    );
    w(
        "wrongshape.safetensors",
        "x",
        lamppost::Tensor::zeros(&[1, 28, 28]),
    );
    let mut nan = lamppost::Tensor::zeros(&[1, 1, 28, 28]);
    nan.data_mut()[3] = f32::NAN;
    w("nan.safetensors", "x", nan);
    for (args, want) in cases {
        let o = run(&args, &d);
        let e = stderr(&o);
        // 1: refused by lamppost; 2: a usage error (a value clap's parser refused with our message)
        assert!(matches!(o.status.code(), Some(1 | 2)), "{args:?}: {e}");
        assert!(e.contains(want), "{args:?}: '{e}' should mention '{want}'");
        assert!(!e.contains("panicked"), "{args:?} panicked: {e}");
    }
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn training_is_deterministic_and_beats_chance() {
    let d = tmp("train");
    let args = |out: &'static str| {
        vec![
            "train",
            "mnist-cnn",
            "--epochs",
            "1",
            "--limit",
            "3000",
            "--seed",
            "7",
            "--out",
            out,
        ]
    };
    for out in ["a.safetensors", "b.safetensors"] {
        let o = run(&args(out), &d);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let (a, b) = (
        std::fs::read(d.join("a.safetensors")).unwrap(),
        std::fs::read(d.join("b.safetensors")).unwrap(),
    );
    assert!(a == b, "same seed must give a bit-identical model file");
    let log = std::fs::read_to_string(d.join("a.log.jsonl")).unwrap();
    assert!(log.starts_with("{\"epoch\":1,"), "{log}");
    let o = run(&["eval", "--model", "a.safetensors"], &d);
    let text = String::from_utf8_lossy(&o.stdout);
    let acc: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("accuracy: "))
        .unwrap()
        .trim_end_matches('%')
        .parse()
        .unwrap();
    assert!(
        acc > 60.0,
        "3000 examples, one epoch: {acc}% (chance is 10%)"
    );
    assert!(text.contains("confusion matrix"));
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn label_noise_is_recorded() {
    let d = tmp("noise");
    let o = run(
        &[
            "train",
            "mnist-cnn",
            "--epochs",
            "1",
            "--limit",
            "500",
            "--label-noise",
            "0.2",
            "--out",
            "n.safetensors",
        ],
        &d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let rec = std::fs::read_to_string(d.join("n.noise.json")).unwrap();
    assert_eq!(
        rec.matches("],[").count() + 1,
        100,
        "20% of 500 flipped: {rec}"
    );
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn synthetic_dataset_command_writes_the_folder_layout() {
    let d = tmp("synth");
    let o = run(
        &["datasets", "synth-pokedigi", "--out", "p", "--n", "10"],
        &d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let count = |sub: &str| std::fs::read_dir(d.join("p").join(sub)).unwrap().count();
    assert_eq!((count("pokemon"), count("digimon")), (5, 5));
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn treereg_quick_writes_csv_plot_and_tree() {
    let d = tmp("treereg");
    let o = run(
        &[
            "treereg",
            "--task",
            "parabola",
            "--quick",
            "--protocol",
            "authors",
            "--seeds",
            "2",
            "--lambdas",
            "0,0.01,1",
            "--out",
            "r",
        ],
        &d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(d.join("r/results.csv")).unwrap();
    assert!(csv.starts_with("method,strength,seed,apl,apl_leaf_index,test_auc"));
    // three strengths for each of two seeds
    assert_eq!(csv.lines().filter(|l| l.starts_with("tree,")).count(), 6);
    assert_eq!(csv.lines().filter(|l| l.starts_with("l2,1,1,")).count(), 1);
    let budgets = std::fs::read_to_string(d.join("r/budgets.csv")).unwrap();
    assert_eq!(budgets.lines().count(), 1 + 5 + 4, "{budgets}");
    assert!(
        budgets.lines().skip(1).all(|l| l.contains(",2,")),
        "two seeds"
    );
    let frontier = std::fs::read_to_string(d.join("r/frontier.svg")).unwrap();
    assert!(frontier.contains(">best test AUC<") && frontier.contains("fill-opacity"));
    let boundary = std::fs::read_to_string(d.join("r/boundary.svg")).unwrap();
    for want in [
        ">weakest L2 (λ = 0)<",
        ">tree-regularized (λ = ",
        ">true boundary<",
        ">P(y = 1)<",
    ] {
        assert!(boundary.contains(want), "{want} missing from boundary.svg");
    }
    assert!(
        d.join("r/auc-vs-apl.svg").exists()
            && d.join("r/tree.svg").exists()
            && d.join("r/tree.dot").exists()
    );
    let svg = std::fs::read_to_string(d.join("r/auc-vs-apl.svg")).unwrap();
    assert!(
        svg.contains(">test AUC<") && svg.contains(">decision-tree<"),
        "axis title and legend"
    );
    let bad = run(&["treereg", "--task", "circles", "--out", "x"], &d);
    assert!(stderr(&bad).contains("unknown task"));
    for (args, says) in [
        (["--protocol", "paper"], "unknown protocol 'paper'"),
        (["--penalize", "some"], "unknown penalty set 'some'"),
        (["--seeds", "0"], "--seeds"),
    ] {
        let bad = run(&[&["treereg", "--out", "x"][..], &args[..]].concat(), &d);
        assert_eq!(
            bad.status.code(),
            Some(if args[0] == "--seeds" { 2 } else { 1 })
        );
        assert!(stderr(&bad).contains(says), "{}", stderr(&bad));
        assert!(!d.join("x").exists());
    }
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn explain_writes_attributions_with_provenance_and_pictures() {
    let d = tmp("explain");
    gap_model_and_batch(&d, 2);
    for (method, key_shape) in [
        ("integrated-gradients", vec![2, 1, 28, 28]),
        ("cam", vec![2, 7, 7]),
        ("occlusion", vec![2, 1, 28, 28]),
    ] {
        let out = format!("out-{method}");
        let o = run(
            &[
                "explain",
                method,
                "--model",
                "g.safetensors",
                "--input",
                "x.safetensors",
                "--target",
                "3",
                "--out",
                &out,
            ],
            &d,
        );
        assert!(o.status.success(), "{method}: {}", stderr(&o));
        let (t, meta) =
            lamppost::io::read_tensors::<f32>(&d.join(&out).join("attributions.safetensors"))
                .unwrap();
        let attr = t.iter().find(|t| t.0 == "attribution").unwrap();
        assert_eq!(attr.1.shape(), key_shape.as_slice(), "{method}");
        assert_eq!(meta["method"], method);
        assert!(meta.contains_key("model_fnv1a64") && meta["targets"] == "[3, 3]");
        if method == "integrated-gradients" {
            assert!(t.iter().any(|t| t.0 == "delta"));
        }
        let files: Vec<String> = std::fs::read_dir(d.join(&out))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            files.len(),
            2,
            "{method}: one grid by default, got {files:?}"
        );
        let png = std::fs::read(d.join(&out).join("attributions.png")).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{method}");
    }
    // --pictures: none writes only the tensors; each adds a heatmap and an overlay per
    // example; names for every example are checked before the work
    let saliency_pictures = |out: &str, pictures: &str| {
        let args = [
            "explain",
            "saliency",
            "--model",
            "g.safetensors",
            "--input",
            "x.safetensors",
            "--out",
            out,
            "--pictures",
            pictures,
        ];
        run(&args, &d)
    };
    for (pictures, count) in [("none", 1), ("each", 6)] {
        let out = format!("pics-{pictures}");
        let o = saliency_pictures(&out, pictures);
        assert!(o.status.success(), "{}", stderr(&o));
        let n = std::fs::read_dir(d.join(&out)).unwrap().count();
        assert_eq!(n, count, "--pictures {pictures}");
    }
    assert!(d.join("pics-each/overlay-001.png").exists());
    std::fs::remove_file(d.join("pics-each/heatmap-000.png")).unwrap();
    std::fs::remove_file(d.join("pics-each/attributions.png")).unwrap();
    std::fs::remove_file(d.join("pics-each/attributions.safetensors")).unwrap();
    let o = saliency_pictures("pics-each", "each");
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("overlay-001.png"), "{}", stderr(&o));
    assert!(!d.join("pics-each/attributions.safetensors").exists());
    let again = run(
        &[
            "explain",
            "cam",
            "--model",
            "g.safetensors",
            "--input",
            "x.safetensors",
            "--out",
            "out-cam",
        ],
        &d,
    );
    assert!(stderr(&again).contains("--force"));
    let bad = run(
        &[
            "explain",
            "magic",
            "--model",
            "g.safetensors",
            "--input",
            "x.safetensors",
            "--out",
            "o",
        ],
        &d,
    );
    assert!(stderr(&bad).contains("unknown method"));
    let bad = run(
        &[
            "explain",
            "grad-cam",
            "--layer",
            "conv9",
            "--model",
            "g.safetensors",
            "--input",
            "x.safetensors",
            "--out",
            "o",
        ],
        &d,
    );
    assert!(
        stderr(&bad).contains("no layer named 'conv9'"),
        "{}",
        stderr(&bad)
    );
    let bad = run(
        &[
            "explain",
            "saliency",
            "--model",
            "g.safetensors",
            "--input",
            "x.safetensors",
            "--target",
            "12",
            "--out",
            "o",
        ],
        &d,
    );
    assert!(stderr(&bad).contains("out of range"));
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn lime_and_saliency_explain_feature_rows() {
    let d = tmp("tabular");
    let arch = "seq:linear(4,8),relu,linear(8,2)";
    assert!(
        run(&["init", arch, "--seed", "1", "--out", "t.safetensors"], &d)
            .status
            .success()
    );
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(2);
    for (file, rows) in [("x.safetensors", 3), ("train.safetensors", 200)] {
        let x = lamppost::Tensor::<f32>::randn(&[rows, 4], 1.0, &mut rng);
        lamppost::io::write_tensors(&d.join(file), &[("x".into(), x)], Default::default(), false)
            .unwrap();
    }
    let explain = |method: &str, extra: &[&str], out: &str| {
        let mut args = vec![
            "explain",
            method,
            "--model",
            "t.safetensors",
            "--input",
            "x.safetensors",
            "--out",
            out,
        ];
        args.extend_from_slice(extra);
        run(&args, &d)
    };
    // LIME needs the training rows for the features' means and scales
    let o = explain("lime", &[], "o-missing");
    assert!(
        !o.status.success() && stderr(&o).contains("--background"),
        "{}",
        stderr(&o)
    );
    for (method, extra) in [
        (
            "lime",
            vec!["--background", "train.safetensors", "--samples", "500"],
        ),
        ("saliency", vec![]),
    ] {
        let out = format!("o-{method}");
        let o = explain(method, &extra, &out);
        assert!(o.status.success(), "{method}: {}", stderr(&o));
        let (t, _) =
            lamppost::io::read_tensors::<f32>(&d.join(&out).join("attributions.safetensors"))
                .unwrap();
        let attr = t.iter().find(|t| t.0 == "attribution").unwrap();
        assert_eq!(attr.1.shape(), &[3, 4], "{method}");
        assert!(attr.1.data().iter().any(|&v| v != 0.0), "{method}");
        assert!(d.join(&out).join("bars.png").exists());
        if method == "lime" {
            assert!(t.iter().any(|t| t.0 == "score" && t.1.shape() == [3]));
        }
    }
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn float64_reference_mode_per_example_targets_and_compare() {
    let d = tmp("f64");
    gap_model_and_batch(&d, 3);
    let explain = |dtype: &str, target: &str, out: &str| {
        run(
            &[
                "explain",
                "grad-x-input",
                "--model",
                "g.safetensors",
                "--input",
                "x.safetensors",
                "--target",
                target,
                "--dtype",
                dtype,
                "--out",
                out,
            ],
            &d,
        )
    };
    let o = explain("f64", "3,1", "o64");
    assert!(o.status.success(), "{}", stderr(&o));
    let o = explain("f32", "3,1", "o32");
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(d.join("o64/attributions.safetensors")).unwrap();
    assert!(
        String::from_utf8_lossy(&bytes).contains("\"dtype\":\"F64\""),
        "written as F64"
    );
    let (a64, meta) =
        lamppost::io::read_tensors::<f64>(&d.join("o64/attributions.safetensors")).unwrap();
    let (a32, _) =
        lamppost::io::read_tensors::<f64>(&d.join("o32/attributions.safetensors")).unwrap();
    assert_eq!(meta["targets"], "[3, 1]");
    assert_eq!(meta["dtype"], "f64");
    let (p, q) = (&a64[0].1, &a32[0].1);
    let err = p
        .data()
        .iter()
        .zip(q.data())
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    assert!(err <= 1e-5 * p.max_abs() && err > 0.0, "f64 vs f32: {err}");
    // a target list of the wrong length, an unknown dtype, an option the method does not read
    let o = explain("f64", "3,1,7", "bad");
    assert!(stderr(&o).contains("one per example"), "{}", stderr(&o));
    let o = explain("f16", "3", "bad");
    assert!(stderr(&o).contains("use f32 or f64"), "{}", stderr(&o));
    let o = run(
        &[
            "explain",
            "saliency",
            "--steps",
            "9",
            "--model",
            "g.safetensors",
            "--input",
            "x.safetensors",
            "--out",
            "bad",
        ],
        &d,
    );
    assert!(
        stderr(&o).contains("does not use --steps"),
        "{}",
        stderr(&o)
    );
    // compare: our own f64 output agrees; the f32 one is diagnosed as float32
    let cmp = |theirs: &str| {
        run(
            &[
                "compare",
                "--method",
                "grad-x-input",
                "--model",
                "g.safetensors",
                "--input",
                "x.safetensors",
                "--target",
                "3,1",
                "--theirs",
                theirs,
            ],
            &d,
        )
    };
    let o = cmp("o64/attributions.safetensors");
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success() && text.contains("they agree"),
        "{text}{}",
        stderr(&o)
    );
    let o = cmp("o32/attributions.safetensors:attribution");
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(text.contains("float32"), "{text}{}", stderr(&o));
    let o = cmp("o32/attributions.safetensors:nope");
    assert!(
        stderr(&o).contains("no tensor named 'nope'"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(d).unwrap();
}
