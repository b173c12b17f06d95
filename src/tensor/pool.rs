//! Pooling kernels on `[N,C,H,W]` data (no padding, floor mode, as PyTorch's defaults).

use crate::float::Float;
use crate::tensor::{PAR_ELEMS, zeroed};
use rayon::prelude::*;
use std::mem::MaybeUninit;
use std::ops::Range;

/// Output size of a pooling window along one axis.
pub fn pooled(len: usize, k: usize, stride: usize) -> usize {
    if len < k { 0 } else { (len - k) / stride + 1 }
}

/// Max-pooling. Returns the output and, if `want_arg`, for each output the flat input
/// index of the first maximum of its window in row-major order (PyTorch's choice on ties;
/// a NaN wins, as in PyTorch); without it (inference) the indices are only kept per plane
/// and an empty list is returned. Planes are pooled in parallel.
pub fn maxpool2d<T: Float>(
    x: &[T],
    nc: usize,
    [h, w, k, s]: [usize; 4],
    want_arg: bool,
) -> (Vec<T>, Vec<usize>) {
    let (ho, wo) = (pooled(h, k, s), pooled(w, k, s));
    let plane = ho * wo;
    let mut out = vec![T::zero(); nc * plane];
    if !want_arg {
        // the indices, where needed, go to one plane-sized scratch per thread
        if plane > 0 && nc * h * w >= PAR_ELEMS {
            out.par_chunks_mut(plane)
                .zip(x.par_chunks(h * w))
                .for_each_init(Vec::new, |a, (o, xp)| {
                    maxpool_sample(xp, 1, [h, w, k, s], o, a)
                });
        } else {
            maxpool_sample(x, nc, [h, w, k, s], &mut out, &mut Vec::new());
        }
        return (out, Vec::new());
    }
    let mut arg = vec![0usize; nc * plane];
    if plane == 0 {
        return (out, arg);
    }
    let pool_plane =
        |p: usize, out: &mut [T], arg: &mut [usize]| pool_one_plane(x, [h, w, k, s], p, out, arg);
    if nc * h * w >= PAR_ELEMS {
        out.par_chunks_mut(plane)
            .zip(arg.par_chunks_mut(plane))
            .enumerate()
            .for_each(|(p, (o, a))| pool_plane(p, o, a));
    } else {
        for (p, (o, a)) in out.chunks_mut(plane).zip(arg.chunks_mut(plane)).enumerate() {
            pool_plane(p, o, a);
        }
    }
    (out, arg)
}

/// Max-pooling of one sample's `planes` planes of `x` into `out` (`planes · ho · wo`
/// values), without indices and on the calling thread: the values [`maxpool2d`] gives
/// without gradients. `scratch` holds indices where the values have no kernel of their
/// own. For a convolution that pools each sample's output while it is in cache
/// ([`crate::tensor::conv::conv2d_relu_pool_forward`]).
pub fn maxpool_sample<T: Float>(
    x: &[T],
    planes: usize,
    [h, w, k, s]: [usize; 4],
    out: &mut [T],
    scratch: &mut Vec<usize>,
) {
    let plane = pooled(h, k, s) * pooled(w, k, s);
    if plane == 0 {
        return;
    }
    scratch.resize(plane, 0);
    for (p, o) in out[..planes * plane].chunks_mut(plane).enumerate() {
        if !pool_values_2x2(x, [h, w, k, s], p, o) {
            pool_one_plane(x, [h, w, k, s], p, o, scratch);
        }
    }
}

/// The gradient at max-pooling's input (`nc` planes of `plane` values): each plane
/// zeroed, then every window's gradient in `g` added at its maximum (`argmax`, flat
/// indices as [`maxpool2d`] gives them; added, as windows may overlap). `then(d, p,
/// windows)` may then edit plane `p` (`d`), given the range of its windows in `g` and
/// `argmax` (a ReLU fused before the pooling passes the gradient through its rule there).
/// Every window of plane `p` lies in plane `p`, so planes are filled in parallel.
pub fn maxpool_backward<T: Float>(
    g: &[T],
    argmax: &[usize],
    [nc, plane]: [usize; 2],
    then: impl Fn(&mut [T], usize, Range<usize>) + Sync,
) -> Vec<T> {
    let windows = g.len() / nc.max(1);
    let mut dx: Vec<T> = Vec::with_capacity(nc * plane);
    let fill = |(p, d): (usize, &mut [MaybeUninit<T>])| {
        let d = zeroed(d);
        let range = p * windows..(p + 1) * windows;
        for (&i, &g) in argmax[range.clone()].iter().zip(&g[range.clone()]) {
            d[i - p * plane] += g;
        }
        then(d, p, range);
    };
    if plane > 0 {
        let spare = &mut dx.spare_capacity_mut()[..nc * plane];
        if nc * plane >= PAR_ELEMS {
            spare.par_chunks_mut(plane).enumerate().for_each(fill);
        } else {
            spare.chunks_mut(plane).enumerate().for_each(fill);
        }
    }
    // SAFETY: the planes above cover 0..nc·plane, each written in full.
    unsafe { dx.set_len(nc * plane) };
    dx
}

/// [`maxpool_sample`] with the index of each maximum in `arg`, as [`maxpool2d`] gives
/// them for a batch whose sample this is and whose first input value is at index
/// `first`: the values and indices of the batch's pooling.
pub fn maxpool_sample_arg<T: Float>(
    x: &[T],
    planes: usize,
    geom: [usize; 4],
    out: &mut [T],
    arg: &mut [usize],
    first: usize,
) {
    let [h, w, k, s] = geom;
    let plane = pooled(h, k, s) * pooled(w, k, s);
    if plane == 0 {
        return;
    }
    let per_plane = out[..planes * plane]
        .chunks_mut(plane)
        .zip(arg.chunks_mut(plane));
    for (p, (o, a)) in per_plane.enumerate() {
        pool_one_plane(x, geom, p, o, a);
        a.iter_mut().for_each(|i| *i += first);
    }
}

/// Pools plane `p` of `x` into `out`, with the flat input index of each maximum in `arg`.
fn pool_one_plane<T: Float>(
    x: &[T],
    [h, w, k, s]: [usize; 4],
    p: usize,
    out: &mut [T],
    arg: &mut [usize],
) {
    let (ho, wo) = (pooled(h, k, s), pooled(w, k, s));
    let base = p * h * w;
    let xp = &x[base..base + h * w];
    if k == 2 && s == 2 {
        return pool_plane_2x2(xp, w, ho, wo, base, out, arg);
    }
    for oy in 0..ho {
        for ox in 0..wo {
            let mut best = oy * s * w + ox * s;
            let mut bv = xp[best];
            for ky in 0..k {
                let row = (oy * s + ky) * w + ox * s;
                for (kx, &v) in xp[row..row + k].iter().enumerate() {
                    // strict '>' keeps the first maximum
                    // non-short-circuit `|`/`&` keep this branch-free (cmov); a NaN wins
                    let better = (v > bv) | (v.is_nan() & !bv.is_nan());
                    best = if better { row + kx } else { best };
                    bv = if better { v } else { bv };
                }
            }
            out[oy * wo + ox] = bv;
            arg[oy * wo + ox] = base + best;
        }
    }
}

/// The 2×2, stride-2 case of [`maxpool2d`] on one plane, unrolled.
fn pool_plane_2x2<T: Float>(
    xp: &[T],
    w: usize,
    ho: usize,
    wo: usize,
    base: usize,
    out: &mut [T],
    arg: &mut [usize],
) {
    for oy in 0..ho {
        let r0 = &xp[2 * oy * w..2 * oy * w + 2 * wo];
        let r1 = &xp[(2 * oy + 1) * w..(2 * oy + 1) * w + 2 * wo];
        let o = &mut out[oy * wo..(oy + 1) * wo];
        let a = &mut arg[oy * wo..(oy + 1) * wo];
        pool_row_2x2(r0, r1, o, a, base + 2 * oy * w, w);
    }
}

/// One row of 2×2 windows: the first maximum in row-major order (a NaN wins), with its
/// flat index `first + 2·ox + offset`. Written branch-free over whole rows so that the
/// AVX2 build below vectorizes it (4 windows a step for f32: the indices are 64-bit;
/// measured 1.4× faster than the scalar loop); the values and indices
/// are the same as a scalar loop's.
#[inline(always)]
fn pool_row_body_2x2<T: Float>(
    r0: &[T],
    r1: &[T],
    o: &mut [T],
    a: &mut [usize],
    first: usize,
    w: usize,
) {
    let n = o.len().min(a.len());
    let (r0, r1) = (&r0[..2 * n], &r1[..2 * n]);
    for ox in 0..n {
        let (mut bv, mut bi) = (r0[2 * ox], 0);
        // candidates in row-major order; strict '>' keeps the first maximum
        for (v, i) in [
            (r0[2 * ox + 1], 1),
            (r1[2 * ox], w),
            (r1[2 * ox + 1], w + 1),
        ] {
            let better = (v > bv) | (v.is_nan() & !bv.is_nan());
            bi = if better { i } else { bi };
            bv = if better { v } else { bv };
        }
        o[ox] = bv;
        a[ox] = first + 2 * ox + bi;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn pool_row_avx2<T: Float>(
    r0: &[T],
    r1: &[T],
    o: &mut [T],
    a: &mut [usize],
    first: usize,
    w: usize,
) {
    pool_row_body_2x2(r0, r1, o, a, first, w)
}

fn pool_row_2x2<T: Float>(
    r0: &[T],
    r1: &[T],
    o: &mut [T],
    a: &mut [usize],
    first: usize,
    w: usize,
) {
    #[cfg(target_arch = "x86_64")]
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>()
        && std::is_x86_feature_detected!("avx512f")
    {
        let n = o.len().min(a.len());
        assert!(
            r0.len() >= 2 * n && r1.len() >= 2 * n,
            "pool rows shorter than their windows"
        );
        // SAFETY: T is f32; the CPU has AVX-512F; the n windows of both rows (2n
        // values each) and of `o` and `a` are inside the slices.
        return unsafe {
            pool_row_avx512(
                r0.as_ptr() as *const f32,
                r1.as_ptr() as *const f32,
                o.as_mut_ptr() as *mut f32,
                a.as_mut_ptr(),
                n,
                first,
                w,
            )
        };
    }
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU was just checked to support AVX2.
        return unsafe { pool_row_avx2(r0, r1, o, a, first, w) };
    }
    pool_row_body_2x2(r0, r1, o, a, first, w)
}

/// [`pool_row_body_2x2`] for f32, 16 windows a step by hand (the last step masked): the
/// even and odd values of both rows split into four vectors, the candidates compared in
/// the same row-major order with the same test (greater, or a NaN over a number), the
/// window offsets (0, 1, w, w + 1) chosen alongside and widened to 64-bit indices. The
/// compiler's own AVX-512 build of the scalar body was slower than its AVX2 one (mnist-gap
/// inference 4.7 → 6.5 ms), and the AVX2 one 4 windows a step was a tenth of mnist-gap's
/// training step (perf).
///
/// # Safety
/// The CPU must support AVX-512F; `r0` and `r1` hold `2n` values, `o` and `a` `n`
/// (masked lanes are neither read nor written).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn pool_row_avx512(
    r0: *const f32,
    r1: *const f32,
    o: *mut f32,
    a: *mut usize,
    n: usize,
    first: usize,
    w: usize,
) {
    use std::arch::x86_64::*;
    use windows::{better, candidates, lanes};
    let offsets = [0, 1, w as i32, w as i32 + 1].map(|v| _mm512_set1_epi32(v));
    // 2·ox for the 16 windows of a step, low and high halves as 64-bit lanes
    let lo_step = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    let hi_step = _mm512_add_epi64(lo_step, _mm512_set1_epi64(16));
    for ox in (0..n).step_by(16) {
        let count = (n - ox).min(16);
        // SAFETY: the lanes the masks select are windows ox..ox+count, inside (caller).
        unsafe {
            let [a0, a1, b0, b1] = candidates(r0, r1, ox, count);
            let mut bv = a0;
            let mut bi = offsets[0];
            for (v, off) in [(a1, offsets[1]), (b0, offsets[2]), (b1, offsets[3])] {
                let better = better(v, bv);
                bv = _mm512_mask_blend_ps(better, bv, v);
                bi = _mm512_mask_blend_epi32(better, bi, off);
            }
            if count == 16 {
                _mm512_storeu_ps(o.add(ox), bv);
            } else {
                _mm512_mask_storeu_ps(o.add(ox), lanes(count), bv);
            }
            let base = _mm512_set1_epi64((first + 2 * ox) as i64);
            let lo = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(bi));
            let hi = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64::<1>(bi));
            let lo = _mm512_add_epi64(_mm512_add_epi64(base, lo_step), lo);
            let hi = _mm512_add_epi64(_mm512_add_epi64(base, hi_step), hi);
            let (i0, i1) = (
                lanes(count.min(8)) as u8,
                lanes(count.saturating_sub(8)) as u8,
            );
            if count == 16 {
                _mm512_storeu_si512(a.add(ox) as *mut __m512i, lo);
                _mm512_storeu_si512(a.add(ox + 8) as *mut __m512i, hi);
            } else {
                _mm512_mask_storeu_epi64(a.add(ox) as *mut i64, i0, lo);
                _mm512_mask_storeu_epi64(a.wrapping_add(ox + 8) as *mut i64, i1, hi);
            }
        }
    }
}

/// Plane `p` of `x` pooled into `out` without the indices, where that has a kernel of
/// its own (2×2 windows, stride 2, f32 on AVX-512; then `true`): inference keeps no
/// indices, and choosing and widening them was most of the work of
/// [`pool_row_avx512`]. The values are those [`pool_one_plane`] gives.
fn pool_values_2x2<T: Float>(x: &[T], [h, w, k, s]: [usize; 4], p: usize, out: &mut [T]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if k == 2
        && s == 2
        && std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>()
        && std::is_x86_feature_detected!("avx512f")
    {
        let (ho, wo) = (pooled(h, k, s), pooled(w, k, s));
        let xp = &x[p * h * w..(p + 1) * h * w];
        assert!(out.len() >= ho * wo, "pool output shorter than its plane");
        for oy in 0..ho {
            // SAFETY: T is f32; the CPU has AVX-512F; rows 2·oy and 2·oy + 1 hold the
            // 2·wo values of the windows (2·oy + 1 < h) and `out` the row's wo.
            unsafe {
                pool_row_values_avx512(
                    xp.as_ptr().add(2 * oy * w) as *const f32,
                    xp.as_ptr().add((2 * oy + 1) * w) as *const f32,
                    out.as_mut_ptr().add(oy * wo) as *mut f32,
                    wo,
                )
            };
        }
        return true;
    }
    let _ = (x, h, w, k, s, p, out);
    false
}

/// [`pool_row_avx512`]'s values alone: the same candidates compared in the same order
/// with the same test, so the same maximum (the first; a NaN over a number).
///
/// # Safety
/// The CPU must support AVX-512F; `r0` and `r1` hold `2n` values, `o` `n`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn pool_row_values_avx512(r0: *const f32, r1: *const f32, o: *mut f32, n: usize) {
    use std::arch::x86_64::*;
    use windows::{better, candidates, lanes};
    for ox in (0..n).step_by(16) {
        let count = (n - ox).min(16);
        // SAFETY: the lanes the masks select are windows ox..ox+count, inside (caller).
        unsafe {
            let [a0, a1, b0, b1] = candidates(r0, r1, ox, count);
            let mut bv = a0;
            for v in [a1, b0, b1] {
                bv = _mm512_mask_blend_ps(better(v, bv), bv, v);
            }
            _mm512_mask_storeu_ps(o.add(ox), lanes(count), bv);
        }
    }
}

/// What both AVX-512 row kernels of 2×2 windows share.
#[cfg(target_arch = "x86_64")]
mod windows {
    use std::arch::x86_64::*;

    /// The first `k` (≤ 16) lanes.
    pub fn lanes(k: usize) -> u16 {
        if k >= 16 { 0xFFFF } else { (1u16 << k) - 1 }
    }

    /// The four candidates of windows `ox..ox + count` (`count` ≤ 16) of the row pair, in
    /// row-major order: top left, top right, bottom left, bottom right.
    ///
    /// # Safety
    /// The CPU must support AVX-512F; both rows hold the `2·count` values from `2·ox`.
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub unsafe fn candidates(
        r0: *const f32,
        r1: *const f32,
        ox: usize,
        count: usize,
    ) -> [__m512; 4] {
        let even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        let odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
        let (m0, m1) = (lanes(2 * count), lanes((2 * count).saturating_sub(16)));
        // SAFETY: the lanes the masks select are inside both rows (caller).
        let load = |r: *const f32| unsafe {
            let (v0, v1) = if count == 16 {
                (
                    _mm512_loadu_ps(r.add(2 * ox)),
                    _mm512_loadu_ps(r.add(2 * ox + 16)),
                )
            } else {
                (
                    _mm512_maskz_loadu_ps(m0, r.add(2 * ox)),
                    _mm512_maskz_loadu_ps(m1, r.wrapping_add(2 * ox + 16)),
                )
            };
            (
                _mm512_permutex2var_ps(v0, even, v1),
                _mm512_permutex2var_ps(v0, odd, v1),
            )
        };
        let ((a0, a1), (b0, b1)) = (load(r0), load(r1));
        [a0, a1, b0, b1]
    }

    /// The lanes where candidate `v` beats the best so far `bv`: greater, or a NaN over a
    /// number (strict, so the first maximum stays).
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub fn better(v: __m512, bv: __m512) -> __mmask16 {
        _mm512_cmp_ps_mask::<_CMP_GT_OQ>(v, bv)
            | (_mm512_cmp_ps_mask::<_CMP_UNORD_Q>(v, v) & _mm512_cmp_ps_mask::<_CMP_ORD_Q>(bv, bv))
    }
}

/// Average pooling over k×k windows.
pub fn avgpool2d<T: Float>(x: &[T], nc: usize, h: usize, w: usize, k: usize, s: usize) -> Vec<T> {
    let (ho, wo) = (pooled(h, k, s), pooled(w, k, s));
    let inv = T::one() / T::from_usize(k * k).unwrap_or(T::one());
    let mut out = Vec::with_capacity(nc * ho * wo);
    for p in 0..nc {
        for oy in 0..ho {
            for ox in 0..wo {
                let mut acc = T::zero();
                for ky in 0..k {
                    for kx in 0..k {
                        acc += x[p * h * w + (oy * s + ky) * w + ox * s + kx];
                    }
                }
                out.push(acc * inv);
            }
        }
    }
    out
}

/// The adjoint of [`avgpool2d`].
pub fn avgpool2d_backward<T: Float>(
    dy: &[T],
    nc: usize,
    h: usize,
    w: usize,
    k: usize,
    s: usize,
) -> Vec<T> {
    let (ho, wo) = (pooled(h, k, s), pooled(w, k, s));
    let inv = T::one() / T::from_usize(k * k).unwrap_or(T::one());
    let mut dx = vec![T::zero(); nc * h * w];
    for p in 0..nc {
        for oy in 0..ho {
            for ox in 0..wo {
                let g = dy[(p * ho + oy) * wo + ox] * inv;
                for ky in 0..k {
                    for kx in 0..k {
                        dx[p * h * w + (oy * s + ky) * w + ox * s + kx] += g;
                    }
                }
            }
        }
    }
    dx
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows of 2×2 windows with ties, NaNs and infinities, widths on and off the 16-window
    /// step: the dispatched kernel (AVX-512 by hand where the CPU has it) gives the
    /// values and indices of the scalar body, bit for bit, and inference's kernel
    /// without indices the same values.
    #[test]
    fn pooled_rows_match_the_scalar_windows() {
        let specials = [
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            -0.0,
            0.0,
            1.0,
            1.0,
        ];
        for n in [1, 15, 16, 17, 33, 64] {
            let w = 2 * n + 3;
            let val = |i: usize| -> f32 {
                let h = i.wrapping_mul(2_654_435_761) % 97;
                if h < 40 {
                    specials[h % specials.len()]
                } else {
                    (h % 5) as f32 - 2.0
                }
            };
            let r0: Vec<f32> = (0..2 * n).map(val).collect();
            let r1: Vec<f32> = (0..2 * n).map(|i| val(i + 1000 * n)).collect();
            let (mut o, mut a) = (vec![0.0f32; n], vec![0usize; n]);
            let (mut o2, mut a2) = (vec![0.0f32; n], vec![0usize; n]);
            pool_row_2x2(&r0, &r1, &mut o, &mut a, 100, w);
            pool_row_body_2x2(&r0, &r1, &mut o2, &mut a2, 100, w);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&o), bits(&o2), "values, {n} windows");
            assert_eq!(a, a2, "indices, {n} windows");
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx512f") {
                let mut o3 = vec![0.0f32; n];
                // SAFETY: the CPU has AVX-512F; both rows hold 2n values, o3 n.
                unsafe { pool_row_values_avx512(r0.as_ptr(), r1.as_ptr(), o3.as_mut_ptr(), n) };
                assert_eq!(bits(&o3), bits(&o2), "values alone, {n} windows");
            }
        }
    }
}
