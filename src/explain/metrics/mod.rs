//! Evaluation of explanations: "which explanation should I trust?" The home of
//! deletion/insertion, MoRF/LeRF/AOPC, ROAD, ROAR, sanity checks and robustness metrics.
//! Metrics evaluate models on many changed inputs through the shared batched evaluator,
//! [`super::batched::predict_rows`].
//!
//! * [`mass`]: the share of an attribution's mass outside a region (the Pokémon/Digimon
//!   background measurement).

pub mod mass;
