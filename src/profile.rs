//! What the rest of the crate needs to know about an architecture, in one place: the kind
//! of input it reads, how its input values map to pixels, the data it trains on by
//! default and with which settings, where layer methods look by default, and how LIME
//! splits its input into features. Every other module asks the profile instead of
//! checking an architecture's name or input shape.

use crate::data::mnist;
use crate::data::source::DataSpec;
use crate::error::{Error, Result};
use crate::fit::TrainConfig;
use crate::nn::{Arch, LayerSpec};
use std::path::Path;

/// The kind of input a model reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// Pictures `[N, C, H, W]`.
    Image {
        channels: usize,
        height: usize,
        width: usize,
    },
    /// Pictures read row by row as a sequence (a recurrent first layer): `[N, 1, steps, features]`.
    Sequence { steps: usize, features: usize },
    /// Rows of features `[N, F]`.
    Features(usize),
    /// A `seq:` list whose first layer does not fix the input.
    Unknown,
}

/// How input values become pixel intensities in [0, 1] (pictures, segmentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelScale {
    /// MNIST's normalization `(v/255 − 0.1307)/0.3081`, undone.
    MnistNormalized,
    /// Already in [0, 1] (clamped).
    Unit,
}

impl PixelScale {
    pub fn to_unit(self) -> fn(f32) -> f32 {
        match self {
            PixelScale::MnistNormalized => mnist::denormalize,
            PixelScale::Unit => |v: f32| v.clamp(0.0, 1.0),
        }
    }

    /// `(a, b)` with input value `= a·p + b` for a pixel intensity `p` in [0, 1]: what
    /// methods that optimize or perturb pixels (class visualization, attacks) put in
    /// front of the model.
    pub fn from_unit_affine(self) -> (f64, f64) {
        match self {
            PixelScale::MnistNormalized => (
                1.0 / mnist::STD as f64,
                -(mnist::MEAN as f64) / mnist::STD as f64,
            ),
            PixelScale::Unit => (1.0, 0.0),
        }
    }
}

/// The data an architecture trains on when none is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultData {
    Mnist,
    PokedigiSynth,
}

/// How LIME-style methods cut an input into features.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeatureSplit {
    /// Quickshift superpixels (colour pictures).
    Superpixels,
    /// SLIC superpixels, about this many (small grey pictures, where quickshift finds
    /// only one or two segments per digit).
    Slic { segments: usize },
    /// One feature per image row (a sequence model's time steps).
    Rows,
    /// Square cells of the given side (the same features for every image, as NormLIME needs).
    Grid { cell: usize },
    /// Each column of a feature row.
    Columns,
}

/// An architecture's profile.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    pub input: InputKind,
    pub pixels: PixelScale,
    pub data: DefaultData,
    /// The settings the reference models are trained with (see the README's results).
    pub train: TrainConfig,
    /// The last convolution's ReLU: where Grad-CAM and the other layer methods look by default.
    pub cam_layer: Option<String>,
    /// LIME's features for one input.
    pub lime_features: FeatureSplit,
    /// NormLIME's features, shared by every input.
    pub normlime_features: FeatureSplit,
}

impl Profile {
    pub fn of(arch: &Arch) -> Profile {
        let first = arch.layers.first();
        let input = match (first, arch.input.as_deref()) {
            (Some(LayerSpec::Gru { input, .. }), Some(&[1, steps, _])) => InputKind::Sequence {
                steps,
                features: *input,
            },
            (_, Some(&[c, h, w])) => InputKind::Image {
                channels: c,
                height: h,
                width: w,
            },
            (_, Some(&[f])) => InputKind::Features(f),
            (Some(LayerSpec::Linear { in_f, .. }), None) => InputKind::Features(*in_f),
            _ => InputKind::Unknown,
        };
        let pokedigi = matches!(
            input,
            InputKind::Image {
                channels: 3,
                height: 64,
                width: 64
            }
        );
        let (pixels, data) = if pokedigi {
            (PixelScale::Unit, DefaultData::PokedigiSynth)
        } else if arch.input.as_deref() == Some(&[1, 28, 28]) {
            (PixelScale::MnistNormalized, DefaultData::Mnist)
        } else {
            (PixelScale::Unit, DefaultData::Mnist)
        };
        let layers = &arch.layers;
        let cam_layer = (1..layers.len())
            .rev()
            .find(|&i| {
                matches!(layers[i], LayerSpec::Relu { .. })
                    && matches!(layers[i - 1], LayerSpec::Conv2d { .. })
            })
            .map(|i| layers[i].name().to_string());
        let (lime_features, normlime_features) = match &input {
            InputKind::Sequence { .. } => (FeatureSplit::Rows, FeatureSplit::Rows),
            InputKind::Features(_) => (FeatureSplit::Columns, FeatureSplit::Columns),
            InputKind::Image {
                height, channels, ..
            } => (
                if *channels == 1 && *height < 64 {
                    FeatureSplit::Slic { segments: 30 }
                } else {
                    FeatureSplit::Superpixels
                },
                FeatureSplit::Grid {
                    cell: if *height >= 64 { 8 } else { 4 },
                },
            ),
            InputKind::Unknown => (FeatureSplit::Superpixels, FeatureSplit::Grid { cell: 4 }),
        };
        // measured with `lamppost train <arch>`; see the README's table of results
        let (epochs, batch, lr) = match arch.name.as_str() {
            "mnist-cnn" => (8, 64, 4e-3),
            "mnist-gap" => (8, 32, 3e-3),
            "mnist-gru" | "mnist-attn-gru" => (6, 64, 3e-3),
            "pokedigi-gap" => (12, 32, 2e-3),
            "mnist-linear" => (5, 64, 1e-3),
            "mnist-vae" => (10, 128, 1e-3),
            _ => (3, 64, 1e-3),
        };
        Profile {
            input,
            pixels,
            data,
            train: TrainConfig {
                epochs,
                batch,
                lr,
                seed: 0,
                optimizer: Default::default(),
            },
            cam_layer,
            lime_features,
            normlime_features,
        }
    }

    /// `fn` mapping input values to [0, 1].
    pub fn to_unit(&self) -> fn(f32) -> f32 {
        self.pixels.to_unit()
    }

    /// Whether the model reads rows of features `[N, F]`.
    pub fn takes_rows(&self) -> bool {
        matches!(self.input, InputKind::Features(_))
    }

    /// Whether inputs are pictures (`[N, C, H, W]`, sequences of rows included).
    pub fn takes_pictures(&self) -> bool {
        matches!(
            self.input,
            InputKind::Image { .. } | InputKind::Sequence { .. }
        )
    }

    /// The layer methods' default layer, or an error that says to pick one.
    pub fn cam_layer(&self, arch: &Arch) -> Result<String> {
        self.cam_layer.clone().ok_or_else(|| {
            Error::Invalid(format!(
                "'{}' has no convolutional layer for CAM methods",
                arch.name
            ))
        })
    }

    /// The data to use: `data` if given (a folder with `pokemon/`/`digimon/` or an MNIST
    /// IDX folder), else the default one (`synth_n` pictures, `debias` for the synthetic set).
    pub fn data_spec(&self, data: Option<&Path>, synth_n: usize, debias: bool) -> DataSpec {
        match data {
            Some(d) if d.join("pokemon").is_dir() || d.join("digimon").is_dir() => {
                DataSpec::Folder(d.to_path_buf())
            }
            Some(d) => DataSpec::Mnist(d.to_path_buf()),
            None => match self.data {
                DefaultData::PokedigiSynth => DataSpec::Synth {
                    n: synth_n,
                    seed: 0,
                    debias,
                },
                DefaultData::Mnist => DataSpec::Mnist(mnist::default_dir()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_profiles() {
        let p = |n: &str| Profile::of(&Arch::from_name(n).unwrap());
        assert_eq!(
            p("mnist-gru").input,
            InputKind::Sequence {
                steps: 28,
                features: 28
            }
        );
        assert_eq!(p("mnist-gru").lime_features, FeatureSplit::Rows);
        assert_eq!(p("mnist-gru").cam_layer, None);
        assert_eq!(p("mnist-gap").cam_layer.as_deref(), Some("conv3.relu"));
        assert_eq!(p("pokedigi-gap").data, DefaultData::PokedigiSynth);
        assert_eq!(
            p("pokedigi-gap").normlime_features,
            FeatureSplit::Grid { cell: 8 }
        );
        assert_eq!(p("mnist-cnn").pixels, PixelScale::MnistNormalized);
        assert!(p("seq:linear(4,2)").takes_rows());
        assert_eq!(p("mnist-cnn").train.epochs, 8);
    }
}
