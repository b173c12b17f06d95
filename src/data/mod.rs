//! Data: MNIST from IDX files, Pokémon/Digimon image folders, the synthetic
//! `pokedigi-synth` stand-in, splits and label noise.

pub mod folder;
pub mod idx;
pub mod mnist;
pub mod source;
pub mod synth;

use crate::error::{Result, invalid};
use crate::tensor::Tensor;
use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// Examples in model input layout with integer labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// `[N, C, H, W]`, already normalized the way the model expects.
    pub x: Tensor<f32>,
    pub y: Vec<usize>,
    pub classes: Vec<String>,
    /// Where each example came from (a file name, or `train[123]`).
    pub names: Vec<String>,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.y.len()
    }

    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// The examples at `idx`, as a batch.
    pub fn batch(&self, idx: &[usize]) -> Result<(Tensor<f32>, Vec<usize>)> {
        Ok((
            self.x.select_rows(idx)?,
            idx.iter().map(|&i| self.y[i]).collect(),
        ))
    }

    /// The first `n` examples (all of them when there are fewer).
    pub fn first(&self, n: usize) -> Result<Dataset> {
        self.subset(&(0..n.min(self.len())).collect::<Vec<_>>())
    }

    /// A new dataset holding only the examples at `idx`.
    pub fn subset(&self, idx: &[usize]) -> Result<Dataset> {
        let (x, y) = self.batch(idx)?;
        Ok(Dataset {
            x,
            y,
            classes: self.classes.clone(),
            names: idx.iter().map(|&i| self.names[i].clone()).collect(),
        })
    }

    /// Examples per class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut c = vec![0; self.classes.len()];
        for &y in &self.y {
            c[y] += 1;
        }
        c
    }
}

/// Maps an architecture's input values back to [0, 1] for pictures and segmentation:
/// MNIST inputs are normalized (see [`mnist::normalize`]), Pokémon/Digimon inputs already
/// are in [0, 1].
pub fn to_unit_fn(arch: &crate::nn::Arch) -> fn(f32) -> f32 {
    if arch.input.as_deref() == Some(&[1, 28, 28]) {
        mnist::denormalize
    } else {
        |v: f32| v.clamp(0.0, 1.0)
    }
}

/// A deterministic stratified split: each class is shuffled with `seed` and its first
/// `round(test_fraction · n_class)` examples go to the test set. Returns (train, test)
/// index lists, each in increasing order.
pub fn stratified_split(
    labels: &[usize],
    classes: usize,
    test_fraction: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    if !(0.0..1.0).contains(&test_fraction) {
        return invalid(format!(
            "test fraction must be in [0, 1), got {test_fraction}"
        ));
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for c in 0..classes {
        let mut idx: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == c).collect();
        idx.shuffle(&mut rng);
        let k = (test_fraction * idx.len() as f64).round() as usize;
        test.extend_from_slice(&idx[..k]);
        train.extend_from_slice(&idx[k..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    Ok((train, test))
}

/// Flips a fraction `p` of the labels to a different class chosen uniformly, with a
/// seed. Returns the indices that were flipped (in increasing order) and their original labels.
pub fn inject_label_noise(
    labels: &mut [usize],
    classes: usize,
    p: f64,
    seed: u64,
) -> Result<Vec<(usize, usize)>> {
    if !(0.0..=1.0).contains(&p) {
        return invalid(format!("label noise must be in [0, 1], got {p}"));
    }
    if classes < 2 {
        return invalid("label noise needs at least two classes");
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut idx: Vec<usize> = (0..labels.len()).collect();
    idx.shuffle(&mut rng);
    let k = (p * labels.len() as f64).round() as usize;
    let mut flipped: Vec<(usize, usize)> =
        idx[..k].iter().copied().map(|i| (i, labels[i])).collect();
    flipped.sort_unstable();
    for &(i, orig) in &flipped {
        let shift = rng.gen_range(1..classes);
        labels[i] = (orig + shift) % classes;
    }
    Ok(flipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_stratified_and_deterministic() {
        let labels: Vec<usize> = (0..100).map(|i| if i < 30 { 0 } else { 1 }).collect();
        let (tr, te) = stratified_split(&labels, 2, 0.2, 4).unwrap();
        assert_eq!(te.iter().filter(|&&i| labels[i] == 0).count(), 6);
        assert_eq!(te.iter().filter(|&&i| labels[i] == 1).count(), 14);
        assert_eq!(tr.len() + te.len(), 100);
        assert_eq!(
            (tr.clone(), te.clone()),
            stratified_split(&labels, 2, 0.2, 4).unwrap()
        );
        assert_ne!(te, stratified_split(&labels, 2, 0.2, 5).unwrap().1);
    }

    #[test]
    fn label_noise_flips_exactly_the_recorded_examples() {
        let orig: Vec<usize> = (0..200).map(|i| i % 10).collect();
        let mut y = orig.clone();
        let flipped = inject_label_noise(&mut y, 10, 0.1, 1).unwrap();
        assert_eq!(flipped.len(), 20);
        for i in 0..200 {
            let was_flipped = flipped.iter().any(|f| f.0 == i);
            assert_eq!(y[i] != orig[i], was_flipped, "example {i}");
        }
    }
}
