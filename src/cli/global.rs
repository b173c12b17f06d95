//! `lamppost visualize|attack|distil`: what a filter or a class looks like to the
//! network, how small a change flips it, and how big a tree must be to mimic it.

use super::explain::model_data;
use super::results::{Tensors, provenance, write};
use super::{AttackArgs, DistilArgs, VisualizeArgs};
use crate::data::source::load;
use crate::error::{Error, Result};
use crate::explain::global::ascent::{
    AscentConfig, Regularizers, Space, Target, layer_channels, visualize as ascend,
};
use crate::explain::global::attack::Attack;
use crate::fit::progress_bar;
use crate::io::Outputs;
use crate::io::safetensors_file::{FileDtype, model_from_bytes, read_bounded};
use crate::nn::Model;
use crate::nn::vae::Vae;
use crate::profile::Profile;
use crate::report::global::{
    attack_section, class_captions, class_means, distil_section, filter_grid_svg, judge,
    picture_row,
};
use crate::tensor::Tensor;
use crate::viz::report::{Report, esc};
use crate::viz::tiles::tiles_svg;
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

/// Writes the results folder, its tensors as float32.
fn write_f32(
    outputs: &Outputs,
    out: &Path,
    page: Report,
    csv: String,
    tensors: &[(String, Tensor<f32>)],
    meta: HashMap<String, String>,
    start: Instant,
) -> Result<()> {
    let dtype = FileDtype::F32;
    write(
        outputs,
        out,
        page,
        csv,
        Tensors {
            tensors,
            meta,
            dtype,
        },
        start,
    )
}

/// A classifier, its metadata and its file's bytes (for the provenance's fingerprint).
type Loaded = (Model<f32>, HashMap<String, String>, Vec<u8>);

fn load_classifier(path: &Path) -> Result<Loaded> {
    let bytes = read_bounded(path)?;
    let (model, meta) = model_from_bytes::<f32>(&bytes, path)?;
    if model.arch.is_vae() {
        return Err(Error::Invalid(format!(
            "{}: this is a VAE; give a classifier as --model and the VAE as --generator",
            path.display()
        )));
    }
    Ok((model, meta, bytes))
}

pub fn visualize(args: &VisualizeArgs) -> Result<()> {
    let kind = args.kind.as_str();
    if !["filter", "class", "generator"].contains(&kind) {
        return Err(Error::Invalid(format!(
            "unknown visualization '{kind}'; use filter, class or generator"
        )));
    }
    super::refuse_unread(
        kind,
        &[
            ("--layer", args.layer.is_some(), &["filter"]),
            ("--channels", args.channels.is_some(), &["filter"]),
            ("--classes", args.classes.is_some(), &["class", "generator"]),
            ("--generator", args.generator.is_some(), &["generator"]),
            ("--mu", args.mu.is_some(), &["generator"]),
            ("--judge", args.judge.is_some(), &["class", "generator"]),
            ("--blur", args.blur.is_some(), &["filter", "class"]),
        ],
    )?;
    if kind == "generator" && args.generator.is_none() {
        return Err(Error::Invalid(
            "generator needs --generator VAE_FILE (train one with `lamppost train mnist-vae`)"
                .into(),
        ));
    }
    let outputs = Outputs::folder(&args.io.out, args.io.force, "--out")?;
    let (model, meta, bytes) = load_classifier(&args.model)?;
    let profile = Profile::of(&model.arch);
    let vae = match &args.generator {
        Some(p) => {
            let (m, _) = model_from_bytes::<f32>(&read_bounded(p)?, p)?;
            Some(Vae::from_model(&m).map_err(|e| Error::Invalid(format!("{}: {e}", p.display())))?)
        }
        None => None,
    };
    let judge_model = match &args.judge {
        Some(p) => Some(load_classifier(p)?.0),
        None => None,
    };
    let cfg = AscentConfig {
        steps: args.steps,
        lr: args.lr,
        seed: args.seed,
        pixel_affine: profile.pixels.from_unit_affine(),
        reg: Regularizers {
            l1: args.l1.unwrap_or(0.0),
            l2: args.l2.unwrap_or(0.0),
            tv: args.tv.unwrap_or(0.0),
            jitter: args.jitter.unwrap_or(0),
            blur_sigma: args.blur.unwrap_or(0.0),
            blur_every: args.blur_every.unwrap_or(0),
        },
        ..AscentConfig::default()
    };
    let arch = &model.arch;
    let (targets, ids, layer): (Vec<Target>, Vec<usize>, String) = if kind == "filter" {
        // default: the last convolution before its ReLU (after it, a channel that is
        // off at the start has no gradient to climb)
        let layer = match &args.layer {
            Some(l) => l.clone(),
            None => profile
                .cam_layer(arch)?
                .trim_end_matches(".relu")
                .to_string(),
        };
        let channels = match &args.channels {
            Some(c) => c.clone(),
            None => (0..layer_channels(&model, &layer)?).collect(),
        };
        let t = channels
            .iter()
            .map(|&c| Target::Channel {
                layer: layer.clone(),
                channel: c,
            })
            .collect();
        (t, channels, layer)
    } else {
        let classes = args
            .classes
            .clone()
            .unwrap_or_else(|| (0..arch.num_classes()).collect());
        (
            classes.iter().map(|&c| Target::Logit(c)).collect(),
            classes,
            "logits".into(),
        )
    };
    let space = match &vae {
        Some(g) => Space::Generator {
            decoder: &g.decoder,
            sigmoid: true,
            mu: args.mu.unwrap_or(1.0),
        },
        None => Space::Sigmoid,
    };
    // the class means need the data; loaded before the ascent so a missing data set
    // fails first
    let (spec, split) = model_data(&model, &meta, args.io.data.as_deref());
    let means = if kind == "filter" {
        None
    } else {
        let data = load(&spec, &args.io.cache, split)?;
        Some(class_means(&data.train, profile.to_unit()))
    };
    let start = Instant::now();
    let pb = progress_bar(cfg.steps as u64, &format!("{kind} pictures"));
    let v = ascend(&model, &targets, space, &cfg, |s| pb.set_position(s as u64))?;
    pb.finish_and_clear();
    let name = arch.name.clone();
    let mut page = Report::new(&format!("What does {name} look for? ({kind})"));
    let classes = kind != "filter";
    let judged = judge(&v, &ids, classes, judge_model.as_ref(), means.as_deref())?;
    if kind == "filter" {
        page.svg_figure(
            "filters.svg",
            filter_grid_svg(&name, &layer, &v, &ids)?,
            &format!(
                "Each picture maximizes the mean activation of one channel of {} ({} Adam steps, seed {}); the number is \
                 the activation reached.",
                esc(&layer),
                cfg.steps,
                cfg.seed
            ),
        );
    } else {
        let class_names: Vec<String> = ids.iter().map(|&c| arch.classes[c].clone()).collect();
        let caps = class_captions(&judged, &arch.classes);
        let row = picture_row(kind, &v.images, &caps)?;
        page.svg_figure(
            "classes.svg",
            tiles_svg(
                &format!("{name}: the picture that maximizes each class's logit"),
                &class_names.iter().map(|c| format!("class {c}")).collect::<Vec<_>>(),
                &[row],
            )?,
            "Above each picture: the model's own softmax confidence for the class → the class the independent model \
             gives it (with --judge). results.csv adds the judge's confidence and the class whose mean training picture \
             correlates best with each picture.",
        );
    }
    let mut csv = String::from(
        "target,value,confidence,judge_class,judge_confidence,closest_class_mean,l1,ink_fraction,total_variation\n",
    );
    for (i, j) in judged.iter().enumerate() {
        let opt = |v: Option<String>| v.unwrap_or_default();
        csv += &format!(
            "{},{:.6},{},{},{},{},{:.4},{:.4},{:.4}\n",
            if classes {
                format!("class {}", ids[i])
            } else {
                format!("{layer}[{}]", ids[i])
            },
            v.values[i],
            opt(j.confidence.map(|c| format!("{c:.6}"))),
            opt(j.judge.map(|(c, _)| c.to_string())),
            opt(j.judge.map(|(_, p)| format!("{p:.6}"))),
            opt(j.best_mean.map(|c| c.to_string())),
            j.l1,
            j.ink,
            j.tv
        );
    }
    let mut tensors: Vec<(String, Tensor<f32>)> = vec![
        ("images".into(), v.images.clone()),
        ("values".into(), Tensor::from_f64(&[ids.len()], &v.values)?),
        ("logits".into(), v.logits.clone()),
        (
            "objective".into(),
            Tensor::from_f64(&[v.trace.len()], &v.trace)?,
        ),
    ];
    if let Some(z) = &v.latents {
        tensors.push(("latents".into(), z.clone()));
    }
    let r = &cfg.reg;
    let meta = provenance(
        kind,
        &args.model,
        &bytes,
        &name,
        &spec.describe(),
        vec![
            ("layer", layer),
            (
                "targets",
                ids.iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            (
                "settings",
                format!(
                    "steps={} lr={} seed={} l1={} l2={} tv={} jitter={} blur={} blur_every={} mu={}",
                    cfg.steps,
                    cfg.lr,
                    cfg.seed,
                    r.l1,
                    r.l2,
                    r.tv,
                    r.jitter,
                    r.blur_sigma,
                    r.blur_every,
                    args.mu.unwrap_or(1.0)
                ),
            ),
            (
                "generator",
                args.generator
                    .as_ref()
                    .map_or(String::new(), |p| p.display().to_string()),
            ),
        ],
    );
    write_f32(&outputs, &args.io.out, page, csv, &tensors, meta, start)
}

pub fn attack(args: &AttackArgs) -> Result<()> {
    let how = match args.method.as_str() {
        "fgsm" => Attack::Fgsm,
        "pgd" => Attack::Pgd {
            steps: args.steps.unwrap_or(40),
            alpha: args.alpha,
            seed: args.seed,
        },
        other => {
            return Err(Error::Invalid(format!(
                "unknown attack '{other}'; use fgsm or pgd"
            )));
        }
    };
    super::refuse_unread(
        &args.method,
        &[
            ("--steps", args.steps.is_some(), &["pgd"]),
            ("--alpha", args.alpha.is_some(), &["pgd"]),
        ],
    )?;
    let eps = args
        .eps
        .clone()
        .unwrap_or_else(|| vec![0.05, 0.1, 0.15, 0.2, 0.3]);
    if eps.is_empty() || eps.iter().any(|&e| e > 1.0) {
        return Err(Error::Invalid(
            "--eps: give radii between 0 and 1 (pixel scale), such as 0.05,0.1,0.2".into(),
        ));
    }
    let outputs = Outputs::folder(&args.io.out, args.io.force, "--out")?;
    let (model, meta, bytes) = load_classifier(&args.model)?;
    if !Profile::of(&model.arch).takes_pictures() {
        return Err(Error::Invalid(format!(
            "'{}' does not read pictures; attacks here are on pixels",
            model.arch.name
        )));
    }
    let (spec, split) = model_data(&model, &meta, args.io.data.as_deref());
    let data = load(&spec, &args.io.cache, split)?;
    let n = args.n.min(data.test.len());
    let test = data.test.subset(&(0..n).collect::<Vec<_>>())?;
    let start = Instant::now();
    let name = model.arch.name.clone();
    let mut page = Report::new(&format!("Adversarial images ({name}, {})", how.name()));
    let curve = attack_section(&mut page, &name, &model, &test, &eps, &[how], args.show)?;
    let mut csv = format!("eps,accuracy_{}\n", how.name());
    for (e, row) in eps.iter().zip(&curve) {
        csv += &format!("{e},{:.6}\n", row[0]);
    }
    let acc: Vec<f64> = curve.iter().map(|r| r[0]).collect();
    let tensors = vec![
        (
            "eps".to_string(),
            Tensor::<f32>::from_f64(&[eps.len()], &eps)?,
        ),
        (
            "accuracy".to_string(),
            Tensor::from_f64(&[acc.len()], &acc)?,
        ),
    ];
    let meta = provenance(
        how.name(),
        &args.model,
        &bytes,
        &name,
        &spec.describe(),
        vec![("n", n.to_string()), ("attack", format!("{how:?}"))],
    );
    write_f32(&outputs, &args.io.out, page, csv, &tensors, meta, start)
}

pub fn distil(args: &DistilArgs) -> Result<()> {
    let outputs = Outputs::folder(&args.io.out, args.io.force, "--out")?;
    let (model, meta, bytes) = load_classifier(&args.model)?;
    let (spec, split) = model_data(&model, &meta, args.io.data.as_deref());
    let data = load(&spec, &args.io.cache, split)?;
    let train = data.train.first(args.train_n)?;
    let test = data.test.first(args.n)?;
    let start = Instant::now();
    let name = model.arch.name.clone();
    let mut page = Report::new(&format!("A tree that mimics {name}"));
    let rows = distil_section(&mut page, &name, &model, &train, &test, args.max_depth)?;
    let mut csv = String::from("depth,leaves,apl,fidelity_train,fidelity_test,accuracy_test\n");
    for r in &rows {
        csv += &format!(
            "{},{},{:.4},{:.6},{:.6},{:.6}\n",
            r.depth, r.leaves, r.apl, r.fidelity_train, r.fidelity_test, r.accuracy_test
        );
    }
    let col = |f: fn(&crate::explain::surrogate::distil::DistilRow) -> f64| {
        Tensor::<f32>::from_f64(&[rows.len()], &rows.iter().map(f).collect::<Vec<_>>())
    };
    let tensors = vec![
        ("fidelity_test".to_string(), col(|r| r.fidelity_test)?),
        ("accuracy_test".to_string(), col(|r| r.accuracy_test)?),
        ("apl".to_string(), col(|r| r.apl)?),
        ("leaves".to_string(), col(|r| r.leaves as f64)?),
    ];
    let meta = provenance(
        "distil",
        &args.model,
        &bytes,
        &name,
        &spec.describe(),
        vec![
            ("train_n", train.len().to_string()),
            ("n", test.len().to_string()),
            ("max_depth", args.max_depth.to_string()),
        ],
    );
    write_f32(&outputs, &args.io.out, page, csv, &tensors, meta, start)
}
