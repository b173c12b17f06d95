//! Local explanations: "why this prediction for this input?" Gradient methods
//! (saliency, gradient × input, SmoothGrad, Integrated Gradients, guided backprop,
//! deconvnet), perturbation methods (occlusion) and local surrogates (LIME for pictures
//! and for feature rows, NormLIME). CAM variants have their own family, [`super::cam`].

pub mod deconvnet;
pub mod grad_x_input;
pub mod guided_backprop;
pub mod integrated_gradients;
pub mod lime;
pub mod lime_tabular;
pub mod normlime;
pub mod occlusion;
pub mod rise;
pub mod saliency;
pub mod segmentation;
pub mod smoothgrad;
