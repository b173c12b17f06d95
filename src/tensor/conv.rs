//! 2-D convolution by im2col + GEMM, forward and backward, split over samples.
//!
//! Weight gradients are summed over fixed chunks of samples and the chunk partials are
//! added in order, so the result does not depend on how many threads ran.

use super::kernel::{SameConv, gemm_wide, gemm_wide_bias, gemm_wide_into};
use super::{filled, sum_lanes, transpose_into, transposed, written, zero_few, zeroed};
use crate::float::Float;
use rayon::prelude::*;
use std::mem::MaybeUninit;

/// Geometry of one convolution (symmetric zero padding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeom {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub o: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride: usize,
    pub pad: usize,
}

impl ConvGeom {
    /// The direct kernel's plan when this is a "same" convolution it can run (square
    /// kernel, see [`SameConv::new`]), for the forward pass and the input gradient.
    fn same_plan<T: Float>(&self) -> Option<SameConv> {
        if self.kh != self.kw {
            return None;
        }
        SameConv::new::<T>(
            self.o,
            self.c,
            self.h,
            self.w,
            self.kh,
            self.stride,
            self.pad,
        )
    }

    pub fn ho(&self) -> usize {
        (self.h + 2 * self.pad - self.kh) / self.stride + 1
    }
    pub fn wo(&self) -> usize {
        (self.w + 2 * self.pad - self.kw) / self.stride + 1
    }
    /// Rows of the column matrix: C·kh·kw.
    pub fn ck(&self) -> usize {
        self.c * self.kh * self.kw
    }
    fn in_len(&self) -> usize {
        self.c * self.h * self.w
    }
    fn out_len(&self) -> usize {
        self.o * self.ho() * self.wo()
    }
}

/// Columns of the im2col matrix per GEMM: samples are unfolded side by side until a
/// block holds about this many output positions, so the layers with small maps (7×7 has 49
/// positions, not a multiple of the 8-wide kernel) still give GEMMs wide enough to keep
/// the kernel busy, while a block's column matrix stays in L2 (pokedigi's conv4: 576 rows
/// × 256 columns × 4 bytes = 590 KB). Measured on the conv and training benches
/// (benches/engine.rs, one sitting): 256 was as fast as per-sample GEMMs or faster (within
/// this machine's ±15% noise) and 1024 was slower in every one (before the forward product
/// moved to [`gemm_wide`]).
const BLOCK_COLS: usize = 256;

/// Samples per block for a geometry: depends on the shapes only, never on the number of
/// threads, so the weight-gradient partial sums (one per block, added in block order)
/// are the same for any thread count.
pub fn block_samples(g: &ConvGeom) -> usize {
    BLOCK_COLS.div_ceil(g.ho() * g.wo()).clamp(1, 16)
}

/// Unfolds one sample `[C,H,W]` into columns of a `[C·kh·kw, ld]` matrix whose rows are
/// `ld` long (`ld = Ho·Wo` for one sample; several samples side by side in a block).
pub fn im2col<T: Float>(g: &ConvGeom, x: &[T], cols: &mut [T], ld: usize) {
    let (ho, wo) = (g.ho(), g.wo());
    for c in 0..g.c {
        let plane = &x[c * g.h * g.w..(c + 1) * g.h * g.w];
        for ki in 0..g.kh {
            let (oy_lo, oy_hi) = g.rows_inside(ki);
            for kj in 0..g.kw {
                let row = (c * g.kh + ki) * g.kw + kj;
                let dst = &mut cols[row * ld..row * ld + ho * wo];
                dst[..oy_lo * wo].iter_mut().for_each(|v| *v = T::zero());
                dst[oy_hi * wo..].iter_mut().for_each(|v| *v = T::zero());
                if g.stride == 1 && wo == g.w && oy_hi > oy_lo {
                    // 'same' padding: the rows inside are one contiguous run of the plane
                    // shifted by (ki − pad)·W + kj − pad; copy it whole (short per-row
                    // copies were a third of this function's time), then zero the
                    // columns that wrapped around from the neighbouring row
                    let (lo, hi) = g.inside(kj);
                    let (d0, d1) = (oy_lo * wo, oy_hi * wo);
                    let s0 = (oy_lo + ki - g.pad) * g.w;
                    if kj >= g.pad {
                        let sh = kj - g.pad;
                        let n = (d1 - d0).min(plane.len().saturating_sub(s0 + sh));
                        if n > 0 {
                            dst[d0..d0 + n].copy_from_slice(&plane[s0 + sh..s0 + sh + n]);
                        }
                    } else {
                        let sh = (g.pad - kj).min(d1 - d0);
                        dst[d0 + sh..d1].copy_from_slice(&plane[s0..s0 + d1 - d0 - sh]);
                    }
                    for oy in oy_lo..oy_hi {
                        let drow = &mut dst[oy * wo..(oy + 1) * wo];
                        zero_few(&mut drow[..lo]);
                        zero_few(&mut drow[hi..]);
                    }
                    continue;
                }
                for oy in oy_lo..oy_hi {
                    let iy = oy * g.stride + ki - g.pad;
                    let src = &plane[iy * g.w..(iy + 1) * g.w];
                    let drow = &mut dst[oy * wo..(oy + 1) * wo];
                    for (ox, d) in drow.iter_mut().enumerate() {
                        let ix = (ox * g.stride + kj) as isize - g.pad as isize;
                        *d = if ix < 0 || ix >= g.w as isize {
                            T::zero()
                        } else {
                            src[ix as usize]
                        };
                    }
                }
            }
        }
    }
}

/// Folds one sample's columns (rows `ld` long) back, adding every contribution into
/// `dx` (which the caller zeroes): the adjoint of [`im2col`].
pub fn col2im<T: Float>(g: &ConvGeom, cols: &[T], ld: usize, dx: &mut [T]) {
    let (ho, wo) = (g.ho(), g.wo());
    for c in 0..g.c {
        for ki in 0..g.kh {
            for kj in 0..g.kw {
                let row = (c * g.kh + ki) * g.kw + kj;
                let src = &cols[row * ld..row * ld + ho * wo];
                let (lo, hi) = g.inside(kj);
                let (oy_lo, oy_hi) = g.rows_inside(ki);
                for oy in oy_lo..oy_hi {
                    let iy = oy * g.stride + ki - g.pad;
                    let drow = &mut dx[(c * g.h + iy) * g.w..(c * g.h + iy + 1) * g.w];
                    let srow = &src[oy * wo..(oy + 1) * wo];
                    if g.stride == 1 {
                        // one slice add over the columns whose input lies inside the row
                        if hi == lo {
                            continue;
                        }
                        let off = lo + kj - g.pad;
                        for (d, &v) in drow[off..off + hi - lo].iter_mut().zip(&srow[lo..hi]) {
                            *d += v;
                        }
                        continue;
                    }
                    for (ox, &v) in srow.iter().enumerate() {
                        let ix = (ox * g.stride + kj) as isize - g.pad as isize;
                        if ix >= 0 && ix < g.w as isize {
                            drow[ix as usize] += v;
                        }
                    }
                }
            }
        }
    }
}

impl ConvGeom {
    /// The output rows `oy_lo..oy_hi` whose input row `oy·stride + ki − pad` lies inside
    /// the plane.
    #[inline]
    fn rows_inside(&self, ki: usize) -> (usize, usize) {
        let ho = self.ho();
        let lo = self.pad.saturating_sub(ki).div_ceil(self.stride).min(ho);
        let hi = (self.h + self.pad)
            .saturating_sub(ki)
            .div_ceil(self.stride)
            .clamp(lo, ho);
        (lo, hi)
    }

    /// For stride 1: the output columns `lo..hi` whose input column `ox + kj − pad` lies
    /// inside the row.
    #[inline]
    fn inside(&self, kj: usize) -> (usize, usize) {
        let wo = self.wo();
        let lo = self.pad.saturating_sub(kj).min(wo);
        let hi = (self.w + self.pad).saturating_sub(kj).min(wo).max(lo);
        (lo, hi)
    }
}

/// `y[n] = W · im2col(x[n]) + b` for every sample; returns `[N,O,Ho,Wo]` data. A "same"
/// convolution with stride 1 on f32 reads its products straight from the input
/// ([`SameConv`], AVX-512), one sample per task, or small maps as one run of positions
/// over the batch ([`SameConv::run_batch`]); otherwise blocks of [`block_samples`]
/// samples are unfolded side by side and multiplied in one GEMM, blocks in parallel. Each
/// output is one dot product over `C·kh·kw` in the same order on both paths, so the
/// values depend neither on the path nor on the block size.
///
/// With `relu`, each output value `v` becomes `v.relu()` (the ReLU op's own
/// definition, so the same bits as the two ops) in the task that wrote it, while it
/// is in cache: a separate ReLU op reads the whole output again and writes a new buffer
/// (12% of pokedigi-gap's inference, perf). The direct kernel applies it in its
/// registers before storing (a pass over each sample's output afterwards had been 3%
/// of pokedigi-gap's inference). For passes without gradients, where the
/// convolution's own output is not kept ([`crate::nn::Model::predict`]).
pub fn conv2d_forward<T: Float>(
    g: &ConvGeom,
    x: &[T],
    w: &[T],
    b: Option<&[T]>,
    relu: bool,
) -> Vec<T> {
    let len = g.n * g.out_len();
    if len == 0 {
        return Vec::new();
    }
    if let Some(plan) = g.same_plan::<T>() {
        // written once, by the kernel, without being zero-filled first
        let mut out: Vec<T> = Vec::with_capacity(len);
        let y = &mut out.spare_capacity_mut()[..len];
        let w = &plan.pack(w);
        if plan.batches(g.n) {
            // small maps: strips run on across samples, no idle lanes
            plan.run_batch(g.n, x, w, b, relu, y);
        } else {
            // "same" convolution on AVX-512: read from the input, no unfolded matrix;
            // one sample per task
            y.par_chunks_mut(g.out_len())
                .zip(x.par_chunks(g.in_len()))
                .for_each_init(Vec::new, |scratch, (y, xs)| {
                    plan.run(xs, w, b, relu, y, scratch)
                });
        }
        // SAFETY: all N·O·H·W values were written by `run_batch` or, sample by sample,
        // by `run`.
        unsafe { out.set_len(len) };
        return out;
    }
    unfolded_forward(g, x, w, b, relu)
}

/// `maxpool(relu(conv(x)))`: [`conv2d_forward`] with its ReLU, then
/// [`maxpool2d`](super::pool::maxpool2d) over `k × k` windows with stride `s`, the same
/// values, and with `want_arg` the same indices of the maxima (into the `[N, O, H, W]`
/// output of the convolution, which is not kept). A "same" convolution on the direct
/// kernel pools each sample's output in the task that wrote it, from a scratch buffer in
/// cache: otherwise a batch's whole output (64 MiB for pokedigi-gap's first layer on 256
/// pictures) went to memory and came back for the pooling. Small maps, which
/// [`SameConv::run_batch`] convolves as one run of positions over the batch, are pooled
/// after it (mnist-gap's inference of 256 digits 5.52–5.58 → 5.29–5.36 ms). Returns
/// `[N, O, Ho', Wo']` data, and the indices (empty without `want_arg`).
pub fn conv2d_relu_pool_forward<T: Float>(
    g: &ConvGeom,
    x: &[T],
    w: &[T],
    b: Option<&[T]>,
    [k, s]: [usize; 2],
    want_arg: bool,
) -> (Vec<T>, Vec<usize>) {
    use super::pool::{maxpool_sample, maxpool_sample_arg, maxpool2d, pooled};
    let (ho, wo) = (g.ho(), g.wo());
    let pooled_len = g.o * pooled(ho, k, s) * pooled(wo, k, s);
    let per_sample = |p: &SameConv| g.n > 0 && pooled_len > 0 && !p.batches(g.n);
    let Some(plan) = g.same_plan::<T>().filter(per_sample) else {
        let y = conv2d_forward(g, x, w, b, true);
        return maxpool2d(&y, g.n * g.o, [ho, wo, k, s], want_arg);
    };
    let len = g.n * pooled_len;
    let w = &plan.pack(w);
    let mut out: Vec<T> = Vec::with_capacity(len);
    let mut arg = vec![0; if want_arg { len } else { 0 }];
    // each sample's share of the indices, or (without them) a None per sample
    let arg_chunks = arg.par_chunks_mut(pooled_len.max(1)).map(Some);
    let no_args = (0..if want_arg { 0 } else { g.n })
        .into_par_iter()
        .map(|_| None);
    out.spare_capacity_mut()[..len]
        .par_chunks_mut(pooled_len)
        .zip(x.par_chunks(g.in_len()))
        .zip(arg_chunks.chain(no_args))
        .enumerate()
        .for_each_init(
            || (Vec::new(), Vec::with_capacity(g.out_len()), Vec::new()),
            |(scratch, y, idx): &mut (Vec<T>, Vec<T>, Vec<usize>), (i, ((out, xs), arg))| {
                y.clear();
                plan.run(
                    xs,
                    w,
                    b,
                    true,
                    &mut y.spare_capacity_mut()[..g.out_len()],
                    scratch,
                );
                // SAFETY: `run` wrote all of the sample's O·H·W values.
                unsafe { y.set_len(g.out_len()) };
                let geom = [ho, wo, k, s];
                match arg {
                    Some(arg) => {
                        maxpool_sample_arg(y, g.o, geom, zeroed(out), arg, i * g.out_len())
                    }
                    None => maxpool_sample(y, g.o, geom, zeroed(out), idx),
                }
            },
        );
    // SAFETY: every sample's pooled values were written above.
    unsafe { out.set_len(len) };
    (out, arg)
}

/// `v ← relu(v)`, as the ReLU op computes it ([`Float::relu`]).
fn relu_in_place<T: Float>(y: &mut [T]) {
    y.iter_mut().for_each(|v| *v = v.relu());
}

/// [`conv2d_forward`] by im2col + GEMM (for a non-empty output).
fn unfolded_forward<T: Float>(
    g: &ConvGeom,
    x: &[T],
    w: &[T],
    b: Option<&[T]>,
    relu: bool,
) -> Vec<T> {
    let hw = g.ho() * g.wo();
    let bs = block_samples(g);
    let len = g.n * g.out_len();
    // written once, below, without being zero-filled first
    let mut out: Vec<T> = Vec::with_capacity(len);
    out.spare_capacity_mut()[..len]
        .par_chunks_mut(bs * g.out_len())
        .zip(x.par_chunks(bs * g.in_len()))
        .for_each_init(
            || {
                // one sample per block: the product is the output, no staging buffer
                let staged = if bs > 1 { g.o * bs * hw } else { 0 };
                (vec![T::zero(); g.ck() * bs * hw], vec![T::zero(); staged])
            },
            |(cols, prod), (y, xs)| {
                let nb = xs.len() / g.in_len();
                let ld = nb * hw;
                for (s, xs) in xs.chunks(g.in_len()).enumerate() {
                    im2col(g, xs, &mut cols[s * hw..], ld);
                }
                // the bias is added in the kernel's store, and one sample's product
                // [O, hw] is written straight into the output (on pokedigi-gap's 64×64
                // maps, a separate pass adding the bias and copying the product had
                // been a tenth of LIME's forward passes)
                if nb == 1 {
                    gemm_wide_into(g.o, g.ck(), hw, w, cols, hw, y, b);
                } else {
                    gemm_wide_bias(g.o, g.ck(), ld, w, cols, ld, prod, b);
                    // [O, nb·hw] → [nb, O, hw]
                    for (s, ys) in y.chunks_mut(g.out_len()).enumerate() {
                        for (o, row) in ys.chunks_mut(hw).enumerate() {
                            let src = &prod[o * ld + s * hw..o * ld + (s + 1) * hw];
                            row.iter_mut().zip(src).for_each(|(v, &p)| {
                                v.write(p);
                            });
                        }
                    }
                }
                if relu {
                    // SAFETY: the block's nb samples were all written above.
                    relu_in_place(unsafe { written(y) });
                }
            },
        );
    // SAFETY: the blocks above cover 0..len exactly once, and every sample's O rows of
    // hw values were written.
    unsafe { out.set_len(len) };
    out
}

/// Gradients of a convolution given `dy` (`[N,O,Ho,Wo]`): `(dx, dw, db)`, each only if
/// asked. Per block of [`block_samples`] samples, in parallel: `dy` is gathered into one
/// `[O, nb·hw]` matrix (and its transpose), `dx = col2im(Wᵀ · dy)` and the block's `dW`
/// partial, computed transposed as `cols · dyᵀ`; the partials are added in block order.
/// Both products run on [`gemm_wide`] with `A` the narrow factor (`Wᵀ`, `cols`) and `B`
/// read in place, as the forward product does: through a packing GEMM they had cost a
/// tenth of a pokedigi-gap training step in packing alone. A "same" convolution with 8 or
/// more input channels takes `dx` straight from `dy` instead
/// ([`SameConv::run_transposed`], the same bits), and any "same" convolution takes its
/// `dW` partials from zero-padded copies of the block's samples instead of the unfolded
/// matrix ([`SameConv::weight_grad`], the same bits; mnist-gap's conv2 forward and
/// backward 1.27–1.33 → 1.21–1.23 ms, pokedigi-gap's conv2 7.1–7.7 → 6.4–6.8 ms).
pub fn conv2d_backward<T: Float>(
    g: &ConvGeom,
    x: &[T],
    w: &[T],
    dy: &[T],
    want_dx: bool,
    want_dw: bool,
) -> (Option<Vec<T>>, Option<Vec<T>>, Vec<T>) {
    backward(g, x, w, dy, want_dx, want_dw, true)
}

/// [`conv2d_backward`]; `direct` lets a "same" convolution's input gradient skip the
/// unfolded path (the test turns it off to compare the two).
fn backward<T: Float>(
    g: &ConvGeom,
    x: &[T],
    w: &[T],
    dy: &[T],
    want_dx: bool,
    want_dw: bool,
    direct: bool,
) -> (Option<Vec<T>>, Option<Vec<T>>, Vec<T>) {
    let db = || bias_grad(g, dy);
    if !(want_dx || want_dw) || g.n == 0 {
        return (
            want_dx.then(|| vec![T::zero(); g.n * g.in_len()]),
            want_dw.then(|| vec![T::zero(); g.o * g.ck()]),
            db(),
        );
    }
    // a "same" convolution's input gradient is read straight from dy, sample by sample
    // (AVX-512, f32; same bits as below). Not for fewer than 8 input channels: its
    // blocks are rows of input channels, and on pokedigi-gap's first layer (3 channels)
    // it was slower than the unfolded product (conv bench, forward + backward, 8.5 against
    // 6.4–8.4 ms), where the 16–64-channel layers gained 3–15%.
    let same = if direct && want_dx && g.c >= 8 {
        g.same_plan::<T>()
    } else {
        None
    };
    let Some(plan) = same else {
        let (dx, dw) = blocks(g, x, w, dy, want_dx, want_dw, direct);
        return (dx, dw, db());
    };
    let dx = || direct_input_grad(&plan, g, w, dy);
    let dw = || {
        want_dw
            .then(|| blocks(g, x, w, dy, false, true, direct).1)
            .flatten()
    };
    // The three gradients are independent. On small layers each is computed while the
    // others are, its tasks sharing the pool with theirs, so that no thread waits at the
    // end of one for the last task of another (each value is computed the same way
    // whichever thread computes it): forward and backward of mnist-gap's conv3 (an
    // output gradient of 800 KB) 1.74–1.81 → 1.64–1.66 ms, conv2 (1.6 MB) 1.89 →
    // 1.80–1.85 ms. Larger ones run one after the other, each streaming through the
    // cache alone: pokedigi-gap's conv2 (8 MB) took 8.8–9.0 ms at once against 8.6–8.8
    // (engine bench, alternated three times).
    if g.n * g.out_len() * std::mem::size_of::<T>() <= AT_ONCE {
        let (dx, (dw, db)) = rayon::join(dx, || rayon::join(dw, db));
        (Some(dx), dw, db)
    } else {
        (Some(dx()), dw(), db())
    }
}

/// Bytes of output gradient up to which [`backward`] computes the three gradients at
/// once: a core's L2 cache on the Intel Xeon the benches ran on (2 MiB).
const AT_ONCE: usize = 2 << 20;

/// The bias gradient: per output channel, the sum of `dy` over the samples and
/// positions. One output channel per task (each sum over the samples in order,
/// whichever thread runs it): on one thread, while the other waited, these sums and the
/// weight gradient's partials' sum were 1% of mnist-gap's conv3 forward and backward
/// (`perf`).
fn bias_grad<T: Float>(g: &ConvGeom, dy: &[T]) -> Vec<T> {
    let hw = g.ho() * g.wo();
    (0..g.o)
        .into_par_iter()
        .with_min_len(g.o.div_ceil(4).max(1))
        .map(|o| {
            let mut s = T::zero();
            for n in 0..g.n {
                s += sum_lanes(&dy[n * g.out_len() + o * hw..n * g.out_len() + (o + 1) * hw]);
            }
            s
        })
        .collect()
}

/// The input gradient of a "same" convolution read straight from `dy` ([`SameConv`]).
fn direct_input_grad<T: Float>(plan: &SameConv, g: &ConvGeom, w: &[T], dy: &[T]) -> Vec<T> {
    let len = g.n * g.in_len();
    let mut dx: Vec<T> = Vec::with_capacity(len);
    let w = &plan.pack_transposed(w);
    if plan.batches_transposed(g.n) {
        // small maps: strips run on across samples
        plan.run_transposed_batch(g.n, dy, w, &mut dx.spare_capacity_mut()[..len]);
    } else {
        dx.spare_capacity_mut()[..len]
            .par_chunks_mut(g.in_len())
            .zip(dy.par_chunks(g.out_len()))
            .for_each_init(Vec::new, |scratch, (dxs, dys)| {
                plan.run_transposed(dys, w, dxs, scratch)
            });
    }
    // SAFETY: every sample's C·H·W values were written by `run_transposed` or
    // `run_transposed_batch`.
    unsafe { dx.set_len(len) };
    dx
}

/// [`backward`] over blocks of [`block_samples`] samples, for a non-empty batch: `dx`
/// by the unfolded product (with `want_dx`) and `dw` (with `want_dw`; from padded copies
/// of the samples where `direct` and the convolution is "same").
fn blocks<T: Float>(
    g: &ConvGeom,
    x: &[T],
    w: &[T],
    dy: &[T],
    want_dx: bool,
    want_dw: bool,
    direct: bool,
) -> (Option<Vec<T>>, Option<Vec<T>>) {
    let hw = g.ho() * g.wo();
    let ck = g.ck();
    let bs = block_samples(g);
    // zeroed block by block below, by the thread that folds the block into it
    let dx_len = if want_dx { g.n * g.in_len() } else { 0 };
    let mut dx: Vec<T> = Vec::with_capacity(dx_len);
    let blocks = g.n.div_ceil(bs);
    // Wᵀ: [ck, O]
    let mut wt = vec![T::zero(); if want_dx { ck * g.o } else { 0 }];
    if want_dx {
        transpose_into(g.o, ck, w, ck, &mut wt);
    }
    // a "same" convolution's weight gradient reads the im2col values from padded copies
    // of the samples instead of the unfolded matrix (AVX-512, f32; same bits)
    let same_dw = if direct && want_dw {
        g.same_plan::<T>()
    } else {
        None
    };
    // the unfolded matrix: for the input gradient, or for the weight gradient without
    // the direct kernel
    let unfold = want_dx || (want_dw && same_dw.is_none());
    let scratch = || {
        (
            vec![T::zero(); if want_dx { g.o * bs * hw } else { 0 }],
            vec![T::zero(); if want_dw { bs * hw * g.o } else { 0 }],
            vec![T::zero(); if unfold { ck * bs * hw } else { 0 }],
            vec![T::zero(); same_dw.as_ref().map_or(0, |p| bs * p.padded_len())],
        )
    };
    let block = |(dyb, dybt, cols, xp): &mut (Vec<T>, Vec<T>, Vec<T>, Vec<T>),
                 bi: usize,
                 dxb: &mut [T]|
     -> Vec<T> {
        let n0 = bi * bs;
        let nb = bs.min(g.n - n0);
        let ld = nb * hw;
        let dys = &dy[n0 * g.out_len()..(n0 + nb) * g.out_len()];
        let mut part = Vec::new();
        if want_dw {
            // dyᵀ: [ld, O], each sample's [O, hw] transposed into its hw rows
            let dybt = &mut dybt[..ld * g.o];
            for (ys, yt) in dys.chunks(g.out_len()).zip(dybt.chunks_mut(hw * g.o)) {
                transpose_into(g.o, hw, ys, hw, yt);
            }
            // dWᵀ partial: [ck, O] = cols [ck, ld] · dyᵀ [ld, O], written once by the
            // kernel (a zero-fill first had been 2–3% of a forward and backward pass)
            let xs = &x[n0 * g.in_len()..(n0 + nb) * g.in_len()];
            let fill = |slots: &mut [MaybeUninit<T>]| {
                if let Some(plan) = &same_dw {
                    plan.pad_into(xs, nb, xp);
                    plan.weight_grad(xp, nb, dybt, slots);
                } else {
                    for (s, xs) in xs.chunks(g.in_len()).enumerate() {
                        im2col(g, xs, &mut cols[s * hw..], ld);
                    }
                    gemm_wide_into(ck, ld, g.o, cols, dybt, g.o, slots, None);
                }
            };
            // SAFETY: both kernels write all ck·O values.
            part = unsafe { filled(ck * g.o, fill) };
        }
        if want_dx {
            // dy as one [O, ld] matrix: each sample's rows side by side
            let dyb = &mut dyb[..g.o * ld];
            for (s, ys) in dys.chunks(g.out_len()).enumerate() {
                for (o, row) in ys.chunks(hw).enumerate() {
                    dyb[o * ld + s * hw..o * ld + (s + 1) * hw].copy_from_slice(row);
                }
            }
            let cols = &mut cols[..ck * ld];
            gemm_wide(ck, g.o, ld, &wt, dyb, ld, cols);
            for (s, dxs) in dxb.chunks_mut(g.in_len()).enumerate() {
                col2im(g, &cols[s * hw..], ld, dxs);
            }
        }
        part
    };
    let parts: Vec<Vec<T>> = if want_dx {
        let parts = dx.spare_capacity_mut()[..dx_len]
            .par_chunks_mut(bs * g.in_len())
            .enumerate()
            .map_init(scratch, |sc, (bi, dxb)| block(sc, bi, zeroed(dxb)))
            .collect();
        // SAFETY: the blocks cover 0..dx_len exactly once, and `zeroed` wrote each.
        unsafe { dx.set_len(dx_len) };
        parts
    } else {
        (0..blocks)
            .into_par_iter()
            .map_init(scratch, |sc, bi| block(sc, bi, &mut []))
            .collect()
    };
    let dw = want_dw.then(|| {
        // the partials added in block order, a run of values per task
        const RUN: usize = 4096;
        let mut dwt = vec![T::zero(); ck * g.o];
        dwt.par_chunks_mut(RUN).enumerate().for_each(|(i, run)| {
            for part in &parts {
                let from = &part[i * RUN..i * RUN + run.len()];
                run.iter_mut().zip(from).for_each(|(a, &b)| *a += b);
            }
        });
        transposed(ck, g.o, &dwt)
    });
    (want_dx.then_some(dx), dw)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct loops over the definition, for checking the blocked kernels.
    fn naive(g: &ConvGeom, x: &[f64], w: &[f64], dy: &[f64]) -> [Vec<f64>; 3] {
        let (ho, wo) = (g.ho(), g.wo());
        let mut y = vec![0.0; g.n * g.out_len()];
        let mut dx = vec![0.0; g.n * g.in_len()];
        let mut dw = vec![0.0; g.o * g.ck()];
        for n in 0..g.n {
            for o in 0..g.o {
                for oy in 0..ho {
                    for ox in 0..wo {
                        let yi = ((n * g.o + o) * ho + oy) * wo + ox;
                        for c in 0..g.c {
                            for ki in 0..g.kh {
                                for kj in 0..g.kw {
                                    let iy = (oy * g.stride + ki) as isize - g.pad as isize;
                                    let ix = (ox * g.stride + kj) as isize - g.pad as isize;
                                    if iy < 0 || ix < 0 || iy >= g.h as isize || ix >= g.w as isize
                                    {
                                        continue;
                                    }
                                    let xi =
                                        ((n * g.c + c) * g.h + iy as usize) * g.w + ix as usize;
                                    let wi = ((o * g.c + c) * g.kh + ki) * g.kw + kj;
                                    y[yi] += w[wi] * x[xi];
                                    dx[xi] += w[wi] * dy[yi];
                                    dw[wi] += x[xi] * dy[yi];
                                }
                            }
                        }
                    }
                }
            }
        }
        [y, dx, dw]
    }

    /// Several blocks with a ragged last one, stride 1 and 2, against the definition.
    #[test]
    fn blocked_kernels_match_the_definition() {
        let vals = |len: usize, seed: usize| -> Vec<f64> {
            (0..len)
                .map(|i| (((i * 7919 + seed * 104_729) % 1000) as f64) / 500.0 - 1.0)
                .collect()
        };
        // (stride, pad, H, W, k): 'same' padding, strided, valid, and a kernel wider than
        // the input with 'same' padding
        for (stride, pad, h, w, k) in [
            (1, 1, 4, 5, 3),
            (2, 1, 5, 6, 3),
            (1, 0, 6, 7, 3),
            (1, 2, 2, 1, 5),
        ] {
            let g = ConvGeom {
                n: 37,
                c: 3,
                h,
                w,
                o: 5,
                kh: k,
                kw: k,
                stride,
                pad,
            };
            assert!(g.n > 2 * block_samples(&g), "test must span several blocks");
            let (x, w) = (vals(g.n * g.in_len(), 1), vals(g.o * g.ck(), 2));
            let dy = vals(g.n * g.out_len(), 3);
            let [y, dx, dw] = naive(&g, &x, &w, &dy);
            let close = |a: &[f64], b: &[f64]| {
                a.len() == b.len() && a.iter().zip(b).all(|(p, q)| (p - q).abs() < 1e-9)
            };
            assert!(
                close(&conv2d_forward(&g, &x, &w, None, false), &y),
                "forward {g:?}"
            );
            let (gx, gw, _) = conv2d_backward(&g, &x, &w, &dy, true, true);
            assert!(close(&gx.unwrap(), &dx), "dx {g:?}");
            assert!(close(&gw.unwrap(), &dw), "dw {g:?}");
            let (none, gw, _) = conv2d_backward(&g, &x, &w, &dy, false, true);
            assert!(none.is_none() && close(&gw.unwrap(), &dw));
        }
    }

    /// The "same" convolution read straight from the input (and its input gradient read
    /// straight from the output gradient, weight gradient from padded samples) gives the unfolded path's bits: every kernel size that applies, maps smaller and larger than a 32-lane strip
    /// and not multiples of it (7×7, 14×14, 2×1), maps one or two columns wide and one
    /// whose planes with their zero rows are a multiple of 512 values (30×16), channel
    /// counts off the 8-row block, weight gradients by blocks of four input channels and
    /// by rows (output channels not a multiple of 32, or input channels not of four),
    /// with and without a bias, and with the ReLU applied in the store (against the
    /// unfolded path's ReLU pass; inputs with a NaN and an all-zero sample), then pooled
    /// sample by sample (against the pooling op's values, with its indices kept). (On a
    /// CPU without AVX-512 only the unfolded path exists.)
    #[test]
    fn same_convolution_from_the_input_matches_the_unfolded_bits() {
        let vals = |len: usize, seed: usize| -> Vec<f32> {
            (0..len)
                .map(|i| ((((i * 7919 + seed * 104_729) % 1000) as f32) / 500.0 - 1.0) * 0.37)
                .collect()
        };
        let mut ran = 0;
        for (n, c, h, w, o, k) in [
            (3, 3, 64, 64, 16, 3),
            (2, 16, 32, 32, 32, 3),
            (5, 64, 8, 8, 64, 3),
            (4, 8, 14, 14, 16, 3),
            (1, 8, 14, 14, 16, 3),
            (2, 3, 28, 28, 8, 3),
            (6, 16, 7, 7, 13, 3),
            (3, 12, 7, 7, 48, 3),
            (3, 11, 6, 6, 4, 3),
            (1, 4, 5, 2, 6, 3),
            (2, 5, 3, 1, 4, 3),
            (1, 3, 30, 16, 8, 3),
            (2, 9, 2, 1, 5, 5),
            (3, 8, 9, 11, 7, 1),
            (2, 10, 5, 33, 9, 5),
        ] {
            let g = ConvGeom {
                n,
                c,
                h,
                w,
                o,
                kh: k,
                kw: k,
                stride: 1,
                pad: k / 2,
            };
            let (x, wt, bias) = (vals(n * g.in_len(), 1), vals(o * g.ck(), 2), vals(o, 3));
            let dy = vals(n * g.out_len(), 4);
            let bits = |v: Option<Vec<f32>>| v.map(|v| v.iter().map(|x| x.to_bits()).collect());
            for (want_dx, want_dw) in [(true, false), (true, true), (false, true)] {
                let (d, dw, db) = backward(&g, &x, &wt, &dy, want_dx, want_dw, true);
                let (u, uw, ub) = backward(&g, &x, &wt, &dy, want_dx, want_dw, false);
                let (d, u): (Option<Vec<u32>>, Option<Vec<u32>>) = (bits(d), bits(u));
                assert_eq!(d.is_some(), want_dx);
                if let (Some(d), Some(u)) = (&d, &u) {
                    assert_eq!(d.len(), u.len());
                    for (i, (p, q)) in d.iter().zip(u).enumerate() {
                        assert_eq!(p, q, "dx {g:?} at {i}: {p:#x} vs {q:#x}");
                    }
                }
                let (dw, uw): (Option<Vec<u32>>, Option<Vec<u32>>) = (bits(dw), bits(uw));
                assert_eq!(dw.is_some(), want_dw);
                if let (Some(dw), Some(uw)) = (&dw, &uw) {
                    for (i, (p, q)) in dw.iter().zip(uw).enumerate() {
                        assert_eq!(p, q, "dW {g:?} at {i}: {p:#x} vs {q:#x}");
                    }
                }
                assert_eq!(db, ub);
            }
            // with a NaN and a zero sample (the last) too, so that the fused ReLU meets NaN
            // and zeros
            let mut specials = x.clone();
            specials[g.in_len() / 2] = f32::NAN;
            specials[(n - 1) * g.in_len()..].fill(0.0);
            for (x, b, relu) in [
                (&x, None, false),
                (&x, Some(&bias[..]), false),
                (&x, Some(&bias[..]), true),
                (&specials, None, true),
                (&specials, Some(&bias[..]), true),
            ] {
                let direct = conv2d_forward(&g, x, &wt, b, relu);
                let unfolded = unfolded_forward(&g, x, &wt, b, relu);
                assert_eq!(direct.len(), unfolded.len());
                for (i, (p, q)) in direct.iter().zip(&unfolded).enumerate() {
                    assert_eq!(
                        p.to_bits(),
                        q.to_bits(),
                        "{g:?} bias {} relu {relu} at {i}: {p} vs {q}",
                        b.is_some()
                    );
                }
            }
            // pooled as each sample is written: the values of the ReLU'd output pooled
            for pool in [[2, 2], [3, 1], [2, 1]] {
                let y = conv2d_forward(&g, &specials, &wt, Some(&bias), true);
                if h < pool[0] || w < pool[0] {
                    continue;
                }
                let want = super::super::pool::maxpool2d(&y, n * o, [h, w, pool[0], pool[1]], true);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                // with the maxima's indices (for a backward pass), and without
                for want_arg in [true, false] {
                    let got =
                        conv2d_relu_pool_forward(&g, &specials, &wt, Some(&bias), pool, want_arg);
                    assert_eq!(bits(&got.0), bits(&want.0), "{g:?} pooled {pool:?}");
                    let arg = if want_arg { &want.1[..] } else { &[] };
                    assert_eq!(got.1, arg, "{g:?} pooled {pool:?} indices");
                }
            }
            ran += SameConv::new::<f32>(o, c, h, w, k, 1, k / 2).is_some() as usize;
        }
        eprintln!("{ran} of 9 shapes took the path from the input (0 without AVX-512)");
    }
}
