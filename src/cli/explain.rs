//! `lamppost explain <method>`: attributions for one or more inputs, as safetensors
//! (with provenance in the metadata) and pictures.

use super::ExplainArgs;
use crate::data::folder::load_image;
use crate::data::mnist;
use crate::data::source::{DataSpec, load};
use crate::error::{Error, Result};
use crate::explain::local::integrated_gradients::Baseline;
use crate::explain::local::lime_tabular::FeatureStats;
use crate::explain::local::{MethodOptions, build_method};
use crate::io::safetensors_file::check_overwrite;
use crate::io::{load_model, read_tensors, write_tensors};
use crate::nn::Model;
use crate::tensor::Tensor;
use crate::tour::stable_hash;
use crate::viz::grid::image_grid;
use crate::viz::heatmap::pictures;
use crate::viz::plot::bar_chart;
use crate::viz::save_png;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where the inputs come from.
pub enum Source {
    Tensor(PathBuf),
    Image(PathBuf),
    Index {
        index: usize,
        data: Option<PathBuf>,
        cache: PathBuf,
    },
}

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

/// A batch and how to turn its values into [0, 1] for pictures.
type Batch = (Tensor<f32>, fn(f32) -> f32);

/// The tensor named `x` of a safetensors file.
fn tensor_x(p: &Path) -> Result<Tensor<f32>> {
    let (t, _) = read_tensors::<f32>(p)?;
    t.into_iter()
        .find(|t| t.0 == "x")
        .map(|t| t.1)
        .ok_or_else(|| Error::Io(format!("{}: no tensor named 'x'", p.display())))
}

/// The batch to explain and how to show it.
fn inputs(model: &Model<f32>, src: &Source) -> Result<Batch> {
    let rgb = model.arch.input.as_deref() == Some(&[3, 64, 64]);
    let to_unit = crate::data::to_unit_fn(&model.arch);
    let x = match src {
        Source::Tensor(p) => tensor_x(p)?,
        Source::Image(p) => {
            if rgb {
                load_image(p, 64)?.reshape(&[1, 3, 64, 64])?
            } else {
                // grayscale, 28×28, MNIST's normalization (white digit on black, like MNIST)
                let t = load_image(p, 28)?;
                let g: Vec<f32> = (0..784)
                    .map(|i| (t.data()[i] + t.data()[784 + i] + t.data()[2 * 784 + i]) / 3.0)
                    .collect();
                Tensor::new(
                    &[1, 1, 28, 28],
                    g.iter()
                        .map(|&v| mnist::normalize((v * 255.0).round() as u8))
                        .collect(),
                )?
            }
        }
        Source::Index { index, data, cache } => {
            let spec = DataSpec::for_arch(&model.arch, data.as_deref(), 1000, false);
            let d = load(&spec, cache, 0)?;
            if *index >= d.test.len() {
                return Err(Error::Invalid(format!(
                    "--index {index} out of range: the test set has {} examples",
                    d.test.len()
                )));
            }
            d.test.x.select_rows(&[*index])?
        }
    };
    Ok((x, to_unit))
}

impl ExplainArgs {
    /// Where the inputs come from.
    fn source(&self) -> Result<Source> {
        Ok(match (&self.input, &self.image, self.index) {
            (Some(p), _, _) => Source::Tensor(p.clone()),
            (_, Some(p), _) => Source::Image(p.clone()),
            (_, _, Some(index)) => Source::Index {
                index,
                data: self.data.clone(),
                cache: self.cache.clone(),
            },
            _ => {
                return Err(Error::Invalid(
                    "give the inputs with --input X.safetensors, --image FILE.png or --index N"
                        .into(),
                ));
            }
        })
    }

    /// The method options named on the command line.
    fn options(&self) -> Result<MethodOptions> {
        Ok(MethodOptions {
            steps: self.steps,
            rule: self.rule.clone(),
            baseline: parse_baseline(&self.baseline)?,
            layer: self.layer.clone(),
            window: parse_triple(&self.window, "window")?,
            stride: parse_triple(&self.stride, "stride")?,
            fill: self.fill,
            samples: self.samples,
            sigma: self.sigma,
            seed: self.seed,
            abs: self.abs,
            selection: self.selection.clone(),
            num_features: self.num_features,
            background: match &self.background {
                Some(p) => Some(FeatureStats::from_rows(&tensor_x(p)?)?),
                None => None,
            },
        })
    }
}

pub fn explain(args: &ExplainArgs) -> Result<()> {
    let (method, model_path, out, force) = (
        args.method.as_str(),
        args.model.as_path(),
        args.out.as_path(),
        args.force,
    );
    let (src, opts) = (args.source()?, args.options()?);
    let opts = &opts;
    let target = args.target;
    let file = out.join("attributions.safetensors");
    check_overwrite(&file, force)?;
    let model = load_model::<f32>(model_path)?;
    let m = build_method::<f32>(method, opts, &model)?;
    let (x, to_unit) = inputs(&model, &src)?;
    let pred = model.predict(&x)?.argmax_rows()?;
    let targets: Vec<usize> = pred.iter().map(|&p| target.unwrap_or(p)).collect();
    let a = m.attribute(&model, &x, &targets)?;
    std::fs::create_dir_all(out).map_err(|e| Error::Io(format!("{}: {e}", out.display())))?;
    let bytes = std::fs::read(model_path)
        .map_err(|e| Error::Io(format!("{}: {e}", model_path.display())))?;
    let meta = HashMap::from([
        ("method".to_string(), method.to_string()),
        ("options".to_string(), format!("{opts:?}")),
        ("seed".to_string(), opts.seed.to_string()),
        ("targets".to_string(), format!("{targets:?}")),
        ("model".to_string(), model_path.display().to_string()),
        (
            "model_fnv1a64".to_string(),
            format!("{:016x}", stable_hash(&String::from_utf8_lossy(&bytes))),
        ),
        ("arch".to_string(), model.arch.name.clone()),
    ]);
    let mut tensors = vec![("attribution".to_string(), a.map.clone())];
    tensors.extend(a.extras.iter().cloned());
    write_tensors(&file, &tensors, meta, force)?;
    let pictures_written = if x.shape().len() == 4 {
        write_pictures(&x, &a.map, to_unit, out)?;
        "heatmap.png, overlay.png"
    } else {
        save_png(&bar_rows(&a.map)?, &out.join("bars.png"))?;
        "bars.png"
    };
    println!(
        "{method}: {} example(s), targets {targets:?} (predicted {pred:?}); wrote {}, {pictures_written}",
        x.shape()[0],
        file.display()
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
