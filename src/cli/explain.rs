//! `lamppost explain <method>`: attributions for one or more inputs, as safetensors
//! (with provenance in the metadata) and pictures. The inputs and option parsing here are
//! shared with `lamppost compare`.

use super::{ExplainArgs, InputArgs, MethodArgs};
use crate::data::folder::load_image;
use crate::data::mnist;
use crate::data::source::load;
use crate::error::{Error, Result};
use crate::explain::attribution::Precision;
use crate::explain::local::integrated_gradients::{Baseline, PathRule};
use crate::explain::local::lime::Selection;
use crate::explain::local::lime_tabular::FeatureStats;
use crate::explain::registry::{MethodOptions, build};
use crate::io::safetensors_file::{check_overwrite, model_from_bytes};
use crate::io::{FileDtype, read_named, stable_hash, write_tensors_as};
use crate::nn::Model;
use crate::profile::{InputKind, Profile};
use crate::tensor::Tensor;
use crate::viz::grid::image_grid;
use crate::viz::heatmap::pictures;
use crate::viz::plot::bar_chart;
use crate::viz::save_png;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Parses `zero`, `constant:V`, `blur:R`, `noise[:SEED]`.
pub fn parse_baseline(s: &str) -> Result<Baseline> {
    let (kind, arg) = s.split_once(':').unwrap_or((s, ""));
    let num = |what: &str| {
        arg.parse::<f64>()
            .map_err(|_| Error::Invalid(format!("--baseline {s}: '{arg}' is not a {what}")))
    };
    Ok(match kind {
        "zero" => Baseline::Zero,
        "constant" => Baseline::Constant(num("number")?),
        "blur" => Baseline::Blurred(num("radius")? as usize),
        "noise" => Baseline::UniformNoise {
            lo: -1.0,
            hi: 1.0,
            seed: if arg.is_empty() {
                0
            } else {
                num("seed")? as u64
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
            num_features: self.num_features,
            background: match &self.background {
                Some(p) => Some(FeatureStats::from_rows(&tensor_x::<f64>(p)?)?),
                None => None,
            },
            no_relu: self.no_relu,
        })
    }
}

/// A loaded model (read from disk once) and its file's fingerprint.
pub struct LoadedModel<T> {
    pub model: Model<T>,
    pub path: PathBuf,
    pub fnv1a64: String,
}

impl InputArgs {
    /// Reads the model file once: the model at precision `T` and the file's hash.
    pub fn model<T: Float>(&self) -> Result<LoadedModel<T>> {
        let bytes = std::fs::read(&self.model)
            .map_err(|e| Error::Io(format!("{}: {e}", self.model.display())))?;
        let (model, _) = model_from_bytes::<T>(&bytes, &self.model)?;
        Ok(LoadedModel {
            model,
            path: self.model.clone(),
            fnv1a64: format!("{:016x}", stable_hash(&bytes)),
        })
    }

    /// The batch to explain, at the model's precision.
    pub fn batch<T: Float>(&self, model: &Model<T>) -> Result<Tensor<T>> {
        let profile = Profile::of(&model.arch);
        Ok(match (&self.input, &self.image, self.index) {
            (Some(p), _, _) => tensor_x::<T>(p)?,
            (_, Some(p), _) => image_input(p, &profile)?.cast(),
            (_, _, Some(index)) => {
                let spec = profile.data_spec(self.data.as_deref(), 1000, false);
                let d = load(&spec, &self.cache, 0)?;
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
/// else grayscale 28×28 with MNIST's normalization (white digit on black, like MNIST).
fn image_input(p: &Path, profile: &Profile) -> Result<Tensor<f32>> {
    if let InputKind::Image {
        channels: 3,
        height,
        ..
    } = profile.input
    {
        return load_image(p, height)?.reshape(&[1, 3, height, height]);
    }
    let t = load_image(p, 28)?;
    let g: Vec<f32> = (0..784)
        .map(|i| (t.data()[i] + t.data()[784 + i] + t.data()[2 * 784 + i]) / 3.0)
        .collect();
    Tensor::new(
        &[1, 1, 28, 28],
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
    let out = args.out.as_path();
    if out.is_file() {
        return Err(Error::Io(format!(
            "--out {}: is a file; give a folder for attributions.safetensors and the pictures",
            out.display()
        )));
    }
    let file = out.join("attributions.safetensors");
    check_overwrite(&file, args.force)?;
    match dtype {
        FileDtype::F32 => explain_as::<f32>(args, &opts, &file, dtype),
        FileDtype::F64 => explain_as::<f64>(args, &opts, &file, dtype),
    }
}

fn explain_as<T: Precision>(
    args: &ExplainArgs,
    opts: &MethodOptions,
    file: &Path,
    dtype: FileDtype,
) -> Result<()> {
    let (method, out, force) = (args.method.as_str(), args.out.as_path(), args.force);
    let loaded = args.input.model::<T>()?;
    let model = &loaded.model;
    let m = build(method, opts, &model.arch)?;
    let profile = Profile::of(&model.arch);
    let x = args.input.batch::<T>(model)?;
    let images = x.ndim() == 4;
    let pictures_named: &[&str] = if images {
        &["heatmap.png", "overlay.png"]
    } else {
        &["bars.png"]
    };
    for p in pictures_named {
        check_overwrite(&out.join(p), force)?;
    }
    let n = x.shape().first().copied().unwrap_or(0);
    let mut pred = None;
    let targets = args.input.targets(n, model.arch.num_classes(), || {
        let p = model.predict(&x)?.argmax_rows()?;
        pred = Some(p.clone());
        Ok(p)
    })?;
    let a = T::run(m.as_ref(), model, &x, &targets)?;
    std::fs::create_dir_all(out).map_err(|e| Error::Io(format!("{}: {e}", out.display())))?;
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
    write_tensors_as(file, &tensors, meta, force, dtype)?;
    let (x32, map32) = (x.cast::<f32>(), a.map.cast::<f32>());
    if images {
        write_pictures(&x32, &map32, profile.to_unit(), out)?;
    } else {
        save_png(&bar_rows(&map32)?, &out.join("bars.png"))?;
    }
    println!(
        "{method}: {n} example(s), targets {targets:?}{}; wrote {}, {} ({})",
        pred.map_or(String::new(), |p| format!(" (predicted {p:?})")),
        file.display(),
        pictures_named.join(", "),
        T::NAME
    );
    Ok(())
}

/// Heatmaps and overlays of image attributions, one tile per example.
fn write_pictures(
    x: &Tensor<f32>,
    map: &Tensor<f32>,
    to_unit: fn(f32) -> f32,
    out: &Path,
) -> Result<()> {
    let (mut heats, mut overlays) = (Vec::new(), Vec::new());
    for i in 0..x.shape()[0] {
        let (heat, over) = pictures(x, map, i, to_unit, 0.55)?;
        heats.push(heat);
        overlays.push(over);
    }
    let scale = if x.shape()[2] < 40 { 6 } else { 3 };
    save_png(&image_grid(&heats, 8, scale, 2), &out.join("heatmap.png"))?;
    save_png(
        &image_grid(&overlays, 8, scale, 2),
        &out.join("overlay.png"),
    )
}

/// Attributions of feature rows `[N, F]` (or any other shape, flattened per example) as
/// one bar chart per example, stacked.
fn bar_rows(map: &Tensor<f32>) -> Result<image::RgbImage> {
    let n = map.shape()[0].max(1);
    let per = map.len() / n;
    let charts: Vec<image::RgbImage> = map.data().chunks(per.max(1)).map(bar_chart).collect();
    Ok(image_grid(&charts, 1, 1, 4))
}
