//! Global average pooling: `[N,C,H,W] → [N,C]`, the mean over each feature map (the
//! head of CAM networks). Backward: `g / (H·W)` on every position.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::Result;
use crate::float::Float;
use crate::tensor::Tensor;

impl<T: Float> Tape<T> {
    pub fn global_avg_pool(&mut self, x: Var) -> Result<Var> {
        let (n, c, h, w) = super::expect_4d(self.shape(x), "global_avg_pool")?;
        let inv = T::one() / T::from_usize(h * w).unwrap_or(T::one());
        let y: Vec<T> = self
            .value(x)
            .data()
            .chunks(h * w)
            .map(|p| p.iter().copied().sum::<T>() * inv)
            .collect();
        let y = Tensor::new(&[n, c], y)?;
        Ok(self.push(y, Op::GlobalAvgPool(x)))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, x: Var) -> Contribs<T> {
    let (_, _, h, w) = super::expect_4d(c.val(x).shape(), "global_avg_pool")?;
    let inv = T::one() / T::from_usize(h * w).unwrap_or(T::one());
    let mut dx = Vec::with_capacity(c.val(x).len());
    for &g in c.g.data() {
        dx.extend(std::iter::repeat_n(g * inv, h * w));
    }
    Ok(vec![(x, Tensor::new(c.val(x).shape(), dx)?)])
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck() {
        assert_gradcheck(
            |t, v| t.global_avg_pool(v[0]),
            &[test_input(&[2, 3, 3, 4], 1, 0.0)],
        );
    }
}
