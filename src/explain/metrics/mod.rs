//! Evaluation of explanations: "which explanation should I trust?" The home of
//! deletion/insertion, MoRF/LeRF/AOPC, ROAD, ROAR, sanity checks and robustness metrics.
//! Metrics evaluate models on many changed inputs through the shared batched evaluator,
//! [`super::batched::predict_rows`].
//!
//! * [`curves`]: deletion and insertion, MoRF / LeRF and AOPC, with substrates and a
//!   random-order baseline.
//! * [`road`]: ROAD's noisy linear imputation (the `road` substrate).
//! * [`roar`]: ROAR-lite, remove the top pixels by each method from training and test
//!   images, retrain, and compare the accuracy with random removal.
//! * [`sanity`]: cascading and independent model-parameter randomization, Spearman and SSIM.
//! * [`robustness`]: infidelity (Captum's and Yeh's) and max-sensitivity.
//! * [`mass`]: localization: the share of an attribution's mass outside a region (the
//!   Pokémon/Digimon background measurement) and the pointing game.
//! * [`benchmark`]: every metric over a list of methods, with means and 95% intervals.

pub mod benchmark;
pub mod curves;
pub mod mass;
pub mod road;
pub mod roar;
pub mod robustness;
pub mod sanity;
