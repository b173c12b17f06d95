//! libm's f32 `exp` and `ln` eight lanes at a time on AVX-512, **with libm's bits**, for
//! the binary cross-entropy's `ln(1 + e^{−|x|})`.
//!
//! `f32::exp` and `f32::ln` call glibc's `expf` and `logf` (since glibc 2.28, Szabolcs
//! Nagy's, from Arm's optimized-routines; on a CPU with FMA its `__expf_fma` and
//! `__logf_fma` builds). Both are a few f64 operations rounded once to f32:
//! - `expf`: `x·32/ln2 = k + r` (`k` rounded by adding 1.5·2⁵², `r` by a fused
//!   multiply-subtract), `2^{k/32}` from a table of 32 f64 with `k`'s high bits added
//!   to the exponent, `2^{r/32}` by a cubic, three fused multiply-adds;
//! - `logf`: `x = 2^k·z` with `z` in [0.7, 1.4], `ln x = ln c + k·ln2 + ln(z/c)` with
//!   `1/c` and `ln c` from a table of 16, `ln(1 + r)` by a quartic, four fused
//!   multiply-adds.
//!
//! Here the same operations run on f64 vectors, in the order and with the fusions of
//! glibc 2.36's machine code (`gdb -batch -ex 'disassemble __expf_fma'
//! /lib/x86_64-linux-gnu/libm.so.6`; constants read from `__exp2f_data` and
//! `__logf_data`), so each lane gives the bits of the call. Lanes the calls treat
//! apart (`|x| ≥ 88` for `exp`, NaN, infinities, non-normal inputs of `ln`) are
//! recomputed by the calls. Another libm may compute otherwise: before the first use a
//! self-check ([`matches_libm`]) compares both functions with this process's libm on
//! 4 096 inputs of each, and any difference leaves everything to the calls.
//!
//! Measured on the Intel Xeon (AVX-512, 2 threads, best of 500, the session's first
//! build and this one alternated three times): the BCE on mnist-vae's 64 × 784 logits,
//! where `expf` and `logf` were 60% of the op's profile, forward 0.43–0.46 → 0.14–0.15
//! ms, forward and backward 0.52–0.54 → 0.16 ms (with its values split over both
//! threads, and the backward's σ by [`super::vmath`]); one epoch of `lamppost train
//! mnist-vae` gives the same tensors.
//!
//! Tests: `lanes_have_libm_bits` compares `exp` on every 61st f32 bit pattern of
//! [−88, 88] and `ln` on every f32 of [1, 2] and every 61st of the normal positive
//! range with the calls; `every_f32_has_libm_bits` (ignored: 12 s on two threads) all
//! 2³² of them; `softplus_has_the_bits_of_the_formula` the BCE term around every special
//! case. Adding 10⁻¹⁷ to `ln`'s `k·ln2 + ln c` fails the first; `exp`'s last fused
//! multiply-add split in two fails none, as its product is too small to move an f32.

use crate::float::Float;
use std::mem::MaybeUninit;
use std::sync::OnceLock;

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// `ln(1 + e^{−|x|})`, as the BCE on logits computes it element by element.
pub fn softplus_neg_abs<T: Float>(x: T) -> T {
    (T::one() + (-x.abs()).exp()).ln()
}

/// `o[i] = softplus_neg_abs(x[i])` bit for bit; f32 on AVX-512 where this process's
/// libm passes the self-check, everything else element by element.
pub fn softplus_neg_abs_into<T: Float>(x: &[T], o: &mut [MaybeUninit<T>]) {
    assert_eq!(x.len(), o.len(), "softplus_neg_abs_into: lengths differ");
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>() && matches_libm() {
        done = x.len() / 8 * 8;
        // SAFETY: T is f32 (so the casts keep the type); `matches_libm` found AVX-512F
        // and VL; both slices hold at least `done` values.
        unsafe { softplus_avx512(x.as_ptr() as *const f32, o.as_mut_ptr() as *mut f32, done) };
    }
    for (o, &v) in o[done..].iter_mut().zip(&x[done..]) {
        o.write(softplus_neg_abs(v));
    }
}

/// [`softplus_neg_abs_into`] over values already initialized (`o` is overwritten).
pub fn softplus_neg_abs_over<T: Float>(x: &[T], o: &mut [T]) {
    // SAFETY: `MaybeUninit<T>` has `T`'s layout, and `softplus_neg_abs_into` writes
    // only initialized values (every one of them), so `o` stays initialized.
    let o = unsafe { &mut *(o as *mut [T] as *mut [MaybeUninit<T>]) };
    softplus_neg_abs_into(x, o)
}

/// Whether the lanes run here: AVX-512 (F and VL), and both functions give this
/// process's libm bits on 4 096 inputs each (spread over their ranges, and [1, 2] for
/// `ln`). Checked once.
pub fn matches_libm() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512vl") {
            let mut x: Vec<f32> = (0..4096u32)
                .map(|i| f32::from_bits((0xc2b0_0000 - i * 0x0002_c0d3) ^ ((i & 1) << 31)))
                .collect();
            x.extend((0..4096u32).map(|i| f32::from_bits(0x3f80_0000 + i * 2047)));
            x.extend((0..4096u32).map(|i| f32::from_bits(0x0080_0000 + i * 0x0007_e7f3)));
            // SAFETY: AVX-512F and VL are present
            return unsafe { lane_mismatches(&x) }.is_empty();
        }
        false
    })
}

/// The values of `x` (of a multiple of 8) where the lanes' `exp` or `ln` differ from the
/// calls, lanes the calls treat apart skipped.
///
/// # Safety
/// The CPU must support AVX-512F and AVX-512VL.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl")]
unsafe fn lane_mismatches(x: &[f32]) -> Vec<(f32, &'static str)> {
    let mut bad = Vec::new();
    for c in x.chunks_exact(8) {
        let (mut e, mut l) = ([0f32; 8], [0f32; 8]);
        // SAFETY: the caller's CPU has the features; each array holds 8 values.
        unsafe {
            let v = _mm256_loadu_ps(c.as_ptr());
            _mm256_storeu_ps(e.as_mut_ptr(), _mm512_cvtpd_ps(exp_x(_mm512_cvtps_pd(v))));
            _mm256_storeu_ps(l.as_mut_ptr(), _mm512_cvtpd_ps(ln_x(v)));
        }
        for (j, &v) in c.iter().enumerate() {
            if !exp_apart(v) && e[j].to_bits() != v.exp().to_bits() {
                bad.push((v, "exp"));
            }
            if !ln_apart(v) && l[j].to_bits() != v.ln().to_bits() {
                bad.push((v, "ln"));
            }
        }
    }
    bad
}

/// `exp` inputs the lanes leave to the call: `|x| ≥ 88` (over- and underflow), NaN, ±∞.
fn exp_apart(x: f32) -> bool {
    (x.to_bits() >> 20) & 0x7ff >= EXP_APART_TOP
}

/// `ln` inputs the lanes leave to the call: 1 (whose `ln` is +0), and all but positive
/// normal numbers.
fn ln_apart(x: f32) -> bool {
    let ix = x.to_bits();
    ix == ONE_BITS || ix.wrapping_sub(0x0080_0000) >= 0x7f80_0000 - 0x0080_0000
}

/// glibc's `top12(88.0f)`: `expf` treats `|x|` with these top bits or more apart.
const EXP_APART_TOP: u32 = 0x42b;
const ONE_BITS: u32 = 0x3f80_0000;

/// `__exp2f_data.tab`: `2^{j/32}` with `j`'s share of the exponent taken out (`tab[j]
/// + (j << 47)` is `2^{j/32}`), as bit patterns.
const EXP_TAB: [u64; 32] = [
    0x3ff0000000000000,
    0x3fefd9b0d3158574,
    0x3fefb5586cf9890f,
    0x3fef9301d0125b51,
    0x3fef72b83c7d517b,
    0x3fef54873168b9aa,
    0x3fef387a6e756238,
    0x3fef1e9df51fdee1,
    0x3fef06fe0a31b715,
    0x3feef1a7373aa9cb,
    0x3feedea64c123422,
    0x3feece086061892d,
    0x3feebfdad5362a27,
    0x3feeb42b569d4f82,
    0x3feeab07dd485429,
    0x3feea47eb03a5585,
    0x3feea09e667f3bcd,
    0x3fee9f75e8ec5f74,
    0x3feea11473eb0187,
    0x3feea589994cce13,
    0x3feeace5422aa0db,
    0x3feeb737b0cdc5e5,
    0x3feec49182a3f090,
    0x3feed503b23e255d,
    0x3feee89f995ad3ad,
    0x3feeff76f2fb5e47,
    0x3fef199bdd85529c,
    0x3fef3720dcef9069,
    0x3fef5818dcfba487,
    0x3fef7c97337b9b5f,
    0x3fefa4afa2a490da,
    0x3fefd0765b6e4540,
];
/// `__exp2f_data.invln2_scaled` (32/ln2), `.shift` (1.5·2⁵²) and `.poly_scaled`.
const EXP_INVLN2N: u64 = 0x40471547652b82fe;
const EXP_SHIFT: u64 = 0x4338000000000000;
const EXP_C: [u64; 3] = [0x3ebc6af84b912394, 0x3f2ebfce50fac4f3, 0x3f962e42ff0c52d6];

/// `__logf_data.tab`: `(1/c, ln c)` for each of the 16 subintervals, as bit patterns.
const LN_INVC: [u64; 16] = [
    0x3ff661ec79f8f3be,
    0x3ff571ed4aaf883d,
    0x3ff49539f0f010b0,
    0x3ff3c995b0b80385,
    0x3ff30d190c8864a5,
    0x3ff25e227b0b8ea0,
    0x3ff1bb4a4a1a343f,
    0x3ff12358f08ae5ba,
    0x3ff0953f419900a7,
    0x3ff0000000000000,
    0x3fee608cfd9a47ac,
    0x3feca4b31f026aa0,
    0x3feb2036576afce6,
    0x3fe9c2d163a1aa2d,
    0x3fe886e6037841ed,
    0x3fe767dcf5534862,
];
const LN_LOGC: [u64; 16] = [
    0xbfd57bf7808caade,
    0xbfd2bef0a7c06ddb,
    0xbfd01eae7f513a67,
    0xbfcb31d8a68224e9,
    0xbfc6574f0ac07758,
    0xbfc1aa2bc79c8100,
    0xbfba4e76ce8c0e5e,
    0xbfb1973c5a611ccc,
    0xbfa252f438e10c1e,
    0x0000000000000000,
    0x3faaa5aa5df25984,
    0x3fbc5e53aa362eb4,
    0x3fc526e57720db08,
    0x3fcbc2860d224770,
    0x3fd1058bc8a07ee1,
    0x3fd4043057b6ee09,
];
/// `__logf_data.ln2` and `.poly`.
const LN_LN2: u64 = 0x3fe62e42fefa39ef;
const LN_A: [u64; 3] = [0xbfd00ea348b88334, 0x3fd5575b0be00b6a, 0xbfdffffef20a4123];
/// `logf`'s `OFF`: `z` is taken in [OFF, 2·OFF).
const LN_OFF: i32 = 0x3f33_0000;

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn f(bits: u64) -> f64 {
    f64::from_bits(bits)
}

/// `expf`'s f64 result before rounding, for the f64 values of eight f32 (lanes that
/// [`exp_apart`] names are not meaningful).
///
/// # Safety
/// Only inline into code compiled with AVX-512F and VL.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn exp_x(xd: __m512d) -> __m512d {
    unsafe {
        let (invln2n, shift) = (_mm512_set1_pd(f(EXP_INVLN2N)), _mm512_set1_pd(f(EXP_SHIFT)));
        // kd = fma(32/ln2, x, shift): k in its low bits; then k as an f64 and r
        let kd = _mm512_fmadd_pd(invln2n, xd, shift);
        let ki = _mm512_castpd_si512(kd);
        let kd = _mm512_sub_pd(kd, shift);
        let r = _mm512_fmsub_pd(invln2n, xd, kd);
        // s = 2^{k/32}: the table's entry for k mod 32, k's high bits added to its exponent
        let tab = EXP_TAB.as_ptr() as *const f64;
        let idx = _mm512_and_si512(ki, _mm512_set1_epi64(31));
        let lo = _mm512_permutex2var_pd(_mm512_loadu_pd(tab), idx, _mm512_loadu_pd(tab.add(8)));
        let hi = _mm512_permutex2var_pd(
            _mm512_loadu_pd(tab.add(16)),
            idx,
            _mm512_loadu_pd(tab.add(24)),
        );
        let upper = _mm512_test_epi64_mask(idx, _mm512_set1_epi64(16));
        let t = _mm512_castpd_si512(_mm512_mask_blend_pd(upper, lo, hi));
        let s = _mm512_castsi512_pd(_mm512_add_epi64(t, _mm512_slli_epi64::<47>(ki)));
        // 2^{r/32} ≈ (C0·r + C1)·r² + (C2·r + 1)
        let z = _mm512_fmadd_pd(r, _mm512_set1_pd(f(EXP_C[0])), _mm512_set1_pd(f(EXP_C[1])));
        let r2 = _mm512_mul_pd(r, r);
        let y = _mm512_fmadd_pd(r, _mm512_set1_pd(f(EXP_C[2])), _mm512_set1_pd(1.0));
        let y = _mm512_fmadd_pd(z, r2, y);
        _mm512_mul_pd(y, s)
    }
}

/// `logf`'s f64 result before rounding, for eight f32 (lanes that [`ln_apart`] names are
/// not meaningful).
///
/// # Safety
/// Only inline into code compiled with AVX-512F and VL.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn ln_x(x: __m256) -> __m512d {
    unsafe {
        let ix = _mm256_castps_si256(x);
        let tmp = _mm256_sub_epi32(ix, _mm256_set1_epi32(LN_OFF));
        let i = _mm256_and_si256(_mm256_srli_epi32::<19>(tmp), _mm256_set1_epi32(15));
        let k = _mm256_srai_epi32::<23>(tmp);
        let iz = _mm256_sub_epi32(
            ix,
            _mm256_and_si256(tmp, _mm256_set1_epi32(0xff80_0000u32 as i32)),
        );
        let i = _mm512_cvtepi32_epi64(i);
        let (invc, logc) = (
            LN_INVC.as_ptr() as *const f64,
            LN_LOGC.as_ptr() as *const f64,
        );
        let invc = _mm512_permutex2var_pd(_mm512_loadu_pd(invc), i, _mm512_loadu_pd(invc.add(8)));
        let logc = _mm512_permutex2var_pd(_mm512_loadu_pd(logc), i, _mm512_loadu_pd(logc.add(8)));
        let z = _mm512_cvtps_pd(_mm256_castsi256_ps(iz));
        // ln x = ln(z/c) + ln c + k·ln2, ln(1 + r) by a quartic
        let y0 = _mm512_fmadd_pd(_mm512_cvtepi32_pd(k), _mm512_set1_pd(f(LN_LN2)), logc);
        let r = _mm512_fmadd_pd(z, invc, _mm512_set1_pd(-1.0));
        let y = _mm512_fmadd_pd(r, _mm512_set1_pd(f(LN_A[1])), _mm512_set1_pd(f(LN_A[2])));
        let r2 = _mm512_mul_pd(r, r);
        let t = _mm512_add_pd(r, y0);
        let y = _mm512_fmadd_pd(r2, _mm512_set1_pd(f(LN_A[0])), y);
        _mm512_fmadd_pd(r2, y, t)
    }
}

/// `softplus_neg_abs` of `n` values (a multiple of 8), eight at a time.
///
/// # Safety
/// The CPU must support AVX-512F and VL; `x` and `o` must hold `n` values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl")]
unsafe fn softplus_avx512(x: *const f32, o: *mut f32, n: usize) {
    unsafe {
        let sign = _mm256_set1_ps(-0.0);
        let (one, one_bits) = (_mm256_set1_ps(1.0), _mm256_set1_epi32(ONE_BITS as i32));
        let apart_top = _mm256_set1_epi32(EXP_APART_TOP as i32);
        for i in (0..n).step_by(8) {
            let v = _mm256_loadu_ps(x.add(i));
            // −|x|: its exponential, rounded to f32 as `expf` returns it
            let neg = _mm256_or_ps(v, sign);
            let e = _mm512_cvtpd_ps(exp_x(_mm512_cvtps_pd(neg)));
            let a = _mm256_add_ps(one, e);
            let mut y = _mm512_cvtpd_ps(ln_x(a));
            // ln 1 = +0, as `logf` returns it (a ≥ 1 here, so no other input of ln is apart)
            let at_one = _mm256_cmpeq_epi32_mask(_mm256_castps_si256(a), one_bits);
            y = _mm256_mask_blend_ps(at_one, y, _mm256_setzero_ps());
            _mm256_storeu_ps(o.add(i), y);
            let top = _mm256_and_si256(
                _mm256_srli_epi32::<20>(_mm256_castps_si256(neg)),
                _mm256_set1_epi32(0x7ff),
            );
            let apart = _mm256_cmpge_epu32_mask(top, apart_top);
            if apart != 0 {
                for j in 0..8 {
                    if apart & (1 << j) != 0 {
                        *o.add(i + j) = softplus_neg_abs(*x.add(i + j));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn lanes_have_libm_bits() {
        // on this machine (glibc, AVX-512) the lanes must be on; elsewhere the self-check
        // keeps them off and the calls run
        if cfg!(target_env = "gnu") && std::is_x86_feature_detected!("avx512vl") {
            assert!(
                matches_libm(),
                "the lanes differ from this glibc's expf/logf"
            );
        }
        if !matches_libm() {
            return;
        }
        // exp: every 61st bit pattern of [−88, 88]; ln: all of [1, 2], every 61st normal
        let exp_in = (0..0x42b0_0000u32)
            .step_by(61)
            .flat_map(|b| [f32::from_bits(b), -f32::from_bits(b)]);
        let exp_in: Vec<f32> = exp_in.collect();
        // SAFETY: matches_libm found AVX-512F and VL
        assert_eq!(
            unsafe { lane_mismatches(&exp_in[..exp_in.len() / 8 * 8]) },
            vec![]
        );
        let ln_in = (0x3f80_0000u32..=0x4000_0000)
            .chain((0x0080_0000u32..0x7f80_0000).step_by(61))
            .map(f32::from_bits);
        let ln_in: Vec<f32> = ln_in.collect();
        // SAFETY: as above
        assert_eq!(
            unsafe { lane_mismatches(&ln_in[..ln_in.len() / 8 * 8]) },
            vec![]
        );
    }

    /// Every f32 through both lanes (ignored: about a minute on two threads).
    #[test]
    #[ignore]
    #[cfg(target_arch = "x86_64")]
    fn every_f32_has_libm_bits() {
        if !matches_libm() {
            return;
        }
        use rayon::prelude::*;
        let bad: Vec<(f32, &str)> = (0..1u64 << 16)
            .into_par_iter()
            .flat_map_iter(|hi| {
                let x: Vec<f32> = (0..1u32 << 16)
                    .map(|lo| f32::from_bits((hi as u32) << 16 | lo))
                    .collect();
                // SAFETY: matches_libm found AVX-512F and VL
                unsafe { lane_mismatches(&x) }
            })
            .collect();
        assert_eq!(bad, vec![]);
    }

    #[test]
    fn softplus_has_the_bits_of_the_formula() {
        // around every special case: ±0, ln's 1 (e^{−|x|} below half an ulp of 1),
        // exp's edge at 88 and beyond, NaN, ±∞, subnormals, and a dense sweep
        let mut x: Vec<f32> = vec![0.0, -0.0, 1e-8, -1e-8, 87.9, 88.0, -88.0, 88.1, 103.0, 1e30];
        x.extend([f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1e-40, -1e-45]);
        x.extend((0..20_000).map(|i| (i as f32 - 10_000.0) * 0.011));
        x.extend((0..x.len() % 8 + 3).map(|i| i as f32));
        let mut o = vec![MaybeUninit::<f32>::uninit(); x.len()];
        softplus_neg_abs_into(&x, &mut o);
        for (&v, o) in x.iter().zip(&o) {
            // SAFETY: softplus_neg_abs_into wrote every value
            let got = unsafe { o.assume_init() };
            let want = softplus_neg_abs(v);
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "x = {v:e}: {got:e} against {want:e}"
            );
        }
        // f64 goes element by element
        let x64 = [0.5f64, -3.0, 40.0];
        let mut o64 = vec![MaybeUninit::<f64>::uninit(); 3];
        softplus_neg_abs_into(&x64, &mut o64);
        // SAFETY: written above
        let got: Vec<f64> = o64.iter().map(|o| unsafe { o.assume_init() }).collect();
        assert_eq!(got, x64.map(softplus_neg_abs));
    }
}
