//! The evaluation metrics: agreement with Captum and Quantus on fixed weights (goldens by
//! tests/golden/make_metrics_golden.py), and the papers' claims on a trained mnist-cnn.

mod common;

use lamppost::data::source::Loaded;
use lamppost::error::Result;
use lamppost::explain::attribution::{Attribution, AttributionMethod, Precision};
use lamppost::explain::local::saliency::Saliency;
use lamppost::explain::metrics::benchmark::{BenchOptions, Metric, benchmark};
use lamppost::explain::metrics::curves::{CurveSpec, Substrate, curves};
use lamppost::explain::metrics::robustness::{infidelity_with, sensitivity_with};
use lamppost::explain::metrics::sanity::{
    Randomization, Stage, fails, ink_support, mean, permuted_label_model, randomization_test,
    stages_test,
};
use lamppost::explain::registry::{MethodOptions, build};
use lamppost::float::Float;
use lamppost::io::{load_model, read_tensors};
use lamppost::nn::Model;
use lamppost::tensor::Tensor;
use std::collections::HashMap;
use std::path::PathBuf;

/// The golden weights of `stem` and the tensors and metadata of
/// `tests/golden/metrics/{stem}{suffix}.safetensors`.
type GoldenFile = (
    Model<f64>,
    HashMap<String, Tensor<f64>>,
    HashMap<String, String>,
);
fn golden_file(stem: &str, suffix: &str) -> GoldenFile {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let model = load_model::<f64>(&dir.join(format!("models/{stem}.safetensors"))).unwrap();
    let path = dir.join(format!("metrics/{stem}{suffix}.safetensors"));
    let (t, meta) = read_tensors::<f64>(&path).unwrap();
    (model, t.into_iter().collect(), meta)
}

fn golden(stem: &str) -> (Model<f64>, HashMap<String, Tensor<f64>>) {
    let (m, g, _) = golden_file(stem, "");
    (m, g)
}

fn max_rel(ours: &[f64], theirs: &[f64]) -> f64 {
    assert_eq!(ours.len(), theirs.len());
    ours.iter()
        .zip(theirs)
        .map(|(a, b)| (a - b).abs() / b.abs().max(1e-12))
        .fold(0.0, f64::max)
}

#[test]
fn infidelity_and_sensitivity_match_captum() {
    for stem in ["mnist-cnn", "mnist-gap"] {
        let (m, g) = golden(stem);
        let t: Vec<usize> = g["target"].data().iter().map(|&v| v as usize).collect();
        for (rescale, key) in [
            (false, "infidelity_normalize_0"),
            (true, "infidelity_normalize_1"),
        ] {
            let ours =
                infidelity_with(&m, &g["x"], &g["saliency"], &t, &g["noise"], rescale).unwrap();
            let e = max_rel(&ours, g[key].data());
            eprintln!("{stem} {key}: ours {ours:?}, relative difference {e:.1e}");
            assert!(e <= 1e-6, "{stem} {key}: {e:e}");
        }
        let ours =
            sensitivity_with(&m, &Saliency { abs: false }, &g["x"], &t, &g["delta"]).unwrap();
        let e = max_rel(&ours, g["sensitivity_max"].data());
        eprintln!("{stem} sensitivity_max: ours {ours:?}, relative difference {e:.1e}");
        assert!(e <= 1e-6, "{stem} sensitivity: {e:e}");
    }
}

/// Quantus runs the model in float32; so do we here.
#[test]
fn pixel_flipping_matches_quantus() {
    for stem in ["mnist-cnn", "mnist-gap"] {
        let (m, g) = golden(stem);
        let m32: Model<f32> = m.cast();
        let t: Vec<usize> = g["target"].data().iter().map(|&v| v as usize).collect();
        let spec = CurveSpec::deletion(Substrate::Zero, 28);
        let ours = curves(&m32, &g["x"].cast(), &g["saliency"].cast(), &t, &spec).unwrap();
        let theirs = &g["quantus_pixel_flipping"];
        let steps = theirs.shape()[1];
        let mut worst = 0.0f64;
        for (i, c) in ours.iter().enumerate() {
            assert_eq!(
                c.scores.len(),
                steps + 1,
                "Quantus leaves out the unperturbed point"
            );
            for j in 0..steps {
                worst = worst.max((c.scores[j + 1] - theirs.data()[i * steps + j]).abs());
            }
        }
        eprintln!("{stem} pixel flipping: max |ours − Quantus| = {worst:.1e}");
        assert!(worst <= 1e-6, "{stem}: {worst:e}");
    }
}

/// Yeh et al.'s official MNIST protocol (every square of side 1 to 10, optimal
/// rescaling, gradient × input summed over the square), written out by
/// `make_metrics_golden.py --yeh` in float64: the same values.
#[test]
fn yeh_square_infidelity_matches_the_official_protocol() {
    use lamppost::explain::metrics::robustness::every_square;
    for stem in ["mnist-cnn", "mnist-gap"] {
        let (model, g, _) = golden_file(stem, "_yeh");
        let targets: Vec<usize> = g["target"].data().iter().map(|&v| v as usize).collect();
        let squares = every_square(&g["x"], 10).unwrap();
        assert_eq!(squares.shape()[0], 3 * 5605);
        let ours =
            infidelity_with(&model, &g["x"], &g["saliency"], &targets, &squares, true).unwrap();
        let e = max_rel(&ours, g["yeh_square_infidelity"].data());
        eprintln!("{stem} Yeh square infidelity: ours {ours:?}, relative difference {e:.1e}");
        assert!(e <= 1e-6, "{stem}: {e:e}");
    }
}

/// Quantus' goldens of `make_metrics_golden.py --quantus`: inputs, targets, saliency,
/// MPRT scores and the weights of every MPRT stage.
fn quantus_golden(stem: &str) -> (Model<f64>, HashMap<String, Tensor<f64>>, Vec<String>) {
    let (model, g, meta) = golden_file(stem, "_quantus");
    let stages = meta["stages"].split(',').map(String::from).collect();
    (model, g, stages)
}

/// Quantus 0.6's MPRT (cascading from the top, Spearman of |maps| and of signed maps) on
/// the stages' weights Quantus made: the same numbers.
#[test]
fn mprt_matches_quantus() {
    for stem in ["mnist-cnn", "mnist-gap"] {
        let (model, g, names) = quantus_golden(stem);
        let t: Vec<usize> = g["target"].data().iter().map(|&v| v as usize).collect();
        let stages: Vec<(String, Model<f64>)> = (1..=names.len())
            .map(|k| {
                let prefix = format!("stage{k}.");
                let named = model
                    .params()
                    .iter()
                    .map(|(name, _)| (name.clone(), g[&format!("{prefix}{name}")].clone()))
                    .collect();
                let m = Model::from_named(model.arch.clone(), named).unwrap();
                (names[k - 1].clone(), m)
            })
            .collect();
        let signed = Saliency { abs: false };
        let ours = stages_test(&model, &signed, &g["x"], &t, None, stages).unwrap();
        assert_eq!(ours.len(), names.len() + 1);
        let n = t.len();
        let mut worst = 0.0f64;
        for (key, pick) in [
            (
                "mprt_abs_1",
                (|s: &Stage| s.spearman_abs.clone()) as fn(&Stage) -> Vec<f64>,
            ),
            ("mprt_abs_0", |s: &Stage| s.spearman_signed.clone()),
        ] {
            let theirs = &g[key];
            for (k, stage) in ours.iter().enumerate() {
                for (i, v) in pick(stage).iter().enumerate() {
                    worst = worst.max((v - theirs.data()[k * n + i]).abs());
                }
            }
        }
        eprintln!(
            "{stem} MPRT over {} stages: max |ours − Quantus| = {worst:.1e}",
            ours.len()
        );
        assert!(worst <= 1e-6, "{stem}: {worst:e}");
    }
}

/// Quantus 0.6's RegionPerturbation (4×4 patches ranked by their sum, most relevant
/// first, baseline 0, softmax): its curve is the drop `f(x) − f(x_k)`; ours is `f(x_k)`.
#[test]
fn region_perturbation_matches_quantus() {
    for stem in ["mnist-cnn", "mnist-gap"] {
        let (m, g, _) = quantus_golden(stem);
        let m32: Model<f32> = m.cast();
        let t: Vec<usize> = g["target"].data().iter().map(|&v| v as usize).collect();
        let mut spec = CurveSpec::deletion(Substrate::Zero, 1);
        spec.region = 4;
        let ours = curves(&m32, &g["x"].cast(), &g["saliency"].cast(), &t, &spec).unwrap();
        let theirs = &g["quantus_region_perturbation"];
        let steps = theirs.shape()[1];
        let mut worst = 0.0f64;
        for (i, c) in ours.iter().enumerate() {
            assert_eq!(c.scores.len(), steps + 1);
            for j in 0..steps {
                let drop = c.scores[0] - c.scores[j + 1];
                worst = worst.max((drop - theirs.data()[i * steps + j]).abs());
            }
        }
        eprintln!("{stem} region perturbation: max |ours − Quantus| = {worst:.1e}");
        assert!(worst <= 1e-6, "{stem}: {worst:e}");
    }
}

/// mnist-cnn trained on the first 20 000 training digits for 2 epochs, the first `n`
/// test digits with their ink, and the whole MNIST data.
fn trained(n: usize) -> (Model<f32>, Tensor<f32>, Vec<Vec<bool>>, Loaded) {
    let (model, data) = common::mnist_cnn_2_epochs();
    let (x, _) = data.test.batch(&(0..n).collect::<Vec<_>>()).unwrap();
    let support = (0..n).map(|i| ink_support(&x, i)).collect();
    (model, x, support, data)
}

/// An "explainer" that ignores the model: |x|.
struct AbsInput;
impl<T: Float> AttributionMethod<T> for AbsInput {
    fn name(&self) -> &'static str {
        "abs-input"
    }
    fn attribute(&self, _: &Model<T>, x: &Tensor<T>, _: &[usize]) -> Result<Attribution<T>> {
        Ok(Attribution::plain(x.map(|v| v.abs())))
    }
}

#[test]
fn papers_claims_on_a_trained_mnist_cnn() {
    let (model, x, support, data) = trained(32);
    let targets = model.predict(&x).unwrap().argmax_rows().unwrap();
    // Adebayo et al.: the gradient decorrelates after full randomization, guided backprop less
    let stage = |name: &str| {
        let m = build(name, &MethodOptions::default(), &model.arch).unwrap();
        randomization_test(
            &model,
            m.as_ref(),
            &x,
            &targets,
            Some(&support),
            Randomization::Cascading,
            0,
        )
        .unwrap()
    };
    let (grad, gbp) = (stage("saliency"), stage("guided-backprop"));
    let (g, b) = (grad.last().unwrap(), gbp.last().unwrap());
    eprintln!(
        "Spearman |map| after randomizing every layer: gradient {:.3} (support {:.3}), guided backprop {:.3} (support {:.3})",
        mean(&g.spearman_abs),
        mean(&g.spearman_abs_support),
        mean(&b.spearman_abs),
        mean(&b.spearman_abs_support)
    );
    assert!(mean(&g.spearman_abs) < mean(&b.spearman_abs));
    assert!(!fails(&grad));
    let blind = randomization_test(
        &model,
        &AbsInput,
        &x,
        &targets,
        Some(&support),
        Randomization::Cascading,
        0,
    )
    .unwrap();
    assert_eq!(blind.len(), 5, "trained + 4 layers");
    assert!(blind.iter().all(
        |s| (mean(&s.spearman_abs) - 1.0).abs() < 1e-12 && (mean(&s.ssim) - 1.0).abs() < 1e-12
    ));
    assert!(fails(&blind), "a model-blind explainer must fail the check");

    // Adebayo et al.'s data randomization: a model that memorized permuted labels has
    // gradient maps unlike the trained model's on the digit; a blind explainer's do not change
    let mut cfg = lamppost::profile::Profile::of(&model.arch).train;
    cfg.epochs = 80;
    let (permuted, fitted) =
        permuted_label_model(&model.arch, &data.train.first(1000).unwrap(), &cfg, 0).unwrap();
    let versus = |m: &dyn lamppost::explain::attribution::Method| {
        let stages = vec![("permuted labels".to_string(), permuted.clone())];
        stages_test(&model, m, &x, &targets, Some(&support), stages).unwrap()
    };
    let grad = versus(&Saliency { abs: false });
    eprintln!(
        "data randomization: permuted labels fitted {:.3}; gradient Spearman |map| {:.3}, on the digit {:.3}",
        fitted,
        mean(&grad[1].spearman_abs),
        mean(&grad[1].spearman_abs_support)
    );
    assert!(fitted >= 0.95, "the permuted labels must be memorized");
    assert!(!fails(&grad));
    assert!(fails(&versus(&AbsInput)));

    // Petsiuk et al.: gradient and CAM maps beat the random order on deletion and insertion;
    // Smilkov et al.: SmoothGrad is less sensitive than the plain gradient
    let methods = [
        "saliency",
        "integrated-gradients",
        "smoothgrad",
        "guided-backprop",
        "grad-cam",
        "rise",
    ];
    let opts = BenchOptions {
        costly_n: 16,
        ..BenchOptions::default()
    };
    let bench = benchmark(
        &model,
        &x,
        Some(&support),
        &methods,
        &[Metric::Deletion, Metric::Insertion, Metric::Sensitivity],
        &opts,
        &mut |_| {},
    )
    .unwrap();
    let v = |m: &str, metric: &str| {
        bench
            .row(m, metric)
            .unwrap_or_else(|| panic!("{m} {metric}"))
            .mean
    };
    for m in methods {
        let (d, i) = (v(m, "deletion-auc[zero]"), v(m, "insertion-auc[blur:0]"));
        eprintln!(
            "{m}: deletion {d:.3} (random {:.3}), insertion {i:.3} (random {:.3})",
            v("random", "deletion-auc[zero]"),
            v("random", "insertion-auc[blur:0]")
        );
        assert!(d < v("random", "deletion-auc[zero]"), "{m} deletion");
        // Grad-CAM's 14×14 map (conv2.relu) beats the random insertion order only on the fully trained
        // model (0.926 against 0.830 on 100 digits, README); on this 2-epoch model it does not
        // (0.800 against 0.825), so its insertion is reported, not asserted
        if m != "grad-cam" {
            assert!(i > v("random", "insertion-auc[blur:0]"), "{m} insertion");
        }
    }
    assert!(v("smoothgrad", "max-sensitivity[r 0.02]") < v("saliency", "max-sensitivity[r 0.02]"));
}

#[test]
fn bad_maps_and_names_are_refused_or_defined() {
    let (m, g) = golden("mnist-cnn");
    let t: Vec<usize> = g["target"].data().iter().map(|&v| v as usize).collect();
    let x = &g["x"];
    let spec = CurveSpec::deletion(Substrate::Zero, 28);
    // wrong shape, NaN: clear errors
    let e = curves(&m, x, &Tensor::zeros(&[2, 28, 28]), &t, &spec)
        .unwrap_err()
        .to_string();
    assert!(e.contains("do not match"), "{e}");
    let mut nan = g["saliency"].clone();
    nan.data_mut()[5] = f64::NAN;
    assert!(
        curves(&m, x, &nan, &t, &spec)
            .unwrap_err()
            .to_string()
            .contains("attribution map")
    );
    // an all-zero map ties everywhere: removal in pixel order, a defined curve
    let flat = curves(&m, x, &Tensor::zeros(&[3, 28, 28]), &t, &spec).unwrap();
    assert!(
        flat.iter()
            .all(|c| c.scores.len() == 29 && c.scores.iter().all(|v| v.is_finite()))
    );
    // unknown names
    assert!(
        Metric::parse("fidelity")
            .unwrap_err()
            .to_string()
            .contains("deletion")
    );
    let e = benchmark(
        &m,
        x,
        None,
        &["salency"],
        &[Metric::Deletion],
        &BenchOptions::default(),
        &mut |_| {},
    );
    assert!(e.unwrap_err().to_string().contains("salency"));
    let e = benchmark(
        &m,
        x,
        None,
        &["saliency"],
        &[Metric::Localization],
        &BenchOptions::default(),
        &mut |_| {},
    );
    assert!(e.unwrap_err().to_string().contains("masks"));
    let _ = f64::run(&Saliency { abs: false }, &m, x, &t).unwrap();
}

/// Maps that point at the ink (`x − min x`, brightest first) or away from it.
struct Ink {
    first: bool,
}
impl<T: Float> AttributionMethod<T> for Ink {
    fn name(&self) -> &'static str {
        "ink"
    }
    fn attribute(&self, _: &Model<T>, x: &Tensor<T>, _: &[usize]) -> Result<Attribution<T>> {
        let lo = x
            .data()
            .iter()
            .copied()
            .fold(x.data()[0], |a, b| if b < a { b } else { a });
        let first = self.first;
        Ok(Attribution::plain(x.map(|v| {
            let ink = v - lo;
            if first {
                ink
            } else {
                T::one() / (T::one() + ink)
            }
        })))
    }
}

/// ROAR-lite's harness on 4000 digits, two epochs per retraining: removing the 30% of
/// pixels a map ranks as the ink leaves the retrained model below random removal;
/// removing background first costs no more than random. The random baseline is
/// computed, and both removals are compared with it. (Measured: unmodified 93.1%, ink
/// first 78.8%, random 89.9%, ink last 92.5%. Ink first is not at chance because the
/// mean fill, 0.13 in intensity, still differs from the background, 0: the holes draw
/// the digit's outline, and the retrained model reads it.)
#[test]
fn roar_removes_what_the_model_needs() {
    use lamppost::explain::metrics::roar::{RoarOptions, roar};
    use lamppost::nn::Arch;
    use lamppost::profile::Profile;
    let data = common::mnist();
    let arch = Arch::from_name("mnist-cnn").unwrap();
    let model = Model::<f32>::init(arch.clone(), 0); // the hand-built maps ignore it
    let mut train = Profile::of(&arch).train;
    train.epochs = 2;
    let opts = RoarOptions {
        fractions: vec![0.3],
        train,
        seed: 0,
    };
    let (ink_first, ink_last) = (Ink { first: true }, Ink { first: false });
    let methods: [(&str, &dyn lamppost::explain::attribution::Method); 2] =
        [("ink-first", &ink_first), ("ink-last", &ink_last)];
    let r = roar(
        &model,
        &methods,
        &data.train.first(4000).unwrap(),
        &data.test.first(1000).unwrap(),
        &opts,
        &mut |_, _, _| {},
    )
    .unwrap();
    let acc = |m: &str| r.mean_accuracy(m);
    eprintln!(
        "ROAR at 30%: unmodified {:.3}, ink first {:.3}, random {:.3}, ink last {:.3}",
        r.unmodified,
        acc("ink-first"),
        acc("random"),
        acc("ink-last")
    );
    assert_eq!(r.points.len(), 3);
    assert!(acc("ink-first") < acc("random") - 0.05);
    assert!(acc("ink-last") > acc("random") - 0.05);
    assert!(r.unmodified > 0.85);
}
