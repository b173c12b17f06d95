//! A user's files are sacred, and bad input is refused before any work: the newcomer
//! trial's findings (issue 11, items 1–6), one test each.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{bin, run, stderr, tmp};

/// Every file under `d` (relative paths, sorted), hidden ones included.
fn listing(d: &Path) -> Vec<String> {
    fn walk(base: &Path, d: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut v = Vec::new();
    walk(d, d, &mut v);
    v.sort();
    v
}

fn init(d: &Path, arch: &str, out: &str) {
    let o = run(&["init", arch, "--out", out], d);
    assert!(o.status.success(), "{}", stderr(&o));
}

fn write_x(d: &Path, shape: &[usize]) {
    lamppost::io::write_tensors(
        &d.join("x.safetensors"),
        &[("x".into(), lamppost::Tensor::<f32>::zeros(shape))],
        Default::default(),
        false,
    )
    .unwrap();
}

/// Item 1: every file a command writes is checked before the work; existing ones stay
/// byte for byte, and nothing else is written.
#[test]
fn existing_outputs_are_untouched_without_force() {
    let d = tmp("overwrite");
    init(&d, "mnist-gap", "g.safetensors");
    write_x(&d, &[1, 1, 28, 28]);
    std::fs::create_dir_all(d.join("out")).unwrap();
    std::fs::write(d.join("out/attributions.png"), b"the user's own picture").unwrap();
    let before = listing(&d);
    let o = run(
        &[
            "explain",
            "saliency",
            "--model",
            "g.safetensors",
            "--input",
            "x.safetensors",
            "--out",
            "out",
        ],
        &d,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("attributions.png already exists"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read(d.join("out/attributions.png")).unwrap(),
        b"the user's own picture"
    );
    assert_eq!(listing(&d), before, "a refused run wrote files");

    // treereg: refused at once (no sweep is run), the user's tree.txt intact
    std::fs::create_dir_all(d.join("tr")).unwrap();
    std::fs::write(d.join("tr/tree.txt"), b"mine").unwrap();
    let start = Instant::now();
    let o = run(&["treereg", "--quick", "--out", "tr"], &d);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("tree.txt already exists"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(d.join("tr/tree.txt")).unwrap(), b"mine");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "the refusal came after the work"
    );

    // the tour: a folder holding files is refused before any training
    std::fs::create_dir_all(d.join("t")).unwrap();
    std::fs::write(d.join("t/notes.txt"), b"lecture notes").unwrap();
    let o = run(&["tour", "--quick", "--out", "t", "--cache", "c"], &d);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("notes.txt"), "{}", stderr(&o));
    assert!(
        !d.join("c").exists(),
        "the tour started work before refusing"
    );

    // --out naming a file where a folder is needed: at once, nothing written
    let o = run(
        &[
            "explain",
            "saliency",
            "--model",
            "g.safetensors",
            "--input",
            "x.safetensors",
            "--out",
            "x.safetensors",
        ],
        &d,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is a file"), "{}", stderr(&o));

    // with --force the files are replaced
    let o = run(
        &[
            "explain",
            "saliency",
            "--model",
            "g.safetensors",
            "--input",
            "x.safetensors",
            "--out",
            "out",
            "--force",
        ],
        &d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::read(d.join("out/attributions.png"))
            .unwrap()
            .starts_with(b"\x89PNG")
    );
}

/// Item 2: a training run killed mid-epoch (SIGKILL) or interrupted (SIGINT) leaves
/// no file behind, and the same command then succeeds without --force.
#[test]
fn interrupted_training_leaves_nothing_and_the_retry_works() {
    let d = tmp("interrupt");
    let args = [
        "train",
        "pokedigi-gap",
        "--synth-n",
        "200",
        "--epochs",
        "12",
        "--cache",
        "c",
        "--out",
        "m.safetensors",
    ];
    for signal in ["-KILL", "-INT"] {
        let mut child = bin()
            .args(args)
            .current_dir(&d)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // interrupt once the second of the twelve epochs is reported: mid-training on any
        // machine (a fixed sleep of 1.5 s, mid-training when an epoch took 0.4 s, came
        // after the end once an epoch took 0.08 s)
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut seen = Vec::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            let second = line.contains("epoch 2/");
            seen.push(line);
            if second {
                break;
            }
        }
        assert!(
            seen.last().is_some_and(|l| l.contains("epoch 2/")),
            "the run ended before its second epoch: {seen:?}"
        );
        let status = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let rest: Vec<String> = lines.map_while(|l| l.ok()).collect();
        let exit = child.wait().unwrap();
        assert!(
            !exit.success(),
            "the run finished before it was interrupted; after epoch 2 it printed {rest:?}"
        );
        let left: Vec<String> = listing(&d)
            .into_iter()
            .filter(|f| !f.starts_with("c/"))
            .collect();
        assert!(left.is_empty(), "{signal} left {left:?}");
    }
    let o = run(&args, &d);
    assert!(o.status.success(), "the retry failed: {}", stderr(&o));
    assert!(d.join("m.safetensors").exists() && d.join("m.log.jsonl").exists());
    let log = std::fs::read_to_string(d.join("m.log.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 12, "{log}");
}

/// Item 3: each invalid option is refused with our own message before any work (no
/// output appears), including negative counts.
#[test]
fn invalid_options_are_refused_before_work() {
    let d = tmp("options");
    init(&d, "mnist-gap", "g.safetensors");
    write_x(&d, &[1, 1, 28, 28]);
    let join = |head: &[&str], extra: &[&str]| -> Vec<String> {
        head.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let explain = |method: &str, extra: &[&str]| {
        let head = [
            "explain",
            method,
            "--model",
            "g.safetensors",
            "--input",
            "x.safetensors",
            "--out",
            "out",
        ];
        join(&head, extra)
    };
    let train = |extra: &[&str]| join(&["train", "mnist-cnn", "--out", "m.safetensors"], extra);
    let evaluate = |metric: &str, extra: &[&str]| {
        let head = [
            "evaluate",
            metric,
            "--model",
            "g.safetensors",
            "--out",
            "out",
        ];
        join(&head, extra)
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (train(&["--lr", "-1"]), "not positive"),
        (train(&["--lr", "0"]), "not positive"),
        (train(&["--epochs", "0"]), "not a count"),
        (train(&["--epochs", "-1"]), "not a count"),
        (train(&["--batch", "0"]), "not a count"),
        (train(&["--label-noise", "1"]), "fraction"),
        (train(&["--label-noise", "nan"]), "finite"),
        (train(&["--label-noise", "-0.1"]), "fraction"),
        (train(&["--limit", "0"]), "not a count"),
        (train(&["--seed", "-4"]), "not a seed"),
        (explain("occlusion", &["--fill", "nan"]), "finite"),
        (
            explain("integrated-gradients", &["--baseline", "blur:-3"]),
            "blur radius",
        ),
        (
            explain("integrated-gradients", &["--baseline", "constant:inf"]),
            "finite",
        ),
        (explain("lime", &["--num-features", "0"]), "not a count"),
        (explain("lime", &["--samples", "5"]), "too few"),
        (
            explain("integrated-gradients", &["--steps", "1000000"]),
            "at most",
        ),
        (explain("smoothgrad", &["--samples", "-2"]), "not a count"),
        (
            explain("saliency", &["--steps", "10"]),
            "does not use --steps",
        ),
        (
            explain("grad-cam", &["--sigma", "0.1"]),
            "does not use --sigma",
        ),
        (explain("saliency", &["--index", "-1"]), "negative"),
        (explain("saliency", &["--data", "somewhere"]), "--data"),
        (evaluate("roar", &["--fractions", "0"]), "(0, 1]"),
        (evaluate("roar", &["--fractions", "1.5"]), "(0, 1]"),
        (
            evaluate("roar", &["--step", "4"]),
            "--step is not read by 'roar'",
        ),
        (
            evaluate("deletion", &["--train-n", "10"]),
            "--train-n is not read by 'deletion'",
        ),
        (
            evaluate("data-randomization", &["--fractions", "0.5"]),
            "only by roar",
        ),
        (
            evaluate("roar", &["--methods", "gradient"]),
            "unknown method",
        ),
        (evaluate("roar", &["--epochs", "0"]), "not a count"),
        (evaluate("roars", &[]), "roar and data-randomization"),
    ];
    for (args, want) in cases {
        let o = bin().args(&args).current_dir(&d).output().unwrap();
        let e = stderr(&o);
        assert!(!o.status.success(), "accepted: {args:?}");
        assert!(e.contains(want), "{args:?}: expected '{want}' in: {e}");
        assert!(
            !e.contains("-- -"),
            "{args:?}: clap's tip instead of our message: {e}"
        );
        assert!(!e.contains("panicked"), "{args:?}: {e}");
        assert!(
            !e.contains(".partial"),
            "{args:?} names a temporary file: {e}"
        );
        assert!(
            !d.join("out").exists() && !d.join("m.safetensors").exists(),
            "{args:?} wrote output"
        );
    }
}

/// Item 4: resource limits are checked before allocating or reading.
#[test]
fn oversized_architectures_and_endless_files_are_refused() {
    let d = tmp("limits");
    let o = run(
        &[
            "init",
            "seq:linear(100000,100000)",
            "--out",
            "big.safetensors",
        ],
        &d,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("GiB"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("LAMPPOST_MAX_PARAM_GIB"),
        "{}",
        stderr(&o)
    );
    assert!(!d.join("big.safetensors").exists());
    #[cfg(unix)]
    {
        let o = run(&["info", "--model", "/dev/zero"], &d);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains("header length"), "{}", stderr(&o));
    }
    // a header announcing absurd data is refused before reading it
    let mut bytes = Vec::new();
    let header =
        br#"{"w":{"dtype":"F32","shape":[4000000000000],"data_offsets":[0,16000000000000]}}"#;
    bytes.extend_from_slice(&(header.len() as u64).to_le_bytes());
    bytes.extend_from_slice(header);
    std::fs::write(d.join("huge.safetensors"), &bytes).unwrap();
    let o = run(&["info", "--model", "huge.safetensors"], &d);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("limit"), "{}", stderr(&o));
}

/// Item 5: an empty class folder is an error naming it; `eval` uses the data recorded
/// in the model file and says so.
#[test]
fn data_follows_the_model_and_empty_classes_are_refused() {
    let d = tmp("data");
    let o = run(
        &["datasets", "synth-pokedigi", "--n", "40", "--out", "pd"],
        &d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // a copy whose digimon folder is empty
    std::fs::create_dir_all(d.join("half/pokemon")).unwrap();
    std::fs::create_dir_all(d.join("half/digimon")).unwrap();
    for f in std::fs::read_dir(d.join("pd/pokemon")).unwrap() {
        let p = f.unwrap().path();
        std::fs::copy(&p, d.join("half/pokemon").join(p.file_name().unwrap())).unwrap();
    }
    let o = run(
        &[
            "train",
            "pokedigi-gap",
            "--data",
            "half",
            "--epochs",
            "1",
            "--out",
            "h.safetensors",
        ],
        &d,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("digimon"), "{}", stderr(&o));
    assert!(!d.join("h.safetensors").exists());

    let o = run(
        &[
            "train",
            "pokedigi-gap",
            "--data",
            "pd",
            "--epochs",
            "1",
            "--seed",
            "3",
            "--out",
            "m.safetensors",
        ],
        &d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["eval", "--model", "m.safetensors"], &d);
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("recorded in the model file"), "{e}");
    assert!(e.contains("pd"), "{e}");
    // the split seed comes with it: 20% of 40 pictures per class = 8 test pictures
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("(8 test examples)"), "{out}");
}

/// Item 6: `--image` says what happened to the picture and warns about a dark digit
/// on paper.
#[test]
fn image_input_reports_size_and_inversion() {
    let d = tmp("image");
    init(&d, "mnist-cnn", "m.safetensors");
    // a dark stroke on white paper, 100 × 50
    let img = image::GrayImage::from_fn(100, 50, |x, _| {
        image::Luma([if (45..55).contains(&x) { 10 } else { 250 }])
    });
    img.save(d.join("digit.png")).unwrap();
    let o = run(
        &[
            "explain",
            "saliency",
            "--model",
            "m.safetensors",
            "--image",
            "digit.png",
            "--out",
            "o",
        ],
        &d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("100 × 50"), "{e}");
    assert!(e.contains("aspect ratio 2.00"), "{e}");
    assert!(e.contains("--invert"), "{e}");
    let o = run(
        &[
            "explain",
            "saliency",
            "--model",
            "m.safetensors",
            "--image",
            "digit.png",
            "--invert",
            "--out",
            "o2",
        ],
        &d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("pass --invert"), "{}", stderr(&o));
}
