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
}
