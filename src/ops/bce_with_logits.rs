//! Binary cross-entropy on logits, mean over elements:
//! `mean(max(x,0) − x·y + ln(1 + e^{−|x|}))` (stable for any x).
//! Backward: `dx = g(σ(x) − y)/n`, `dy = −g·x/n`.
//! The terms are added in the fixed order of `tensor::sum_terms` (blocks of lanes), so
//! the loss has the same bits for any thread count.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::{Result, invalid};
use crate::float::Float;
use crate::tensor::vlibm::softplus_neg_abs_over;
use crate::tensor::{Tensor, sum_terms};

impl<T: Float> Tape<T> {
    pub fn bce_with_logits(&mut self, logits: Var, targets: Var) -> Result<Var> {
        let (x, y) = (self.value(logits), self.value(targets));
        x.same_shape(y)?;
        if x.is_empty() {
            return invalid("bce_with_logits of empty tensors");
        }
        let (xs, ys) = (x.data(), y.data());
        // a block of terms at a time: `ln(1 + e^{−|x|})` first, the costly part (libm's
        // `exp` and `ln`, for f32 in vector lanes with their bits: `tensor::vlibm`)
        let total = sum_terms(xs.len(), |start, terms| {
            let (x, y) = (&xs[start..][..terms.len()], &ys[start..][..terms.len()]);
            softplus_neg_abs_over(x, terms);
            for ((t, &x), &y) in terms.iter_mut().zip(x).zip(y) {
                *t = x.max_of(T::zero()) - x * y + *t;
            }
        });
        let y = Tensor::scalar(total / T::from_usize(xs.len()).unwrap_or(T::one()));
        Ok(self.push(y, Op::BceWithLogits(logits, targets)))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, x: Var, y: Var) -> Contribs<T> {
    let k = c.g.data()[0] / T::from_usize(c.val(x).len()).unwrap_or(T::one());
    let mut out = Vec::new();
    if c.needs(x) {
        // σ by `Tensor::sigmoid_zip`: `Float::sigmoid`'s bits, eight lanes at a time
        out.push((x, c.val(x).sigmoid_zip(c.val(y), |s, y| k * (s - y))?));
    }
    if c.needs(y) {
        out.push((y, c.val(x).map(|x| -k * x)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::autodiff::Tape;
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};
    use crate::float::Float;
    use crate::tensor::{SUM_BLOCK, Tensor};
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    /// The op on `x`, `y` against the formula element by element, summed in the order
    /// `sum_terms` promises (blocks of `SUM_BLOCK` terms, each in eight interleaved
    /// partial sums added pairwise, the blocks left to right): the loss's and the
    /// logits' gradient's bits.
    fn assert_formula_bits(x: &Tensor<f32>, y: &Tensor<f32>) {
        let mut tape = Tape::new();
        let (xv, yv) = (tape.leaf(x.clone()), tape.constant(y.clone()));
        let l = tape.bce_with_logits(xv, yv).unwrap();
        let terms: Vec<f32> = x
            .data()
            .iter()
            .zip(y.data())
            .map(|(&x, &y)| x.max_of(0.0) - x * y + (1.0 + (-x.abs()).exp()).ln())
            .collect();
        let lanes = |c: &[f32]| {
            let mut acc = [0f32; 8];
            for (i, &t) in c.iter().enumerate() {
                acc[i % 8] += t;
            }
            ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]))
        };
        let sum = terms.chunks(SUM_BLOCK).fold(0f32, |s, c| s + lanes(c));
        let want = sum / terms.len() as f32;
        assert_eq!(tape.value(l).item().unwrap().to_bits(), want.to_bits());
        let k = 1.0 / terms.len() as f32;
        let g = tape.backward(l).unwrap().get(xv);
        for ((&g, &x), &y) in g.data().iter().zip(x.data()).zip(y.data()) {
            assert_eq!(g.to_bits(), (k * (x.sigmoid() - y)).to_bits());
        }
    }

    #[test]
    fn f32_loss_and_gradient_have_the_bits_of_the_formula() {
        // mnist-vae's shape (split over threads, vector lanes) with logits out to ±150,
        // so that lanes `exp` leaves to libm are in it too
        let mut rng = StdRng::seed_from_u64(3);
        let x = Tensor::<f32>::randn(&[64, 784], 30.0, &mut rng);
        let y = Tensor::<f32>::uniform(&[64, 784], 0.0, 1.0, &mut rng);
        assert_formula_bits(&x, &y);
        // and rows of 16 logits in [−6, 6], where a mean of few terms keeps each term's
        // last bits (the large batch's sum rounds them away)
        for seed in 0..200 {
            let mut rng = StdRng::seed_from_u64(seed);
            let x = Tensor::<f32>::uniform(&[16], -6.0, 6.0, &mut rng);
            let y = Tensor::<f32>::uniform(&[16], 0.0, 1.0, &mut rng);
            assert_formula_bits(&x, &y);
        }
    }

    #[test]
    fn logits_and_targets_of_other_shapes_or_empty_are_refused() {
        let mut tape = Tape::<f32>::new();
        let x = tape.leaf(Tensor::zeros(&[2, 3]));
        let y = tape.constant(Tensor::zeros(&[3, 2]));
        let e = tape.bce_with_logits(x, y).unwrap_err().to_string();
        assert!(
            e.contains("equal shapes") && e.contains("[2, 3]") && e.contains("[3, 2]"),
            "{e}"
        );
        let z = tape.leaf(Tensor::zeros(&[0]));
        let e = tape.bce_with_logits(z, z).unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
    }

    #[test]
    fn gradcheck() {
        let y = test_input(&[3, 4], 2, 0.0).map(|v| (v + 1.0) / 2.0);
        assert_gradcheck(
            |t, v| t.bce_with_logits(v[0], v[1]),
            &[test_input(&[3, 4], 1, 0.0).map(|v| 5.0 * v), y],
        );
    }
}
