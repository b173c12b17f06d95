//! Every metric over a list of methods on one model: the table behind `lamppost evaluate`
//! and the tour's "Which explanation should I trust?".
//!
//! Each metric is averaged over the examples with a 95% interval `mean ± 1.96·s/√n`
//! (`s` the sample standard deviation; normal approximation). Targets are the classes the
//! model predicts on the original inputs. Maps at a layer's resolution (CAMs) and RISE's
//! per-pixel maps are brought to the input's shape for infidelity by bilinear upsampling
//! and repeating over channels (as Captum's users do with `LayerAttribution.interpolate`).
//! The pseudo-method `random` (a seeded random order, no map) is the baseline row of
//! every curve metric.

use super::curves::{CurveSpec, Cuts, Direction, Order, Substrate, curves};
use super::mass::{mass_outside, pointing_hit};
use super::robustness::{Perturbation, Probe, perturbations, sensitivity_with, uniform_ball};
use super::sanity::{Randomization, fails, randomization_test};
use crate::error::{Result, invalid};
use crate::explain::attribution::Precision;
use crate::explain::registry::{MethodOptions, build};
use crate::nn::Model;
use crate::tensor::Tensor;
use crate::tensor::image::pixel_map;

/// The metrics, by their command-line names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    Deletion,
    Insertion,
    Aopc,
    Road,
    Sanity,
    Infidelity,
    Sensitivity,
    Localization,
}

impl Metric {
    pub const ALL: [Metric; 8] = [
        Metric::Deletion,
        Metric::Insertion,
        Metric::Aopc,
        Metric::Road,
        Metric::Infidelity,
        Metric::Sensitivity,
        Metric::Localization,
        Metric::Sanity,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Metric::Deletion => "deletion",
            Metric::Insertion => "insertion",
            Metric::Aopc => "aopc",
            Metric::Road => "road",
            Metric::Sanity => "sanity",
            Metric::Infidelity => "infidelity",
            Metric::Sensitivity => "sensitivity",
            Metric::Localization => "localization",
        }
    }
    /// A metric by name, or an error listing the names.
    pub fn parse(s: &str) -> Result<Metric> {
        Metric::ALL
            .iter()
            .copied()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                crate::error::Error::Invalid(format!(
                    "unknown metric '{s}'; the metrics are {} (or benchmark for all of them), and roar and data-randomization, which retrain models",
                    Metric::ALL.map(|m| m.name()).join(", ")
                ))
            })
    }
}

/// Settings shared by the metrics.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchOptions {
    /// Pixels per step of deletion and insertion (0: ⌈H·W/28⌉, 28 steps a curve).
    pub step: usize,
    /// Deletion's substrate (the tables add `blur` beside it when it is `zero`).
    pub deletion: Substrate,
    /// Insertion's start.
    pub insertion: Substrate,
    /// AOPC: region side and steps (MoRF).
    pub region: usize,
    pub aopc_steps: usize,
    /// Random seed for orders, noise, perturbations and randomized weights.
    pub seed: u64,
    /// Infidelity's and sensitivity's draws per example.
    pub perturb_samples: usize,
    /// Captum infidelity's noise σ and sensitivity's L∞ radius.
    pub noise: f64,
    pub radius: f64,
    /// Examples for sensitivity and sanity (they recompute every map many times).
    pub costly_n: usize,
    /// The methods sensitivity and sanity run for (None: all); they recompute each map
    /// `perturb_samples` or once per layer times, which is minutes for LIME, RISE or
    /// occlusion on 64×64 colour pictures.
    pub costly_methods: Option<Vec<String>>,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            step: 0,
            deletion: Substrate::Zero,
            insertion: Substrate::Blur(0.0),
            region: 4,
            aopc_steps: 20,
            seed: 0,
            perturb_samples: 10,
            noise: 0.1,
            radius: 0.02,
            costly_n: 32,
            costly_methods: None,
        }
    }
}

/// One line of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub method: String,
    pub metric: String,
    /// `lower` or `higher` is better.
    pub better: &'static str,
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
    pub n: usize,
}

impl Row {
    /// The mean of `v` (finite values only) with its 95% normal interval.
    pub fn of(method: &str, metric: impl Into<String>, better: &'static str, v: &[f64]) -> Row {
        let v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
        let n = v.len();
        let mean = v.iter().sum::<f64>() / n.max(1) as f64;
        let sd = if n > 1 {
            (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        let half = 1.96 * sd / (n.max(1) as f64).sqrt();
        Row {
            method: method.into(),
            metric: metric.into(),
            better,
            mean: if n == 0 { f64::NAN } else { mean },
            lo: mean - half,
            hi: mean + half,
            n,
        }
    }
}

/// The mean curve of a method, for the figures.
#[derive(Clone, Debug, PartialEq)]
pub struct MeanCurve {
    pub method: String,
    pub metric: String,
    pub fractions: Vec<f64>,
    pub scores: Vec<f64>,
}

/// The table, the mean curves, and each method's sanity stages.
#[derive(Clone, Debug, Default)]
pub struct Bench {
    pub rows: Vec<Row>,
    pub curves: Vec<MeanCurve>,
    pub sanity: Vec<(String, Vec<super::sanity::Stage>)>,
}

impl Bench {
    /// CSV with a header: method, metric, better, mean, ci95_lo, ci95_hi, n.
    pub fn csv(&self, model: &str) -> String {
        let mut s = String::from("model,method,metric,better,mean,ci95_lo,ci95_hi,n\n");
        for r in &self.rows {
            s += &format!(
                "{model},{},{},{},{:.6},{:.6},{:.6},{}\n",
                r.method, r.metric, r.better, r.mean, r.lo, r.hi, r.n
            );
        }
        s
    }
    pub fn row(&self, method: &str, metric: &str) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.method == method && r.metric == metric)
    }
}

/// Runs `metrics` for each of `methods` on `x` (targets: the model's predictions).
/// `support[i]` is the object's pixels of example `i` (localization and the sanity
/// check's support figures); `progress(done, total)` is called as methods finish.
#[allow(clippy::too_many_arguments)]
pub fn benchmark<T: Precision>(
    model: &Model<T>,
    x: &Tensor<T>,
    support: Option<&[Vec<bool>]>,
    methods: &[&str],
    metrics: &[Metric],
    opts: &BenchOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<Bench> {
    let n = x.shape()[0];
    if n == 0 {
        return invalid("no examples to evaluate");
    }
    let &[_, _, h, w] = x.shape() else {
        return invalid("the metrics evaluate models of pictures [N, C, H, W]");
    };
    // every name is checked before any work
    let built = methods
        .iter()
        .map(|m| build(m, &MethodOptions::default(), &model.arch).map(|b| (*m, b)))
        .collect::<Result<Vec<_>>>()?;
    if metrics.contains(&Metric::Localization) && support.is_none() {
        return invalid(
            "localization needs the objects' masks (the digit's ink for MNIST, the creature for Pokémon/Digimon)",
        );
    }
    let targets = model.predict(x)?.argmax_rows()?;
    let step = if opts.step == 0 {
        (h * w).div_ceil(28)
    } else {
        opts.step
    };
    let mut specs: Vec<(String, &'static str, CurveSpec)> = Vec::new();
    for m in metrics {
        match m {
            Metric::Deletion => {
                let mut subs = vec![opts.deletion.clone()];
                if opts.deletion == Substrate::Zero {
                    subs.push(Substrate::Blur(0.0));
                }
                for s in subs {
                    specs.push((
                        format!("deletion-auc[{}]", s.name()),
                        "lower",
                        CurveSpec::deletion(s, step),
                    ));
                }
            }
            Metric::Insertion => specs.push((
                format!("insertion-auc[{}]", opts.insertion.name()),
                "higher",
                CurveSpec::insertion(opts.insertion.clone(), step),
            )),
            Metric::Aopc => specs.push((
                format!(
                    "aopc-morf[{}x{},{} steps]",
                    opts.region, opts.region, opts.aopc_steps
                ),
                "higher",
                CurveSpec {
                    region: opts.region,
                    cuts: Cuts::First(opts.aopc_steps),
                    ..CurveSpec::deletion(opts.deletion.clone(), 1)
                },
            )),
            Metric::Road => {
                let fr = Cuts::Fractions((1..10).map(|k| k as f64 / 10.0).collect());
                specs.push((
                    "road-morf-auc".into(),
                    "lower",
                    CurveSpec {
                        cuts: fr.clone(),
                        ..CurveSpec::deletion(Substrate::Road { seed: opts.seed }, 1)
                    },
                ));
                specs.push((
                    "road-lerf-auc".into(),
                    "higher",
                    CurveSpec {
                        order: Order::LeastRelevant,
                        cuts: fr,
                        ..CurveSpec::deletion(Substrate::Road { seed: opts.seed }, 1)
                    },
                ));
            }
            _ => {}
        }
    }
    let mut bench = Bench::default();
    let zero_maps = Tensor::<T>::zeros(&[n, h, w]);
    let run_curves =
        |bench: &mut Bench, name: &str, maps: &Tensor<T>, random: bool| -> Result<()> {
            for (metric, better, spec) in &specs {
                let mut spec = spec.clone();
                if random {
                    if spec.order == Order::LeastRelevant {
                        continue; // LeRF of a random order is the same random order
                    }
                    spec.order = Order::Random(opts.seed);
                }
                let cs = curves(model, x, maps, &targets, &spec)?;
                let v: Vec<f64> = cs
                    .iter()
                    .map(|c| {
                        if metric.starts_with("aopc") {
                            c.aopc()
                        } else {
                            c.auc()
                        }
                    })
                    .collect();
                bench.rows.push(Row::of(name, metric.as_str(), better, &v));
                if spec.direction == Direction::Deletion || spec.direction == Direction::Insertion {
                    let len = cs[0].scores.len();
                    if cs.iter().all(|c| c.scores.len() == len) {
                        let mean = (0..len)
                            .map(|j| cs.iter().map(|c| c.scores[j]).sum::<f64>() / n as f64)
                            .collect();
                        bench.curves.push(MeanCurve {
                            method: name.into(),
                            metric: metric.clone(),
                            fractions: cs[0].fractions.clone(),
                            scores: mean,
                        });
                    }
                }
            }
            Ok(())
        };
    if !specs.is_empty() {
        run_curves(&mut bench, "random", &zero_maps, true)?;
    }
    let costly = n.min(opts.costly_n.max(1));
    let xs = x.slice_rows(0, costly)?;
    // the perturbations and the score changes they cause are shared by every method
    let mut probes = Vec::new();
    if metrics.contains(&Metric::Infidelity) {
        let side = (h.min(w) / 4).max(1);
        for (metric, kind, rescale) in [
            (
                format!("infidelity-captum[gauss {}]", opts.noise),
                Perturbation::Gaussian(opts.noise),
                false,
            ),
            (
                format!("infidelity-yeh[square {side}]"),
                Perturbation::Square(side),
                true,
            ),
        ] {
            let p = perturbations(x, kind, opts.perturb_samples, opts.seed)?;
            probes.push((metric, Probe::new(model, x, &targets, p)?, rescale));
        }
    }
    let ball = uniform_ball(&xs, opts.radius, opts.perturb_samples, opts.seed)?;
    for (name, method) in &built {
        let maps = T::run(method.as_ref(), model, x, &targets)?.map;
        run_curves(&mut bench, name, &maps, false)?;
        let costly_ok = opts
            .costly_methods
            .as_ref()
            .is_none_or(|l| l.iter().any(|c| c == name));
        for m in metrics {
            match m {
                Metric::Sensitivity | Metric::Sanity if !costly_ok => {}
                Metric::Infidelity => {
                    let full = input_shaped(&maps, x)?;
                    for (metric, probe, rescale) in &probes {
                        let v = probe.infidelity(&full, *rescale)?;
                        bench.rows.push(Row::of(name, metric.as_str(), "lower", &v));
                    }
                }
                Metric::Sensitivity => {
                    let v =
                        sensitivity_with(model, method.as_ref(), &xs, &targets[..costly], &ball)?;
                    bench.rows.push(Row::of(
                        name,
                        format!("max-sensitivity[r {}]", opts.radius),
                        "lower",
                        &v,
                    ));
                }
                Metric::Localization => {
                    let s = support.expect("checked above");
                    let (mut inside, mut hits) = (Vec::new(), Vec::new());
                    for (i, region) in s.iter().enumerate().take(n) {
                        if let Some(f) = mass_outside(&maps, i, region, h, w)? {
                            inside.push(1.0 - f);
                        }
                        if let Some(hit) = pointing_hit(&maps, i, region, h, w)? {
                            hits.push(if hit { 1.0 } else { 0.0 });
                        }
                    }
                    bench
                        .rows
                        .push(Row::of(name, "mass-on-object", "higher", &inside));
                    bench
                        .rows
                        .push(Row::of(name, "pointing-game", "higher", &hits));
                }
                Metric::Sanity => {
                    let sup = support.map(|s| &s[..costly]);
                    let stages = randomization_test(
                        model,
                        method.as_ref(),
                        &xs,
                        &targets[..costly],
                        sup,
                        Randomization::Cascading,
                        opts.seed,
                    )?;
                    let last = stages.last().expect("stages");
                    bench.rows.push(Row::of(
                        name,
                        "sanity-spearman-abs[all random]",
                        "lower",
                        &last.spearman_abs,
                    ));
                    if sup.is_some() {
                        bench.rows.push(Row::of(
                            name,
                            "sanity-spearman-abs-support[all random]",
                            "lower",
                            &last.spearman_abs_support,
                        ));
                    }
                    // the verdict is one value for the method, from the `costly` examples
                    let verdict = if fails(&stages) { 1.0 } else { 0.0 };
                    let mut r = Row::of(name, "sanity-fails", "lower", &[verdict]);
                    r.n = costly;
                    bench.rows.push(r);
                    bench.sanity.push((name.to_string(), stages));
                }
                _ => {}
            }
        }
        progress(name);
    }
    Ok(bench)
}

/// A map in the input's shape: as is when it already is, else its per-pixel values
/// (upsampled bilinearly) repeated over the channels.
pub fn input_shaped<T: Precision>(maps: &Tensor<T>, x: &Tensor<T>) -> Result<Tensor<T>> {
    if maps.shape() == x.shape() {
        return Ok(maps.clone());
    }
    let &[n, c, h, w] = x.shape() else {
        return invalid("input_shaped needs pictures [N, C, H, W]");
    };
    let mut out = Vec::with_capacity(x.len());
    for i in 0..n {
        let v = pixel_map(maps, i, h, w)?;
        for _ in 0..c {
            out.extend_from_slice(&v);
        }
    }
    Tensor::new(x.shape(), out)
}
