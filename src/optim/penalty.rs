//! Parameter penalties as tape ops, to add to a loss: `L1 = Σ|w|`, `L2 = Σw²`.

use crate::autodiff::{Tape, Var};
use crate::error::{Result, invalid};
use crate::float::Float;

fn total<T: Float>(
    tape: &mut Tape<T>,
    params: &[Var],
    f: impl Fn(&mut Tape<T>, Var) -> Var,
) -> Result<Var> {
    let mut acc: Option<Var> = None;
    for &p in params {
        let v = f(tape, p);
        let s = tape.sum_all(v);
        acc = Some(match acc {
            Some(a) => tape.add(a, s)?,
            None => s,
        });
    }
    acc.map_or_else(|| invalid("penalty over no parameters"), Ok)
}

/// `Σ |w|` over all given parameters.
pub fn l1_penalty<T: Float>(tape: &mut Tape<T>, params: &[Var]) -> Result<Var> {
    total(tape, params, |t, p| t.abs(p))
}

/// `Σ w²` over all given parameters.
pub fn l2_penalty<T: Float>(tape: &mut Tape<T>, params: &[Var]) -> Result<Var> {
    total(tape, params, |t, p| t.mul(p, p).expect("same shape"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Tensor;

    #[test]
    fn values_and_gradients() {
        let mut t = Tape::<f64>::new();
        let a = t.leaf(Tensor::from_f64(&[2], &[1.0, -2.0]).unwrap());
        let b = t.leaf(Tensor::from_f64(&[1], &[3.0]).unwrap());
        let l1 = l1_penalty(&mut t, &[a, b]).unwrap();
        assert_eq!(t.value(l1).item().unwrap(), 6.0);
        assert_eq!(t.backward(l1).unwrap().get(a).data(), &[1.0, -1.0]);
        let l2 = l2_penalty(&mut t, &[a, b]).unwrap();
        assert_eq!(t.value(l2).item().unwrap(), 14.0);
        assert_eq!(t.backward(l2).unwrap().get(b).data(), &[6.0]);
    }
}
