//! Localization: attribution mass outside a region, and the pointing game.
//!
//! *Question:* how much of a map's evidence lies where the object is not? For example
//! `i` with per-pixel attribution `a_p` (channels summed; low-resolution maps upsampled
//! bilinearly to the input) and a region `R` (the object), the share outside is
//! `Σ_{p∉R} |a_p| / Σ_p |a_p|`: one minus the relevance mass accuracy of Arras, Osman
//! and Samek (2022; Quantus's `RelevanceMassAccuracy`). A map that ignores the image puts
//! `1 − |R|/(H·W)` outside; maps with no mass are left out of the mean.
//!
//! Pinned by the test below (closed form on a hand-made map) and
//! `tests/pokedigi_story.rs` (the shortcut model's maps lie on the background).

use crate::data::Dataset;
use crate::data::synth::{creature_mask, index_from_name};
use crate::error::Result;
use crate::explain::attribution::Precision;
use crate::explain::registry::{MethodOptions, build};
use crate::float::Float;
use crate::nn::Model;
use crate::tensor::Tensor;
use crate::tensor::image::pixel_map;

/// Share of example `i`'s absolute attribution outside `region` (`true` = inside),
/// `None` when the map has no mass.
pub fn mass_outside<T: Float>(
    map: &Tensor<T>,
    i: usize,
    region: &[bool],
    h: usize,
    w: usize,
) -> Result<Option<f64>> {
    let v = pixel_map(map, i, h, w)?;
    let all: f64 = v.iter().map(|x| x.to_f64().abs()).sum();
    if all <= 0.0 {
        return Ok(None);
    }
    let out: f64 = v
        .iter()
        .zip(region)
        .filter(|(_, inside)| !**inside)
        .map(|(x, _)| x.to_f64().abs())
        .sum();
    Ok(Some(out / all))
}

/// The original pointing game (Zhang et al. 2016, without tolerance): does example `i`'s
/// per-pixel maximum lie inside `region`? Ties go to the lowest pixel index; `None` when
/// the map is constant (it points nowhere).
pub fn pointing_hit<T: Float>(
    map: &Tensor<T>,
    i: usize,
    region: &[bool],
    h: usize,
    w: usize,
) -> Result<Option<bool>> {
    let v = pixel_map(map, i, h, w)?;
    let (mut best, mut at) = (f64::NEG_INFINITY, 0);
    for (p, x) in v.iter().enumerate() {
        if x.to_f64() > best {
            (best, at) = (x.to_f64(), p);
        }
    }
    if v.iter().all(|x| x.to_f64() == best) {
        return Ok(None);
    }
    Ok(Some(region[at]))
}

/// Mean share of `method`'s mass on the background of the synthetic Pokémon/Digimon test
/// pictures (the creature's mask is known from each file's name), explaining each
/// picture's predicted class, 64 pictures a batch.
pub fn background_fraction(
    model: &Model<f32>,
    data: &Dataset,
    method: &str,
    options: &MethodOptions,
) -> Result<f64> {
    let targets = model.predict(&data.x)?.argmax_rows()?;
    let m = build(method, options, &model.arch)?;
    let (mut total, mut count) = (0.0, 0);
    for start in (0..data.len()).step_by(64) {
        let idx: Vec<usize> = (start..(start + 64).min(data.len())).collect();
        let x = data.x.select_rows(&idx)?;
        let t: Vec<usize> = idx.iter().map(|&i| targets[i]).collect();
        let a = f32::run(m.as_ref(), model, &x, &t)?;
        for (r, &i) in idx.iter().enumerate() {
            let Some(k) = index_from_name(&data.names[i]) else {
                continue;
            };
            if let Some(f) = mass_outside(&a.map, r, &creature_mask(k, 0, 64), 64, 64)? {
                total += f;
                count += 1;
            }
        }
    }
    Ok(if count == 0 {
        f64::NAN
    } else {
        total / count as f64
    })
}

/// The methods of the Pokémon/Digimon background table and their options (occlusion
/// hides non-overlapping 8×8 patches of all three channels).
pub fn story_methods() -> Vec<(&'static str, MethodOptions)> {
    let occlusion = MethodOptions {
        window: Some([3, 8, 8]),
        stride: Some([3, 8, 8]),
        ..MethodOptions::default()
    };
    vec![
        ("saliency", MethodOptions::default()),
        ("grad-cam", MethodOptions::default()),
        ("integrated-gradients", MethodOptions::default()),
        ("occlusion", occlusion),
    ]
}

/// Mean fraction of the picture covered by the creature, over a synthetic test set.
pub fn creature_area(data: &Dataset) -> f64 {
    let fractions: Vec<f64> = data
        .names
        .iter()
        .filter_map(|n| index_from_name(n))
        .map(|k| {
            let mask = creature_mask(k, 0, 64);
            mask.iter().filter(|&&c| c).count() as f64 / mask.len() as f64
        })
        .collect();
    fractions.iter().sum::<f64>() / fractions.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mass_outside_closed_form() {
        // 2×2 map, region = left column: |1|+|−3| inside, |2|+|2| outside → 4/8
        let map = Tensor::<f64>::from_f64(&[1, 2, 2], &[1.0, 2.0, -3.0, 2.0]).unwrap();
        let f = mass_outside(&map, 0, &[true, false, true, false], 2, 2).unwrap();
        assert_eq!(f, Some(0.5));
        let zero = Tensor::<f64>::zeros(&[1, 2, 2]);
        assert_eq!(mass_outside(&zero, 0, &[true; 4], 2, 2).unwrap(), None);
        // the maximum (2, first of the tie at pixel 1) is outside the left column
        assert_eq!(
            pointing_hit(&map, 0, &[true, false, true, false], 2, 2).unwrap(),
            Some(false)
        );
        assert_eq!(pointing_hit(&zero, 0, &[true; 4], 2, 2).unwrap(), None);
    }
}
