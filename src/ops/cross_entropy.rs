//! Cross-entropy of logits `[N, C]` against class indices: per example
//! `ℓᵢ = ln Σⱼ e^{xᵢⱼ} − xᵢ,ₜᵢ`, as `[N]` or their mean (PyTorch's `reduction`).
//! Backward: `dxᵢ = gᵢ · (softmax(xᵢ) − onehot(tᵢ))` (with gᵢ = g/N for the mean).

use super::log_softmax::log_softmax_rows;
use super::softmax::softmax_rows;
use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::{Result, invalid, shape_err};
use crate::float::Float;
use crate::tensor::{Tensor, fmt_shape};

fn check<T: Float>(x: &Tensor<T>, targets: &[usize]) -> Result<(usize, usize)> {
    let &[n, c] = x.shape() else {
        return shape_err(format!(
            "cross_entropy needs logits [N, C], got {}",
            fmt_shape(x.shape())
        ));
    };
    if n != targets.len() {
        return shape_err(format!(
            "cross_entropy: logits {} but {} targets",
            fmt_shape(x.shape()),
            targets.len()
        ));
    }
    if n == 0 || c == 0 {
        return invalid("cross_entropy on an empty batch");
    }
    if let Some(&t) = targets.iter().find(|&&t| t >= c) {
        return invalid(format!(
            "cross_entropy target {t} out of range for {c} classes"
        ));
    }
    Ok((n, c))
}

impl<T: Float> Tape<T> {
    /// Mean cross-entropy over the batch (a scalar).
    pub fn cross_entropy(&mut self, logits: Var, targets: &[usize]) -> Result<Var> {
        self.cross_entropy_impl(logits, targets, true)
    }

    /// Cross-entropy of each example (`[N]`).
    pub fn cross_entropy_per_example(&mut self, logits: Var, targets: &[usize]) -> Result<Var> {
        self.cross_entropy_impl(logits, targets, false)
    }

    fn cross_entropy_impl(&mut self, logits: Var, targets: &[usize], mean: bool) -> Result<Var> {
        let (n, c) = check(self.value(logits), targets)?;
        let lsm = log_softmax_rows(self.value(logits).data(), c);
        let per: Vec<T> = targets
            .iter()
            .enumerate()
            .map(|(i, &t)| -lsm[i * c + t])
            .collect();
        let y = if mean {
            Tensor::scalar(per.iter().copied().sum::<T>() / T::from_usize(n).unwrap_or(T::one()))
        } else {
            Tensor::new(&[n], per)?
        };
        Ok(self.push(
            y,
            Op::CrossEntropy {
                logits,
                targets: targets.to_vec(),
                mean,
            },
        ))
    }
}

pub(crate) fn backward<T: Float>(
    c: &Ctx<T>,
    logits: Var,
    targets: &[usize],
    mean: bool,
) -> Contribs<T> {
    let x = c.val(logits);
    let (n, k) = check(x, targets)?;
    let mut dx = softmax_rows(x.data(), k);
    let inv_n = T::one() / T::from_usize(n).unwrap_or(T::one());
    for (i, &t) in targets.iter().enumerate() {
        let gi = if mean {
            c.g.data()[0] * inv_n
        } else {
            c.g.data()[i]
        };
        dx[i * k + t] -= T::one();
        dx[i * k..(i + 1) * k].iter_mut().for_each(|v| *v *= gi);
    }
    Ok(vec![(logits, Tensor::new(x.shape(), dx)?)])
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck_mean_and_per_example() {
        let x = test_input(&[4, 3], 1, 0.0).map(|v| 3.0 * v);
        assert_gradcheck(
            |t, v| t.cross_entropy(v[0], &[0, 2, 1, 2]),
            std::slice::from_ref(&x),
        );
        assert_gradcheck(
            |t, v| t.cross_entropy_per_example(v[0], &[0, 2, 1, 2]),
            &[x],
        );
    }

    #[test]
    fn bad_targets_and_empty_batches_are_errors() {
        let mut t = crate::autodiff::Tape::<f32>::new();
        let x = t.leaf(crate::tensor::Tensor::zeros(&[2, 3]));
        assert!(
            t.cross_entropy(x, &[0, 3])
                .unwrap_err()
                .to_string()
                .contains("out of range")
        );
        assert!(t.cross_entropy(x, &[0]).is_err());
        let e = t.leaf(crate::tensor::Tensor::zeros(&[0, 3]));
        assert!(
            t.cross_entropy(e, &[])
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
    }
}
