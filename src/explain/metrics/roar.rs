//! ROAR-lite: RemOve And Retrain (Hooker et al. 2019), scaled to two cores.
//!
//! *Question:* are the pixels a method ranks highest the ones a model needs to learn the
//! task? Deletion curves ask the trained model about images it never saw with holes;
//! ROAR retrains on images with the holes, so a drop in accuracy means the information
//! really was in the removed pixels, not that the holes are out of distribution.
//!
//! *Formula.* For each method and fraction `t`: every training and test image's
//! attribution map (from the trained model, for the image's label) ranks its pixels by
//! `|a|` (a large negative attribution marks a pixel the model uses as much as a large
//! positive one), ties by pixel index; the top `⌈t·H·W⌉` pixels (all channels) are replaced
//! by the training set's per-channel mean. A fresh model of the same architecture is
//! trained on the modified training set with the same settings (initialization and
//! minibatch order from the same seed) and its accuracy measured on the modified test
//! set. `random` removes a seeded random choice of pixels per image: the baseline a
//! method must beat (a *lower* accuracy is better: the removed pixels were informative).
//! `t = 0` is the same retraining on the unmodified images.
//!
//! *Lite:* a subset of the training set (`train_n`) and few epochs instead of the paper's
//! ImageNet ResNet-50 trained five times per point; the test figures therefore carry the
//! retraining's own noise (compare the spread between fractions with the gap to random).
//!
//! *A caveat the tests show:* the fill is the mean, not the background, so the holes
//! themselves draw the outline of what was removed. Removing the brightest 30% of an
//! MNIST digit's pixels (all of its ink) leaves a retrained mnist-cnn at 79% rather than
//! chance, because it learns to read the outline. ROAR measures what can still be learned
//! from the image *with its holes*, which is less than "the information was removed".
//!
//! *The paper's claim:* on ImageNet, the plain gradient, Integrated Gradients and guided
//! backprop are no better than random, while SmoothGrad² and VarGrad are. On MNIST it is
//! reversed (`lamppost evaluate roar` on the 99.09% mnist-cnn, README): every method
//! leaves more accuracy than random removal, SmoothGrad² and VarGrad the most (97.5% and
//! 98.2% mean against random's 87.9%), because their maps follow the strokes and the
//! holes draw them. Pinned by
//! `tests/metrics.rs::roar_removes_what_the_model_needs` (hand-built maps on a small
//! set: removing the ink the labels depend on costs more accuracy than random removal;
//! the random baseline is computed, never assumed) and the unit tests below.

use crate::data::Dataset;
use crate::data::source::Loaded;
use crate::error::{Result, invalid};
use crate::explain::attribution::{Method, Precision};
use crate::fit::{Quiet, TrainConfig, train_new};
use crate::nn::Model;
use crate::tensor::Tensor;
use crate::tensor::image::pixel_map;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// Hooker et al.'s fractions removed.
pub const FRACTIONS: [f64; 5] = [0.1, 0.3, 0.5, 0.7, 0.9];

/// Images per attribution call (the methods batch inside under the shared row budget).
const CHUNK: usize = 256;

/// Settings of one ROAR-lite run.
#[derive(Clone, Debug, PartialEq)]
pub struct RoarOptions {
    /// Fractions of each image's pixels removed, each in (0, 1].
    pub fractions: Vec<f64>,
    /// Retraining settings (the architecture's reference settings, fewer epochs).
    pub train: TrainConfig,
    /// Seed of the random baseline's pixel choice.
    pub seed: u64,
}

/// One retrained model's test accuracy.
#[derive(Clone, Debug, PartialEq)]
pub struct RoarPoint {
    /// A method's name, or `random`.
    pub method: String,
    pub fraction: f64,
    pub accuracy: f64,
}

/// The retrainings of a run: `fraction 0` (unmodified) first, then every method and
/// `random` at every fraction.
#[derive(Clone, Debug, PartialEq)]
pub struct Roar {
    pub unmodified: f64,
    pub points: Vec<RoarPoint>,
}

impl Roar {
    /// The accuracy curve of `method` over `[0] ++ fractions`.
    pub fn curve(&self, method: &str) -> Vec<(f64, f64)> {
        std::iter::once((0.0, self.unmodified))
            .chain(
                self.points
                    .iter()
                    .filter(|p| p.method == method)
                    .map(|p| (p.fraction, p.accuracy)),
            )
            .collect()
    }

    /// Mean accuracy of `method` over the fractions: lower removes more of what the
    /// model needs.
    pub fn mean_accuracy(&self, method: &str) -> f64 {
        let v: Vec<f64> = self
            .points
            .iter()
            .filter(|p| p.method == method)
            .map(|p| p.accuracy)
            .collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    }

    /// `results.csv`: `method,fraction,accuracy`.
    pub fn csv(&self) -> String {
        let mut s = String::from("method,fraction,accuracy\n");
        s += &format!("unmodified,0,{:.6}\n", self.unmodified);
        for p in &self.points {
            s += &format!("{},{},{:.6}\n", p.method, p.fraction, p.accuracy);
        }
        s
    }
}

/// Each image's pixels (`H·W` positions) from most to least relevant by `|a|`, ties by
/// index, for `model`'s attributions by `method` on `data` (targets: the labels).
pub fn pixel_orders<T: Precision>(
    model: &Model<T>,
    method: &dyn Method,
    data: &Dataset,
    progress: &mut dyn FnMut(usize),
) -> Result<Vec<Vec<u32>>> {
    let &[_, _, h, w] = data.x.shape() else {
        return invalid("ROAR removes pixels of pictures [N, C, H, W]");
    };
    let mut out = Vec::with_capacity(data.len());
    let all: Vec<usize> = (0..data.len()).collect();
    for idx in all.chunks(CHUNK) {
        let (x, y) = data.batch(idx)?;
        let a = T::run(method, model, &x.cast(), &y)?.map;
        for (i, &example) in idx.iter().enumerate() {
            let m = pixel_map(&a, i, h, w)?;
            if m.iter().any(|v| !v.is_finite()) {
                return invalid(format!(
                    "the map of example {example} holds NaN or infinity"
                ));
            }
            let mut order: Vec<u32> = (0..(h * w) as u32).collect();
            order.sort_by(|&p, &q| {
                m[q as usize]
                    .abs()
                    .partial_cmp(&m[p as usize].abs())
                    .expect("finite")
                    .then(p.cmp(&q))
            });
            out.push(order);
        }
        progress(idx.len());
    }
    Ok(out)
}

/// A seeded random order of each image's pixels (example `i` from its own stream, so
/// the order does not depend on the set's size).
pub fn random_orders(n: usize, hw: usize, seed: u64) -> Vec<Vec<u32>> {
    (0..n)
        .map(|i| {
            let mut o: Vec<u32> = (0..hw as u32).collect();
            let s = seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x0A0A_0A0A;
            o.shuffle(&mut StdRng::seed_from_u64(s));
            o
        })
        .collect()
}

/// The per-channel mean of a set of pictures.
pub fn channel_means(x: &Tensor<f32>) -> Vec<f32> {
    let &[n, c, h, w] = x.shape() else {
        return Vec::new();
    };
    let hw = h * w;
    (0..c)
        .map(|ch| {
            let s: f64 = (0..n)
                .flat_map(|i| x.data()[(i * c + ch) * hw..(i * c + ch + 1) * hw].iter())
                .map(|&v| v as f64)
                .sum();
            (s / (n * hw).max(1) as f64) as f32
        })
        .collect()
}

/// `data` with the first `⌈fraction·H·W⌉` pixels of each image's order set to `fill`
/// (one value per channel).
pub fn remove(data: &Dataset, orders: &[Vec<u32>], fraction: f64, fill: &[f32]) -> Dataset {
    let &[n, c, h, w] = data.x.shape() else {
        unreachable!("checked by pixel_orders")
    };
    let hw = h * w;
    let k = ((fraction * hw as f64).ceil() as usize).min(hw);
    let mut v = data.x.data().to_vec();
    for i in 0..n {
        for &p in &orders[i][..k] {
            for ch in 0..c {
                v[(i * c + ch) * hw + p as usize] = fill[ch];
            }
        }
    }
    Dataset {
        x: Tensor::new(data.x.shape(), v).expect("same shape"),
        ..data.clone()
    }
}

/// Runs ROAR-lite for `methods` (name, method) with `model`'s attributions on `train`
/// and `test` (see the module documentation); `progress(stage, done, total)` after every
/// attribution chunk and retraining.
pub fn roar<T: Precision>(
    model: &Model<T>,
    methods: &[(&str, &dyn Method)],
    train: &Dataset,
    test: &Dataset,
    opts: &RoarOptions,
    progress: &mut dyn FnMut(&str, usize, usize),
) -> Result<Roar> {
    if let Some(f) = opts.fractions.iter().find(|f| !(**f > 0.0 && **f <= 1.0)) {
        return invalid(format!("a removed fraction must lie in (0, 1], got {f}"));
    }
    if train.is_empty() || test.is_empty() {
        return invalid("ROAR needs training and test examples");
    }
    let &[_, _, h, w] = train.x.shape() else {
        return invalid("ROAR removes pixels of pictures [N, C, H, W]");
    };
    opts.train.validate()?;
    let fill = channel_means(&train.x);
    let runs = 1 + (methods.len() + 1) * opts.fractions.len();
    let attributions = methods.len() * (train.len() + test.len());
    let (mut trained, mut explained) = (0, 0);
    let retrain = |tr: Dataset, te: Dataset| -> Result<f64> {
        let data = Loaded {
            train: tr,
            test: te,
            report: None,
        };
        let t = train_new(
            model.arch.clone(),
            &data,
            &opts.train,
            &mut std::io::sink(),
            &mut Quiet,
        )?;
        Ok(t.eval.accuracy)
    };
    let unmodified = retrain(train.clone(), test.clone())?;
    trained += 1;
    progress("retraining", trained, runs);
    let mut points = Vec::new();
    // (name, training orders, test orders)
    type Orders = (String, Vec<Vec<u32>>, Vec<Vec<u32>>);
    let mut orders: Vec<Orders> = Vec::new();
    for (name, method) in methods {
        let mut tick = |k: usize| {
            explained += k;
            progress("attributions", explained, attributions);
        };
        let named = |e: crate::error::Error| crate::error::Error::Invalid(format!("{name}: {e}"));
        let a = pixel_orders(model, *method, train, &mut tick).map_err(named)?;
        let b = pixel_orders(model, *method, test, &mut tick).map_err(named)?;
        orders.push((name.to_string(), a, b));
    }
    orders.push((
        "random".into(),
        random_orders(train.len(), h * w, opts.seed),
        random_orders(test.len(), h * w, opts.seed ^ 0x7E57),
    ));
    for (name, tr, te) in &orders {
        for &fraction in &opts.fractions {
            let accuracy = retrain(
                remove(train, tr, fraction, &fill),
                remove(test, te, fraction, &fill),
            )?;
            trained += 1;
            progress("retraining", trained, runs);
            points.push(RoarPoint {
                method: name.clone(),
                fraction,
                accuracy,
            });
        }
    }
    Ok(Roar { unmodified, points })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removal_takes_the_top_pixels_of_each_order_in_every_channel() {
        let x = Tensor::new(&[1, 2, 2, 2], (1..=8).map(|v| v as f32).collect()).unwrap();
        let d = Dataset {
            x,
            y: vec![0],
            classes: vec!["a".into()],
            names: vec!["0".into()],
        };
        // order: pixel 3, then 0, ...; 0.5 of 4 pixels = 2 removed
        let out = remove(&d, &[vec![3, 0, 1, 2]], 0.5, &[-1.0, -2.0]);
        assert_eq!(out.x.data(), &[-1.0, 2.0, 3.0, -1.0, -2.0, 6.0, 7.0, -2.0]);
        // ⌈0.1·4⌉ = 1
        let out = remove(&d, &[vec![2, 0, 1, 3]], 0.1, &[0.0, 0.0]);
        assert_eq!(out.x.data(), &[1.0, 2.0, 0.0, 4.0, 5.0, 6.0, 0.0, 8.0]);
    }

    #[test]
    fn channel_means_average_every_image() {
        let x = Tensor::new(
            &[2, 2, 1, 2],
            vec![1.0, 3.0, 10.0, 10.0, 5.0, 7.0, 0.0, 20.0],
        )
        .unwrap();
        assert_eq!(channel_means(&x), vec![4.0, 10.0]);
    }

    #[test]
    fn random_orders_are_permutations_that_repeat_by_seed() {
        let a = random_orders(3, 10, 7);
        assert_eq!(a, random_orders(3, 10, 7));
        assert_ne!(a, random_orders(3, 10, 8));
        assert_ne!(a[0], a[1]);
        for o in &a {
            let mut s = o.clone();
            s.sort();
            assert_eq!(s, (0..10).collect::<Vec<u32>>());
        }
        // an example's order does not depend on how many there are
        assert_eq!(random_orders(5, 10, 7)[..3], a[..]);
    }
}
