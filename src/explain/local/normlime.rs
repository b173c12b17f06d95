//! NormLIME (Ahern et al. 2019): global feature importance from many local explanations.
//!
//! *Question:* across many inputs, which features do the local explanations rely on?
//! LIME runs on every input with features that mean the same thing on every input (a
//! fixed grid of cells, or the rows of a sequence); each explanation's weights are
//! normalized to unit L1 norm, `w̃ᵢⱼ = |wᵢⱼ| / Σⱼ |wᵢⱼ|`; the importance of feature `j`
//! is the mean of `w̃ᵢⱼ` over the explanations (per class, or over all).
//!
//! Pinned by the test below: a model that only reads one region gets its importance there.

use super::lime::{Lime, fixed_segments};
use crate::error::{Result, invalid};
use crate::explain::attribution::{AttributionMethod, check_batch};
use crate::float::Float;
use crate::nn::Model;
use crate::tensor::Tensor;

/// Global importance `[K]` of the fixed features over a batch, and the segment labels.
pub fn normlime<T: Float>(
    model: &Model<T>,
    x: &Tensor<T>,
    targets: &[usize],
    lime: &Lime,
) -> Result<(Vec<f64>, Vec<usize>)> {
    check_batch(model, x, targets)?;
    let (_, _, h, w) = crate::ops::expect_4d(x.shape(), "normlime")?;
    let Some(labels) = fixed_segments(lime.segmenter, h, w) else {
        return invalid(
            "NormLIME needs features that line up across inputs: use a grid or rows segmenter",
        );
    };
    let k = labels.iter().max().map_or(0, |m| m + 1);
    let lime = Lime {
        num_features: k,
        ..lime.clone()
    };
    let a = lime.attribute(model, x, targets)?;
    let weights = a.extra("weights").expect("lime returns weights");
    let n = x.shape()[0];
    let kw = weights.shape()[1];
    let mut imp = vec![0.0; k];
    for i in 0..n {
        let row = &weights.data()[i * kw..(i + 1) * kw];
        let total: f64 = row.iter().map(|v| v.to_f64().abs()).sum();
        if total > 0.0 {
            for j in 0..k.min(kw) {
                imp[j] += row[j].to_f64().abs() / total / n as f64;
            }
        }
    }
    Ok((imp, labels))
}

/// NormLIME as an attribution method: every example gets the batch's global importance
/// map `[N, H, W]` (each pixel carries its cell's importance); extra `importance` `[K]`.
#[derive(Clone, Debug)]
pub struct NormLime {
    pub lime: Lime,
}

impl<T: Float> AttributionMethod<T> for NormLime {
    fn name(&self) -> &'static str {
        "normlime"
    }
    fn attribute(
        &self,
        model: &Model<T>,
        x: &Tensor<T>,
        targets: &[usize],
    ) -> Result<crate::explain::attribution::Attribution<T>> {
        let (imp, labels) = normlime(model, x, targets, &self.lime)?;
        let (n, _, h, w) = crate::ops::expect_4d(x.shape(), "normlime")?;
        let map: Vec<T> = (0..n)
            .flat_map(|_| labels.iter().map(|&s| T::from_f64_lossy(imp[s])))
            .collect();
        let k = imp.len();
        Ok(crate::explain::attribution::Attribution {
            map: Tensor::new(&[n, h, w], map)?,
            extras: vec![(
                "importance".into(),
                Tensor::new(&[k], imp.into_iter().map(T::from_f64_lossy).collect())?,
            )],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::local::lime::Segmenter;
    use crate::nn::Arch;

    /// A linear model that reads only the top-left 7×7 cell of a 28×28 image.
    #[test]
    fn importance_lands_where_the_model_reads() {
        let arch = Arch::from_name("seq:flatten,linear(784,2)").unwrap();
        let mut wt = vec![0.0; 2 * 784];
        for p in 0..784 {
            if p / 28 < 7 && p % 28 < 7 {
                wt[784 + p] = 1.0;
            }
        }
        let named = vec![
            (
                "1.weight".to_string(),
                Tensor::from_f64(&[2, 784], &wt).unwrap(),
            ),
            ("1.bias".to_string(), Tensor::zeros(&[2])),
        ];
        let model = Model::<f64>::from_named(arch, named).unwrap();
        let x = crate::autodiff::gradcheck::test_input(&[3, 1, 28, 28], 5, 0.0).map(|v| v.abs());
        // hide with 0: the mean colour would leave a sum-reading model unchanged
        let lime = Lime {
            samples: 200,
            segmenter: Segmenter::Grid { cell: 7 },
            fill: Some(0.0),
            ..Lime::default()
        };
        let (imp, labels) = normlime(&model, &x, &[1, 1, 1], &lime).unwrap();
        assert_eq!(imp.len(), 16);
        assert_eq!(labels[0], 0);
        let best = (0..16).max_by(|&a, &b| imp[a].total_cmp(&imp[b])).unwrap();
        assert_eq!(best, 0, "{imp:?}");
        assert!(imp[0] > 0.5, "{imp:?}");
    }
}
