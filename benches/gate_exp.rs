//! What an f32 exponential would buy the GRU's gates (issue 12's closing note; the
//! README's performance section):
//!
//! ```text
//! cargo bench --bench gate_exp
//! ```
//!
//! The gate loop of `nn::gru` (r, z and n of 64 units on 256 rows, one thread) three
//! ways:
//! - `library_f64_formula`: element by element with the library's f32 `sigmoid` and
//!   `tanh` (an f64 formula rounded to f32: the correctly rounded value in all but rare
//!   ties), as `nn::gru` computes the gates without AVX-512;
//! - `library_eight_lane_checked`: with `tensor::vmath`'s eight-lane functions, as
//!   `nn::gru` computes them on AVX-512: the same bits (asserted here), by a cheaper f64
//!   approximation used only where it provably rounds to the same f32;
//! - `f32_exponential`: with an exponential evaluated in f32 (degree-6 polynomial,
//!   sixteen lanes on AVX-512), as PyTorch's vectorized functions do. Prints how far
//!   its states fall from the library's. This variant exists only here: adopting it
//!   would change the bits of every sigmoid and tanh result, which is a choice about
//!   what those functions promise.

use criterion::{Criterion, criterion_group, criterion_main};
use lamppost::float::Float;
use std::hint::black_box;

/// `e^x` in f32: `x = k·ln 2 + r` (k by the 1.5·2²³ rounding trick, ln 2 in two parts),
/// `e^r` by a degree-6 polynomial (Cephes' `expf` coefficients), `2^k` in the exponent
/// bits. A few units in the last f32 place.
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0;
    let xc = x.clamp(-87.0, 88.0);
    let t = xc * std::f32::consts::LOG2_E + MAGIC;
    let k = t - MAGIC;
    let r = k.mul_add(2.121_944_4e-4, k.mul_add(-0.693_359_4, xc));
    let mut p = 1.987_569_1e-4f32;
    for c in [
        1.398_199_9e-3,
        8.333_452e-3,
        4.166_579_6e-2,
        1.666_666_5e-1,
        0.5,
    ] {
        p = p.mul_add(r, c);
    }
    let e = (p * r).mul_add(r, r) + 1.0;
    let kbits = t.to_bits().wrapping_sub(MAGIC.to_bits());
    e * f32::from_bits(kbits.wrapping_add(127) << 23)
}

/// One row's gates as `nn::gru`'s element-by-element loop computes them (biases left
/// out), with these functions.
#[inline(always)]
fn gates(
    gi: &[f32],
    gh: &[f32],
    h: &mut [f32],
    sig: impl Fn(f32) -> f32,
    tanh: impl Fn(f32) -> f32,
) {
    let w = h.len();
    let (gir, giz, gin) = (&gi[..w], &gi[w..2 * w], &gi[2 * w..3 * w]);
    let (ghr, ghz, ghn) = (&gh[..w], &gh[w..2 * w], &gh[2 * w..3 * w]);
    for j in 0..w {
        let r = sig(gir[j] + ghr[j]);
        let z = sig(giz[j] + ghz[j]);
        let n = tanh(gin[j] + r * ghn[j]);
        h[j] = n + z * (h[j] - n);
    }
}

/// All rows with the library's functions (`F32 = false`) or the f32 exponential.
#[inline(always)]
fn all_rows<const F32: bool>(gi: &[f32], gh: &[f32], h: &mut [f32]) {
    let rows = gi.chunks(192).zip(gh.chunks(192)).zip(h.chunks_mut(64));
    for ((gi, gh), h) in rows {
        if F32 {
            let sig = |x: f32| 1.0 / (1.0 + exp_f32(-x));
            let tanh = |x: f32| {
                let e = exp_f32(-2.0 * x.abs());
                ((1.0 - e) / (1.0 + e)).copysign(x)
            };
            gates(gi, gh, h, sig, tanh);
        } else {
            gates(gi, gh, h, Float::sigmoid, Float::tanh);
        }
    }
}

/// [`all_rows`] compiled for AVX-512, as the library's gate loop is.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn all_rows_avx512<const F32: bool>(gi: &[f32], gh: &[f32], h: &mut [f32]) {
    all_rows::<F32>(gi, gh, h)
}

/// All rows with the library's eight-lane functions (`tensor::vmath`: the same bits as
/// the element-by-element ones), sixteen units at a time as `nn::gru`'s AVX-512 loop.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn all_rows_vmath(gi: &[f32], gh: &[f32], h: &mut [f32]) {
    use lamppost::tensor::vmath::{sigmoid_x, tanh_x};
    use std::arch::x86_64::*;
    let rows = gi.chunks(192).zip(gh.chunks(192)).zip(h.chunks_mut(64));
    for ((gi, gh), h) in rows {
        for j in (0..64).step_by(16) {
            // SAFETY: j + 8 + 8 ≤ 64 and the gate offsets stay below 192; AVX-512F is on.
            unsafe {
                let ld = |s: &[f32], i: usize| _mm256_loadu_ps(s.as_ptr().add(i));
                let pre = |i: usize| _mm256_add_ps(ld(gi, i), ld(gh, i));
                let [r0, r1, z0, z1] = sigmoid_x([pre(j), pre(j + 8), pre(64 + j), pre(72 + j)]);
                let pn = |d: usize, r: __m256| {
                    _mm256_add_ps(ld(gi, 128 + j + d), _mm256_mul_ps(r, ld(gh, 128 + j + d)))
                };
                let n = tanh_x([pn(0, r0), pn(8, r1)]);
                for (d, z) in [z0, z1].into_iter().enumerate() {
                    let hv = ld(h, j + 8 * d);
                    let out = _mm256_add_ps(n[d], _mm256_mul_ps(z, _mm256_sub_ps(hv, n[d])));
                    _mm256_storeu_ps(h.as_mut_ptr().add(j + 8 * d), out);
                }
            }
        }
    }
}

fn run<const F32: bool>(gi: &[f32], gh: &[f32], h: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU was just checked to support AVX-512F.
        return unsafe { all_rows_avx512::<F32>(gi, gh, h) };
    }
    all_rows::<F32>(gi, gh, h)
}

fn gate_exp(c: &mut Criterion) {
    let rows = 256;
    let wave = |n: usize, s: usize| -> Vec<f32> {
        (0..n)
            .map(|i| ((i * s) % 2001) as f32 / 300.0 - 3.3)
            .collect()
    };
    let (gi, gh) = (wave(rows * 192, 7919), wave(rows * 192, 104_729));
    let h0: Vec<f32> = (0..rows * 64)
        .map(|i| ((i * 31) % 200) as f32 / 100.0 - 1.0)
        .collect();
    let (mut exact, mut fast) = (h0.clone(), h0.clone());
    run::<false>(&gi, &gh, &mut exact);
    run::<true>(&gi, &gh, &mut fast);
    let apart = exact
        .iter()
        .zip(&fast)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    println!("f32 exponential: states at most {apart:e} from the library's");
    #[cfg(target_arch = "x86_64")]
    let eight_lane = std::is_x86_feature_detected!("avx512f");
    #[cfg(target_arch = "x86_64")]
    if eight_lane {
        let mut checked = h0.clone();
        // SAFETY: the CPU was just checked to support AVX-512F.
        unsafe { all_rows_vmath(&gi, &gh, &mut checked) };
        assert!(
            checked
                .iter()
                .zip(&exact)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "the eight-lane functions changed a state's bits"
        );
        println!("eight-lane f64 with the check: the same bits as the library's");
    }
    let mut g = c.benchmark_group("gru_gates_256x64");
    let mut h = h0.clone();
    g.bench_function("library_f64_formula", |b| {
        b.iter(|| {
            h.copy_from_slice(&h0);
            run::<false>(black_box(&gi), &gh, &mut h)
        })
    });
    #[cfg(target_arch = "x86_64")]
    if eight_lane {
        g.bench_function("library_eight_lane_checked", |b| {
            b.iter(|| {
                h.copy_from_slice(&h0);
                // SAFETY: AVX-512F was detected above.
                unsafe { all_rows_vmath(black_box(&gi), &gh, &mut h) }
            })
        });
    }
    g.bench_function("f32_exponential", |b| {
        b.iter(|| {
            h.copy_from_slice(&h0);
            run::<true>(black_box(&gi), &gh, &mut h)
        })
    });
    g.finish();
}

/// `Tensor::sigmoid` and `Tensor::tanh` (eight lanes on AVX-512, `tensor::vmath`) against
/// the same curves element by element (`map`), on 16 384 values in [−6, 6] (one thread:
/// below the size the library splits over threads).
fn curves(c: &mut Criterion) {
    let x = lamppost::Tensor::new(
        &[16_384],
        (0..16_384)
            .map(|i| ((i * 7919) % 16_384) as f32 / 16_384.0 * 12.0 - 6.0)
            .collect(),
    )
    .expect("a vector of 16 384 values");
    // `Float::tanh`, not f32's own `tanh` (libm's), which a method call would pick
    let bits = |t: lamppost::Tensor<f32>| t.data().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert!(
        bits(x.sigmoid()) == bits(x.map(Float::sigmoid)),
        "eight-lane sigmoid's bits"
    );
    assert!(
        bits(x.tanh()) == bits(x.map(Float::tanh)),
        "eight-lane tanh's bits"
    );
    let mut g = c.benchmark_group("curves_16384");
    g.bench_function("sigmoid_element_by_element", |b| {
        b.iter(|| black_box(&x).map(Float::sigmoid))
    });
    g.bench_function("sigmoid_eight_lane", |b| b.iter(|| black_box(&x).sigmoid()));
    g.bench_function("tanh_element_by_element", |b| {
        b.iter(|| black_box(&x).map(Float::tanh))
    });
    g.bench_function("tanh_eight_lane", |b| b.iter(|| black_box(&x).tanh()));
    g.finish();
}

criterion_group!(benches, gate_exp, curves);
criterion_main!(benches);
