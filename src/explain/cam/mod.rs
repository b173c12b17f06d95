//! Class activation maps: "which regions of a convolutional layer's maps support the class?"
//!
//! Every CAM variant is the same computation with one variable part, as in
//! pytorch-grad-cam's `BaseCAM`: run the model keeping the layer's maps `A` (`[N, C, h, w]`)
//! and, when the variant needs them, the gradients `G = ∂y_c/∂A` of the target logit;
//! the variant's [`CamWeights`] turns them into weights; the base forms
//! `L = Σ_k w_k ⊙ A_k` (per-channel weights `w_k`, or per-element weights for HiResCAM and
//! LayerCAM), applies the ReLU (on by default) and returns the raw map at the layer's
//! resolution, `[N, h, w]`. [`crate::tensor::image::upsample`] and
//! [`crate::tensor::image::normalize`] make pictures of it. A new variant is one short
//! file with a `CamWeights` impl and one registry row.
//!
//! The variants and their weights (with `Σ` over the map's positions `ij`):
//! * [`cam`]: the linear head's weights (Zhou et al. 2016; GAP networks only).
//! * [`grad_cam`]: `mean_ij G` (Selvaraju et al. 2017).
//! * [`grad_cam_pp`]: Grad-CAM++, `Σ_ij ReLU(G)·α` with `α = G²/(2G² + ΣA·G³)` (Chattopadhay et al. 2018).
//! * [`xgrad_cam`]: `Σ_ij G·A / ΣA` (Fu et al. 2020).
//! * [`hires_cam`]: element-wise `G ⊙ A` (Draelos & Carin 2020).
//! * [`layer_cam`]: element-wise `ReLU(G) ⊙ A` (Jiang et al. 2021).
//! * [`eigen_cam`]: the first principal component of the maps, no class (Muhammad & Yeasin 2020).
//! * [`ablation_cam`]: `(y_c − y_c with channel k zeroed) / y_c` (Desai & Ramaswamy 2020).
//! * [`score_cam`]: the class probability of the input masked by each map (Wang et al. 2020).
//!
//! Pinned by `tests/grad_cam_package.rs`: every variant that pytorch-grad-cam 1.5 has
//! against its raw maps on the same weights, float64, to 1e-5 relative (goldens from
//! `tests/golden/make_grad_cam_golden.py`), and `tests/captum.rs` for Grad-CAM and CAM.

pub mod ablation_cam;
#[allow(clippy::module_inception)]
pub mod cam;
pub mod eigen_cam;
pub mod grad_cam;
pub mod grad_cam_pp;
pub mod guided_grad_cam;
pub mod hires_cam;
pub mod layer_cam;
pub mod score_cam;
pub mod xgrad_cam;

use super::attribution::{Attribution, AttributionMethod, check_batch};
use super::batched::layer_pass;
use crate::error::{Result, shape_err};
use crate::float::Float;
use crate::nn::Model;
use crate::tensor::{Tensor, fmt_shape};

/// What a variant sees: the batch, the layer's maps and (if asked for) their gradients.
pub struct CamInputs<'a, T> {
    pub model: &'a Model<T>,
    pub x: &'a Tensor<T>,
    pub targets: &'a [usize],
    pub layer: &'a str,
    /// `[N, C, h, w]`.
    pub activation: &'a Tensor<T>,
    /// `∂ logit[target] / ∂ activation`, when [`CamWeights::NEEDS_GRADIENTS`].
    pub gradient: Option<&'a Tensor<T>>,
    pub logits: &'a Tensor<T>,
    pub dims: [usize; 4],
}

impl<T: Float> CamInputs<'_, T> {
    /// The gradients (present for every variant that declares it needs them).
    pub fn grad(&self) -> &Tensor<T> {
        self.gradient
            .expect("the CAM base computes gradients for variants that need them")
    }
    /// Example `i`, channel `k`'s `h·w` values of `t` (`A` or `G`).
    pub fn map<'t>(&self, t: &'t Tensor<T>, i: usize, k: usize) -> &'t [T] {
        let [_, c, h, w] = self.dims;
        &t.data()[(i * c + k) * h * w..(i * c + k + 1) * h * w]
    }
    /// Per-channel weights from a function of one map's activations and gradients.
    pub fn per_channel(&self, f: impl Fn(usize, &[T], &[T]) -> T) -> Weights<T> {
        let [n, c, _, _] = self.dims;
        let g = self.grad();
        Weights::Channel(
            (0..n * c)
                .map(|ik| {
                    let (i, k) = (ik / c, ik % c);
                    f(i, self.map(self.activation, i, k), self.map(g, i, k))
                })
                .collect(),
        )
    }
}

/// A variant's weights.
pub enum Weights<T> {
    /// One weight per example and channel, `[N·C]`.
    Channel(Vec<T>),
    /// One weight per activation value, `[N·C·h·w]`.
    Element(Vec<T>),
    /// The map itself, `[N·h·w]` (Eigen-CAM).
    Map(Vec<T>),
}

/// The part that differs between CAM variants.
pub trait CamWeights: Send + Sync {
    const NAME: &'static str;
    /// Whether the base computes `∂y_c/∂A` for [`CamWeights::weights`].
    const NEEDS_GRADIENTS: bool;
    fn weights<T: Float>(&self, c: &CamInputs<T>) -> Result<Weights<T>>;
}

/// A CAM variant at a named layer.
#[derive(Clone, Debug, PartialEq)]
pub struct BaseCam<W> {
    pub layer: String,
    /// Clip the map at 0 (pytorch-grad-cam always does; Captum's `LayerGradCam` does not by default).
    pub relu: bool,
    pub weights: W,
}

impl<W: Default> BaseCam<W> {
    /// The variant at `layer`, with the ReLU on.
    pub fn new(layer: impl Into<String>) -> Self {
        BaseCam {
            layer: layer.into(),
            relu: true,
            weights: W::default(),
        }
    }
}

impl<T: Float, W: CamWeights> AttributionMethod<T> for BaseCam<W> {
    fn name(&self) -> &'static str {
        W::NAME
    }
    fn attribute(
        &self,
        model: &Model<T>,
        x: &Tensor<T>,
        targets: &[usize],
    ) -> Result<Attribution<T>> {
        check_batch(model, x, targets)?;
        let pass = layer_pass(model, x, &self.layer, W::NEEDS_GRADIENTS.then_some(targets))?;
        let &[n, c, h, w] = pass.activation.shape() else {
            return shape_err(format!(
                "{} needs a convolutional layer [N,C,h,w]; '{}' gives {}",
                W::NAME,
                self.layer,
                fmt_shape(pass.activation.shape())
            ));
        };
        let inputs = CamInputs {
            model,
            x,
            targets,
            layer: &self.layer,
            activation: &pass.activation,
            gradient: pass.gradient.as_ref(),
            logits: &pass.logits,
            dims: [n, c, h, w],
        };
        let a = pass.activation.data();
        let hw = h * w;
        let mut out = match self.weights.weights(&inputs)? {
            Weights::Channel(wt) => {
                let mut out = vec![T::zero(); n * hw];
                for i in 0..n {
                    for k in 0..c {
                        let (wk, base) = (wt[i * c + k], (i * c + k) * hw);
                        for (o, &v) in out[i * hw..(i + 1) * hw]
                            .iter_mut()
                            .zip(&a[base..base + hw])
                        {
                            *o += wk * v;
                        }
                    }
                }
                out
            }
            Weights::Element(wt) => {
                let mut out = vec![T::zero(); n * hw];
                for (f, (&wv, &av)) in wt.iter().zip(a).enumerate() {
                    out[(f / (c * hw)) * hw + f % hw] += wv * av;
                }
                out
            }
            Weights::Map(m) => m,
        };
        if self.relu {
            out.iter_mut().for_each(|v| *v = v.max_of(T::zero()));
        }
        Ok(Attribution::plain(Tensor::new(&[n, h, w], out)?))
    }
}
