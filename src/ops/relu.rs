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
    let data = gradient(c.rule, c.g.data(), c.val(x).data());
    Ok(vec![(x, Tensor::new(c.g.shape(), data)?)])
}

/// The gradient through a ReLU under `rule` of every value: `g` at its output, `x` its
/// input, or its output (positive where the input is). Also for the convolutions that
/// fuse a ReLU (`conv2d`).
pub(crate) fn gradient<T: Float>(rule: BackwardRule, g: &[T], x: &[T]) -> Vec<T> {
    // one loop per rule, each with its test inlined (the loops vectorize)
    match rule {
        BackwardRule::Standard => par_map2(g, x, |g, x| through(BackwardRule::Standard, g, x)),
        BackwardRule::GuidedBackprop => {
            par_map2(g, x, |g, x| through(BackwardRule::GuidedBackprop, g, x))
        }
        BackwardRule::Deconvnet => par_map2(g, x, |g, x| through(BackwardRule::Deconvnet, g, x)),
    }
}

/// [`gradient`] of one value.
#[inline(always)]
pub(crate) fn through<T: Float>(rule: BackwardRule, g: T, x: T) -> T {
    let z = T::zero();
    match rule {
        BackwardRule::Standard => {
            if x > z {
                g
            } else {
                z
            }
        }
        BackwardRule::GuidedBackprop => {
            if x > z && g > z {
                g
            } else {
                z
            }
        }
        BackwardRule::Deconvnet => {
            if g > z {
                g
            } else {
                z
            }
        }
    }
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
