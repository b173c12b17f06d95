//! The crate-level scalar trait.
//!
//! Every tensor, op and layer is generic over [`Float`]. It is implemented for `f32`
//! (training and inference), `f64` (gradient checks, reference numbers) and
//! [`Dual`](crate::autodiff::dual::Dual) (forward-mode tangents, used for exact
//! Hessian-vector products by running the same tape on dual numbers).

use num_traits::{FromPrimitive, Num, NumAssign};
use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::Neg;

/// A real scalar the engine can compute with.
///
/// Comparisons (`PartialOrd`) and [`Float::to_f64`] look at the real value only, so that
/// piecewise rules (ReLU, max-pooling) take the same branch for a dual number as for
/// its real part.
pub trait Float:
    Copy
    + Send
    + Sync
    + 'static
    + Debug
    + Display
    + Default
    + PartialOrd
    + Num
    + NumAssign
    + FromPrimitive
    + Neg<Output = Self>
    + Sum
{
    /// Name used in error messages and file metadata.
    const NAME: &'static str;
    fn from_f64_lossy(x: f64) -> Self;
    fn to_f64(self) -> f64;
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn sqrt(self) -> Self;
    fn tanh(self) -> Self;
    fn abs(self) -> Self;
    fn powf(self, p: f64) -> Self;
    fn is_finite(self) -> bool;

    /// NaN is the only value not equal to itself.
    #[allow(clippy::eq_op)]
    fn is_nan(self) -> bool {
        self != self
    }

    /// `max(x, 0)` as the ReLU op computes it (NaN and −0 give +0): one definition for
    /// the op and for the convolution that applies it as it writes its output.
    fn relu(self) -> Self {
        if self > Self::zero() {
            self
        } else {
            Self::zero()
        }
    }

    /// Logistic sigmoid, computed without overflow.
    fn sigmoid(self) -> Self {
        stable_sigmoid(self)
    }

    fn max_of(self, other: Self) -> Self {
        if other > self { other } else { self }
    }

    fn min_of(self, other: Self) -> Self {
        if other < self { other } else { self }
    }

    /// `c = alpha * a · b + beta * c` on strided row-major views:
    /// `a` is m×k with strides (rsa, csa), `b` is k×n, `c` is m×n.
    ///
    /// The generic version is a plain triple loop; `f32` and `f64` use `matrixmultiply`.
    /// Each output element is summed over k in increasing order within one call.
    #[allow(clippy::too_many_arguments)]
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
        gemm_loop(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc)
    }
}

/// [`Float::gemm`]'s generic triple loop.
#[allow(clippy::too_many_arguments)]
pub fn gemm_loop<T: Float>(
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: &[T],
    rsa: isize,
    csa: isize,
    b: &[T],
    rsb: isize,
    csb: isize,
    beta: T,
    c: &mut [T],
    rsc: isize,
    csc: isize,
) {
    for i in 0..m {
        for j in 0..n {
            let mut acc = T::zero();
            for p in 0..k {
                let av = a[(i as isize * rsa + p as isize * csa) as usize];
                let bv = b[(p as isize * rsb + j as isize * csb) as usize];
                acc += av * bv;
            }
            let ci = (i as isize * rsc + j as isize * csc) as usize;
            c[ci] = if beta == T::zero() {
                alpha * acc
            } else {
                alpha * acc + beta * c[ci]
            };
        }
    }
}

macro_rules! impl_float {
    ($t:ty, $name:expr, $gemm:ident) => {
        impl Float for $t {
            const NAME: &'static str = $name;
            fn from_f64_lossy(x: f64) -> Self {
                x as $t
            }
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                // f32 goes through the faster f64 formula; f64 keeps libm's tanh
                if std::mem::size_of::<$t>() == 4 {
                    tanh_via_f64(self as f64) as $t
                } else {
                    <$t>::tanh(self)
                }
            }
            #[inline(always)]
            fn sigmoid(self) -> Self {
                // f32 goes through f64 and a branch-free exp that loops vectorize;
                // f64 keeps libm's exp (the reference precision)
                if std::mem::size_of::<$t>() == 4 {
                    sigmoid_via_f64(self as f64) as $t
                } else {
                    stable_sigmoid(self)
                }
            }
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            fn powf(self, p: f64) -> Self {
                <$t>::powf(self, p as $t)
            }
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
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
                check_extent(m, k, a.len(), rsa, csa);
                check_extent(k, n, b.len(), rsb, csb);
                check_extent(m, n, c.len(), rsc, csc);
                // SAFETY: the three extents were checked above to lie inside the slices.
                unsafe {
                    matrixmultiply::$gemm(
                        m,
                        k,
                        n,
                        alpha,
                        a.as_ptr(),
                        rsa,
                        csa,
                        b.as_ptr(),
                        rsb,
                        csb,
                        beta,
                        c.as_mut_ptr(),
                        rsc,
                        csc,
                    );
                }
            }
        }
    };
}

/// `1 / (1 + e^{−x})`, or `e^x / (1 + e^x)` for negative `x`, so `e` never overflows.
fn stable_sigmoid<T: Float>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

/// `tanh` from one f64 exponential: `sign(x)·(1 − e)/(1 + e)` with `e = e^{−2|x|}`, and
/// the series `x − x³/3 + 2x⁵/15 − 17x⁷/315` below 2⁻⁵ (where `1 − e` would cancel);
/// relative error below 1e-12, so an f32 result is the correctly rounded tanh in all but
/// rare ties. Branch-free (both sides computed, one selected) with [`exp_f64`], so a loop
/// of them vectorizes: the GRU's gates went from libm's scalar `exp` (40% of its
/// inference profile) to 4 lanes at a time.
#[inline(always)]
pub(crate) fn tanh_via_f64(x: f64) -> f64 {
    let a = x.abs();
    let e = exp_f64(-2.0 * a);
    let big = ((1.0 - e) / (1.0 + e)).copysign(x);
    let x2 = x * x;
    let small = x * (1.0 + x2 * (-1.0 / 3.0 + x2 * (2.0 / 15.0 + x2 * (-17.0 / 315.0))));
    if a < 1.0 / 32.0 { small } else { big }
}

/// Logistic sigmoid `1 / (1 + e^{−x})` in f64 with [`exp_f64`]; branch-free, and for an
/// f32 argument the f64 result rounds to the correctly rounded f32 in all but rare ties.
/// For many f32 values on AVX-512, [`crate::tensor::vmath`] gives the same bits (of this
/// and [`tanh_via_f64`]) at about two thirds of the cost.
#[inline(always)]
pub(crate) fn sigmoid_via_f64(x: f64) -> f64 {
    1.0 / (1.0 + exp_f64(-x))
}

/// 1.5·2⁵²: adding it to an f64 of magnitude below 2⁵¹ rounds it to an integer, which
/// then sits in the low bits of the sum's mantissa.
pub(crate) const EXP_MAGIC: f64 = 6_755_399_441_055_744.0;
/// ln 2 in two parts (Cody and Waite): `LN2_HI` has 32 significant bits, so `k·LN2_HI`
/// is exact for the exponents `k` of an f64, and `LN2_HI + LN2_LO` is ln 2 to within
/// 2⁻⁸⁶.
pub(crate) const LN2_HI: f64 = 0.693_147_180_369_123_8;
pub(crate) const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;

/// `e^x` without branches or library calls, so loops over it vectorize:
/// `x = k·ln 2 + r` with `k` rounded to nearest by the 1.5·2⁵² trick and `|r| ≤ ln2/2`,
/// `e^r` by its Taylor polynomial to degree 11 (truncation below 3e-14 relative), and `2^k`
/// built in the exponent bits. Arguments are clamped to ±708 (results stay finite and
/// normal; `e^{−708}` is already below every f32), NaN stays NaN.
#[inline(always)]
fn exp_f64(x: f64) -> f64 {
    let xc = x.clamp(-708.0, 708.0);
    let t = xc * std::f64::consts::LOG2_E + EXP_MAGIC;
    let k = t - EXP_MAGIC;
    let r = (xc - k * LN2_HI) - k * LN2_LO;
    let mut p = 1.0 / 39_916_800.0;
    for d in [
        3_628_800.0,
        362_880.0,
        40_320.0,
        5_040.0,
        720.0,
        120.0,
        24.0,
        6.0,
        2.0,
        1.0,
        1.0,
    ] {
        p = p * r + 1.0 / d;
    }
    let kbits = t.to_bits().wrapping_sub(EXP_MAGIC.to_bits());
    let scale = f64::from_bits(kbits.wrapping_add(1023) << 52);
    if x.is_nan() { x } else { p * scale }
}

/// Panics (an internal bug, never user input) if a strided view would leave its slice.
fn check_extent(rows: usize, cols: usize, len: usize, rs: isize, cs: isize) {
    if rows == 0 || cols == 0 {
        return;
    }
    assert!(rs >= 0 && cs >= 0, "negative strides are not used");
    let last = (rows - 1) as isize * rs + (cols - 1) as isize * cs;
    assert!((last as usize) < len, "gemm view out of bounds");
}

impl_float!(f32, "f32", sgemm);
impl_float!(f64, "f64", dgemm);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_tanh_matches_libm_to_high_precision() {
        let mut worst = 0.0f64;
        let mut x = -20.0f64;
        while x < 20.0 {
            let want = x.tanh();
            worst = worst.max(((tanh_via_f64(x) - want) / want.abs().max(1e-300)).abs());
            x += 0.000937;
        }
        for &x in &[1e-30, 1e-8, 2.4e-4, 2.5e-4, -3e-4, 0.0] {
            let want = f64::tanh(x);
            worst = worst.max(((tanh_via_f64(x) - want) / want.abs().max(1e-300)).abs());
        }
        assert!(worst < 1e-12, "relative error {worst:e}");
        assert_eq!(Float::tanh(0.5f32), 0.5f32.tanh());
        assert!(Float::tanh(f32::NAN).is_nan());
        assert_eq!(Float::tanh(1e6f32), 1.0);
        assert_eq!(Float::tanh(-1e6f32), -1.0);
    }

    #[test]
    fn branch_free_exp_and_sigmoid_match_libm() {
        let mut worst = 0.0f64;
        let mut x = -707.0f64;
        while x < 707.0 {
            worst = worst.max(((exp_f64(x) - x.exp()) / x.exp()).abs());
            x += 0.0137;
        }
        assert!(worst < 1e-13, "exp relative error {worst:e}");
        assert!(exp_f64(f64::NAN).is_nan());
        assert!(exp_f64(-1e9) < 1e-300 && exp_f64(1e9).is_finite());
        // f32 sigmoid against the f64 libm formula, rounded once
        let mut off = 0;
        let mut x = -120.0f32;
        while x < 120.0 {
            let want = (1.0 / (1.0 + (-(x as f64)).exp())) as f32;
            off += usize::from(Float::sigmoid(x) != want);
            x += 0.00731;
        }
        assert_eq!(off, 0, "sigmoid values not correctly rounded");
        assert!(Float::sigmoid(f32::NAN).is_nan());
        assert_eq!(Float::sigmoid(-1e6f32), 0.0);
        assert_eq!(Float::sigmoid(1e6f32), 1.0);
    }
}
