//! Dual numbers `re + eps·ε` with ε² = 0: forward-mode derivatives.
//!
//! Running the tape on `Dual<T>` with parameters `w + ε·v` makes every value carry its
//! directional derivative along `v`. The gradient that backward returns is then
//! `∇L(w) + ε·H(w)v`: its ε part is the exact Hessian-vector product
//! (forward-over-reverse). Comparisons look at `re` only, so ReLU and max-pooling take
//! the same branch as the real computation.

use crate::float::Float;
use num_traits::{FromPrimitive, Num, One, Zero};
use std::cmp::Ordering;
use std::fmt;
use std::ops::{
    Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Rem, RemAssign, Sub, SubAssign,
};

#[derive(Clone, Copy, Debug, Default)]
pub struct Dual<T> {
    pub re: T,
    pub eps: T,
}

impl<T: Float> Dual<T> {
    pub fn new(re: T, eps: T) -> Self {
        Dual { re, eps }
    }
    pub fn constant(re: T) -> Self {
        Dual { re, eps: T::zero() }
    }
    /// Applies a scalar function with value `f` and derivative `df` at `re`.
    fn chain(self, f: T, df: T) -> Self {
        Dual {
            re: f,
            eps: df * self.eps,
        }
    }
}

impl<T: Float> PartialEq for Dual<T> {
    fn eq(&self, o: &Self) -> bool {
        self.re == o.re
    }
}

impl<T: Float> PartialOrd for Dual<T> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        self.re.partial_cmp(&o.re)
    }
}

impl<T: Float> fmt::Display for Dual<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}+{}ε", self.re, self.eps)
    }
}

impl<T: Float> Add for Dual<T> {
    type Output = Self;
    fn add(self, o: Self) -> Self {
        Dual {
            re: self.re + o.re,
            eps: self.eps + o.eps,
        }
    }
}
impl<T: Float> Sub for Dual<T> {
    type Output = Self;
    fn sub(self, o: Self) -> Self {
        Dual {
            re: self.re - o.re,
            eps: self.eps - o.eps,
        }
    }
}
impl<T: Float> Mul for Dual<T> {
    type Output = Self;
    fn mul(self, o: Self) -> Self {
        Dual {
            re: self.re * o.re,
            eps: self.re * o.eps + self.eps * o.re,
        }
    }
}
impl<T: Float> Div for Dual<T> {
    type Output = Self;
    fn div(self, o: Self) -> Self {
        let q = self.re / o.re;
        Dual {
            re: q,
            eps: (self.eps - q * o.eps) / o.re,
        }
    }
}
impl<T: Float> Rem for Dual<T> {
    type Output = Self;
    fn rem(self, o: Self) -> Self {
        // d(a mod b) = da - floor(a/b) db; floor(a/b) = (a - a mod b)/b
        let r = self.re % o.re;
        let q = (self.re - r) / o.re;
        Dual {
            re: r,
            eps: self.eps - q * o.eps,
        }
    }
}
impl<T: Float> Neg for Dual<T> {
    type Output = Self;
    fn neg(self) -> Self {
        Dual {
            re: -self.re,
            eps: -self.eps,
        }
    }
}
macro_rules! assign_op {
    ($tr:ident, $f:ident, $op:tt) => {
        impl<T: Float> $tr for Dual<T> {
            fn $f(&mut self, o: Self) {
                *self = *self $op o;
            }
        }
    };
}
assign_op!(AddAssign, add_assign, +);
assign_op!(SubAssign, sub_assign, -);
assign_op!(MulAssign, mul_assign, *);
assign_op!(DivAssign, div_assign, /);
assign_op!(RemAssign, rem_assign, %);

impl<T: Float> Zero for Dual<T> {
    fn zero() -> Self {
        Dual::constant(T::zero())
    }
    fn is_zero(&self) -> bool {
        self.re.is_zero() && self.eps.is_zero()
    }
}
impl<T: Float> One for Dual<T> {
    fn one() -> Self {
        Dual::constant(T::one())
    }
}
impl<T: Float> Num for Dual<T> {
    type FromStrRadixErr = T::FromStrRadixErr;
    fn from_str_radix(s: &str, radix: u32) -> Result<Self, Self::FromStrRadixErr> {
        T::from_str_radix(s, radix).map(Dual::constant)
    }
}
impl<T: Float> FromPrimitive for Dual<T> {
    fn from_i64(n: i64) -> Option<Self> {
        T::from_i64(n).map(Dual::constant)
    }
    fn from_u64(n: u64) -> Option<Self> {
        T::from_u64(n).map(Dual::constant)
    }
    fn from_f64(n: f64) -> Option<Self> {
        T::from_f64(n).map(Dual::constant)
    }
}
impl<T: Float> std::iter::Sum for Dual<T> {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::zero(), |a, b| a + b)
    }
}

impl<T: Float> Float for Dual<T> {
    const NAME: &'static str = "dual";
    fn from_f64_lossy(x: f64) -> Self {
        Dual::constant(T::from_f64_lossy(x))
    }
    fn to_f64(self) -> f64 {
        self.re.to_f64()
    }
    fn exp(self) -> Self {
        let e = self.re.exp();
        self.chain(e, e)
    }
    fn ln(self) -> Self {
        self.chain(self.re.ln(), T::one() / self.re)
    }
    fn sqrt(self) -> Self {
        let s = self.re.sqrt();
        self.chain(s, T::one() / (s + s))
    }
    fn tanh(self) -> Self {
        let t = self.re.tanh();
        self.chain(t, T::one() - t * t)
    }
    fn abs(self) -> Self {
        if self.re < T::zero() { -self } else { self }
    }
    fn powf(self, p: f64) -> Self {
        let v = self.re.powf(p);
        let d = T::from_f64_lossy(p) * self.re.powf(p - 1.0);
        self.chain(v, d)
    }
    fn is_finite(self) -> bool {
        self.re.is_finite() && self.eps.is_finite()
    }
    fn sigmoid(self) -> Self {
        let s = self.re.sigmoid();
        self.chain(s, s * (T::one() - s))
    }
    /// `(A + εA′)(B + εB′) = AB + ε(A′B + AB′)`: three products of `T`, each by `T`'s own
    /// GEMM (matrixmultiply for f64) instead of a triple loop over dual numbers; a
    /// product whose `ε` part is zero throughout (an input batch) is skipped. Hessian-vector
    /// products on mnist-cnn run on these.
    fn gemm(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: &[Self],
        rsa: isize,
        csa: isize,
        b: &[Self],
        rsb: isize,
        csb: isize,
        beta: Self,
        c: &mut [Self],
        rsc: isize,
        csc: isize,
    ) {
        if m == 0 || n == 0 {
            return;
        }
        if k == 0 || alpha.eps != T::zero() || beta.eps != T::zero() {
            return crate::float::gemm_loop(
                m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc,
            );
        }
        // split each view into real and ε parts with the same strides: a dense view
        // (row- or column-major without gaps) is split in one linear pass
        let split = |x: &[Self], rows: usize, cols: usize, rs: isize, cs: isize| {
            let span = (rows as isize - 1) * rs + (cols as isize - 1) * cs + 1;
            let (re, eps, rs, cs) = if rs >= 0 && cs >= 0 && span as usize == rows * cols {
                let part = &x[..span as usize];
                let re: Vec<T> = part.iter().map(|v| v.re).collect();
                let eps: Vec<T> = part.iter().map(|v| v.eps).collect();
                (re, eps, rs, cs)
            } else {
                let at = |i: usize, j: usize| x[(i as isize * rs + j as isize * cs) as usize];
                let re = (0..rows * cols)
                    .map(|q| at(q / cols, q % cols).re)
                    .collect();
                let eps = (0..rows * cols)
                    .map(|q| at(q / cols, q % cols).eps)
                    .collect();
                (re, eps, cols as isize, 1)
            };
            let any = eps.iter().fold(false, |any, &e| any | (e != T::zero()));
            (re, eps, rs, cs, any)
        };
        let (ar, ae, rsa2, csa2, a_eps) = split(a, m, k, rsa, csa);
        let (br, be, rsb2, csb2, b_eps) = split(b, k, n, rsb, csb);
        let (mut cr, mut ce, rsc2, csc2) = if beta == Self::zero() {
            (
                vec![T::zero(); m * n],
                vec![T::zero(); m * n],
                n as isize,
                1,
            )
        } else {
            let (r, e, rs, cs, _) = split(c, m, n, rsc, csc);
            (r, e, rs, cs)
        };
        let (al, be0) = (alpha.re, beta.re);
        let ab = |x: &[T], y: &[T], beta: T, out: &mut [T]| {
            T::gemm(
                m, k, n, al, x, rsa2, csa2, y, rsb2, csb2, beta, out, rsc2, csc2,
            )
        };
        ab(&ar, &br, be0, &mut cr);
        let mut beta_eps = be0;
        if a_eps {
            ab(&ae, &br, beta_eps, &mut ce);
            beta_eps = T::one();
        }
        if b_eps {
            ab(&ar, &be, beta_eps, &mut ce);
            beta_eps = T::one();
        }
        if beta_eps != T::one() {
            // neither factor had an ε part: C′ = β C′ only
            ce.iter_mut().for_each(|e| *e *= be0);
        }
        let span = (m as isize - 1) * rsc + (n as isize - 1) * csc + 1;
        if rsc == rsc2 && csc == csc2 && span as usize == m * n {
            for (o, (r, e)) in c[..m * n].iter_mut().zip(cr.iter().zip(&ce)) {
                *o = Dual::new(*r, *e);
            }
        } else {
            for i in 0..m {
                for j in 0..n {
                    let at = (i as isize * rsc2 + j as isize * csc2) as usize;
                    c[(i as isize * rsc + j as isize * csc) as usize] = Dual::new(cr[at], ce[at]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_of_elementary_functions() {
        let x = Dual::new(0.7f64, 1.0);
        let close =
            |d: Dual<f64>, want: f64| assert!((d.eps - want).abs() < 1e-12, "{d} vs {want}");
        close(x.exp(), 0.7f64.exp());
        close(x.ln(), 1.0 / 0.7);
        close(x.sqrt(), 0.5 / 0.7f64.sqrt());
        close(x.tanh(), 1.0 - 0.7f64.tanh().powi(2));
        close(x.powf(3.0), 3.0 * 0.49);
        close(
            x * x / (x + Dual::constant(1.0)),
            (0.7 * 0.7 + 2.0 * 0.7) / 1.7f64.powi(2),
        );
        let s = 0.7f64.sigmoid();
        close(x.sigmoid(), s * (1.0 - s));
    }

    /// The split GEMM equals the triple loop over dual numbers, transposed views, β ≠ 0
    /// and an ε-free factor included.
    #[test]
    fn dual_gemm_equals_the_triple_loop() {
        let v = |i: usize, s: usize| ((i * 37 + s * 11) % 17) as f64 / 8.0 - 1.0;
        let (m, k, n) = (5, 7, 4);
        let a: Vec<Dual<f64>> = (0..m * k).map(|i| Dual::new(v(i, 1), v(i, 2))).collect();
        let b: Vec<Dual<f64>> = (0..k * n).map(|i| Dual::new(v(i, 3), v(i, 4))).collect();
        let b0: Vec<Dual<f64>> = b.iter().map(|d| Dual::constant(d.re)).collect();
        let c0: Vec<Dual<f64>> = (0..m * n).map(|i| Dual::new(v(i, 5), v(i, 6))).collect();
        for (bb, beta) in [(&b, 0.0), (&b, 0.5), (&b0, 0.0), (&b0, 1.0)] {
            let beta = Dual::constant(beta);
            let alpha = Dual::constant(1.5);
            let (mut fast, mut slow) = (c0.clone(), c0.clone());
            // a as k×m transposed (rsa = 1, csa = m)
            let at: Vec<Dual<f64>> = (0..k * m).map(|i| a[(i % m) * k + i / m]).collect();
            Dual::gemm(
                m, k, n, alpha, &at, 1, m as isize, bb, n as isize, 1, beta, &mut fast, n as isize,
                1,
            );
            crate::float::gemm_loop(
                m, k, n, alpha, &a, k as isize, 1, bb, n as isize, 1, beta, &mut slow, n as isize,
                1,
            );
            for (x, y) in fast.iter().zip(&slow) {
                assert!((x.re - y.re).abs() < 1e-12 && (x.eps - y.eps).abs() < 1e-12);
            }
            // a view with gaps: rows of a padded to k + 2 values, c to n + 1
            let mut pad = vec![Dual::constant(9.0); m * (k + 2)];
            for i in 0..m {
                pad[i * (k + 2)..i * (k + 2) + k].copy_from_slice(&a[i * k..(i + 1) * k]);
            }
            let mut cpad = vec![Dual::constant(7.0); m * (n + 1)];
            for i in 0..m {
                cpad[i * (n + 1)..i * (n + 1) + n].copy_from_slice(&c0[i * n..(i + 1) * n]);
            }
            let (rs, rc) = ((k + 2) as isize, (n + 1) as isize);
            Dual::gemm(
                m, k, n, alpha, &pad, rs, 1, bb, n as isize, 1, beta, &mut cpad, rc, 1,
            );
            for i in 0..m {
                for j in 0..n {
                    let (x, y) = (cpad[i * (n + 1) + j], slow[i * n + j]);
                    assert!((x.re - y.re).abs() < 1e-12 && (x.eps - y.eps).abs() < 1e-12);
                }
                assert_eq!(cpad[i * (n + 1) + n].re, 7.0, "the gap is left alone");
            }
        }
    }
}
