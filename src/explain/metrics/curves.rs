//! Deletion and insertion (Petsiuk et al. 2018), MoRF / LeRF and AOPC (Samek et al.
//! 2017): how fast does the class score fall as the pixels a map calls important are
//! removed first?
//!
//! *Question:* if the map is faithful, removing its top pixels should destroy the
//! prediction quickly (deletion: a low area under the curve is good) and inserting them
//! into an uninformative image should restore it quickly (insertion: a high area is good).
//!
//! *Formula.* For example `x` with target class `c` (the class predicted on `x`), the map
//! is reduced to one score per pixel ([`pixel_map`]: channels summed, CAMs upsampled) and
//! the pixels, or `r × r` regions scored by their sum, are ranked by the stable order
//! (−score, index): ties go to the lower pixel index. With `U` units and cut points
//! `0 = k_0 < k_1 < … < k_L = U` (`step` units apart, or given fractions),
//!
//! * deletion: `x^(j)` = `x` with its first `k_j` units replaced by the substrate `s`,
//! * insertion: `x^(j)` = `s` with the first `k_j` units of `x` put back,
//!
//! the curve is `p_j = softmax(f(x^(j)))_c` (or the logit) at `k_j / U`, and its area is the
//! trapezoid rule on [0, 1]: `AUC = Σ_j (k_{j+1} − k_j)/U · (p_j + p_{j+1})/2`.
//! AOPC (Samek) is `1/(L+1) Σ_{j=0}^{L} (p_0 − p_j)` over the first `L` steps;
//! MoRF removes the most relevant units first, LeRF the least relevant first, and
//! "random" a seeded permutation per example, the baseline every method must beat
//! (computed, not assumed).
//!
//! Substrates: `zero` (0 in the model's input space: for normalized MNIST that is a grey
//! of 0.13, not the black background), `blur:σ` (a Gaussian blur of the image, Petsiuk's
//! insertion start), `mean` (each channel's mean over the image), `constant:v`, and
//! `road` (noisy linear imputation, [`super::road`]).
//!
//! All rows of all examples go through the shared batched evaluator
//! ([`predict_rows`]) in one call: one batched pass per set of curves.
//!
//! Pinned by the hand-worked tests below: the AUC of `[1, 0.5, 0]` is 0.5; for a linear
//! model with zero substrate and attribution `w⊙x = [4,3,2,1]` the deletion curve is
//! `[10,6,3,1,0]` (AUC 0.375 after dividing by 10) and insertion its mirror (0.625).
//! Differences from Quantus' `PixelFlipping`: Quantus breaks ties by NumPy's unstable
//! argsort, leaves out the unperturbed point and by default divides the map by its
//! maximum first (which does not change the order). Its `RegionPerturbation` is our
//! MoRF with `region` r (non-overlapping r×r patches ranked by their sum) reported as
//! the drop `f(x) − f(x_k)`; its baseline `"black"` is each image's minimum (on MNIST the
//! normalized background, our `constant:-0.4242`), not 0. Both agree with ours to 3e-8
//! in float32 (`tests/metrics.rs::pixel_flipping_matches_quantus`,
//! `region_perturbation_matches_quantus`).

use super::road::impute;
use crate::error::{Result, invalid};
use crate::explain::batched::predict_rows;
use crate::float::Float;
use crate::nn::Model;
use crate::tensor::Tensor;
use crate::tensor::image::{gaussian_blur, pixel_map};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// What replaces removed pixels (deletion) or where insertion starts.
#[derive(Clone, Debug, PartialEq)]
pub enum Substrate {
    /// 0 in the model's input space.
    Zero,
    /// A constant in the model's input space.
    Constant(f64),
    /// A Gaussian blur of the image with this σ (pixels).
    Blur(f64),
    /// Each channel's mean over the image.
    Mean,
    /// Noisy linear imputation from the remaining pixels (ROAD), noise σ 0.01, seeded.
    Road { seed: u64 },
}

impl Substrate {
    /// `zero`, `constant:V`, `blur[:SIGMA]` (default σ = side/10), `mean`, `road[:SEED]`.
    pub fn parse(s: &str) -> Result<Substrate> {
        let (name, arg) = s.split_once(':').unwrap_or((s, ""));
        let num = |what: &str| -> Result<f64> {
            arg.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    crate::error::Error::Invalid(format!(
                        "--substrate {s}: {what} '{arg}' is not a finite number"
                    ))
                })
        };
        match (name, arg.is_empty()) {
            ("zero", true) => Ok(Substrate::Zero),
            ("mean", true) => Ok(Substrate::Mean),
            ("constant", false) => Ok(Substrate::Constant(num("the value")?)),
            ("blur", true) => Ok(Substrate::Blur(0.0)),
            ("blur", false) => match num("σ")? {
                v if v > 0.0 => Ok(Substrate::Blur(v)),
                v => invalid(format!("--substrate blur:{v}: σ must be above 0")),
            },
            ("road", true) => Ok(Substrate::Road { seed: 0 }),
            ("road", false) => arg
                .parse::<u64>()
                .map(|seed| Substrate::Road { seed })
                .map_err(|_| {
                    crate::error::Error::Invalid(format!("--substrate {s}: '{arg}' is not a seed"))
                }),
            _ => invalid(format!(
                "--substrate '{s}': use zero, constant:V, blur[:SIGMA], mean or road[:SEED]"
            )),
        }
    }

    pub fn name(&self) -> String {
        match self {
            Substrate::Zero => "zero".into(),
            Substrate::Constant(v) => format!("constant:{v}"),
            Substrate::Blur(s) => format!("blur:{s}"),
            Substrate::Mean => "mean".into(),
            Substrate::Road { seed } => format!("road:{seed}"),
        }
    }

    /// The substrate image for one example `[C·H·W]`; empty for ROAD, whose imputation
    /// depends on which pixels are removed and is made per row.
    fn image(&self, x: &[f64], c: usize, h: usize, w: usize) -> Vec<f64> {
        match self {
            Substrate::Zero => vec![0.0; x.len()],
            Substrate::Constant(v) => vec![*v; x.len()],
            Substrate::Mean => x
                .chunks(h * w)
                .flat_map(|ch| {
                    let m = ch.iter().sum::<f64>() / ch.len() as f64;
                    std::iter::repeat_n(m, ch.len())
                })
                .collect(),
            Substrate::Blur(s) => {
                let sigma = if *s > 0.0 { *s } else { h.max(w) as f64 / 10.0 };
                gaussian_blur(x, c, h, w, sigma)
            }
            Substrate::Road { .. } => Vec::new(),
        }
    }
}

/// Deletion starts from the image and removes; insertion starts from the substrate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Deletion,
    Insertion,
}

/// Which units go first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Most relevant first (MoRF; the deletion and insertion order).
    MostRelevant,
    /// Least relevant first (LeRF).
    LeastRelevant,
    /// A seeded random permutation per example: the baseline.
    Random(u64),
}

/// What the curve records of each changed input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Score {
    /// `softmax(f(x))_c` (the default).
    Probability,
    /// `f(x)_c`.
    Logit,
}

/// Where the curve is measured.
#[derive(Clone, Debug, PartialEq)]
pub enum Cuts {
    /// Every `step` units until all are removed.
    Step(usize),
    /// At most this many steps of one unit each (AOPC's `L`).
    First(usize),
    /// At these fractions of the units (0 is always added).
    Fractions(Vec<f64>),
}

/// One kind of curve.
#[derive(Clone, Debug, PartialEq)]
pub struct CurveSpec {
    pub direction: Direction,
    pub order: Order,
    pub substrate: Substrate,
    /// Side of the square regions ranked as units (1 = pixels).
    pub region: usize,
    pub cuts: Cuts,
    pub score: Score,
}

impl CurveSpec {
    /// Petsiuk's deletion: pixels most relevant first, `step` per step.
    pub fn deletion(substrate: Substrate, step: usize) -> Self {
        CurveSpec {
            direction: Direction::Deletion,
            order: Order::MostRelevant,
            substrate,
            region: 1,
            cuts: Cuts::Step(step),
            score: Score::Probability,
        }
    }
    /// Petsiuk's insertion into the substrate (blurred image by default).
    pub fn insertion(substrate: Substrate, step: usize) -> Self {
        CurveSpec {
            direction: Direction::Insertion,
            ..CurveSpec::deletion(substrate, step)
        }
    }
}

/// A curve: scores at the fractions of units removed (or inserted).
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    pub fractions: Vec<f64>,
    pub scores: Vec<f64>,
}

impl Curve {
    /// Area under the curve by the trapezoid rule on [0, 1].
    pub fn auc(&self) -> f64 {
        trapezoid(&self.fractions, &self.scores)
    }
    /// `1/(L+1) Σ_j (p_0 − p_j)` (Samek et al.'s AOPC).
    pub fn aopc(&self) -> f64 {
        let p0 = self.scores[0];
        self.scores.iter().map(|p| p0 - p).sum::<f64>() / self.scores.len() as f64
    }
}

/// `Σ (x_{j+1} − x_j)(y_j + y_{j+1})/2`.
pub fn trapezoid(x: &[f64], y: &[f64]) -> f64 {
    x.windows(2)
        .zip(y.windows(2))
        .map(|(a, b)| (a[1] - a[0]) * (b[0] + b[1]) / 2.0)
        .sum()
}

/// Checks that `maps` can rank `x`'s pixels: one map per example, finite, reducible to
/// one score per pixel.
pub fn check_maps<T: Float>(x: &Tensor<T>, maps: &Tensor<T>) -> Result<(usize, usize, usize)> {
    let (n, c, h, w) = match x.shape() {
        &[n, c, h, w] => (n, c, h, w),
        s => {
            return invalid(format!(
                "the evaluation metrics need pictures [N, C, H, W]; got inputs of shape {}",
                crate::tensor::fmt_shape(s)
            ));
        }
    };
    if maps.shape().first() != Some(&n) || !matches!(maps.ndim(), 3 | 4) {
        return invalid(format!(
            "maps of shape {} do not match {n} inputs of shape {}: give one map per input, [N, C, H, W] or [N, h, w]",
            crate::tensor::fmt_shape(maps.shape()),
            crate::tensor::fmt_shape(x.shape())
        ));
    }
    maps.check_finite("attribution map")?;
    Ok((c, h, w))
}

/// The rank of each pixel's unit in the removal order (`units` of them).
pub fn unit_ranks(
    scores: &[f64],
    h: usize,
    w: usize,
    region: usize,
    order: Order,
) -> (Vec<usize>, usize) {
    let region = region.max(1);
    let (rh, rw) = (h.div_ceil(region), w.div_ceil(region));
    let unit_of = |p: usize| (p / w / region) * rw + (p % w) / region;
    let mut unit_score = vec![0.0; rh * rw];
    for (p, s) in scores.iter().enumerate() {
        unit_score[unit_of(p)] += s;
    }
    let mut units: Vec<usize> = (0..rh * rw).collect();
    match order {
        Order::MostRelevant => {
            units.sort_by(|&a, &b| unit_score[b].total_cmp(&unit_score[a]).then(a.cmp(&b)))
        }
        Order::LeastRelevant => {
            units.sort_by(|&a, &b| unit_score[a].total_cmp(&unit_score[b]).then(a.cmp(&b)))
        }
        Order::Random(seed) => units.shuffle(&mut StdRng::seed_from_u64(seed)),
    }
    let mut rank_of_unit = vec![0; units.len()];
    for (r, &u) in units.iter().enumerate() {
        rank_of_unit[u] = r;
    }
    (
        (0..h * w).map(|p| rank_of_unit[unit_of(p)]).collect(),
        units.len(),
    )
}

/// The cut points `k_j` (units removed) for `units` units.
fn cut_points(cuts: &Cuts, units: usize) -> Result<Vec<usize>> {
    let mut k = vec![0];
    match cuts {
        Cuts::Step(0) | Cuts::First(0) => return invalid("a curve needs a step of at least 1"),
        Cuts::Step(s) => k.extend((1..=units.div_ceil(*s)).map(|j| (j * s).min(units))),
        Cuts::First(l) => k.extend(1..=(*l).min(units)),
        Cuts::Fractions(f) => {
            if let Some(v) = f.iter().find(|v| !(0.0..=1.0).contains(*v)) {
                return invalid(format!("fraction {v} is outside [0, 1]"));
            }
            k.extend(
                f.iter()
                    .map(|v| (v * units as f64).round() as usize)
                    .filter(|&v| v > 0),
            );
        }
    }
    Ok(k)
}

/// One curve per example of `x` (targets: the class each curve follows), ranked by
/// `maps` (any layout [`pixel_map`] reads). Seeds of random orders and of ROAD's noise are
/// mixed with the example's position, so each example gets its own.
pub fn curves<T: Float>(
    model: &Model<T>,
    x: &Tensor<T>,
    maps: &Tensor<T>,
    targets: &[usize],
    spec: &CurveSpec,
) -> Result<Vec<Curve>> {
    let (c, h, w) = check_maps(x, maps)?;
    let n = x.shape()[0];
    if targets.len() != n {
        return invalid(format!("{} targets for {n} inputs", targets.len()));
    }
    let per = c * h * w;
    struct Plan {
        rank: Vec<usize>,
        cuts: Vec<usize>,
        units: usize,
        x: Vec<f64>,
        sub: Vec<f64>,
    }
    let mut plans = Vec::with_capacity(n);
    for i in 0..n {
        let scores: Vec<f64> = pixel_map(maps, i, h, w)?
            .iter()
            .map(|v| v.to_f64())
            .collect();
        let order = match spec.order {
            Order::Random(s) => Order::Random(mix(s, i)),
            o => o,
        };
        let (rank, units) = unit_ranks(&scores, h, w, spec.region, order);
        let xi: Vec<f64> = x.data()[i * per..(i + 1) * per]
            .iter()
            .map(|v| v.to_f64())
            .collect();
        let sub = spec.substrate.image(&xi, c, h, w);
        plans.push(Plan {
            cuts: cut_points(&spec.cuts, units)?,
            rank,
            units,
            x: xi,
            sub,
        });
    }
    let mut row_of = Vec::new(); // (example, cut index)
    for (i, p) in plans.iter().enumerate() {
        row_of.extend((0..p.cuts.len()).map(|j| (i, j)));
    }
    let (hw, deletion) = (h * w, spec.direction == Direction::Deletion);
    let logits = predict_rows(model, &[c, h, w], row_of.len(), |r, row: &mut [T]| {
        let (i, j) = row_of[r];
        let p = &plans[i];
        let cut = p.cuts[j];
        let removed = |q: usize| (p.rank[q] < cut) == deletion;
        if let Substrate::Road { seed } = spec.substrate {
            let mask: Vec<bool> = (0..hw).map(removed).collect();
            let filled = impute(&p.x, &mask, c, h, w, 0.01, mix(mix(seed, i), j));
            for (v, f) in row.iter_mut().zip(filled) {
                *v = T::from_f64_lossy(f);
            }
        } else {
            for (k, v) in row.iter_mut().enumerate() {
                let src = if removed(k % hw) { &p.sub } else { &p.x };
                *v = T::from_f64_lossy(src[k]);
            }
        }
    })?;
    let k = logits.shape()[1];
    let mut out = Vec::with_capacity(n);
    let mut r = 0;
    for (i, p) in plans.iter().enumerate() {
        let scores = (0..p.cuts.len())
            .map(|j| {
                let row = &logits.data()[(r + j) * k..(r + j + 1) * k];
                match spec.score {
                    Score::Probability => {
                        crate::explain::attribution::softmax_prob(row, targets[i]).to_f64()
                    }
                    Score::Logit => row[targets[i]].to_f64(),
                }
            })
            .collect();
        r += p.cuts.len();
        let fractions = p.cuts.iter().map(|&k| k as f64 / p.units as f64).collect();
        out.push(Curve { fractions, scores });
    }
    Ok(out)
}

/// A seed for item `i` derived from `seed` (SplitMix64 step).
pub fn mix(seed: u64, i: usize) -> u64 {
    let mut z = seed
        ^ (i as u64)
            .wrapping_add(1)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Arch;

    #[test]
    fn trapezoid_of_a_straight_fall_is_half() {
        let c = Curve {
            fractions: vec![0.0, 0.5, 1.0],
            scores: vec![1.0, 0.5, 0.0],
        };
        assert_eq!(c.auc(), 0.5);
        assert_eq!(c.aopc(), 0.5);
    }

    /// A linear model y = Σ w_p x_p on a 1×1×2×2 input, w = 1, x = [4,3,2,1] (so w⊙x =
    /// [4,3,2,1]); zero substrate, one pixel per step, logits.
    #[test]
    fn linear_model_deletion_and_insertion_by_hand() {
        let mut m = Model::<f64>::init(Arch::from_name("seq:flatten,linear(4,2)").unwrap(), 0);
        let (_, wt) = &mut m
            .param_tensors_mut()
            .into_iter()
            .enumerate()
            .next()
            .unwrap();
        wt.data_mut()
            .copy_from_slice(&[1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
        for t in m.param_tensors_mut().into_iter().skip(1) {
            t.data_mut().fill(0.0);
        }
        let x = Tensor::<f64>::from_f64(&[1, 1, 2, 2], &[4.0, 3.0, 2.0, 1.0]).unwrap();
        let map = x.clone();
        let mut spec = CurveSpec::deletion(Substrate::Zero, 1);
        spec.score = Score::Logit;
        let del = curves(&m, &x, &map, &[0], &spec).unwrap();
        assert_eq!(del[0].scores, vec![10.0, 6.0, 3.0, 1.0, 0.0]);
        assert_eq!(del[0].fractions, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert!((del[0].auc() / 10.0 - 0.375).abs() < 1e-12);
        spec.direction = Direction::Insertion;
        let ins = curves(&m, &x, &map, &[0], &spec).unwrap();
        assert_eq!(ins[0].scores, vec![0.0, 4.0, 7.0, 9.0, 10.0]);
        assert!((ins[0].auc() / 10.0 - 0.625).abs() < 1e-12);
        // LeRF removes the smallest first; ties (an all-zero map) go by pixel index
        spec.direction = Direction::Deletion;
        spec.order = Order::LeastRelevant;
        let lerf = curves(&m, &x, &map, &[0], &spec).unwrap();
        assert_eq!(lerf[0].scores, vec![10.0, 9.0, 7.0, 4.0, 0.0]);
        spec.order = Order::MostRelevant;
        let flat = curves(&m, &x, &Tensor::zeros(&[1, 2, 2]), &[0], &spec).unwrap();
        assert_eq!(flat[0].scores, vec![10.0, 6.0, 3.0, 1.0, 0.0]);
    }

    #[test]
    fn regions_rank_by_their_sum_and_steps_may_be_partial() {
        // 3×3 scores; regions of 2 → units (0,0) 2×2, (0,1) 2×1, (1,0) 1×2, (1,1) 1×1
        let s = [1.0, 1.0, 5.0, 1.0, 1.0, 0.0, 0.0, 0.0, 9.0];
        let (rank, units) = unit_ranks(&s, 3, 3, 2, Order::MostRelevant);
        assert_eq!(units, 4);
        assert_eq!(rank, vec![2, 2, 1, 2, 2, 1, 3, 3, 0]);
        assert_eq!(cut_points(&Cuts::Step(3), 4).unwrap(), vec![0, 3, 4]);
        assert_eq!(cut_points(&Cuts::First(2), 4).unwrap(), vec![0, 1, 2]);
        assert!(cut_points(&Cuts::Fractions(vec![1.5]), 4).is_err());
    }

    #[test]
    fn bad_maps_are_refused() {
        let m = Model::<f64>::init(Arch::from_name("seq:flatten,linear(4,2)").unwrap(), 0);
        let x = Tensor::<f64>::zeros(&[1, 1, 2, 2]);
        let spec = CurveSpec::deletion(Substrate::Zero, 1);
        let nan = Tensor::<f64>::from_f64(&[1, 2, 2], &[0.0, f64::NAN, 0.0, 0.0]).unwrap();
        assert!(curves(&m, &x, &nan, &[0], &spec).is_err());
        assert!(curves(&m, &x, &Tensor::zeros(&[2, 2, 2]), &[0], &spec).is_err());
        assert!(Substrate::parse("blur:-1").is_err());
        assert!(Substrate::parse("sand").is_err());
        assert_eq!(
            Substrate::parse("road:3").unwrap(),
            Substrate::Road { seed: 3 }
        );
    }
}
