//! `lamppost explain <method>`: attributions for one or more inputs, as safetensors
//! (with provenance in the metadata) and pictures. The inputs and option parsing here are
//! shared with `lamppost compare`.

use super::{ExplainArgs, InputArgs, MethodArgs, Pictures};
use crate::data::folder::load_image_sized;
use crate::data::mnist;
use crate::data::source::{DataSpec, load};
use crate::error::{Error, Result};
use crate::explain::attribution::Precision;
use crate::explain::local::integrated_gradients::{Baseline, PathRule};
use crate::explain::local::lime::{Segmenter, Selection, segment_counts};
use crate::explain::local::lime_tabular::FeatureStats;
use crate::explain::registry::{MethodOptions, build};
use crate::fit::Provenance;
use crate::io::safetensors_file::{model_from_bytes, read_bounded, serialize};
use crate::io::{FileDtype, Outputs, read_named, stable_hash};
use crate::nn::Model;
use crate::profile::{InputKind, Profile};
use crate::tensor::Tensor;
use crate::viz::grid::image_grid;
use crate::viz::heatmap::pictures as heatmap_pictures;
use crate::viz::map_grid::map_grid;
use crate::viz::plot::bar_chart;
use crate::viz::png_bytes;
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Parses `zero`, `constant:V`, `blur:R`, `noise[:SEED]`.
pub fn parse_baseline(s: &str) -> Result<Baseline> {
    let (kind, arg) = s.split_once(':').unwrap_or((s, ""));
    let bad = |what: &str| Error::Invalid(format!("--baseline {s}: '{arg}' is not {what}"));
    let whole = |what: &str, min: u64| {
        arg.trim()
            .parse::<u64>()
            .ok()
            .filter(|&v| v >= min)
            .ok_or_else(|| bad(what))
    };
    Ok(match kind {
        "zero" => Baseline::Zero,
        "constant" => Baseline::Constant(
            arg.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad("a finite number"))?,
        ),
        "blur" => {
            Baseline::Blurred(whole("a blur radius (a whole number of pixels ≥ 1)", 1)? as usize)
        }
        "noise" => Baseline::UniformNoise {
            lo: -1.0,
            hi: 1.0,
            seed: if arg.is_empty() {
                0
            } else {
                whole("a seed (a whole number ≥ 0)", 0)?
            },
        },
        _ => {
            return Err(Error::Invalid(format!(
                "unknown baseline '{s}': use zero, constant:V, blur:R or noise[:SEED]"
            )));
        }
    })
}

/// Parses a window or stride: `4` (spatial, one channel), `4,4` or `1,4,4`.
pub fn parse_triple(s: &str, what: &str) -> Result<[usize; 3]> {
    let v: Vec<usize> = s
        .split(',')
        .map(|p| p.trim().parse::<usize>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| {
            Error::Invalid(format!(
                "--{what} '{s}': expected whole numbers like 4 or 1,4,4"
            ))
        })?;
    Ok(match v.as_slice() {
        [k] => [1, *k, *k],
        [a, b] => [1, *a, *b],
        [c, a, b] => [*c, *a, *b],
        _ => {
            return Err(Error::Invalid(format!(
                "--{what} '{s}': give 1 to 3 numbers"
            )));
        }
    })
}

/// The tensor named `x` of a safetensors file.
fn tensor_x<T: Float>(p: &Path) -> Result<Tensor<T>> {
    read_named(p, "x", "save the batch under the key 'x'")
}

use crate::float::Float;

impl MethodArgs {
    /// The typed options; unset ones stay unset (the method's defaults apply).
    pub fn to_options(&self) -> Result<MethodOptions> {
        Ok(MethodOptions {
            steps: self.steps,
            rule: self.rule.as_deref().map(PathRule::parse).transpose()?,
            baseline: self.baseline.as_deref().map(parse_baseline).transpose()?,
            layer: self.layer.clone(),
            window: self
                .window
                .as_deref()
                .map(|w| parse_triple(w, "window"))
                .transpose()?,
            stride: self
                .stride
                .as_deref()
                .map(|w| parse_triple(w, "stride"))
                .transpose()?,
            fill: self.fill,
            samples: self.samples,
            sigma: self.sigma,
            seed: self.seed,
            abs: self.abs,
            selection: self
                .selection
                .as_deref()
                .map(Selection::parse)
                .transpose()?,
            segmenter: self
                .segmenter
                .as_deref()
                .map(Segmenter::parse)
                .transpose()?,
            num_features: self.num_features,
            background: match &self.background {
                Some(p) => Some(FeatureStats::from_rows(&tensor_x::<f64>(p)?)?),
                None => None,
            },
            no_relu: self.no_relu,
            cells: self.cells,
            keep: self.keep,
        })
    }
}

/// A loaded model (read from disk once), its file's metadata and fingerprint.
pub struct LoadedModel<T> {
    pub model: Model<T>,
    pub meta: HashMap<String, String>,
    pub path: PathBuf,
    pub fnv1a64: String,
}

/// The data a model's examples come from: `--data` if given, else the data recorded in
/// the model file's provenance (folder or synthetic set, and its split seed), else the
/// architecture's default. Says on stderr which one is used.
pub fn model_data(
    model: &Model<impl Float>,
    meta: &HashMap<String, String>,
    data: Option<&Path>,
) -> (DataSpec, u64) {
    let profile = Profile::of(&model.arch);
    let recorded = Provenance::data_of(meta);
    let (spec, split, why) = match (data, recorded) {
        (Some(d), rec) => (
            profile.data_spec(Some(d), 1000, false),
            rec.map_or(0, |r| r.1),
            "--data",
        ),
        (None, Some((spec, split))) => (spec, split, "recorded in the model file"),
        (None, None) => (
            profile.data_spec(None, 1000, false),
            0,
            "the architecture's default; the model file records none",
        ),
    };
    eprintln!("data: {} ({why})", spec.describe());
    (spec, split)
}

impl InputArgs {
    /// Reads the model file once: the model at precision `T` and the file's hash.
    pub fn model<T: Float>(&self) -> Result<LoadedModel<T>> {
        let bytes = read_bounded(&self.model)?;
        let (model, meta) = model_from_bytes::<T>(&bytes, &self.model)?;
        Ok(LoadedModel {
            model,
            meta,
            path: self.model.clone(),
            fnv1a64: format!("{:016x}", stable_hash(&bytes)),
        })
    }

    /// Checks the combination of input options before any work: exactly one source,
    /// and `--data` only with `--index`.
    pub fn check(&self) -> Result<()> {
        let given = [
            self.input.is_some(),
            self.image.is_some(),
            self.index.is_some(),
        ];
        if !given.contains(&true) {
            return Err(Error::Invalid(
                "give the inputs with --input X.safetensors, --image FILE.png or --index N".into(),
            ));
        }
        if self.data.is_some() && self.index.is_none() {
            return Err(Error::Invalid(
                "--data picks the dataset --index reads from; with --input or --image it would be ignored, so drop it"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The batch to explain, at the model's precision.
    pub fn batch<T: Float>(&self, loaded: &LoadedModel<T>) -> Result<Tensor<T>> {
        let model = &loaded.model;
        let profile = Profile::of(&model.arch);
        Ok(match (&self.input, &self.image, self.index) {
            (Some(p), _, _) => tensor_x::<T>(p)?,
            (_, Some(p), _) => image_input(p, &profile, self.invert)?.cast(),
            (_, _, Some(index)) => {
                let (spec, split) = model_data(model, &loaded.meta, self.data.as_deref());
                let d = load(&spec, &self.cache, split)?;
                if index >= d.test.len() {
                    return Err(Error::Invalid(format!(
                        "--index {index} out of range: the test set has {} examples",
                        d.test.len()
                    )));
                }
                d.test.x.select_rows(&[index])?.cast()
            }
            _ => {
                return Err(Error::Invalid(
                    "give the inputs with --input X.safetensors, --image FILE.png or --index N"
                        .into(),
                ));
            }
        })
    }

    /// The target of each example: `--target` (one class, or one per example), else the
    /// predicted class (`predicted` is called only then).
    pub fn targets(
        &self,
        n: usize,
        classes: usize,
        predicted: impl FnOnce() -> Result<Vec<usize>>,
    ) -> Result<Vec<usize>> {
        let Some(spec) = &self.target else {
            return predicted();
        };
        let list: Vec<usize> = spec
            .split(',')
            .map(|p| p.trim().parse::<usize>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| {
                Error::Invalid(format!(
                    "--target '{spec}': expected a class number (3) or one per example (3,1,7)"
                ))
            })?;
        if let Some(&t) = list.iter().find(|&&t| t >= classes) {
            return Err(Error::Invalid(format!(
                "--target {t} out of range: the model has {classes} classes (0 to {})",
                classes - 1
            )));
        }
        match list.len() {
            1 => Ok(vec![list[0]; n]),
            m if m == n => Ok(list),
            m => Err(Error::Invalid(format!(
                "--target lists {m} classes for {n} examples: give one class, or exactly one per example"
            ))),
        }
    }
}

/// One picture as a model input: RGB 64×64 in [0, 1] for Pokémon/Digimon models,
/// else grayscale 28×28 with MNIST's normalization (white digit on black, like MNIST;
/// `invert` turns a dark digit on paper into that). Says on stderr what was done to the
/// picture: its size, the resize and any aspect change, and warns about pictures that
/// look unlike the model's data.
fn image_input(p: &Path, profile: &Profile, invert: bool) -> Result<Tensor<f32>> {
    let (channels, side) = match profile.input {
        InputKind::Image {
            channels, height, ..
        } => (channels, height),
        InputKind::Sequence { steps, features } if steps == features => (1, steps),
        _ => {
            return Err(Error::Invalid(
                "--image: this model does not read pictures; give its inputs with --input X.safetensors"
                    .into(),
            ));
        }
    };
    let (t, w0, h0) = load_image_sized(p, side)?;
    let aspect = w0 as f64 / h0 as f64;
    let mut note = format!(
        "{}: {w0} × {h0} pixels, resized to {side} × {side}",
        p.display()
    );
    if (aspect - 1.0).abs() > 0.05 {
        note +=
            &format!(" (aspect ratio {aspect:.2} squeezed to 1: crop it square to keep shapes)");
    }
    if channels == 1 {
        note += ", converted to grey";
    }
    if invert {
        note += ", inverted";
    }
    eprintln!("{note}");
    if w0.max(h0) as usize > 16 * side || (w0.min(h0) as usize) < side / 2 {
        eprintln!(
            "warning: the picture is far from the model's {side} × {side} input; details may be lost or invented by the resize"
        );
    }
    if channels == 3 {
        let mut x = t.reshape(&[1, 3, side, side])?;
        if invert {
            x = x.map(|v| 1.0 - v);
        }
        return Ok(x);
    }
    let n = side * side;
    let mut g: Vec<f32> = (0..n)
        .map(|i| (t.data()[i] + t.data()[n + i] + t.data()[2 * n + i]) / 3.0)
        .collect();
    if invert {
        g.iter_mut().for_each(|v| *v = 1.0 - *v);
    }
    let border: Vec<f32> = (0..n)
        .filter(|i| i / side == 0 || i / side == side - 1 || i % side == 0 || i % side == side - 1)
        .map(|i| g[i])
        .collect();
    let border_mean = border.iter().sum::<f32>() / border.len().max(1) as f32;
    if border_mean > 0.5 {
        eprintln!(
            "warning: the picture's border is light ({:.0}% grey): it looks like a dark digit on paper, \
             but MNIST digits are white on black{}",
            100.0 * border_mean,
            if invert { "" } else { "; pass --invert" }
        );
    }
    Tensor::new(
        &[1, 1, side, side],
        g.iter()
            .map(|&v| mnist::normalize((v * 255.0).round() as u8))
            .collect(),
    )
}

/// `f32` or `f64`.
pub fn parse_dtype(s: &str) -> Result<FileDtype> {
    match s {
        "f32" | "float32" => Ok(FileDtype::F32),
        "f64" | "float64" => Ok(FileDtype::F64),
        _ => Err(Error::Invalid(format!("--dtype '{s}': use f32 or f64"))),
    }
}

pub fn explain(args: &ExplainArgs) -> Result<()> {
    // everything that can be checked before any work
    let dtype = parse_dtype(&args.dtype)?;
    let opts = args.options.to_options()?;
    args.input.check()?;
    match dtype {
        FileDtype::F32 => explain_as::<f32>(args, &opts, dtype),
        FileDtype::F64 => explain_as::<f64>(args, &opts, dtype),
    }
}

fn explain_as<T: Precision>(
    args: &ExplainArgs,
    opts: &MethodOptions,
    dtype: FileDtype,
) -> Result<()> {
    let (method, out, force) = (args.method.as_str(), args.out.as_path(), args.force);
    let loaded = args.input.model::<T>()?;
    let model = &loaded.model;
    let m = build(method, opts, &model.arch)?;
    let profile = Profile::of(&model.arch);
    let images = matches!(
        profile.input,
        InputKind::Image { .. } | InputKind::Sequence { .. }
    );
    let pictures = args.pictures;
    // the fixed names now; per-example pictures once the batch size is known, still
    // before the work
    let names = picture_names(images, pictures, 0);
    Outputs::in_folder(out, &names, force, "--out")?;
    let x = args.input.batch::<T>(&loaded)?;
    if images && x.ndim() != 4 {
        return Err(Error::Invalid(format!(
            "this model reads pictures [N, C, H, W], but the inputs have shape {:?}",
            x.shape()
        )));
    }
    let n = x.shape().first().copied().unwrap_or(0);
    let names = picture_names(images, pictures, n);
    let outputs = Outputs::in_folder(out, &names, force, "--out")?;
    let mut pred = None;
    let targets = args.input.targets(n, model.arch.num_classes(), || {
        let p = model.predict(&x)?.argmax_rows()?;
        pred = Some(p.clone());
        Ok(p)
    })?;
    let a = T::run(m.as_ref(), model, &x, &targets)?;
    let meta = HashMap::from([
        ("method".to_string(), method.to_string()),
        ("options".to_string(), format!("{opts:?}")),
        ("dtype".to_string(), T::NAME.to_string()),
        ("targets".to_string(), format!("{targets:?}")),
        ("model".to_string(), loaded.path.display().to_string()),
        ("model_fnv1a64".to_string(), loaded.fnv1a64.clone()),
        ("arch".to_string(), model.arch.name.clone()),
        (
            "producer".to_string(),
            format!("lamppost {}", env!("CARGO_PKG_VERSION")),
        ),
    ]);
    let mut tensors = vec![("attribution".to_string(), a.map.clone())];
    tensors.extend(a.extras.iter().cloned());
    let counts = segment_counts(&a);
    if !counts.is_empty() {
        eprintln!("features (segments) per example: {counts:?}");
    }
    let mut files = vec![(
        "attributions.safetensors".to_string(),
        serialize(&tensors, &meta, dtype),
    )];
    if pictures != Pictures::None {
        let pred = match pred.clone() {
            Some(p) => p,
            None => model.predict(&x)?.argmax_rows()?,
        };
        let labels: Vec<Vec<String>> = (0..n)
            .map(|i| {
                vec![
                    format!("index {i}"),
                    format!("target {}", targets[i]),
                    format!("pred {}", pred[i]),
                ]
            })
            .collect();
        let (x32, map32) = (x.cast::<f32>(), a.map.cast::<f32>());
        if n > GRID_ROWS {
            eprintln!(
                "the grid picture shows the first {GRID_ROWS} of {n} examples (all are in attributions.safetensors; --pictures each draws every one)"
            );
        }
        files.extend(if images {
            pictures_of(&x32, &map32, &labels, profile.to_unit(), pictures)?
        } else {
            bar_pictures(&map32, pictures)?
        });
    }
    outputs.write_folder(out, &files)?;
    println!(
        "{method}: {n} example(s), targets {}{}; wrote {} ({}){}",
        brief(&targets),
        pred.map_or(String::new(), |p| format!(" (predicted {})", brief(&p))),
        out.join("attributions.safetensors").display(),
        T::NAME,
        match (pictures, images) {
            (Pictures::None, _) => String::new(),
            (Pictures::Grid, true) => ", attributions.png".into(),
            (Pictures::Grid, false) => ", bars.png".into(),
            (Pictures::Each, true) => ", attributions.png, heatmap-NNN.png, overlay-NNN.png".into(),
            (Pictures::Each, false) => ", bars.png, bars-NNN.png".into(),
        }
    );
    Ok(())
}

/// Rows of the grid picture at most (a 10,000-example batch would make a gigabyte
/// picture); the tensors always hold every example.
const GRID_ROWS: usize = 256;

/// `[a, b, c]`, or the first ten and the count for longer lists.
fn brief(v: &[usize]) -> String {
    if v.len() <= 10 {
        format!("{v:?}")
    } else {
        let head: Vec<String> = v[..10].iter().map(|c| c.to_string()).collect();
        format!("[{}, … {} in all]", head.join(", "), v.len())
    }
}

/// The files `lamppost explain` writes for `n` examples (`n` = 0: the fixed names only).
fn picture_names(images: bool, pictures: Pictures, n: usize) -> Vec<String> {
    let mut names = vec!["attributions.safetensors".to_string()];
    let (grid, each): (&str, &[&str]) = if images {
        ("attributions.png", &["heatmap", "overlay"])
    } else {
        ("bars.png", &["bars"])
    };
    if pictures != Pictures::None {
        names.push(grid.into());
    }
    if pictures == Pictures::Each {
        for i in 0..n {
            names.extend(each.iter().map(|e| format!("{e}-{i:03}.png")));
        }
    }
    names
}

/// The labelled grid of image attributions (a row per example) and, with
/// `Pictures::Each`, a heatmap and an overlay per example, encoded in parallel.
fn pictures_of(
    x: &Tensor<f32>,
    map: &Tensor<f32>,
    labels: &[Vec<String>],
    to_unit: fn(f32) -> f32,
    pictures: Pictures,
) -> Result<Vec<(String, Vec<u8>)>> {
    let shown: Vec<usize> = (0..x.shape()[0].min(GRID_ROWS)).collect();
    let grid = map_grid(
        &x.select_rows(&shown)?,
        &map.select_rows(&shown)?,
        &labels[..shown.len()],
        to_unit,
    )?;
    let mut files = vec![("attributions.png".to_string(), png_bytes(&grid)?)];
    if pictures == Pictures::Each {
        let scale = if x.shape()[2] < 40 { 6 } else { 3 };
        let each: Vec<Vec<(String, Vec<u8>)>> = (0..x.shape()[0])
            .into_par_iter()
            .map(|i| {
                let (heat, over) = heatmap_pictures(x, map, i, to_unit, 0.55)?;
                Ok(vec![
                    (
                        format!("heatmap-{i:03}.png"),
                        png_bytes(&image_grid(&[heat], 1, scale, 0))?,
                    ),
                    (
                        format!("overlay-{i:03}.png"),
                        png_bytes(&image_grid(&[over], 1, scale, 0))?,
                    ),
                ])
            })
            .collect::<Result<_>>()?;
        files.extend(each.into_iter().flatten());
    }
    Ok(files)
}

/// Bar charts of feature-row attributions: all examples stacked in `bars.png`, and with
/// `Pictures::Each` one `bars-NNN.png` per example.
fn bar_pictures(map: &Tensor<f32>, pictures: Pictures) -> Result<Vec<(String, Vec<u8>)>> {
    let mut files = vec![("bars.png".to_string(), png_bytes(&bar_rows(map)?)?)];
    if pictures == Pictures::Each {
        let n = map.shape()[0].max(1);
        let per = (map.len() / n).max(1);
        for (i, row) in map.data().chunks(per).enumerate() {
            files.push((format!("bars-{i:03}.png"), png_bytes(&bar_chart(row))?));
        }
    }
    Ok(files)
}

/// Attributions of feature rows `[N, F]` (or any other shape, flattened per example) as
/// one bar chart per example, stacked.
fn bar_rows(map: &Tensor<f32>) -> Result<image::RgbImage> {
    let n = map.shape()[0].max(1);
    let per = map.len() / n;
    let charts: Vec<image::RgbImage> = map.data().chunks(per.max(1)).map(bar_chart).collect();
    Ok(image_grid(&charts, 1, 1, 4))
}
