//! Exact Hessian-vector products by forward-over-reverse.
//!
//! The loss is recorded on a tape of [`Dual`] numbers whose leaves are `w + ε·v`.
//! Backward then returns `∇L(w) + ε·(H v)`: the real parts are the gradient and the ε
//! parts the Hessian-vector product, exact up to rounding (no finite differences).

use super::dual::Dual;
use super::{Tape, Var};
use crate::error::{Result, shape_err};
use crate::float::Float;
use crate::tensor::{Tensor, fmt_shape};

/// Loss value, gradient and Hessian-vector product `H v` at `params`.
pub type HvpResult<T> = (T, Vec<Tensor<T>>, Vec<Tensor<T>>);

/// `f` builds a scalar loss from the parameter leaves it is given.
pub fn hvp<T: Float, F>(f: F, params: &[Tensor<T>], v: &[Tensor<T>]) -> Result<HvpResult<T>>
where
    F: Fn(&mut Tape<Dual<T>>, &[Var]) -> Result<Var>,
{
    if params.len() != v.len() {
        return shape_err(format!(
            "{} parameters but {} direction tensors",
            params.len(),
            v.len()
        ));
    }
    let mut tape = Tape::<Dual<T>>::new();
    let mut vars = Vec::with_capacity(params.len());
    for (p, d) in params.iter().zip(v) {
        if p.shape() != d.shape() {
            return shape_err(format!(
                "direction shape {} does not match parameter shape {}",
                fmt_shape(d.shape()),
                fmt_shape(p.shape())
            ));
        }
        let data = p
            .data()
            .iter()
            .zip(d.data())
            .map(|(&a, &b)| Dual::new(a, b))
            .collect();
        vars.push(tape.leaf(Tensor::new(p.shape(), data)?));
    }
    let loss = f(&mut tape, &vars)?;
    let value = tape.value(loss).item()?.re;
    let grads = tape.backward(loss)?;
    let split = |sel: fn(&Dual<T>) -> T| -> Result<Vec<Tensor<T>>> {
        vars.iter()
            .map(|&x| {
                let g = grads.get(x);
                Tensor::new(g.shape(), g.data().iter().map(sel).collect())
            })
            .collect()
    };
    Ok((value, split(|d| d.re)?, split(|d| d.eps)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Logistic regression, L(w) = mean BCE(Xw, y): H = Xᵀ diag(p(1−p)) X / N.
    #[test]
    fn matches_analytic_hessian_of_logistic_regression() {
        let (n, d) = (6, 3);
        let x: Vec<f64> = (0..n * d)
            .map(|i| ((i * 37 % 11) as f64 - 5.0) / 4.0)
            .collect();
        let y: Vec<f64> = (0..n).map(|i| (i % 2) as f64).collect();
        let w = vec![0.3, -0.7, 0.2];
        let v = vec![1.0, 0.5, -2.0];
        let xt = Tensor::<f64>::from_f64(&[n, d], &x).unwrap();
        let yt = Tensor::<f64>::from_f64(&[n, 1], &y).unwrap();
        let f = |t: &mut Tape<Dual<f64>>, p: &[Var]| -> Result<Var> {
            let xv = t.constant(xt.cast());
            let yv = t.constant(yt.cast());
            let logits = t.matmul(xv, p[0])?;
            t.bce_with_logits(logits, yv)
        };
        let wt = Tensor::from_f64(&[d, 1], &w).unwrap();
        let vt = Tensor::from_f64(&[d, 1], &v).unwrap();
        let (_, grad, hv) = hvp(f, &[wt], &[vt]).unwrap();
        let mut want_h = vec![0.0; d];
        let mut want_g = vec![0.0; d];
        for i in 0..n {
            let row = &x[i * d..(i + 1) * d];
            let z: f64 = row.iter().zip(&w).map(|(a, b)| a * b).sum();
            let p = 1.0 / (1.0 + (-z).exp());
            let xv: f64 = row.iter().zip(&v).map(|(a, b)| a * b).sum();
            for j in 0..d {
                want_h[j] += row[j] * p * (1.0 - p) * xv / n as f64;
                want_g[j] += row[j] * (p - y[i]) / n as f64;
            }
        }
        for j in 0..d {
            assert!((hv[0].data()[j] - want_h[j]).abs() < 1e-12, "Hv[{j}]");
            assert!((grad[0].data()[j] - want_g[j]).abs() < 1e-12, "g[{j}]");
        }
    }
}
