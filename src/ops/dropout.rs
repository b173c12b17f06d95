//! Inverted dropout: each element is kept with probability 1 − p and scaled by
//! 1/(1 − p), dropped otherwise. The mask comes from the caller's seeded RNG, so the
//! same seed drops the same elements. Backward: `g` through the same mask and scale.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::{Result, invalid};
use crate::float::Float;
use crate::tensor::Tensor;
use rand::Rng;

impl<T: Float> Tape<T> {
    /// With `training == false` (or p = 0) this is the identity and records nothing.
    pub fn dropout(&mut self, x: Var, p: f64, training: bool, rng: &mut impl Rng) -> Result<Var> {
        if !(0.0..1.0).contains(&p) {
            return invalid(format!("dropout probability must be in [0, 1), got {p}"));
        }
        if !training || p == 0.0 {
            return Ok(x);
        }
        let scale = 1.0 / (1.0 - p);
        let keep: Vec<bool> = (0..self.value(x).len())
            .map(|_| rng.r#gen::<f64>() >= p)
            .collect();
        let s = T::from_f64_lossy(scale);
        let data = self
            .value(x)
            .data()
            .iter()
            .zip(&keep)
            .map(|(&v, &k)| if k { v * s } else { T::zero() })
            .collect();
        let y = Tensor::new(self.shape(x), data)?;
        Ok(self.push(y, Op::Dropout { x, keep, scale }))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, x: Var, keep: &[bool], scale: f64) -> Contribs<T> {
    let s = T::from_f64_lossy(scale);
    let data =
        c.g.data()
            .iter()
            .zip(keep)
            .map(|(&g, &k)| if k { g * s } else { T::zero() })
            .collect();
    Ok(vec![(x, Tensor::new(c.g.shape(), data)?)])
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn gradcheck_with_a_fixed_mask() {
        // the same seed in every evaluation gives the same mask
        assert_gradcheck(
            |t, v| t.dropout(v[0], 0.3, true, &mut StdRng::seed_from_u64(5)),
            &[test_input(&[4, 5], 1, 0.0)],
        );
    }

    #[test]
    fn same_seed_same_mask_and_eval_is_identity() {
        let run = |seed| {
            let mut t = crate::autodiff::Tape::<f32>::new();
            let x = t.leaf(crate::tensor::Tensor::ones(&[100]));
            let y = t
                .dropout(x, 0.5, true, &mut StdRng::seed_from_u64(seed))
                .unwrap();
            t.value(y).clone()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
        let kept = run(1).data().iter().filter(|&&v| v == 2.0).count();
        assert!((30..70).contains(&kept), "{kept} of 100 kept at p = 0.5");
        let mut t = crate::autodiff::Tape::<f32>::new();
        let x = t.leaf(crate::tensor::Tensor::ones(&[3]));
        assert_eq!(
            t.dropout(x, 0.5, false, &mut StdRng::seed_from_u64(1))
                .unwrap(),
            x
        );
    }
}
