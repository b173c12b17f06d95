//! Our attribution beside another implementation's: "do their numbers agree with the
//! reference, and if not, which convention differs?"
//!
//! [`compare`] computes the method in float64 on the same model, inputs and targets and
//! reports the largest absolute difference, the largest difference relative to the
//! largest |attribution| (ours), Pearson's correlation over all values, and each
//! example's sum (the completeness check for IG-like methods). When they disagree, it
//! recomputes ours under the conventions other libraries use and names the one that
//! matches:
//!
//! * Integrated Gradients with another quadrature rule (Captum's `riemann_trapezoid`
//!   weights sum to (n−1)/n, so its maps are ours × (n−1)/n on a flat path);
//! * a CAM at another layer (the pre-ReLU convolution output instead of the ReLU's) or
//!   with the final ReLU on or off (Captum's `LayerGradCam` leaves it off);
//! * a map upsampled to the input and min-max scaled (pytorch-grad-cam's output);
//! * a constant factor (CAM = Grad-CAM × h·w on a GAP network; normalized maps);
//! * absolute values instead of signed ones (Captum's `Saliency` default `abs=True`);
//! * float32 arithmetic (the difference is the size of our own float32 run's error).
//!
//! Pinned by `tests/compare.rs` on committed Captum outputs, one per planted difference.

use super::attribution::{Attribution, Precision};
use super::local::integrated_gradients::PathRule;
use super::registry::{MethodOptions, Opt, build, find};
use crate::error::{Result, shape_err};
use crate::nn::{LayerSpec, Model};
use crate::profile::Profile;
use crate::tensor::image::{Interpolation, normalize, upsample};
use crate::tensor::{Tensor, fmt_shape};

/// Agreement of two attributions of the same shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Agreement {
    pub max_abs: f64,
    /// `max |ours − theirs| / max |ours|`.
    pub max_rel: f64,
    /// Pearson's correlation over all values (NaN when one side is constant).
    pub correlation: f64,
}

impl Agreement {
    pub fn of(ours: &[f64], theirs: &[f64]) -> Agreement {
        let max_abs = ours
            .iter()
            .zip(theirs)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        let scale = ours.iter().fold(0.0f64, |m, a| m.max(a.abs()));
        let n = ours.len().max(1) as f64;
        let (ma, mb) = (ours.iter().sum::<f64>() / n, theirs.iter().sum::<f64>() / n);
        let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
        for (a, b) in ours.iter().zip(theirs) {
            sab += (a - ma) * (b - mb);
            saa += (a - ma) * (a - ma);
            sbb += (b - mb) * (b - mb);
        }
        Agreement {
            max_abs,
            max_rel: if scale > 0.0 {
                max_abs / scale
            } else {
                max_abs
            },
            correlation: sab / (saa * sbb).sqrt(),
        }
    }
}

/// The result of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub agreement: Agreement,
    /// Each example's sum of attributions: ours, theirs.
    pub sums: Vec<(f64, f64)>,
    /// Known convention differences that explain the disagreement, best first.
    pub diagnoses: Vec<String>,
}

/// Below this relative difference the two agree (float64 against float64).
pub const AGREE: f64 = 1e-6;

/// What to compare: the model (in float64), inputs, targets, and the method as run.
pub struct Subject<'a> {
    pub model: &'a Model<f64>,
    pub x: &'a Tensor<f64>,
    pub targets: &'a [usize],
    pub method: &'a str,
    pub options: &'a MethodOptions,
}

fn run(s: &Subject, method: &str, o: &MethodOptions) -> Result<Attribution<f64>> {
    let m = build(method, o, &s.model.arch)?;
    f64::run(m.as_ref(), s.model, s.x, s.targets)
}

fn sums(t: &Tensor<f64>) -> Vec<f64> {
    let n = t.shape().first().copied().unwrap_or(1).max(1);
    t.data()
        .chunks((t.len() / n).max(1))
        .map(|c| c.iter().sum())
        .collect()
}

/// Compares our attribution with `theirs` and diagnoses a disagreement.
pub fn compare(s: &Subject, theirs: &Tensor<f64>) -> Result<Comparison> {
    let ours = run(s, s.method, s.options)?.map;
    let mut diagnoses = Vec::new();
    let (ours_cmp, theirs_cmp) = if ours.shape() == theirs.shape() {
        (ours.clone(), theirs.clone())
    } else if ours.len() == theirs.len() {
        diagnoses.push(format!(
            "shapes differ ({} ours, {} theirs) but the sizes match; compared value by value",
            fmt_shape(ours.shape()),
            fmt_shape(theirs.shape())
        ));
        (ours.clone(), theirs.clone().reshape(ours.shape())?)
    } else if let Some(d) = upsampled_scaled(&ours, theirs)? {
        // their map lives at the input's resolution: compare ours brought there
        diagnoses.push(d.0);
        (d.1, theirs.clone())
    } else {
        return shape_err(format!(
            "our {} attribution is {} but theirs is {}; pass the key of a tensor with the same layout",
            s.method,
            fmt_shape(ours.shape()),
            fmt_shape(theirs.shape())
        ));
    };
    let agreement = Agreement::of(ours_cmp.data(), theirs_cmp.data());
    let sums = sums(&ours_cmp).into_iter().zip(sums(&theirs_cmp)).collect();
    if agreement.max_rel > AGREE {
        diagnoses.extend(diagnose(s, &ours_cmp, &theirs_cmp)?);
    }
    // not bit-for-bit float64, and no convention explains it: float32 arithmetic?
    if diagnoses.is_empty() && agreement.max_rel > 1e-12 {
        diagnoses.extend(float32(s, &ours_cmp, agreement.max_rel)?);
    }
    Ok(Comparison {
        agreement,
        sums,
        diagnoses,
    })
}

/// If `theirs` is `[N, H, W]` at the input's size and ours `[N, h, w]`: ours upsampled
/// (bilinear) and min-max scaled per example, when that matches.
fn upsampled_scaled(
    ours: &Tensor<f64>,
    theirs: &Tensor<f64>,
) -> Result<Option<(String, Tensor<f64>)>> {
    let (&[n, _, _], &[m, hh, ww]) = (ours.shape(), theirs.shape()) else {
        return Ok(None);
    };
    if n != m {
        return Ok(None);
    }
    let up = upsample(ours, hh, ww, Interpolation::Bilinear)?;
    let scaled = normalize(&up)?;
    let a = Agreement::of(scaled.data(), theirs.data());
    Ok(Some(if a.max_rel < 1e-3 {
        (
            format!(
                "theirs is our map upsampled to {hh}×{ww} (bilinear) and min-max scaled to [0, 1] per example, as pytorch-grad-cam returns it (max difference {:.1e}); compare raw maps for a tighter check",
                a.max_abs
            ),
            scaled,
        )
    } else {
        (
            format!(
                "theirs is {hh}×{ww}, ours {}; compared after bilinear upsampling",
                fmt_shape(ours.shape())
            ),
            up,
        )
    }))
}

fn matches(ours: &Tensor<f64>, theirs: &Tensor<f64>, tol: f64) -> bool {
    ours.shape() == theirs.shape() && Agreement::of(ours.data(), theirs.data()).max_rel < tol
}

/// The known convention differences, each tried by recomputing ours.
fn diagnose(s: &Subject, ours: &Tensor<f64>, theirs: &Tensor<f64>) -> Result<Vec<String>> {
    let mut found = Vec::new();
    let tol = 1e-5;
    // a constant factor (or a sign)
    let (dot, norm) = ours
        .data()
        .iter()
        .zip(theirs.data())
        .fold((0.0, 0.0), |(d, n), (a, b)| (d + a * b, n + a * a));
    if norm > 0.0 {
        let c = dot / norm;
        if (c - 1.0).abs() > 1e-3 && matches(&ours.map(|v| v * c), theirs, tol) {
            // a CAM's factor h·w: Grad-CAM averages the gradient, CAM weighs by the head
            let hw = match ours.shape() {
                &[_, h, w] => (h * w) as f64,
                _ => f64::NAN,
            };
            let hint = if (c * hw - 1.0).abs() < 1e-6 {
                " = 1/(h·w): Grad-CAM's gradient mean vs CAM's head weights on a GAP network"
            } else if (c / hw - 1.0).abs() < 1e-6 {
                " = h·w: CAM's head weights vs Grad-CAM's gradient mean on a GAP network"
            } else {
                ""
            };
            found.push(format!("theirs = ours × {c:.6}{hint}"));
        }
    }
    if matches(&ours.map(f64::abs), theirs, tol) {
        found.push(
            "theirs is the absolute value of ours (Captum's Saliency abs=True; use --abs)".into(),
        );
    }
    match s.method {
        "integrated-gradients" => {
            for rule in PathRule::ALL {
                if s.options.rule == Some(rule) {
                    continue;
                }
                let o = MethodOptions {
                    rule: Some(rule),
                    ..s.options.clone()
                };
                if matches(&run(s, s.method, &o)?.map, theirs, tol) {
                    let why = if rule == PathRule::CaptumTrapezoid {
                        ": Captum's riemann_trapezoid, whose weights sum to (n−1)/n"
                    } else {
                        ""
                    };
                    found.push(format!(
                        "theirs matches ours with --rule {}{why}",
                        rule.name()
                    ));
                }
            }
        }
        m if find(m)?.options.contains(&Opt::Layer) => {
            let layers: Vec<String> = s
                .model
                .arch
                .layers
                .iter()
                .filter(|l| {
                    matches!(
                        l,
                        LayerSpec::Conv2d { .. }
                            | LayerSpec::Relu { .. }
                            | LayerSpec::MaxPool2d { .. }
                    )
                })
                .map(|l| l.name().to_string())
                .collect();
            let reads_relu = find(m)?.options.contains(&Opt::NoRelu);
            let current = s
                .options
                .layer
                .clone()
                .or_else(|| Profile::of(&s.model.arch).cam_layer);
            for layer in layers {
                for no_relu in [false, true] {
                    if (Some(&layer) == current.as_ref() && no_relu == s.options.no_relu)
                        || (no_relu && !reads_relu)
                    {
                        continue;
                    }
                    let o = MethodOptions {
                        layer: Some(layer.clone()),
                        no_relu,
                        ..s.options.clone()
                    };
                    let Ok(a) = run(s, m, &o) else { continue };
                    if matches(&a.map, theirs, tol) {
                        found.push(format!(
                            "theirs matches ours with --layer {layer}{}",
                            if no_relu && !s.options.no_relu {
                                " --no-relu (the final ReLU off: Captum's LayerGradCam default, relu_attributions=False)"
                            } else if !no_relu && s.options.no_relu {
                                " with the final ReLU on (pytorch-grad-cam always applies it)"
                            } else {
                                ""
                            }
                        ));
                    }
                }
            }
        }
        _ => {}
    }
    Ok(found)
}

/// Their error is the size of our own float32 run's (within 10×): they computed in float32.
fn float32(s: &Subject, ours: &Tensor<f64>, theirs_err: f64) -> Result<Option<String>> {
    let m32 = s.model.cast::<f32>();
    let method = build(s.method, s.options, &s.model.arch)?;
    let Ok(a32) = f32::run(method.as_ref(), &m32, &s.x.cast(), s.targets) else {
        return Ok(None);
    };
    let a32 = a32.map.cast::<f64>();
    if a32.shape() != ours.shape() {
        return Ok(None);
    }
    let own = Agreement::of(ours.data(), a32.data()).max_rel;
    Ok((theirs_err <= 10.0 * own.max(1e-7)).then(|| {
        format!(
            "theirs looks computed in float32: its difference ({theirs_err:.1e} relative) is the size of our own float32 run's ({own:.1e}); use --dtype f64 on their side for a tight check"
        )
    }))
}
