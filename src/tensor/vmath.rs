//! f32 `sigmoid` and `tanh` on many values at once, **with the bits of
//! [`Float::sigmoid`] and [`Float::tanh`]**, eight f64 lanes at a time on AVX-512.
//!
//! f32's `sigmoid` and `tanh` are an f64 formula rounded to f32 (`float.rs`): the
//! correctly rounded value in all but rare ties. Element by element, the loop vectorizes,
//! but each value still costs a degree-11 polynomial in separate multiplies and adds and
//! an f64 division: the GRU's gate loop was 53% of mnist-gru's inference profile.
//!
//! Here the same f64 value is approximated more cheaply, and used only where it must
//! round to the reference's f32:
//! - `e^x` from a table: `x = (k/16)·ln 2 + r` with `|r| ≤ ln2/32`, `2^{(k mod 16)/16}`
//!   from sixteen f64 constants (one two-register permute), `e^r` by its Taylor
//!   polynomial to degree 6 in fused multiply-adds (truncation below 5e-16 relative), and
//!   `2^⌊k/16⌋` by `vscalefpd`;
//! - `1/d` by `vrcp14pd` and two Newton steps (relative error below 2⁻⁵²);
//! - **the check**: the f64 result `y` rounds to the reference's f32 unless it lies
//!   within `SURE_ULPS` (2¹²) units of the last f64 place of a rounding midpoint between
//!   two f32s. The two f64 results are at most `MEASURED_ULPS` (256 units) apart (the
//!   test `fast_f64_values_stay_near_the_reference` checks it), so a result outside that
//!   margin rounds as the reference does. About one value in 65 000 (2·2¹²/2²⁹) is
//!   inside; its lane is recomputed by the reference function. So are NaN and results
//!   outside f32's normal range (f32 subnormals round differently), except tanh(±0).
//!
//! Measured on an Intel Xeon (AVX-512, one thread, `cargo bench --bench gate_exp`):
//! `Tensor::sigmoid` on 16 384 values 18.2 µs against 28.6 element by element (1.11 against
//! 1.75 ns a value), `Tensor::tanh` 20.5 against 33.3 µs; the GRU's gate loop (256 rows
//! of 64 units) 65.7 and 79.7 µs against 112.8 and 116.1 µs in two runs. The f64 lanes bound the gain: each sigmoid still takes about
//! 30 vector operations for eight values (the f32 exponential of that bench, which is
//! not these functions' bits, about 20 for sixteen). The first version, with the
//! reference's own reduction and degree-11 polynomial in fused multiply-adds, one vector
//! at a time, gained 8% on the gate loop; the table shortened the polynomial, and taking
//! arrays of vectors lets their dependent chains overlap (two vectors for the slices
//! here; the GRU's loop passes four sigmoids and two tanh, which measured 66 µs against
//! 81 µs for two and one in a scratch copy of the loop).
//!
//! The test `fast_curves_have_the_reference_bits` compares every 257th f32 bit pattern
//! and a dense sweep of [−20, 20]; `every_f32_has_the_reference_bits` (ignored: 95 s on
//! two threads) compares all 2³² of them.

use crate::float::Float;
#[cfg(target_arch = "x86_64")]
use crate::float::{EXP_MAGIC, LN2_HI, LN2_LO};
use std::mem::MaybeUninit;

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// The two curves computed here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curve {
    Sigmoid,
    Tanh,
}

impl Curve {
    /// The reference: `Float::sigmoid` or `Float::tanh`.
    fn of<T: Float>(self, x: T) -> T {
        match self {
            Curve::Sigmoid => x.sigmoid(),
            Curve::Tanh => x.tanh(),
        }
    }
}

/// Whether the eight-lane functions run here: a CPU with AVX-512F.
pub fn fast_applies() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `o[i] = curve(x[i])`, bit for bit `Float::sigmoid` / `Float::tanh`; f32 on AVX-512 by
/// the functions of this module, everything else element by element.
pub fn curve_into<T: Float>(curve: Curve, x: &[T], o: &mut [MaybeUninit<T>]) {
    assert_eq!(x.len(), o.len(), "curve_into: lengths differ");
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>() && fast_applies() {
        done = x.len() / 8 * 8;
        // SAFETY: T is f32 (so the casts keep the type); the CPU has AVX-512F; both
        // slices hold at least `done` values.
        unsafe {
            curve_avx512(
                curve,
                x.as_ptr() as *const f32,
                o.as_mut_ptr() as *mut f32,
                done,
            )
        };
    }
    for (o, &v) in o[done..].iter_mut().zip(&x[done..]) {
        o.write(curve.of(v));
    }
}

/// `n` values (a multiple of 8), sixteen at a time (two vectors side by side) while
/// there are, then eight.
///
/// # Safety
/// The CPU must support AVX-512F; `x` and `o` must hold `n` values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn curve_avx512(curve: Curve, x: *const f32, o: *mut f32, n: usize) {
    unsafe {
        let mut i = 0;
        while i + 16 <= n {
            let mut v = [_mm256_setzero_ps(); 2];
            for (d, v) in v.iter_mut().enumerate() {
                *v = _mm256_loadu_ps(x.add(i + 8 * d));
            }
            let y = match curve {
                Curve::Sigmoid => sigmoid_x(v),
                Curve::Tanh => tanh_x(v),
            };
            for (d, y) in y.into_iter().enumerate() {
                _mm256_storeu_ps(o.add(i + 8 * d), y);
            }
            i += 16;
        }
        while i < n {
            let v = [_mm256_loadu_ps(x.add(i))];
            let [y] = match curve {
                Curve::Sigmoid => sigmoid_x(v),
                Curve::Tanh => tanh_x(v),
            };
            _mm256_storeu_ps(o.add(i), y);
            i += 8;
        }
    }
}

/// Distance, in units of the last place of an f64, that a fast result must keep from
/// every f32 rounding midpoint to be used: 2¹² units, 2⁻⁴⁰ relative or less.
const SURE_ULPS: i64 = 1 << 12;

/// The bound the tests put on the distance between a fast f64 result and the
/// reference's, 16 times below [`SURE_ULPS`]. They measure at most 154 units, nearly all
/// of it the reference's own error: its degree-11 Taylor polynomial leaves 6·10⁻¹⁵
/// relative at `|r| = ln2/2` (the fast path's degree-6 one on `|r| ≤ ln2/32`, 5·10⁻¹⁶),
/// and tanh's `1 − e` multiplies it by `e/(1 − e)` ≈ 2.4 where `2|x|` is near `ln2/2`.
#[cfg(test)]
const MEASURED_ULPS: u64 = (SURE_ULPS / 16) as u64;

/// `2^{j/16}` for `j = 0..16`, each the f64 nearest the exact value.
const EXP2_SIXTEENTHS: [f64; 16] = [
    1.0,
    1.044_273_782_427_413_8,
    1.090_507_732_665_257_7,
    1.138_788_634_756_691_6,
    1.189_207_115_002_721,
    1.241_857_812_073_484,
    1.296_839_554_651_009_6,
    1.354_255_546_936_892_7,
    std::f64::consts::SQRT_2,
    1.476_826_145_939_499_3,
    1.542_210_825_407_940_7,
    1.610_490_331_949_254_3,
    1.681_792_830_507_429,
    1.756_252_160_373_299_5,
    1.834_008_086_409_342_4,
    1.915_206_561_397_147_4,
];

/// `e^x` for `N` vectors side by side (each step applied to all of them before the next,
/// so their chains overlap). `x` is clamped to ±708 as the reference's `exp_f64` is (NaN
/// stays NaN: `max`/`min` return their second operand when one is NaN).
///
/// # Safety
/// Only inline into code compiled with AVX-512F.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn exp_x<const N: usize>(x: [__m512d; N]) -> [__m512d; N] {
    // ln 2 / 16 in the reference's two parts (dividing by 16 is exact), so k·HI is exact
    // for the |k| ≤ 2¹⁴ here
    const LN2_16_HI: f64 = LN2_HI / 16.0;
    const LN2_16_LO: f64 = LN2_LO / 16.0;
    const TAYLOR: [f64; 5] = [1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0];
    unsafe {
        let (magic, zero) = (_mm512_set1_pd(EXP_MAGIC), _mm512_setzero_pd());
        let table = EXP2_SIXTEENTHS.as_ptr();
        let (lo, hi) = (_mm512_loadu_pd(table), _mm512_loadu_pd(table.add(8)));
        let (mut t, mut k, mut r, mut p) = ([zero; N], [zero; N], [zero; N], [zero; N]);
        for i in 0..N {
            let x = _mm512_max_pd(_mm512_set1_pd(-708.0), x[i]);
            let x = _mm512_min_pd(_mm512_set1_pd(708.0), x);
            // k = round(16x / ln 2)
            t[i] = _mm512_fmadd_pd(x, _mm512_set1_pd(16.0 * std::f64::consts::LOG2_E), magic);
            k[i] = _mm512_sub_pd(t[i], magic);
            r[i] = _mm512_fnmadd_pd(k[i], _mm512_set1_pd(LN2_16_HI), x);
        }
        for i in 0..N {
            r[i] = _mm512_fnmadd_pd(k[i], _mm512_set1_pd(LN2_16_LO), r[i]);
            p[i] = _mm512_set1_pd(1.0 / 720.0);
        }
        for c in TAYLOR {
            for i in 0..N {
                p[i] = _mm512_fmadd_pd(p[i], r[i], _mm512_set1_pd(c));
            }
        }
        let mut out = [zero; N];
        for i in 0..N {
            // 2^{(k mod 16)/16}: the low four bits of t are those of k
            let tj = _mm512_permutex2var_pd(lo, _mm512_castpd_si512(t[i]), hi);
            // tj·e^r = tj + tj·(r·p), then ·2^⌊k/16⌋
            let v = _mm512_fmadd_pd(tj, _mm512_mul_pd(p[i], r[i]), tj);
            out[i] = _mm512_scalef_pd(v, _mm512_mul_pd(k[i], _mm512_set1_pd(1.0 / 16.0)));
        }
        out
    }
}

/// `1/d` for `N` vectors: `vrcp14pd` (relative error ≤ 2⁻¹⁴), then two Newton steps
/// `y ← y + y(1 − dy)` (2⁻²⁸, then below 2⁻⁵²).
///
/// # Safety
/// Only inline into code compiled with AVX-512F.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn recip_x<const N: usize>(d: [__m512d; N]) -> [__m512d; N] {
    unsafe {
        let one = _mm512_set1_pd(1.0);
        let mut y = [_mm512_setzero_pd(); N];
        for i in 0..N {
            y[i] = _mm512_rcp14_pd(d[i]);
        }
        for _ in 0..2 {
            for i in 0..N {
                y[i] = _mm512_fmadd_pd(y[i], _mm512_fnmadd_pd(d[i], y[i], one), y[i]);
            }
        }
        y
    }
}

/// The lanes of `normal` whose f64 `y` rounds to the same f32 as every f64 within
/// [`SURE_ULPS`]: the 29 bits below f32's precision are that far from the midpoint
/// pattern `1 << 28` (one unsigned comparison: `tail − (2²⁸ − SURE)` wraps below zero
/// on the low side). Crossing a multiple of the f32 spacing, where those bits wrap, does
/// not change the rounding: the values on both sides round to that multiple. `normal`
/// says which lanes lie in f32's normal range and are not NaN (the callers know cheaper
/// tests than `|y|`'s two bounds: sigmoid lies in (0, 1], |tanh x| ≤ 1).
///
/// # Safety
/// Only inline into code compiled with AVX-512F.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn sure(normal: __mmask8, y: __m512d) -> __mmask8 {
    unsafe {
        let tail = _mm512_and_si512(_mm512_castpd_si512(y), _mm512_set1_epi64((1 << 29) - 1));
        let off = _mm512_sub_epi64(tail, _mm512_set1_epi64((1 << 28) - SURE_ULPS));
        _mm512_mask_cmpgt_epu64_mask(normal, off, _mm512_set1_epi64(2 * SURE_ULPS))
    }
}

/// The f64 sigmoid `1/(1 + e^{−x})` of each lane, before rounding and checking.
///
/// # Safety
/// Only inline into code compiled with AVX-512F.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn sigmoid_f64_x<const N: usize>(x: [__m512d; N]) -> [__m512d; N] {
    unsafe {
        let mut v = x;
        for v in &mut v {
            *v = _mm512_sub_pd(_mm512_setzero_pd(), *v);
        }
        let mut d = exp_x(v);
        for d in &mut d {
            *d = _mm512_add_pd(_mm512_set1_pd(1.0), *d);
        }
        recip_x(d)
    }
}

/// The f64 tanh of each lane, as the reference computes it: `sign(x)·(1 − e)/(1 + e)`
/// with `e = e^{−2|x|}`, and below `|x| = 2⁻⁵` the series `x − x³/3 + 2x⁵/15 − 17x⁷/315`.
///
/// # Safety
/// Only inline into code compiled with AVX-512F.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn tanh_f64_x<const N: usize>(x: [__m512d; N]) -> [__m512d; N] {
    unsafe {
        let one = _mm512_set1_pd(1.0);
        let (mut a, mut v) = (x, x);
        for i in 0..N {
            a[i] = _mm512_abs_pd(x[i]);
            v[i] = _mm512_mul_pd(_mm512_set1_pd(-2.0), a[i]);
        }
        let e = exp_x(v);
        let mut d = e;
        for d in &mut d {
            *d = _mm512_add_pd(one, *d);
        }
        let q = recip_x(d);
        let mut y = [_mm512_setzero_pd(); N];
        for i in 0..N {
            let big = _mm512_mul_pd(_mm512_sub_pd(one, e[i]), q[i]);
            let sign = _mm512_and_si512(_mm512_castpd_si512(x[i]), _mm512_set1_epi64(i64::MIN));
            y[i] = _mm512_castsi512_pd(_mm512_or_si512(_mm512_castpd_si512(big), sign));
            // the series only where a lane needs it (in the GRU, one vector in ten)
            let is_small = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(a[i], _mm512_set1_pd(1.0 / 32.0));
            if is_small != 0 {
                let x2 = _mm512_mul_pd(x[i], x[i]);
                let s = _mm512_fmadd_pd(
                    _mm512_set1_pd(-17.0 / 315.0),
                    x2,
                    _mm512_set1_pd(2.0 / 15.0),
                );
                let s = _mm512_fmadd_pd(s, x2, _mm512_set1_pd(-1.0 / 3.0));
                let small = _mm512_mul_pd(x[i], _mm512_fmadd_pd(s, x2, one));
                y[i] = _mm512_mask_blend_pd(is_small, y[i], small);
            }
        }
        y
    }
}

/// Each f32 lane as an f64.
///
/// # Safety
/// Only inline into code compiled with AVX-512F.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn widen<const N: usize>(x: [__m256; N]) -> [__m512d; N] {
    let mut y = [unsafe { _mm512_setzero_pd() }; N];
    for i in 0..N {
        y[i] = unsafe { _mm512_cvtps_pd(x[i]) };
    }
    y
}

/// f32 sigmoid of `N` vectors of eight, with the bits of `Float::sigmoid`.
///
/// # Safety
/// Only call from code compiled with AVX-512F.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub unsafe fn sigmoid_x<const N: usize>(x: [__m256; N]) -> [__m256; N] {
    unsafe {
        let y = sigmoid_f64_x(widen(x));
        let mut out = [_mm256_setzero_ps(); N];
        for i in 0..N {
            // y ≤ 1 always; false for NaN
            let normal =
                _mm512_cmp_pd_mask::<_CMP_GE_OQ>(y[i], _mm512_set1_pd(f32::MIN_POSITIVE as f64));
            out[i] = rounded(Curve::Sigmoid, x[i], y[i], sure(normal, y[i]));
        }
        out
    }
}

/// f32 tanh of `N` vectors of eight, with the bits of `Float::tanh`.
///
/// # Safety
/// Only call from code compiled with AVX-512F.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub unsafe fn tanh_x<const N: usize>(x: [__m256; N]) -> [__m256; N] {
    unsafe {
        let xd = widen(x);
        let y = tanh_f64_x(xd);
        let mut out = [_mm256_setzero_ps(); N];
        for i in 0..N {
            // |tanh x| ≤ 1, and it is at least f32::MIN_POSITIVE where |x| is (below
            // 2⁻⁵ the series gives x·(1 − x²/3 + …), which rounds to x there); false for
            // NaN. tanh(±0) = ±0 on both paths (the series): sure too.
            let a = _mm512_abs_pd(xd[i]);
            let zero = _mm512_cmp_pd_mask::<_CMP_EQ_OQ>(a, _mm512_setzero_pd());
            let normal =
                _mm512_cmp_pd_mask::<_CMP_GE_OQ>(a, _mm512_set1_pd(f32::MIN_POSITIVE as f64));
            out[i] = rounded(Curve::Tanh, x[i], y[i], sure(normal, y[i]) | zero);
        }
        out
    }
}

/// `y` rounded to f32, with the lanes not in `sure` recomputed by the reference from `x`.
///
/// # Safety
/// Only inline into code compiled with AVX-512F.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn rounded(curve: Curve, x: __m256, y: __m512d, sure: __mmask8) -> __m256 {
    let out = unsafe { _mm512_cvtpd_ps(y) };
    if sure == 0xff {
        out
    } else {
        recompute(curve, x, out, sure)
    }
}

/// The lanes of `y` not in `sure`, recomputed by the reference from `x`.
#[cfg(target_arch = "x86_64")]
#[cold]
#[inline(never)]
fn recompute(curve: Curve, x: __m256, y: __m256, sure: __mmask8) -> __m256 {
    // SAFETY: __m256 and [f32; 8] have the same size, and every bit pattern is valid
    // for both.
    let [xs, mut ys] = [x, y].map(|v| unsafe { std::mem::transmute::<__m256, [f32; 8]>(v) });
    for (lane, (y, &x)) in ys.iter_mut().zip(&xs).enumerate() {
        if sure & (1 << lane) == 0 {
            *y = curve.of(x);
        }
    }
    // SAFETY: as above.
    unsafe { std::mem::transmute::<[f32; 8], __m256>(ys) }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::float::{sigmoid_via_f64, tanh_via_f64};

    fn curves(x: &[f32]) -> [Vec<f32>; 2] {
        [Curve::Sigmoid, Curve::Tanh].map(|c| {
            let mut o = vec![MaybeUninit::uninit(); x.len()];
            curve_into(c, x, &mut o);
            // SAFETY: curve_into writes every value of `o`.
            o.into_iter().map(|v| unsafe { v.assume_init() }).collect()
        })
    }

    /// Both curves give the reference's bits (NaN for NaN) over every 257th f32 bit
    /// pattern (every exponent, both signs, NaN and the infinities) and a dense sweep of
    /// [−20, 20], where the GRU's and attention's arguments lie. Fails on the first
    /// differing value, which the margin's bound would make impossible. On a CPU without
    /// AVX-512 it checks the element-by-element path only, and says so.
    #[test]
    fn fast_curves_have_the_reference_bits() {
        if !fast_applies() {
            eprintln!("no AVX-512F: only the element-by-element path is compared");
        }
        let spread = (0..u32::MAX / 257).map(|i| f32::from_bits(i * 257));
        let dense = (0..1 << 22).map(|i| -20.0 + 40.0 * i as f32 / (1 << 22) as f32);
        let x: Vec<f32> = spread.chain(dense).chain([0.0, -0.0]).collect();
        let [sig, tanh] = curves(&x);
        for (i, &v) in x.iter().enumerate() {
            for (name, got, want) in [
                ("sigmoid", sig[i], v.sigmoid()),
                ("tanh", tanh[i], Float::tanh(v)),
            ] {
                assert!(
                    got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                    "{name}({v:e}) = {got:e}, the reference gives {want:e}"
                );
            }
        }
    }

    /// Before rounding, the fast f64 values lie within [`MEASURED_ULPS`] of the reference
    /// formula's, 16 times inside the margin the check keeps;
    /// and the check leaves some values of a dense sweep unsure, so the recomputation
    /// is exercised (about 2·2¹²/2²⁹ of them: ~64 of 2²² per curve).
    #[test]
    fn fast_f64_values_stay_near_the_reference() {
        if !fast_applies() {
            eprintln!("no AVX-512F: nothing to compare");
            return;
        }
        let x: Vec<f64> = (0..1 << 22)
            .map(|i| (-20.0 + 40.0 * i as f32 / (1 << 22) as f32) as f64)
            .collect();
        let (mut worst, mut unsure) = (0u64, 0u32);
        for chunk in x.chunks_exact(8) {
            // SAFETY: the CPU has AVX-512F (checked above).
            let (s, t, ms, mt) = unsafe { fast_f64(chunk) };
            for l in 0..8 {
                for (got, want) in [
                    (s[l], sigmoid_via_f64(chunk[l])),
                    (t[l], tanh_via_f64(chunk[l])),
                ] {
                    worst = worst.max(got.to_bits().abs_diff(want.to_bits()));
                }
            }
            unsure += (!ms).count_ones() + (!mt).count_ones();
        }
        assert!(
            worst <= MEASURED_ULPS,
            "fast f64 values {worst} units from the reference"
        );
        assert!(unsure > 0, "no value of the sweep was left unsure");
        eprintln!("worst {worst} units; {unsure} of {} unsure", 2 * x.len());
    }

    #[target_feature(enable = "avx512f")]
    unsafe fn fast_f64(x: &[f64]) -> ([f64; 8], [f64; 8], u8, u8) {
        unsafe {
            let v = _mm512_loadu_pd(x.as_ptr());
            let ([s], [t]) = (sigmoid_f64_x([v]), tanh_f64_x([v]));
            let all = 0xff;
            (
                std::mem::transmute::<__m512d, [f64; 8]>(s),
                std::mem::transmute::<__m512d, [f64; 8]>(t),
                sure(all, s),
                sure(all, t),
            )
        }
    }

    /// The table holds `2^{j/16}` to within one unit of the last place (libm's `powf`,
    /// itself within one unit, as the yardstick), and its steps are `2^{1/16}` apart.
    #[test]
    fn the_table_is_two_to_the_sixteenths() {
        for (j, &t) in EXP2_SIXTEENTHS.iter().enumerate() {
            let want = 2f64.powf(j as f64 / 16.0);
            assert!(
                t.to_bits().abs_diff(want.to_bits()) <= 1,
                "2^({j}/16): {t} vs {want}"
            );
            if j > 0 {
                let step = t / EXP2_SIXTEENTHS[j - 1];
                assert!(
                    (step - 2f64.powf(1.0 / 16.0)).abs() < 1e-15,
                    "step {j}: {step}"
                );
            }
        }
    }

    /// All 2³² f32 bit patterns (ignored: 95 s on two threads; run with
    /// `cargo test --release --lib every_f32 -- --ignored`).
    #[test]
    #[ignore]
    fn every_f32_has_the_reference_bits() {
        use rayon::prelude::*;
        (0..1u32 << 16).into_par_iter().for_each(|hi| {
            let x: Vec<f32> = (0..1u32 << 16)
                .map(|lo| f32::from_bits(hi << 16 | lo))
                .collect();
            let [sig, tanh] = curves(&x);
            for (i, &v) in x.iter().enumerate() {
                let (s, t) = (v.sigmoid(), Float::tanh(v));
                assert!(
                    sig[i].to_bits() == s.to_bits() || (s.is_nan() && sig[i].is_nan()),
                    "sigmoid({v:e})"
                );
                assert!(
                    tanh[i].to_bits() == t.to_bits() || (t.is_nan() && tanh[i].is_nan()),
                    "tanh({v:e})"
                );
            }
        });
    }
}
