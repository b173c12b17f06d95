//! LIME for tabular inputs (Ribeiro, Singh, Guestrin 2016), as the lime package's
//! `LimeTabularExplainer` with `discretize_continuous=False`.
//!
//! *Question:* near this row, how much does each feature, in units of its spread in the
//! training data, move the probability of the target class?
//! Samples `x' = μ + σ ⊙ ε` (or `x + σ ⊙ ε` with `sample_around_instance`), `ε ~ N(0, I)`,
//! with `μ`, `σ` each feature's mean and standard deviation over training rows (σ = 1
//! where a feature is constant); the first sample is the row itself. On the standardized
//! samples `s = (x' − μ) / σ`, each gets the weight `√(exp(−d²/w²))`, `d` the Euclidean
//! distance to the standardized row and `w = 0.75·√F` by default. Features are chosen
//! as in image LIME and a weighted ridge regression (α = 1) of `P(target | x')` on `s`
//! gives one coefficient per feature (per standard deviation), its weighted R² (`score`),
//! its intercept and its prediction at the row (`local_pred`).
//!
//! Pinned by the tests below: on a nearly linear model the coefficients are the model's
//! slopes times σ; an irrelevant feature gets (almost) nothing; same seed, same numbers.

use super::lime::{Selection, fit_surrogate, kernel};
use crate::error::{Result, invalid, shape_err};
use crate::explain::attribution::{Attribution, AttributionMethod, check_batch};
use crate::explain::batched::{predict_rows, probabilities};
use crate::float::Float;
use crate::nn::Model;
use crate::tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

/// Each feature's mean and scale over the training rows (population standard deviation,
/// 1 for constant features, as scikit-learn's `StandardScaler`).
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureStats {
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
}

impl FeatureStats {
    /// Statistics of training rows `[M, F]`.
    pub fn from_rows<T: Float>(rows: &Tensor<T>) -> Result<FeatureStats> {
        let &[m, f] = rows.shape() else {
            return shape_err(format!(
                "tabular LIME needs training rows [M, F], got shape {:?}",
                rows.shape()
            ));
        };
        if m == 0 || f == 0 {
            return invalid("tabular LIME needs at least one training row with one feature");
        }
        if rows.data().iter().any(|v| !v.to_f64().is_finite()) {
            return invalid("the training rows contain NaN or infinite values");
        }
        let col = |j: usize| (0..m).map(move |i| rows.data()[i * f + j].to_f64());
        let mean: Vec<f64> = (0..f).map(|j| col(j).sum::<f64>() / m as f64).collect();
        let scale = (0..f)
            .map(|j| {
                let var = col(j).map(|v| (v - mean[j]).powi(2)).sum::<f64>() / m as f64;
                if var > 0.0 { var.sqrt() } else { 1.0 }
            })
            .collect();
        Ok(FeatureStats { mean, scale })
    }
}

/// Tabular LIME's settings.
#[derive(Clone, Debug)]
pub struct LimeTabular {
    pub stats: FeatureStats,
    pub samples: usize,
    /// `None`: `0.75·√F`, the lime package's default.
    pub kernel_width: Option<f64>,
    pub num_features: usize,
    pub selection: Selection,
    /// Sample around the row instead of around the training mean.
    pub sample_around_instance: bool,
    pub seed: u64,
}

impl LimeTabular {
    pub fn new(stats: FeatureStats) -> LimeTabular {
        LimeTabular {
            stats,
            samples: 5000,
            kernel_width: None,
            num_features: 10,
            selection: Selection::Auto,
            sample_around_instance: false,
            seed: 0,
        }
    }

    /// Perturbed rows (the first is `row`) and their standardized versions.
    fn sample(&self, row: &[f64], rng: &mut StdRng) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
        let FeatureStats { mean, scale } = &self.stats;
        let centre = if self.sample_around_instance {
            row
        } else {
            mean
        };
        let raw: Vec<Vec<f64>> = (0..self.samples)
            .map(|r| {
                if r == 0 {
                    return row.to_vec();
                }
                (0..row.len())
                    .map(|j| {
                        let e: f64 = StandardNormal.sample(rng);
                        e * scale[j] + centre[j]
                    })
                    .collect()
            })
            .collect();
        let scaled = raw
            .iter()
            .map(|x| (0..x.len()).map(|j| (x[j] - mean[j]) / scale[j]).collect())
            .collect();
        (raw, scaled)
    }
}

impl<T: Float> AttributionMethod<T> for LimeTabular {
    fn name(&self) -> &'static str {
        "lime"
    }

    /// `map` `[N, F]`: each feature's coefficient (0 if not selected); extras `score`,
    /// `local_pred` and `intercept` `[N]`.
    fn attribute(
        &self,
        model: &Model<T>,
        x: &Tensor<T>,
        targets: &[usize],
    ) -> Result<Attribution<T>> {
        check_batch(model, x, targets)?;
        let &[n, f] = x.shape() else {
            return shape_err(format!(
                "tabular LIME explains rows [N, F], got shape {:?}",
                x.shape()
            ));
        };
        if f != self.stats.mean.len() {
            return shape_err(format!(
                "the rows to explain have {f} features but the training rows (--background) have {}",
                self.stats.mean.len()
            ));
        }
        if self.samples < 2 {
            return invalid("lime needs at least 2 samples");
        }
        let width = self.kernel_width.unwrap_or(0.75 * (f as f64).sqrt());
        let mut rng = StdRng::seed_from_u64(self.seed);
        let (mut map, mut scores, mut preds, mut intercepts) =
            (vec![0.0; n * f], Vec::new(), Vec::new(), Vec::new());
        for (i, &target) in targets.iter().enumerate() {
            let row: Vec<f64> = x.data()[i * f..(i + 1) * f]
                .iter()
                .map(|v| v.to_f64())
                .collect();
            let (raw, scaled) = self.sample(&row, &mut rng);
            let logits = predict_rows(model, &[f], raw.len(), |r, out| {
                out.iter_mut()
                    .zip(&raw[r])
                    .for_each(|(o, &v)| *o = T::from_f64_lossy(v))
            })?;
            let probs: Vec<f64> = probabilities(&logits, |_| target)
                .into_iter()
                .map(|p| p.to_f64())
                .collect();
            let wts: Vec<f64> = scaled
                .iter()
                .map(|s| {
                    let d2: f64 = s.iter().zip(&scaled[0]).map(|(a, b)| (a - b).powi(2)).sum();
                    kernel(d2.sqrt(), width)
                })
                .collect();
            let fit = fit_surrogate(&scaled, &probs, &wts, self.num_features, self.selection)?;
            scores.push(fit.score);
            preds.push(fit.local_pred);
            intercepts.push(fit.intercept);
            for (&j, &c) in fit.features.iter().zip(&fit.coef) {
                map[i * f + j] = c;
            }
        }
        Ok(Attribution {
            map: Tensor::from_f64(&[n, f], &map)?,
            extras: vec![
                ("score".into(), Tensor::from_f64(&[n], &scores)?),
                ("local_pred".into(), Tensor::from_f64(&[n], &preds)?),
                ("intercept".into(), Tensor::from_f64(&[n], &intercepts)?),
            ],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Arch;

    /// A two-class linear model whose class-0 logit minus class-1 logit is `Σ wⱼ xⱼ`.
    fn linear_model(w: &[f64]) -> Model<f64> {
        let f = w.len();
        let arch = Arch::from_name(&format!("seq:linear({f},2)")).unwrap();
        let mut weight = vec![0.0; 2 * f];
        weight[..f].copy_from_slice(w);
        Model::from_named(
            arch,
            vec![
                ("0.weight".into(), Tensor::new(&[2, f], weight).unwrap()),
                ("0.bias".into(), Tensor::new(&[2], vec![0.0, 0.0]).unwrap()),
            ],
        )
        .unwrap()
    }

    fn training_rows() -> (Tensor<f64>, FeatureStats) {
        // feature j has mean j and standard deviation j + 1 (two points each side)
        let rows: Vec<f64> = (0..4)
            .flat_map(|i| {
                (0..3).map(move |j| j as f64 + if i % 2 == 0 { 1.0 } else { -1.0 } * (j + 1) as f64)
            })
            .collect();
        let t = Tensor::new(&[4, 3], rows).unwrap();
        let s = FeatureStats::from_rows(&t).unwrap();
        (t, s)
    }

    #[test]
    fn statistics_are_means_and_population_deviations() {
        let (_, s) = training_rows();
        assert_eq!(s.mean, vec![0.0, 1.0, 2.0]);
        assert_eq!(s.scale, vec![1.0, 2.0, 3.0]);
        let constant = Tensor::new(&[2, 1], vec![5.0f64, 5.0]).unwrap();
        assert_eq!(FeatureStats::from_rows(&constant).unwrap().scale, vec![1.0]);
        assert!(
            FeatureStats::from_rows(&Tensor::new(&[2, 1], vec![f64::NAN, 0.0]).unwrap()).is_err()
        );
    }

    /// Near P = ½ a softmax of a linear model is ≈ ½ + ¼·Σ wⱼ xⱼ, so on standardized
    /// features LIME's coefficients are ≈ ¼·wⱼ·σⱼ; a feature with weight 0 gets ≈ 0.
    #[test]
    fn recovers_a_nearly_linear_models_slopes() {
        let (_, stats) = training_rows();
        let w = [0.02, -0.01, 0.0];
        let model = linear_model(&w);
        let lime = LimeTabular {
            sample_around_instance: true,
            ..LimeTabular::new(stats.clone())
        };
        let x = Tensor::new(&[1, 3], vec![0.5, 1.0, 2.0]).unwrap();
        let a = lime.attribute(&model, &x, &[0]).unwrap();
        for (j, (&wj, &sj)) in w.iter().zip(&stats.scale).enumerate() {
            let want = 0.25 * wj * sj;
            let got = a.map.data()[j];
            assert!((got - want).abs() < 2e-4, "feature {j}: {got} vs {want}");
        }
        assert!(a.extra("score").unwrap().data()[0] > 0.99);
        let again = lime.attribute(&model, &x, &[0]).unwrap();
        assert_eq!(a, again);
    }

    #[test]
    fn wrong_shapes_are_errors() {
        let (_, stats) = training_rows();
        let model = linear_model(&[1.0, 1.0, 1.0]);
        let lime = LimeTabular::new(stats);
        let short = Tensor::new(&[1, 2], vec![0.0, 0.0]).unwrap();
        assert!(lime.attribute(&model, &short, &[0]).is_err());
    }
}
