//! `max(x, 0)`. Backward depends on the call's [`BackwardRule`]:
//! Standard `g·1[x>0]` (0 at x = 0, PyTorch's subgradient), GuidedBackprop
//! `g·1[x>0]·1[g>0]`, Deconvnet `max(g, 0)`.

use crate::autodiff::backward::{BackwardRule, Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::float::Float;
use crate::tensor::{Tensor, par_map2};

impl<T: Float> Tape<T> {
    pub fn relu(&mut self, x: Var) -> Var {
        self.unary(x, T::relu, Op::Relu(x))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, x: Var) -> Contribs<T> {
    let z = T::zero();
    let (g, xs) = (c.g.data(), c.val(x).data());
    let data = match c.rule {
        BackwardRule::Standard => par_map2(g, xs, |g, x| if x > z { g } else { z }),
        BackwardRule::GuidedBackprop => par_map2(g, xs, |g, x| if x > z && g > z { g } else { z }),
        BackwardRule::Deconvnet => par_map2(g, xs, |g, _| if g > z { g } else { z }),
    };
    Ok(vec![(x, Tensor::new(c.g.shape(), data)?)])
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};
    use crate::autodiff::{BackwardRule, Tape};
    use crate::tensor::Tensor;

    #[test]
    fn gradcheck_away_from_zero() {
        assert_gradcheck(|t, v| Ok(t.relu(v[0])), &[test_input(&[3, 5], 1, 0.1)]);
    }

    fn grad_under(rule: BackwardRule) -> Vec<f64> {
        let mut t = Tape::<f64>::new();
        let x = t.leaf(Tensor::from_f64(&[4], &[1.0, 1.0, -1.0, 0.0]).unwrap());
        let y = t.relu(x);
        let seed = Tensor::from_f64(&[4], &[2.0, -3.0, 5.0, 7.0]).unwrap();
        t.backward_with(y, seed, rule).unwrap().get(x).into_data()
    }

    #[test]
    fn the_three_rules() {
        assert_eq!(
            grad_under(BackwardRule::Standard),
            vec![2.0, -3.0, 0.0, 0.0]
        );
        assert_eq!(
            grad_under(BackwardRule::GuidedBackprop),
            vec![2.0, 0.0, 0.0, 0.0]
        );
        assert_eq!(
            grad_under(BackwardRule::Deconvnet),
            vec![2.0, 0.0, 5.0, 7.0]
        );
    }
}
