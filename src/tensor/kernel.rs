//! A GEMM kernel for products `C = A · B` where `A` (m×k) is small and `B` (k×n, rows
//! `ldb` apart) is wide: `B` is read where the caller wrote it instead of being copied
//! into a packed layout first. Convolution uses it for all three of its products
//! (forward: weights × unfolded columns; backward: transposed weights × output
//! gradients, and unfolded columns × transposed output gradients). With 16–64 output
//! channels each value of `B` is used only 16–64 times, so that extra copy cost about as
//! much as the arithmetic (see the README's performance section).
//!
//! Two register blocks, picked at run time by what the CPU has:
//! - AVX-512: 8 rows × 32 columns of `C` in sixteen 16-lane accumulators; per step of
//!   `k`, two loads of `B`, eight broadcasts of `A`, sixteen FMAs. Column tails are
//!   masked loads and stores, so no padded copies. Where the columns fit one vector
//!   (a classifier head's 10), 16 rows × 16 columns, so that sixteen FMA chains are in
//!   flight again, not eight (mnist-linear's 256×784×10 on one thread, best of 3000
//!   calls: 51–54 → 46–49 µs; its 10 of 16 lanes then run at about 80% of this
//!   machine's FMA rate).
//! - AVX2 + FMA: 6 rows × 16 columns in twelve 8-lane accumulators; per step, two loads
//!   of `B`, six broadcasts, twelve FMAs. (4 × 24, which leaves no row remainder on 16,
//!   32 and 64 channels, measured 1.4–2× slower.)
//!
//! Each `C` value is one FMA chain over `k` in order, starting from zero, in both: the
//! result does not depend on the block, the thread layout or which of the two ran (a
//! test checks the two agree bit for bit). Only for f32; [`gemm_wide`] falls back to the
//! general GEMM otherwise.
//!
//! [`SameConv`] is the forward convolution's product for the common case (stride 1,
//! odd square kernel, "same" padding) without the unfolded matrix: row `(c, ki, kj)` of
//! im2col is plane `c` shifted by `(ki − pad)·W + kj − pad` with the positions outside
//! the plane zeroed, so the AVX-512 block reads it from the input with masked loads. The
//! values multiplied are those of the unfolded matrix, in the same order, so the result
//! is the same to the bit; it saves writing and reading that matrix (a fifth to a third
//! of a forward convolution, measured with `perf` on the conv benches). Its kernels, and
//! the input gradient's, read the weights packed once per layer call ([`PackedWeights`]),
//! in register blocks of 12 or 8 channels. A 3×3 kernel sample by sample reads a copy
//! of the sample with a zero row above and below each plane, so that only the left and
//! right edges need masks ([`SameConv::run`]).

use super::SendPtr;
use crate::float::Float;
use rayon::prelude::*;
use std::any::TypeId;
use std::borrow::Cow;
use std::mem::MaybeUninit;

/// `c[m×n] = a[m×k] · b[k×n]` with `b`'s rows `ldb` apart and `c` contiguous.
pub fn gemm_wide<T: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: &[T],
    b: &[T],
    ldb: usize,
    c: &mut [T],
) {
    gemm_wide_bias(m, k, n, a, b, ldb, c, None)
}

/// As [`gemm_wide`], plus `bias[i]` on every value of row `i`: `c[i][j] = (a·b)[i][j] +
/// bias[i]`, the sum of the finished FMA chain and the bias, so the same bits as adding
/// the bias afterwards, without another pass over `c` (convolution's forward product).
#[allow(clippy::too_many_arguments)]
pub fn gemm_wide_bias<T: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: &[T],
    b: &[T],
    ldb: usize,
    c: &mut [T],
    bias: Option<&[T]>,
) {
    // SAFETY: `gemm_wide_into` only ever writes initialised values through it.
    gemm_wide_into(m, k, n, a, b, ldb, unsafe { super::slots(c) }, bias);
}

/// As [`gemm_wide_bias`], into memory not yet written: all of `c[..m·n]` is written on
/// return. Lets convolution's forward product land in the output tensor directly (for a
/// 64×64 map, copying the product there had cost a tenth of LIME's forward passes).
#[allow(clippy::too_many_arguments)]
pub fn gemm_wide_into<T: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: &[T],
    b: &[T],
    ldb: usize,
    c: &mut [MaybeUninit<T>],
    bias: Option<&[T]>,
) {
    if let Some(bias) = bias {
        assert!(
            bias.len() >= m,
            "gemm_wide: {} bias values for {m} rows",
            bias.len()
        );
    }
    assert!(
        a.len() >= m * k && c.len() >= m * n && (n == 0 || k == 0 || b.len() >= (k - 1) * ldb + n),
        "gemm_wide: extents too short for {m}×{k}×{n}"
    );
    #[cfg(target_arch = "x86_64")]
    if TypeId::of::<T>() == TypeId::of::<f32>() && k > 0 {
        let isa = Isa::detect();
        if isa != Isa::Portable {
            // SAFETY: T is f32 (checked above), so the slices can be viewed as f32; the
            // CPU supports the instruction set `isa` names; the extents were asserted;
            // the kernels write every value of c's m×n and read none.
            unsafe {
                let a = std::slice::from_raw_parts(a.as_ptr() as *const f32, a.len());
                let b = std::slice::from_raw_parts(b.as_ptr() as *const f32, b.len());
                let bias = bias.map_or(std::ptr::null(), |b| b.as_ptr() as *const f32);
                return wide_f32(isa, m, k, n, a, b, ldb, c.as_mut_ptr() as *mut f32, bias);
            }
        }
    }
    let c = super::zeroed(&mut c[..m * n]);
    // the general kernel reads a strided B directly (no parallel split: callers already
    // run one block per thread)
    T::gemm(
        m,
        k,
        n,
        T::one(),
        a,
        k as isize,
        1,
        b,
        ldb as isize,
        1,
        T::zero(),
        c,
        n as isize,
        1,
    );
    if let Some(bias) = bias {
        for (row, &bi) in c.chunks_mut(n.max(1)).zip(bias) {
            row.iter_mut().for_each(|v| *v += bi);
        }
    }
}

/// The depth of one of matrixmultiply's packed blocks (its sgemm's `S_KC`, 256 unless
/// `MATMUL_SGEMM_KC` is set when it is built): it sums each value of `C` in chains over
/// this many steps of `k`, each from zero, added to `C` one after the other.
const MATRIXMULTIPLY_KC: usize = 256;

/// Whether [`gemm_unpacked`] runs here: f32 on a CPU with AVX-512F.
pub fn gemm_unpacked_applies<T: Float>() -> bool {
    TypeId::of::<T>() == TypeId::of::<f32>() && Isa::detect() == Isa::Avx512
}

/// How [`gemm_unpacked`] finds `b`'s k×n values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// row-major, rows `n` apart, read where they are
    Rows,
    /// in panels of [`PANEL`] columns ([`pack_panels`]), each strip contiguous
    Panels,
}

/// `c[m×n] = a · b`, or `c += a · b` with `acc` (`a` m rows of k values `lda` apart,
/// or with `a_cols` k columns of m values `lda` apart, i.e. `aᵀ` stored row-major;
/// `c` read only with `acc`, so without it `c` need not be initialized;
/// `b` k×n contiguous, row-major or in panels as `layout` says), **with the bits of one
/// matrixmultiply sgemm call** (the same chains over blocks of [`MATRIXMULTIPLY_KC`],
/// added in the same order; the test `unpacked_products_have_the_bits_of_matrixmultiply`
/// checks it), reading both where they are (the caller packs `b` into panels where that
/// pays: `tensor::matmul`). matrixmultiply copies all of `a` and `b` into its packed layout first,
/// which pays off when each packed value is used many times; for a classifier head's
/// `x · Wᵀ` (n = 10) it cost about a third of the product, and for the GRU's per-step
/// `h · W_hhᵀ` (32×64 by 64×192) as much as the arithmetic. Only where
/// [`gemm_unpacked_applies`] (the caller checks).
#[allow(clippy::too_many_arguments)]
pub fn gemm_unpacked<T: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: &[T],
    lda: usize,
    a_cols: bool,
    b: &[T],
    layout: Layout,
    c: &mut [MaybeUninit<T>],
    acc: bool,
) {
    assert!(
        gemm_unpacked_applies::<T>(),
        "gemm_unpacked: needs f32 and AVX-512F"
    );
    let (lines, line) = if a_cols { (k, m) } else { (m, k) };
    assert!(
        line <= lda
            && (lines == 0 || a.len() >= (lines - 1) * lda + line)
            && b.len() >= k * n
            && c.len() >= m * n,
        "gemm_unpacked: extents too short for {m}×{k}×{n}"
    );
    if k == 0 {
        if !acc {
            super::zeroed(&mut c[..m * n]);
        }
        return;
    }
    #[cfg(target_arch = "x86_64")]
    for (block, p0) in (0..k).step_by(MATRIXMULTIPLY_KC).enumerate() {
        let depth = (k - p0).min(MATRIXMULTIPLY_KC);
        let b = b.as_ptr() as *const f32;
        let b = match layout {
            Layout::Panels => avx512::B::Panels { b, depth: k, p0 },
            Layout::Rows => avx512::B::Rows(b.wrapping_add(p0 * n), n),
        };
        let a0 = if a_cols { p0 * lda } else { p0 };
        // SAFETY: T is f32 and the CPU has AVX-512F (asserted); rows of `a` from column
        // p0 hold `depth` values (`lda` apart, or side by side with `a_cols`: columns
        // `lda` apart); `b`'s rows from p0 hold n values each, or
        // every panel holds k rows; `c` holds m×n (asserted above). The first block
        // stores without reading `c` unless `acc`, the later ones read what it stored.
        unsafe {
            avx512::gemm_b(
                m,
                depth,
                n,
                (a.as_ptr() as *const f32).add(a0),
                lda,
                a_cols,
                b,
                c.as_mut_ptr() as *mut f32,
                std::ptr::null(),
                acc || block > 0,
            )
        }
    }
}

/// Columns per panel of [`pack_panels`]: the width of the AVX-512 block.
pub const PANEL: usize = 32;

/// `b` (`k × n`, rows `ldb` apart) in panels: the strip of columns `j..j + w` (`w =
/// min(32, n − j)`) as `k × w` contiguous values at `j·k`. The kernel reads a strip's
/// rows one after the other; read in place, rows of 512 values (2 KiB) apart all fall
/// in four sets of the L1 cache and a strip of 256 rows no longer fits.
pub fn pack_panels<T: Copy + Send + Sync>(k: usize, n: usize, b: &[T], ldb: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(k * n);
    let fill = |j: usize, strip: &mut [std::mem::MaybeUninit<T>]| {
        let w = (n - j).min(PANEL);
        for (p, row) in strip.chunks_mut(w).enumerate() {
            for (d, &v) in row.iter_mut().zip(&b[p * ldb + j..p * ldb + j + w]) {
                d.write(v);
            }
        }
    };
    by_strips(k, n, &mut out, fill);
    out
}

/// [`pack_panels`] of `bᵀ`, from `bt` stored `n × k`: each panel is the transpose of
/// `w` rows of `bt`.
pub fn pack_panels_t<T: Copy + Send + Sync + 'static>(n: usize, k: usize, bt: &[T]) -> Vec<T> {
    let mut out = Vec::with_capacity(k * n);
    let fill = |j: usize, strip: &mut [std::mem::MaybeUninit<T>]| {
        let w = (n - j).min(PANEL);
        super::transpose_uninit(w, k, &bt[j * k..], k, strip);
    };
    by_strips(k, n, &mut out, fill);
    out
}

/// Fills `out` (capacity `k·n`) strip by strip, the strips split between the threads
/// from [`super::PAR_TRANSPOSE`] values.
fn by_strips<T: Send>(
    k: usize,
    n: usize,
    out: &mut Vec<T>,
    fill: impl Fn(usize, &mut [MaybeUninit<T>]) + Sync,
) {
    use rayon::prelude::*;
    let len = k * n;
    let spare = &mut out.spare_capacity_mut()[..len];
    if len == 0 {
        return;
    }
    if len >= super::PAR_TRANSPOSE && rayon::current_num_threads() > 1 {
        spare
            .par_chunks_mut(PANEL * k)
            .enumerate()
            .for_each(|(s, strip)| fill(s * PANEL, strip));
    } else {
        for (s, strip) in spare.chunks_mut(PANEL * k).enumerate() {
            fill(s * PANEL, strip);
        }
    }
    // SAFETY: every strip's k·w values were written by `fill`.
    unsafe { out.set_len(len) };
}

/// `len` (≤ 64) bits of a bit set from bit `from`.
fn bits_at(bits: &[u64], from: usize, len: usize) -> u64 {
    let (word, shift) = (from / 64, from % 64);
    let mut v = bits[word] >> shift;
    if shift > 0 {
        v |= bits[word + 1] << (64 - shift);
    }
    if len == 64 {
        v
    } else {
        v & ((1u64 << len) - 1)
    }
}

/// 32 lanes' bits as the masks of two 16-lane vectors.
fn halves(v: u64) -> [u16; 2] {
    [v as u16, (v >> 16) as u16]
}

/// Runs `f(out, strips, masks)` on blocks of the `positions.div_ceil(32)` strips of
/// 32 positions, the blocks in parallel (fixed blocks of 8, so the split does not depend
/// on the thread count); `masks` is each thread's scratch. The blocks' strips are
/// disjoint runs of positions, so no two tasks write one value of `out`.
fn by_strip_tasks<T>(
    positions: usize,
    out: &mut [MaybeUninit<T>],
    f: impl Fn(*mut f32, std::ops::Range<usize>, &mut Vec<[u16; 2]>) + Sync,
) {
    const STRIPS: usize = 8;
    let strips = positions.div_ceil(32);
    let out = SendPtr(out.as_mut_ptr() as *mut f32);
    (0..strips.div_ceil(STRIPS))
        .into_par_iter()
        .for_each_init(Vec::new, |masks, task| {
            let range = task * STRIPS..(task * STRIPS + STRIPS).min(strips);
            f(out.get(), range, masks)
        });
}

/// `x` (`n` samples of `planes` planes of `hw` values) channel-major, `[planes, n·hw]`:
/// each plane of every sample side by side, so that a strip of the batch kernels
/// ([`SameConv::run_batch`]) that runs from one sample into the next reads both in one
/// masked load. Sample by sample, the next sample's lanes take a second load merged
/// into the first (`vmovups` with a merge mask, which also takes a slot on the FMA
/// ports). Where most strips span two samples ([`SameConv::batches_transposed`]: 7×7
/// maps, 64 sample ends in 98 strips) the copy pays: mnist-gap's conv3 forward went
/// 504–513 → 470–477 µs (engine bench, alternated three times), the copy itself taking
/// about 7.5 µs; on 14×14 maps (64 ends in 392 strips) it cost more than it saved
/// (mnist-gap's conv2 forward 473–496 → 494–518 µs).
fn channel_major<T: Float>(x: &[T], n: usize, planes: usize, hw: usize) -> Vec<T> {
    // SAFETY: each plane's chunk of `n·hw` slots is written below, sample by sample.
    unsafe {
        super::filled(planes * n * hw, |xt| {
            xt.par_chunks_mut(n * hw).enumerate().for_each(|(c, xt)| {
                for (s, xt) in xt.chunks_mut(hw).enumerate() {
                    let plane = &x[(s * planes + c) * hw..][..hw];
                    xt.iter_mut().zip(plane).for_each(|(d, &v)| {
                        d.write(v);
                    });
                }
            })
        })
    }
}

/// Channels per register block of the convolution's direct kernels (output channels
/// forward, input channels for the input gradient), for `rem` still to do: 12 (24
/// accumulators) where what is left is 12 or at least 20, so that no block of fewer than
/// 8 is left over (64 channels: 12, 12, 12, 12, 8, 8); else 8. A last block of fewer rows is packed with rows of zeros and runs as 8, its
/// extra rows not stored: only the two block sizes are compiled (with a variant for each
/// row count as well, the compiler stopped inlining the blocks into their loops).
pub fn conv_block_rows(rem: usize) -> usize {
    if rem == 12 || rem >= 20 { 12 } else { 8 }
}

/// A convolution's weights `[O, C·k·k]` as the forward kernel reads them
/// ([`SameConv::pack`]): per block of rows ([`conv_block_rows`]) from row `i`, the
/// block's weights of column 0 side by side, then of column 1, …, at `i·C·k·k`. Read
/// from the rows in place, the eight weights of one step are `C·k·k` apart and each
/// needs its own address arithmetic, which competed with the FMAs for the ports; packed,
/// they are one pointer and constant offsets, and twelve rows fit the registers (24
/// accumulators). On the Xeon model 167, one thread, register blocks of 48 rows by
/// 32–576 by 192–384 columns in cache: 131–151 GFLOP/s with the rows in place, 143–166
/// packed, 161–182 packed in blocks of 12 rows, against an FMA peak of 214. Packed once
/// per layer call, for all its samples.
///
/// [`SameConv::pack_transposed`] packs them for the input gradient's kernel instead: per
/// block of input channels from channel `i` ([`conv_block_rows`] of them, zeros past the
/// last), at `i·k·k·O`, for each tap and output channel in turn the block's weights side
/// by side.
pub struct PackedWeights {
    data: Vec<f32>,
    rows: usize,
    cols: usize,
    transposed: bool,
}

impl PackedWeights {
    /// The weights of `wt` (`rows × cols`, f32) in blocks of `count` channels
    /// ([`conv_block_rows`], zeros past the last channel): per block from channel `i`, at
    /// `i·steps`, for each step `0..steps` the block's values `value(wt, channel, step)`
    /// side by side.
    fn blocks<T: Float>(
        [rows, cols]: [usize; 2],
        wt: &[T],
        [count, steps]: [usize; 2],
        value: impl Fn(&[f32], usize, usize) -> f32,
    ) -> Vec<f32> {
        f32_only::<T>();
        assert!(wt.len() >= rows * cols, "PackedWeights: too few weights");
        // SAFETY: T is f32 (checked above).
        let wt = unsafe { std::slice::from_raw_parts(wt.as_ptr() as *const f32, rows * cols) };
        let mut data = Vec::with_capacity((count + 7) * steps);
        let mut i = 0;
        while i < count {
            let block = conv_block_rows(count - i);
            let chans = i..(i + block).min(count);
            for step in 0..steps {
                data.extend(chans.clone().map(|ch| value(wt, ch, step)));
                data.extend(std::iter::repeat_n(0.0, block - chans.len()));
            }
            i += block;
        }
        data
    }

    fn ptr(&self) -> *const f32 {
        self.data.as_ptr()
    }
}

/// A forward convolution `y = W ⊛ x + b` of one sample with stride 1 and "same" padding
/// (odd square kernel `k`, `pad = (k − 1)/2`, output `H × W`), read straight from the
/// input (see the module's notes). Built once per layer call: it holds, per 32-position
/// strip of the output and kernel tap, which lanes fall inside the input plane.
pub struct SameConv {
    o: usize,
    c: usize,
    h: usize,
    w: usize,
    k: usize,
    /// `[strip][tap]` lane masks of the two 16-lane halves
    masks: Vec<[u16; 2]>,
    /// per tap, `words` words of bits: the output positions whose shifted input lies
    /// inside the plane
    inside: Vec<u64>,
    words: usize,
    /// per tap `(ki, kj)`: `(ki − pad)·W + kj − pad`
    offsets: Vec<isize>,
}

impl SameConv {
    /// `None` where this path does not apply (not f32, no AVX-512, or not a "same"
    /// convolution with stride 1); the caller then unfolds.
    pub fn new<T: Float>(
        o: usize,
        c: usize,
        h: usize,
        w: usize,
        k: usize,
        stride: usize,
        pad: usize,
    ) -> Option<SameConv> {
        #[cfg(target_arch = "x86_64")]
        if TypeId::of::<T>() == TypeId::of::<f32>()
            && Isa::detect() == Isa::Avx512
            && stride == 1
            && k % 2 == 1
            && 2 * pad + 1 == k
            && o > 0
            && c > 0
            && h * w > 0
        {
            let hw = h * w;
            // per tap, the output positions whose shifted input lies inside the plane,
            // as bits: one pass over the map. (Lane by lane, a division and two
            // remainders each, building it had taken 6% of a forward convolution's time
            // when built for runs of four 14×14 samples, perf, on one thread while the
            // other waited; for one sample, conv2d forward on 14×14 maps went 3–4% faster
            // with the bits, A/B.)
            let words = hw.div_ceil(64) + 1;
            let mut inside = vec![0u64; k * k * words];
            for (tap, bits) in inside.chunks_mut(words).enumerate() {
                let (ki, kj) = (tap / k, tap % k);
                for oy in (0..h).filter(|oy| (pad..h + pad).contains(&(oy + ki))) {
                    for ox in (0..w).filter(|ox| (pad..w + pad).contains(&(ox + kj))) {
                        let q = oy * w + ox;
                        bits[q / 64] |= 1 << (q % 64);
                    }
                }
            }
            let strips = hw.div_ceil(32);
            let mut masks = vec![[0u16; 2]; strips * k * k];
            for (s, strip) in masks.chunks_mut(k * k).enumerate() {
                // the strip's bits: positions 32·s.. of the map, at most 32
                let (from, len) = (s * 32, (hw - s * 32).min(32));
                for (m, bits) in strip.iter_mut().zip(inside.chunks(words)) {
                    *m = halves(bits_at(bits, from, len));
                }
            }
            let offsets = (0..k * k)
                .map(|t| {
                    (t / k) as isize * w as isize - (pad * w) as isize + (t % k) as isize
                        - pad as isize
                })
                .collect();
            return Some(SameConv {
                o,
                c,
                h,
                w,
                k,
                masks,
                inside,
                words,
                offsets,
            });
        }
        let _ = (o, c, h, w, k, stride, pad);
        None
    }

    /// The weights `wt` (`[O, C, k, k]`) packed for [`SameConv::run`] and
    /// [`SameConv::run_batch`]: once per layer call, not per sample. Per block of output
    /// channels, each of the `C·k·k` steps' weights side by side.
    pub fn pack<T: Float>(&self, wt: &[T]) -> PackedWeights {
        let kdim = self.c * self.k * self.k;
        PackedWeights {
            data: PackedWeights::blocks([self.o, kdim], wt, [self.o, kdim], |wt, o, col| {
                wt[o * kdim + col]
            }),
            rows: self.o,
            cols: kdim,
            transposed: false,
        }
    }

    /// The weights `wt` (`[O, C, k, k]`) packed for [`SameConv::run_transposed`] and
    /// [`SameConv::run_transposed_batch`]: per block of input channels, for each tap and
    /// output channel in turn the block's weights side by side.
    pub fn pack_transposed<T: Float>(&self, wt: &[T]) -> PackedWeights {
        let (taps, kdim) = (self.k * self.k, self.c * self.k * self.k);
        let steps = taps * self.o;
        let value = |wt: &[f32], ch: usize, step: usize| {
            let (tap, o) = (step / self.o, step % self.o);
            wt[o * kdim + ch * taps + tap]
        };
        PackedWeights {
            data: PackedWeights::blocks([self.o, kdim], wt, [self.c, steps], value),
            rows: self.o,
            cols: kdim,
            transposed: true,
        }
    }

    /// Whether `wt` holds this plan's weights (`O × C·k·k`), packed for the forward
    /// kernel or (`transposed`) for the input gradient's.
    fn fits(&self, wt: &PackedWeights, transposed: bool) -> bool {
        (wt.rows, wt.cols, wt.transposed) == (self.o, self.c * self.k * self.k, transposed)
    }

    /// Per tap, the lanes of a strip of 32 positions from position `from` of a sample
    /// that lie inside the plane: `near` lanes of this sample, then `far` lanes of the
    /// next sample's first positions; into `out` as one mask per tap with `merged`
    /// (both samples' lanes), else as `[near masks per tap, far masks per tap]`.
    #[cfg(target_arch = "x86_64")]
    fn span_masks(
        &self,
        from: usize,
        [near, far]: [usize; 2],
        merged: bool,
        out: &mut Vec<[u16; 2]>,
    ) {
        let taps = self.k * self.k;
        out.clear();
        let tap_bits = || self.inside.chunks(self.words).take(taps);
        let far_bits = |bits: &[u64]| bits_at(bits, 0, far) << near;
        if merged {
            out.extend(tap_bits().map(|b| halves(bits_at(b, from, near) | far_bits(b))));
        } else {
            out.extend(tap_bits().map(|b| halves(bits_at(b, from, near))));
            out.extend(tap_bits().map(|b| halves(far_bits(b))));
        }
    }

    /// Whether [`SameConv::run_batch`] pays for `n` samples: a sample's positions
    /// leave more than a twentieth of its strips' lanes idle (7×7 maps: 49 positions in
    /// 64 lanes, 14×14: 196 in 224; 28×28 fill 784 of 800), and a strip meets at most two
    /// samples.
    pub fn batches(&self, n: usize) -> bool {
        self.idle_over(n, 20)
    }

    /// Whether [`SameConv::run_transposed_batch`] pays for `n` samples: more than a
    /// fifth of the lanes idle. Its loads are a larger share of its work (two a tap
    /// and output channel for twelve FMAs), so the second load of a strip that runs
    /// into the next sample costs more: mnist-gap's conv3 (7×7, 23% idle) went 0.58–0.59
    /// → 0.51–0.52 ms, but conv2 (14×14, 12.5% idle) stayed at 0.55–0.59 ms (one thread
    /// pair, best of 300 calls, old and new alternated). It now reads `dy`
    /// channel-major (`channel_major`), one load for both samples' lanes; so does
    /// [`SameConv::run_batch`] where this holds. Even so, conv2 batched stays slower
    /// (forward and backward 1.89–1.90 against 1.94–1.97 ms, engine bench, alternated
    /// three times).
    pub fn batches_transposed(&self, n: usize) -> bool {
        self.idle_over(n, 5)
    }

    /// More than `1/share` of a sample's strips' lanes are idle, there are samples to
    /// run on into, and a strip meets at most two samples.
    fn idle_over(&self, n: usize, share: usize) -> bool {
        let (hw, lanes) = (self.h * self.w, (self.h * self.w).div_ceil(32) * 32);
        n > 1 && hw >= 32 && share * (lanes - hw) > lanes
    }

    /// [`SameConv::run`] for `n` samples `[C,H,W]` (contiguous, `x` `n·C·H·W`, `y`
    /// `n·O·H·W`, all written) as one run of positions: a strip of 32 positions that
    /// runs past a sample's end goes on with the next sample's first positions, so no
    /// lanes are idle but the batch's last strip's. Every value is the same FMA chain
    /// as [`SameConv::run`]'s (the same weights and inputs in the same order), so the
    /// bits are the same. The strips are split between the threads in fixed blocks.
    /// Only where [`SameConv::batches`] says so (H·W ≥ 32). Where most strips run into
    /// the next sample ([`SameConv::batches_transposed`]) the input is read from a
    /// channel-major copy (`channel_major`).
    pub fn run_batch<T: Float>(
        &self,
        n: usize,
        x: &[T],
        wt: &PackedWeights,
        bias: Option<&[T]>,
        relu: bool,
        y: &mut [MaybeUninit<T>],
    ) {
        let hw = self.h * self.w;
        assert!(
            hw >= 32
                && x.len() >= n * self.c * hw
                && self.fits(wt, false)
                && y.len() >= n * self.o * hw
                && bias.is_none_or(|b| b.len() >= self.o),
            "SameConv::run_batch: extents too short or maps under 32 positions"
        );
        f32_only::<T>();
        // as an address, which the tasks may share
        let bias = bias.map_or(std::ptr::null(), |b| b.as_ptr()) as usize;
        let cm = self.batches_transposed(n);
        let xt = if cm {
            Cow::Owned(channel_major(x, n, self.c, hw))
        } else {
            Cow::Borrowed(x)
        };
        let (x, wt) = (xt.as_ptr() as usize, wt.ptr() as usize);
        by_strip_tasks(n * hw, y, |y, strips, masks| {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `new` only builds a plan for f32 on a CPU with AVX-512F; the
            // extents were asserted above (`bias` is null or holds O values; `wt` is
            // this plan's O × C·k·k, packed; `x` the input, channel-major).
            unsafe {
                avx512::same_conv_batch(
                    self,
                    n,
                    x as *const f32,
                    wt as *const f32,
                    bias as *const f32,
                    relu,
                    y,
                    strips,
                    cm,
                    masks,
                )
            }
        });
    }

    /// [`SameConv::run_transposed`] for `n` samples (`dy` `n·O·H·W`, `dx` `n·C·H·W`,
    /// all written) as one run of positions, as [`SameConv::run_batch`]: the same
    /// bits. Only where [`SameConv::batches_transposed`] says so (H·W ≥ 32).
    pub fn run_transposed_batch<T: Float>(
        &self,
        n: usize,
        dy: &[T],
        wt: &PackedWeights,
        dx: &mut [MaybeUninit<T>],
    ) {
        let hw = self.h * self.w;
        assert!(
            hw >= 32
                && dy.len() >= n * self.o * hw
                && self.fits(wt, true)
                && dx.len() >= n * self.c * hw,
            "SameConv::run_transposed_batch: extents too short or maps under 32 positions"
        );
        f32_only::<T>();
        let dy = channel_major(dy, n, self.o, hw);
        let (dy, wt) = (dy.as_ptr() as usize, wt.ptr() as usize);
        by_strip_tasks(n * hw, dx, |dx, strips, masks| {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as in `run_batch`.
            unsafe {
                avx512::same_conv_transposed_batch(
                    self,
                    n,
                    dy as *const f32,
                    wt as *const f32,
                    dx,
                    strips,
                    masks,
                )
            }
        });
    }

    /// `y[o][p] = b[o] + Σ_{c,ki,kj} wt[o][c][ki][kj] · x[c][p shifted by (ki, kj)]` for
    /// one sample: `x` `[C,H,W]`, `wt` `[O,C,k,k]` ([`SameConv::pack`]ed), `y` `[O,H,W]`,
    /// all written; with `relu`, each value `v` stored as `v.relu()` ([`Float::relu`]: `v`
    /// where `v > 0`, else zero, which is what `vmaxps` with zero as its second operand
    /// computes, NaN and −0 included). `scratch` holds a copy of `x`: with a zero row
    /// above and below each plane for a 3×3 kernel (`SameConv::row_padded`), else
    /// when its planes need other spacing ([`SameConv::spaced`]).
    pub fn run<T: Float>(
        &self,
        x: &[T],
        wt: &PackedWeights,
        bias: Option<&[T]>,
        relu: bool,
        y: &mut [MaybeUninit<T>],
        scratch: &mut Vec<T>,
    ) {
        let hw = self.h * self.w;
        assert!(
            x.len() >= self.c * hw
                && self.fits(wt, false)
                && y.len() >= self.o * hw
                && bias.is_none_or(|b| b.len() >= self.o),
            "SameConv: extents too short"
        );
        f32_only::<T>();
        #[cfg(target_arch = "x86_64")]
        {
            // a 3×3 kernel from planes with zero rows, others from the planes as they
            // are (or spaced)
            type Kernel =
                unsafe fn(&SameConv, *const f32, usize, *const f32, *const f32, bool, *mut f32);
            let ((x, ldx), kernel): ((&[T], usize), Kernel) = if self.k == 3 {
                (self.row_padded(x, scratch), avx512::same_conv_rows)
            } else {
                (self.spaced(x, self.c, scratch), avx512::same_conv)
            };
            // SAFETY: `new` only builds a plan for f32 on a CPU with AVX-512F; the
            // extents were asserted above (`x`'s C planes now `ldx` apart, with
            // `row_padded` H + 2 rows each and `ROW_SLACK` values after the last); the
            // kernel writes every value of y's O·H·W.
            unsafe {
                kernel(
                    self,
                    x.as_ptr() as *const f32,
                    ldx,
                    wt.ptr(),
                    bias.map_or(std::ptr::null(), |b| b.as_ptr() as *const f32),
                    relu,
                    y.as_mut_ptr() as *mut f32,
                )
            }
        }
    }

    /// The input gradient of [`SameConv::run`] for one sample: `dx[c][q] = Σ_{ki,kj}
    /// Σ_o wt[o][c][ki][kj] · dy[o][q − shift(ki, kj)]`, `dy` `[O,H,W]`, `dx` `[C,H,W]`
    /// (all written). The unfolded path computes `Wᵀ · dy` (one FMA chain over `o` per
    /// tap and position, from zero) and folds the taps into `dx` in order, skipping the
    /// taps whose output position lies outside; this kernel keeps one chain per tap in
    /// registers and adds it in the same order with the same lanes masked, so the bits
    /// are the same.
    ///
    /// `scratch` holds a copy of `dy` when its planes need other spacing
    /// ([`SameConv::spaced`]).
    pub fn run_transposed<T: Float>(
        &self,
        dy: &[T],
        wt: &PackedWeights,
        dx: &mut [MaybeUninit<T>],
        scratch: &mut Vec<T>,
    ) {
        let hw = self.h * self.w;
        assert!(
            dy.len() >= self.o * hw && self.fits(wt, true) && dx.len() >= self.c * hw,
            "SameConv: extents too short"
        );
        f32_only::<T>();
        let (dy, ldy) = self.spaced(dy, self.o, scratch);
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as in `run`; `dy`'s O planes are `ldy` apart.
        unsafe {
            avx512::same_conv_transposed(
                self,
                dy.as_ptr() as *const f32,
                ldy,
                wt.ptr(),
                dx.as_mut_ptr() as *mut f32,
            )
        }
    }

    /// The `planes` planes of `H·W` values at the start of `src` as the kernels read
    /// them, and their spacing: in place, or, when `H·W` is a multiple of 512, copied into
    /// `scratch` 16 values further apart. Both kernels read the same 32 positions of
    /// every plane in turn; planes 2 KiB apart or a multiple of it land in the same sets
    /// of the L1 cache, which holds 12 lines per set, so the reads kept missing
    /// (pokedigi-gap's conv2, 32×32 planes of 4 KiB: the input gradient took 37% of the
    /// layer's forward and backward pass against the weight gradient's 19%, and the
    /// forward 32% once that was fixed, perf). Values are only copied.
    fn spaced<'a, T: Float>(
        &self,
        src: &'a [T],
        planes: usize,
        scratch: &'a mut Vec<T>,
    ) -> (&'a [T], usize) {
        let hw = self.h * self.w;
        if !hw.is_multiple_of(512) {
            return (&src[..planes * hw], hw);
        }
        let ld = hw + 16;
        scratch.resize(planes * ld, T::zero());
        for (from, to) in src.chunks(hw).zip(scratch.chunks_mut(ld)).take(planes) {
            to[..hw].copy_from_slice(from);
        }
        (&scratch[..], ld)
    }

    /// One sample's `C` planes `[H, W]` of `x` with a row of zeros above and below each,
    /// in `scratch`: planes of `H + 2` rows `ld` apart (`(H + 2)·W`, 16 more where that
    /// is a multiple of 512, as [`SameConv::spaced`] does), then [`ROW_SLACK`] zeros;
    /// returns them and `ld`. What a 3×3 kernel reads above the first row or below the
    /// last is then a zero in memory instead of a lane masked off, so that only the
    /// left and right columns' lanes need masks (see `avx512::same_conv_rows`). Every
    /// value is written, each once.
    fn row_padded<'a, T: Float>(&self, x: &[T], scratch: &'a mut Vec<T>) -> (&'a [T], usize) {
        let (w, hw) = (self.w, self.h * self.w);
        let mut ld = hw + 2 * w;
        if ld.is_multiple_of(512) {
            ld += 16;
        }
        let len = self.c * ld + ROW_SLACK;
        scratch.resize(len, T::zero());
        let (planes, slack) = scratch.split_at_mut(self.c * ld);
        for (from, to) in x.chunks(hw).zip(planes.chunks_mut(ld)) {
            let (top, rest) = to.split_at_mut(w);
            let (mid, rest) = rest.split_at_mut(hw);
            top.fill(T::zero());
            mid.copy_from_slice(from);
            rest.fill(T::zero());
        }
        slack.fill(T::zero());
        (&scratch[..], ld)
    }

    /// Values of one sample's planes with their zero border ([`SameConv::pad_into`]).
    pub fn padded_len(&self) -> usize {
        self.c * (self.h + self.k - 1) * (self.w + self.k - 1)
    }

    /// The `nb` samples `[C,H,W]` of `x` into `xp` with `(k − 1)/2` zeros around every
    /// plane (all of `nb ·` [`SameConv::padded_len`] written): the input side of
    /// [`SameConv::weight_grad`].
    pub fn pad_into<T: Float>(&self, x: &[T], nb: usize, xp: &mut [T]) {
        let (pad, wp) = ((self.k - 1) / 2, self.w + self.k - 1);
        let plane = (self.h + self.k - 1) * wp;
        let (src, dst) = (
            &x[..nb * self.c * self.h * self.w],
            &mut xp[..nb * self.c * plane],
        );
        // Rows of a few values are copied and zeroed by plain moves: as `fill` and
        // `copy_from_slice` the compiler called `memset` and `memcpy` for each run of
        // one to eight values, and those calls were most of this function, which took a
        // tenth of pokedigi-gap's conv4 weight gradient (`perf`; a twentieth after).
        for (from, to) in src.chunks(self.h * self.w).zip(dst.chunks_mut(plane)) {
            to[..pad * wp].fill(T::zero());
            for (row, out) in from.chunks(self.w).zip(to[pad * wp..].chunks_mut(wp)) {
                let (left, out) = out.split_at_mut(pad);
                let (mid, right) = out.split_at_mut(self.w);
                super::zero_few(left);
                copy_short(mid, row);
                super::zero_few(right);
            }
            to[(pad + self.h) * wp..].fill(T::zero());
        }
    }

    /// The weight gradient of [`SameConv::run`] over a block of `nb` samples, transposed:
    /// `part[(c, ki, kj)][o] = Σ_s Σ_p xp[s][c][p + (ki, kj)] · dyt[s·H·W + p][o]`, with
    /// `xp` the padded samples ([`SameConv::pad_into`]) and `dyt` `[nb·H·W, O]` (all of
    /// `part`'s `C·k·k × O` written). The unfolded path multiplies the im2col matrix by
    /// `dyt` on [`gemm_wide`]: one FMA chain per value, from zero, over the samples and
    /// positions in order. This kernel runs the same chains, reading each im2col value
    /// from the padded planes (the border's zeros where im2col writes zeros), so the bits
    /// are the same, without writing and reading the matrix nine times the input's size.
    pub fn weight_grad<T: Float>(
        &self,
        xp: &[T],
        nb: usize,
        dyt: &[T],
        part: &mut [MaybeUninit<T>],
    ) {
        let kdim = self.c * self.k * self.k;
        assert!(
            xp.len() >= nb * self.padded_len()
                && dyt.len() >= nb * self.h * self.w * self.o
                && part.len() >= kdim * self.o,
            "SameConv: extents too short"
        );
        f32_only::<T>();
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as in `run`; the kernel writes every value of part's C·k·k × O.
        unsafe {
            avx512::same_conv_dw(
                self,
                xp.as_ptr() as *const f32,
                nb,
                dyt.as_ptr() as *const f32,
                part.as_mut_ptr() as *mut f32,
            )
        }
    }
}

/// Zeros after the last plane of [`SameConv::row_padded`]: a strip's unmasked loads
/// for the lanes past the map's end read up to 31 values past the last plane's last
/// row, plus one to the right (those lanes are never stored).
const ROW_SLACK: usize = 48;

/// `dst.copy_from_slice(src)` for short runs, eight values a move, without a call to
/// `memcpy` (see [`SameConv::pad_into`]).
#[inline]
fn copy_short<T: Copy>(dst: &mut [T], src: &[T]) {
    assert_eq!(dst.len(), src.len(), "copy_short: lengths differ");
    let (d8, dr) = dst.as_chunks_mut::<8>();
    let (s8, sr) = src.as_chunks::<8>();
    d8.iter_mut().zip(s8).for_each(|(d, s)| *d = *s);
    dr.iter_mut().zip(sr).for_each(|(d, s)| *d = *s);
}

/// A [`SameConv`] is only built for f32 (see [`SameConv::new`]); running it on another
/// type is a caller's bug.
fn f32_only<T: Float>() {
    assert_eq!(
        TypeId::of::<T>(),
        TypeId::of::<f32>(),
        "SameConv is built for f32 only"
    );
}

/// Which register block [`gemm_wide`] runs for f32.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Isa {
    Avx512,
    Avx2,
    Portable,
}

impl Isa {
    fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                return Isa::Avx2;
            }
        }
        Isa::Portable
    }
}

/// # Safety
/// The CPU must support `isa` (not `Portable`), and the extents be as [`gemm_wide`]
/// asserts; `bias` is null or holds `m` values.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
unsafe fn wide_f32(
    isa: Isa,
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    b: &[f32],
    ldb: usize,
    c: *mut f32,
    bias: *const f32,
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        match isa {
            Isa::Avx512 => avx512::gemm(m, k, n, a.as_ptr(), k, b.as_ptr(), ldb, c, bias, false),
            Isa::Avx2 => avx2::gemm(m, k, n, a, b, ldb, c, bias),
            Isa::Portable => unreachable!("wide_f32 is only called with a SIMD set"),
        }
    }
}

/// The bias of row `i` on: `bias + i`, or null when there is none.
#[cfg(target_arch = "x86_64")]
fn from_row(bias: *const f32, i: usize) -> *const f32 {
    if bias.is_null() {
        bias
    } else {
        bias.wrapping_add(i)
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::from_row;
    use std::arch::x86_64::*;

    const MR: usize = 8;
    const NR: usize = 32;

    /// `$f::<R, …>(args)` with the block's row count `rows` (1–7, else [`MR`]) as the
    /// const `R`: one monomorphised register block per row count.
    macro_rules! by_rows {
        ($rows:expr, $f:ident::<_ $(, $g:tt)*>($($arg:expr),* $(,)?)) => {
            match $rows {
                1 => $f::<1 $(, $g)*>($($arg),*),
                2 => $f::<2 $(, $g)*>($($arg),*),
                3 => $f::<3 $(, $g)*>($($arg),*),
                4 => $f::<4 $(, $g)*>($($arg),*),
                5 => $f::<5 $(, $g)*>($($arg),*),
                6 => $f::<6 $(, $g)*>($($arg),*),
                7 => $f::<7 $(, $g)*>($($arg),*),
                _ => $f::<MR $(, $g)*>($($arg),*),
            }
        };
    }
    /// `$f::<R, …>(args)` for the forward convolution's blocks
    /// ([`super::conv_block_rows`]): `R` 12 where `$block` is 12, else 8.
    macro_rules! by_conv_rows {
        ($block:expr, $f:ident::<_ $(, $g:tt)*>($($arg:expr),* $(,)?)) => {
            if $block == 12 {
                $f::<12 $(, $g)*>($($arg),*)
            } else {
                $f::<MR $(, $g)*>($($arg),*)
            }
        };
    }
    /// One block's view: `A` rows `lda` apart, `B` rows `ldb` apart, `C` rows `ldc`
    /// apart, the lanes of its two column vectors that are inside `C`.
    #[derive(Clone, Copy)]
    struct Tile {
        lda: usize,
        ldb: usize,
        ldc: usize,
        m0: __mmask16,
        m1: __mmask16,
        /// add the product to what `C` holds (`block` only)
        add: bool,
    }

    /// The lanes of the two 16-wide column vectors that are inside the first `w`
    /// (≤ 32) columns.
    fn lanes(w: usize) -> (__mmask16, __mmask16) {
        let m0 = if w >= 16 { 0xFFFF } else { (1u16 << w) - 1 };
        let m1 = if w >= NR {
            0xFFFF
        } else if w > 16 {
            (1u16 << (w - 16)) - 1
        } else {
            0
        };
        (m0, m1)
    }

    /// # Safety
    /// The CPU must support AVX-512F; `a` holds m rows of k values `lda` apart, `b` k
    /// rows of at least n values `ldb` apart, `c` m×n (read too with `add`); `bias` is
    /// null or holds m values.
    #[target_feature(enable = "avx512f")]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn gemm(
        m: usize,
        k: usize,
        n: usize,
        a: *const f32,
        lda: usize,
        b: *const f32,
        ldb: usize,
        c: *mut f32,
        bias: *const f32,
        add: bool,
    ) {
        // SAFETY: forwarded from the caller.
        unsafe { gemm_b(m, k, n, a, lda, false, B::Rows(b, ldb), c, bias, add) }
    }

    /// Where `B`'s 32-column strips are: rows of `n` values `ldb` apart, or panels
    /// ([`super::pack_panels`]): the strip from column `j` (width `w`) is `depth × w`
    /// values at `b + j·depth`, of which this product reads the rows from `p0`.
    #[derive(Clone, Copy)]
    pub enum B {
        Rows(*const f32, usize),
        Panels {
            b: *const f32,
            depth: usize,
            p0: usize,
        },
    }

    /// As [`gemm`], with `B`'s strips where `b` says; with `a_cols`, `A` is stored by
    /// columns (k×m, its value (i, p) at `a[p·lda + i]`), as a weight gradient's `dyᵀ`
    /// is: the rows of a block are then side by side at every step, one pointer and
    /// constant offsets, and `A` need not be transposed first.
    ///
    /// # Safety
    /// As [`gemm`], with `B`'s strips where `b` says and `A` as `a_cols` says.
    #[target_feature(enable = "avx512f")]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn gemm_b(
        m: usize,
        k: usize,
        n: usize,
        a: *const f32,
        lda: usize,
        a_cols: bool,
        b: B,
        c: *mut f32,
        bias: *const f32,
        add: bool,
    ) {
        // SAFETY: forwarded from the caller.
        unsafe {
            if a_cols {
                gemm_a::<true>(m, k, n, a, lda, b, c, bias, add)
            } else {
                gemm_a::<false>(m, k, n, a, lda, b, c, bias, add)
            }
        }
    }

    /// [`gemm_b`] with `A` by rows or (`AC`) by columns.
    #[target_feature(enable = "avx512f")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm_a<const AC: bool>(
        m: usize,
        k: usize,
        n: usize,
        a: *const f32,
        lda: usize,
        b: B,
        c: *mut f32,
        bias: *const f32,
        add: bool,
    ) {
        // the first value of A's row i
        let row = |i: usize| {
            if AC {
                a.wrapping_add(i)
            } else {
                a.wrapping_add(i * lda)
            }
        };
        let mut j = 0;
        while j < n {
            let w = (n - j).min(NR);
            let (m0, m1) = lanes(w);
            let (bj, ldb) = match b {
                B::Rows(b, ldb) => (b.wrapping_add(j), ldb),
                B::Panels { b, depth, p0 } => (b.wrapping_add(j * depth + p0 * w), w),
            };
            let t = Tile {
                lda,
                ldb,
                ldc: n,
                m0,
                m1,
                add,
            };
            let mut i = 0;
            // one vector of columns: sixteen rows a block, so that sixteen FMA chains
            // are in flight (eight leave the two FMA ports waiting on their latency)
            while w <= 16 && m - i >= 2 * MR {
                // SAFETY: as below, for rows i..i + 16.
                unsafe {
                    let (ap, cp) = (row(i), c.add(i * n + j));
                    block::<{ 2 * MR }, 1, AC, false>(k, ap, bj, cp, from_row(bias, i), t)
                }
                i += 2 * MR;
            }
            // a whole strip of 32 columns: twelve rows a block (24 chains; each step's
            // two loads of B feed 24 FMAs, not 16), B loaded without masks. On one
            // thread (best of 2000 calls, old and new alternated three times) 48×256×32
            // in cache went 155.5–156.1 → 168.1–169.3 GFLOP/s (independent FMAs: 211–213),
            // mnist-vae's 64×784×400 124.6–126.6 → 136.1–137.1 and 784×64×400 (A by
            // columns) 144.1–144.6 → 154.9–155.8
            while w == NR && m - i >= 12 {
                // SAFETY: as below, for rows i..i + 12; all 32 lanes are inside.
                unsafe {
                    let (ap, cp) = (row(i), c.add(i * n + j));
                    block::<12, 2, AC, true>(k, ap, bj, cp, from_row(bias, i), t)
                }
                i += 12;
            }
            while i < m {
                let rows = (m - i).min(MR);
                // SAFETY: rows i..i+rows and the w columns from j are inside a, b and c;
                // lanes past w are masked off in every load and store.
                unsafe {
                    let (ap, bp, cp) = (row(i), bj, c.add(i * n + j));
                    let bi = from_row(bias, i);
                    if w > 16 {
                        by_rows!(rows, block::<_, 2, AC, false>(k, ap, bp, cp, bi, t))
                    } else {
                        by_rows!(rows, block::<_, 1, AC, false>(k, ap, bp, cp, bi, t))
                    }
                }
                i += rows;
            }
            j += NR;
        }
    }

    /// Row `r` of the accumulators into `c + r·t.ldc`, the lanes the tile's masks select.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn store_rows<const R: usize, const V: usize>(
        acc: &[[__m512; V]; R],
        c: *mut f32,
        t: Tile,
    ) {
        for (r, acc) in acc.iter().enumerate() {
            // SAFETY: the caller's R rows of C, `t.ldc` apart, for the masked lanes.
            unsafe {
                _mm512_mask_storeu_ps(c.add(r * t.ldc), t.m0, acc[0]);
                if V == 2 {
                    _mm512_mask_storeu_ps(c.add(r * t.ldc + 16), t.m1, acc[V - 1]);
                }
            }
        }
    }

    /// The `16·V` values of a row of `B` from `bp`, through the tile's masks unless
    /// `FULL` (all lanes inside); with `V = 1` the second is the first.
    ///
    /// # Safety
    /// The lanes loaded are inside `B`.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn load_b<const V: usize, const FULL: bool>(bp: *const f32, t: Tile) -> [__m512; 2] {
        // SAFETY: forwarded from the caller.
        unsafe {
            let b0 = if FULL {
                _mm512_loadu_ps(bp)
            } else {
                _mm512_maskz_loadu_ps(t.m0, bp)
            };
            let b1 = if V == 2 && FULL {
                _mm512_loadu_ps(bp.add(16))
            } else if V == 2 {
                _mm512_maskz_loadu_ps(t.m1, bp.add(16))
            } else {
                b0
            };
            [b0, b1]
        }
    }

    /// `R` rows × `16·V` columns of C (lanes outside the masks untouched) from R rows of
    /// A (by columns with `AC`: row r's value p at `a[p·lda + r]`) and `k` rows of the
    /// same columns of B, plus row `r`'s bias `bias[r]` unless `bias` is null. With
    /// `FULL` all `16·V` lanes are inside, and B is loaded without masks.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn block<const R: usize, const V: usize, const AC: bool, const FULL: bool>(
        k: usize,
        a: *const f32,
        b: *const f32,
        c: *mut f32,
        bias: *const f32,
        t: Tile,
    ) {
        // SAFETY: the caller guarantees R rows of k values of A, k rows of B and R rows
        // of C at the given strides, for the lanes the masks select.
        unsafe {
            let mut acc = [[_mm512_setzero_ps(); V]; R];
            for p in 0..k {
                let [b0, b1] = load_b::<V, FULL>(b.add(p * t.ldb), t);
                for (r, acc) in acc.iter_mut().enumerate() {
                    let at = if AC { p * t.lda + r } else { r * t.lda + p };
                    let av = _mm512_set1_ps(*a.add(at));
                    acc[0] = _mm512_fmadd_ps(av, b0, acc[0]);
                    if V == 2 {
                        acc[V - 1] = _mm512_fmadd_ps(av, b1, acc[V - 1]);
                    }
                }
            }
            if t.add {
                for (r, acc) in acc.iter_mut().enumerate() {
                    let cr = c.add(r * t.ldc);
                    acc[0] = _mm512_add_ps(_mm512_maskz_loadu_ps(t.m0, cr), acc[0]);
                    if V == 2 {
                        let c1 = _mm512_maskz_loadu_ps(t.m1, cr.add(16));
                        acc[V - 1] = _mm512_add_ps(c1, acc[V - 1]);
                    }
                }
            }
            if !bias.is_null() {
                for (r, acc) in acc.iter_mut().enumerate() {
                    let bv = _mm512_set1_ps(*bias.add(r));
                    for v in acc.iter_mut() {
                        *v = _mm512_add_ps(*v, bv);
                    }
                }
            }
            store_rows(&acc, c, t);
        }
    }

    /// The tile of the 32 positions from `j` of `[rows, hw]` planes: planes and output rows
    /// `hw` apart, weight rows `lda` apart, the lanes inside `hw`.
    fn strip_tile(hw: usize, j: usize, lda: usize) -> Tile {
        let (m0, m1) = lanes((hw - j).min(NR));
        Tile {
            lda,
            ldb: hw,
            ldc: hw,
            m0,
            m1,
            add: false,
        }
    }

    /// # Safety
    /// The CPU must support AVX-512F; `x` holds `C` planes of `H·W` values `ldx` apart,
    /// `wt` the `O·C·k·k` weights packed ([`super::PackedWeights`]), `y` `O·H·W`, `bias`
    /// null or `O`.
    #[target_feature(enable = "avx512f")]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn same_conv(
        p: &super::SameConv,
        x: *const f32,
        ldx: usize,
        wt: *const f32,
        bias: *const f32,
        relu: bool,
        y: *mut f32,
    ) {
        let hw = p.h * p.w;
        let taps = p.k * p.k;
        let kdim = p.c * taps;
        for (s, masks) in p.masks.chunks(taps).enumerate() {
            let j = s * 32;
            let t = Tile {
                ldb: ldx,
                ..strip_tile(hw, j, kdim)
            };
            let mut i = 0;
            while i < p.o {
                let block = super::conv_block_rows(p.o - i);
                let rows = block.min(p.o - i);
                // SAFETY: the block's weights (packed at i·kdim, padded to `block` rows),
                // rows i..i+rows of y and the strip's columns from j are inside (masked
                // past hw); every B load is masked to the lanes inside the input plane,
                // whose addresses are inside x.
                unsafe {
                    let (a, c) = (wt.add(i * kdim), y.add(i * hw + j));
                    let bi = from_row(bias, i);
                    let strip = Strip::near(x.wrapping_add(j), p.c, masks, &p.offsets);
                    if relu {
                        by_conv_rows!(
                            block,
                            same_block::<_, true, false, false>(&strip, rows, a, c, bi, t)
                        )
                    } else {
                        by_conv_rows!(
                            block,
                            same_block::<_, false, false, false>(&strip, rows, a, c, bi, t)
                        )
                    }
                }
                i += rows;
            }
        }
    }

    /// [`same_conv`] for a 3×3 kernel from planes with a zero row above and below
    /// ([`super::SameConv::row_padded`]): `x` points at plane 0's upper zero row, planes
    /// `ldx` apart. A tap `(ki, kj)` of output position `q` reads `x[q + ki·W + kj − 1]`:
    /// above the first row and below the last that is a zero in memory, and only the
    /// lanes at the left edge (for `kj = 0`) and the right edge (`kj = 2`) need masks,
    /// the same two pairs for every tap and channel of a strip, which stay in mask
    /// registers; [`same_conv`] loads two masks per tap and channel from memory (18 per
    /// strip, more than the registers hold). Each value is the same chain (a lane off
    /// the plane reads a zero either way), so the bits are the same. On one thread (8
    /// samples, best of 300 calls) pokedigi-gap's conv4 (8×8 maps) went 148 → 165
    /// GF/s (the old kernel with its loads left unmasked, wrong values, also ran at 165:
    /// the mask loads were the difference); on two threads (engine bench, alternated twice) its forward
    /// 1.09–1.10 → 0.98–1.01 ms, conv2's 2.29–2.33 → 2.08–2.09 ms and pokedigi-gap's
    /// inference of 256 pictures 32.7–33.0 → 29.6–29.9 ms.
    ///
    /// # Safety
    /// As [`same_conv`], with `x` as above and [`super::ROW_SLACK`] values after the
    /// last plane.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn same_conv_rows(
        p: &super::SameConv,
        x: *const f32,
        ldx: usize,
        wt: *const f32,
        bias: *const f32,
        relu: bool,
        y: *mut f32,
    ) {
        debug_assert_eq!(p.k, 3);
        let hw = p.h * p.w;
        let kdim = p.c * 9;
        for (s, masks) in p.masks.chunks(9).enumerate() {
            let j = s * 32;
            let t = Tile {
                ldb: ldx,
                ..strip_tile(hw, j, kdim)
            };
            // the lanes inside the map and not in its first column (for kj = 0) or last
            // column (kj = 2): the masks of the taps (1, 0) and (1, 2), which shift along
            // the row only
            let edges = [masks[3], masks[5]];
            let mut i = 0;
            while i < p.o {
                let block = super::conv_block_rows(p.o - i);
                let rows = block.min(p.o - i);
                // SAFETY: as in `same_conv`; every unmasked load is inside the padded
                // planes or the slack after them.
                unsafe {
                    let (a, c) = (wt.add(i * kdim), y.add(i * hw + j));
                    let bi = from_row(bias, i);
                    let xs = x.wrapping_add(j);
                    if relu {
                        by_conv_rows!(
                            block,
                            rows_block::<_, true>(xs, p.c, p.w, edges, rows, a, c, bi, t)
                        )
                    } else {
                        by_conv_rows!(
                            block,
                            rows_block::<_, false>(xs, p.c, p.w, edges, rows, a, c, bi, t)
                        )
                    }
                }
                i += rows;
            }
        }
    }

    /// [`same_block`] for [`same_conv_rows`]: `x` at the strip's first position in plane
    /// 0's upper zero row, `planes` planes `t.ldb` apart with rows `w` long, `edges` the
    /// masks of the lanes that `kj = 0` and `kj = 2` may read.
    #[target_feature(enable = "avx512f")]
    #[inline]
    #[allow(clippy::too_many_arguments)]
    unsafe fn rows_block<const R: usize, const RELU: bool>(
        x: *const f32,
        planes: usize,
        w: usize,
        edges: [[u16; 2]; 2],
        rows: usize,
        a: *const f32,
        c: *mut f32,
        bias: *const f32,
        t: Tile,
    ) {
        // SAFETY: the caller guarantees R rows of `planes · 9` weights, R rows of C for
        // the tile's lanes, and that every load is inside the padded planes or the
        // slack after them (masked lanes are not read).
        unsafe {
            let [left, right] = edges;
            let mut acc = [[_mm512_setzero_ps(); 2]; R];
            for ch in 0..planes {
                let plane = x.wrapping_add(ch * t.ldb);
                for ki in 0..3 {
                    let row = plane.wrapping_add(ki * w);
                    for kj in 0..3 {
                        let src = row.wrapping_add(kj).wrapping_sub(1);
                        let b = match kj {
                            0 => masked_pair(src, left),
                            1 => [_mm512_loadu_ps(src), _mm512_loadu_ps(src.wrapping_add(16))],
                            _ => masked_pair(src, right),
                        };
                        fma_packed(&mut acc, a.add((ch * 9 + ki * 3 + kj) * R), b);
                    }
                }
            }
            for (r, acc) in acc.iter().take(rows).enumerate() {
                let [v0, v1] = biased::<RELU>(*acc, bias, r);
                _mm512_mask_storeu_ps(c.add(r * t.ldc), t.m0, v0);
                _mm512_mask_storeu_ps(c.add(r * t.ldc + 16), t.m1, v1);
            }
        }
    }

    /// The input side of one 32-position strip: `x` points at the strip's first
    /// position in plane 0 (planes `t.ldb` apart), and per kernel tap the shift and
    /// the lanes inside the plane.
    struct Strip<'a> {
        x: *const f32,
        planes: usize,
        masks: &'a [[u16; 2]],
        offsets: &'a [isize],
        /// A strip that runs into the next sample ([`same_conv_batch`]): with the input
        /// sample by sample, per tap the lanes of the next sample inside its plane, read
        /// `next_in` values further on (the next sample's same plane; with the input
        /// channel-major they follow on, and `masks` holds both samples' lanes); the
        /// lanes `store_far` of the output go `next_out` values further on. Empty, 0, 0
        /// and no lanes for a strip inside one sample.
        far: &'a [[u16; 2]],
        next_in: usize,
        next_out: usize,
        store_far: [u16; 2],
    }

    impl Strip<'_> {
        /// A strip inside one sample.
        fn near<'a>(
            x: *const f32,
            planes: usize,
            masks: &'a [[u16; 2]],
            offsets: &'a [isize],
        ) -> Strip<'a> {
            Strip {
                x,
                planes,
                masks,
                offsets,
                far: &[],
                next_in: 0,
                next_out: 0,
                store_far: [0; 2],
            }
        }
    }

    /// As [`block`] with `V = 2`, its `B` rows read from the shifted planes and its `A`
    /// packed ([`super::PackedWeights`]; of its `R` rows only the first `rows` are
    /// stored, the others being the padding of a last block); with `RELU` each value
    /// stored as `max(v, 0)` (`vmaxps`: `v` where `v > 0`, else the zero).
    /// With `SPAN` the strip runs into the next sample, and each store also writes the
    /// next sample's lanes; with `FAR` (the input sample by sample) each load also fills
    /// them, a second masked load merged into the first, else (the input channel-major)
    /// one masked load fills both samples' lanes.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn same_block<const R: usize, const RELU: bool, const SPAN: bool, const FAR: bool>(
        s: &Strip,
        rows: usize,
        a: *const f32,
        c: *mut f32,
        bias: *const f32,
        t: Tile,
    ) {
        // SAFETY: the caller guarantees R rows of `planes · taps` weights, R rows of C
        // (and, with SPAN, `next_out` further on for the far lanes), and that every lane
        // a mask selects is inside the input.
        unsafe {
            let mut acc = [[_mm512_setzero_ps(); 2]; R];
            let taps = s.offsets.len();
            if let (false, Ok(offsets), Ok(masks)) = (
                FAR,
                <[isize; 9]>::try_from(s.offsets),
                <[[u16; 2]; 9]>::try_from(s.masks),
            ) {
                // a 3×3 kernel's nine taps written out (the same chain in the same
                // order): the loop over them has a body too large for the compiler to
                // unroll, and rolled it kept a counter, the tap's offset and both its
                // masks to load at each step; unrolled, the offsets stay in registers
                // and six of the eighteen masks in mask registers (`perf annotate`).
                // mnist-gap's conv3 (7×7, channel-major), one thread, best of 200
                // calls: 142 → 148 GF/s; with every mask in a register (wrong values)
                // it ran at 157, unmasked at 159. Engine bench, alternated three
                // times: its forward 474–486 → 450–465 µs, conv2's 464–471 → 454–458.
                for ch in 0..s.planes {
                    let plane = s.x.wrapping_add(ch * t.ldb);
                    let w = a.add(ch * 9 * R);
                    // the loads written out, not through `masked_pair`: with it the
                    // engine bench's conv3 forward took 455–461 against 449–455 µs
                    // (alternated three times), though a scratch program calling
                    // `run_batch` ran both alike
                    macro_rules! taps {
                        ($($tap:literal)*) => {$({
                            let (src, [m0, m1]) = (plane.wrapping_offset(offsets[$tap]), masks[$tap]);
                            let b0 = _mm512_maskz_loadu_ps(m0, src);
                            let b1 = _mm512_maskz_loadu_ps(m1, src.wrapping_add(16));
                            fma_packed(&mut acc, w.add($tap * R), [b0, b1]);
                        })*};
                    }
                    taps!(0 1 2 3 4 5 6 7 8);
                }
            } else {
                for ch in 0..s.planes {
                    let plane = s.x.wrapping_add(ch * t.ldb);
                    for (tap, (&off, &near)) in s.offsets.iter().zip(s.masks).enumerate() {
                        let src = plane.wrapping_offset(off);
                        let [mut b0, mut b1] = masked_pair(src, near);
                        if FAR {
                            let [f0, f1] = s.far[tap];
                            let far = src.wrapping_add(s.next_in);
                            b0 = _mm512_mask_loadu_ps(b0, f0, far);
                            b1 = _mm512_mask_loadu_ps(b1, f1, far.wrapping_add(16));
                        }
                        fma_packed(&mut acc, a.add((ch * taps + tap) * R), [b0, b1]);
                    }
                }
            }
            for (r, acc) in acc.iter().take(rows).enumerate() {
                let v = biased::<RELU>(*acc, bias, r);
                store_strip::<SPAN>(c.add(r * t.ldc), v, s, t);
            }
        }
    }

    /// A strip's 32 values from `src` as two halves, the lanes `masks` selects (a pair of
    /// 16-lane masks) loaded and the others zero: what every tap of the convolution
    /// kernels reads.
    ///
    /// # Safety
    /// The lanes the masks select are inside the input.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn masked_pair(src: *const f32, [m0, m1]: [u16; 2]) -> [__m512; 2] {
        // SAFETY: forwarded from the caller; masked-off lanes are not read.
        unsafe {
            [
                _mm512_maskz_loadu_ps(m0, src),
                _mm512_maskz_loadu_ps(m1, src.wrapping_add(16)),
            ]
        }
    }

    /// One step of the convolution kernels' register blocks: `acc[r] += w[r] · b` for the
    /// `R` weights packed side by side at `w` ([`super::PackedWeights`]), each one FMA per
    /// half.
    ///
    /// # Safety
    /// `w` holds `R` values.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn fma_packed<const R: usize>(
        acc: &mut [[__m512; 2]; R],
        w: *const f32,
        b: [__m512; 2],
    ) {
        for (r, acc) in acc.iter_mut().enumerate() {
            // SAFETY: forwarded from the caller.
            let av = _mm512_set1_ps(unsafe { *w.add(r) });
            acc[0] = _mm512_fmadd_ps(av, b[0], acc[0]);
            acc[1] = _mm512_fmadd_ps(av, b[1], acc[1]);
        }
    }

    /// A row of a strip's accumulators as stored: plus `bias[r]` unless `bias` is null,
    /// then with `RELU` as `max(v, 0)`.
    ///
    /// # Safety
    /// `bias` is null or holds row `r`'s bias.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn biased<const RELU: bool>(
        acc: [__m512; 2],
        bias: *const f32,
        r: usize,
    ) -> [__m512; 2] {
        let [mut v0, mut v1] = acc;
        if !bias.is_null() {
            // SAFETY: forwarded from the caller.
            let bv = _mm512_set1_ps(unsafe { *bias.add(r) });
            v0 = _mm512_add_ps(v0, bv);
            v1 = _mm512_add_ps(v1, bv);
        }
        if RELU {
            v0 = _mm512_max_ps(v0, _mm512_setzero_ps());
            v1 = _mm512_max_ps(v1, _mm512_setzero_ps());
        }
        [v0, v1]
    }

    /// One output row of a strip: its near lanes at `row`, and with `SPAN` its far lanes
    /// `next_out` values further on (the next sample's same plane).
    ///
    /// # Safety
    /// The lanes the masks select are inside the output.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn store_strip<const SPAN: bool>(row: *mut f32, v: [__m512; 2], s: &Strip, t: Tile) {
        // SAFETY: forwarded from the caller.
        unsafe {
            _mm512_mask_storeu_ps(row, t.m0, v[0]);
            _mm512_mask_storeu_ps(row.add(16), t.m1, v[1]);
            if SPAN {
                let far = row.add(s.next_out);
                _mm512_mask_storeu_ps(far, s.store_far[0], v[0]);
                _mm512_mask_storeu_ps(far.add(16), s.store_far[1], v[1]);
            }
        }
    }

    /// [`same_conv`] over `n` samples `[C,H,W]` (contiguous) as one run of positions:
    /// the strips `strips` of 32 positions of the batch's `n·H·W`, a strip that runs past
    /// a sample's last position going on with the next sample's first. With maps whose
    /// positions are not a multiple of 32, a sample's last strip otherwise leaves lanes
    /// idle (7×7: 49 positions in 64 lanes). `masks` is scratch for a strip's masks.
    ///
    /// # Safety
    /// The CPU must support AVX-512F; `x` holds the `n·C·H·W` input, channel-major
    /// (`[C, n·H·W]`, [`super::channel_major`]) with `channel_major`, else sample by
    /// sample; `wt` the `O·C·k·k` weights packed, `y` `n·O·H·W` values (those of the
    /// strips' positions are written), `bias` null or `O`; H·W ≥ 32.
    #[target_feature(enable = "avx512f")]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn same_conv_batch(
        p: &super::SameConv,
        n: usize,
        x: *const f32,
        wt: *const f32,
        bias: *const f32,
        relu: bool,
        y: *mut f32,
        strips: std::ops::Range<usize>,
        channel_major: bool,
        masks: &mut Vec<[u16; 2]>,
    ) {
        let kdim = p.c * p.k * p.k;
        let planes = [p.c, p.o];
        // `$relu`, `$span`, `$far` as the block's consts
        macro_rules! block {
            ($relu:tt, $span:tt, $far:tt, $block:expr, $args:tt) => {
                by_conv_rows!($block, same_block::<_, $relu, $span, $far> $args)
            };
        }
        // SAFETY: forwarded from the caller; each block's rows of wt and y are inside
        // (`each_batch_block`).
        unsafe {
            each_batch_block(
                p,
                n,
                strips,
                x,
                planes,
                kdim,
                channel_major,
                super::conv_block_rows,
                y,
                masks,
                |s, t, spans, i, b, c| {
                    let (a, bi) = (wt.add(i * kdim), from_row(bias, i));
                    let rows = b.min(p.o - i);
                    match (relu, spans, !channel_major) {
                        (true, true, true) => block!(true, true, true, b, (s, rows, a, c, bi, t)),
                        (true, true, false) => block!(true, true, false, b, (s, rows, a, c, bi, t)),
                        (true, false, _) => block!(true, false, false, b, (s, rows, a, c, bi, t)),
                        (false, true, true) => block!(false, true, true, b, (s, rows, a, c, bi, t)),
                        (false, true, false) => {
                            block!(false, true, false, b, (s, rows, a, c, bi, t))
                        }
                        (false, false, _) => block!(false, false, false, b, (s, rows, a, c, bi, t)),
                    }
                },
            )
        }
    }

    /// For each strip `strips` of a batch run ([`batch_strip`]: `planes_in` planes read
    /// from `x`, channel-major or per sample, `planes_out` per sample written from
    /// `out`), the blocks of `block(planes left)` output planes (a last block may run
    /// past them): `f(strip, tile, spans, first plane, block, output)`, the output at
    /// the block's first plane and the strip's first position.
    ///
    /// # Safety
    /// As the batch kernels: `x` holds `planes_in` planes of `n` samples (laid out as
    /// `channel_major` says), `out` `n` samples of `planes_out` planes; `f` may write
    /// the lanes the tile and strip select in its block's planes.
    #[target_feature(enable = "avx512f")]
    #[inline]
    #[allow(clippy::too_many_arguments)]
    unsafe fn each_batch_block(
        p: &super::SameConv,
        n: usize,
        strips: std::ops::Range<usize>,
        x: *const f32,
        planes: [usize; 2],
        lda: usize,
        channel_major: bool,
        block: fn(usize) -> usize,
        out: *mut f32,
        masks: &mut Vec<[u16; 2]>,
        mut f: impl FnMut(&Strip, Tile, bool, usize, usize, *mut f32),
    ) {
        let hw = p.h * p.w;
        for s in strips {
            let (strip, t, at, spans) = batch_strip(p, n, s, x, planes, lda, channel_major, masks);
            let mut i = 0;
            while i < planes[1] {
                let rows = block(planes[1] - i);
                // the strip's near lanes are positions of its sample, its far lanes the
                // first positions of the next one (right after them channel-major, else
                // `next_in` further on in `x`; `next_out` further on in `out`; inside
                // both since the strip ends inside the batch)
                f(&strip, t, spans, i, rows, out.wrapping_add(at + i * hw));
                i += rows;
            }
        }
    }

    /// Strip `s` of the batch run of [`same_conv_batch`] and
    /// [`same_conv_transposed_batch`], reading `planes_in` planes from `x`, with
    /// `channel_major` each plane's `n·H·W` positions (all samples) side by side, else
    /// sample by sample, and writing `planes_out` per sample: the strip (its masks in
    /// `masks`), its tile (near lanes, weight rows `lda` apart), the offset of its first
    /// output position, and whether it runs into the next sample.
    #[allow(clippy::too_many_arguments)]
    fn batch_strip<'a>(
        p: &'a super::SameConv,
        n: usize,
        s: usize,
        x: *const f32,
        [planes_in, planes_out]: [usize; 2],
        lda: usize,
        channel_major: bool,
        masks: &'a mut Vec<[u16; 2]>,
    ) -> (Strip<'a>, Tile, usize, bool) {
        let hw = p.h * p.w;
        let q0 = s * 32;
        let (sample, j) = (q0 / hw, q0 % hw);
        let len = (n * hw - q0).min(32);
        // lanes in this sample, then in the next (at most one more: H·W ≥ 32)
        let near = len.min(hw - j);
        p.span_masks(j, [near, len - near], channel_major, masks);
        let (m0, m1) = lanes(near);
        let (all0, all1) = lanes(len);
        // channel-major: the next sample's lanes follow on in each plane, read by the
        // same loads (one mask per tap); else `next_in` further on, their own masks
        let (x0, ldb, next_in) = if channel_major {
            (q0, n * hw, 0)
        } else {
            (sample * planes_in * hw + j, hw, (planes_in - 1) * hw)
        };
        let (near_m, far_m) = masks.split_at(p.k * p.k);
        let strip = Strip {
            far: far_m,
            next_in,
            next_out: (planes_out - 1) * hw,
            store_far: [all0 & !m0, all1 & !m1],
            ..Strip::near(x.wrapping_add(x0), planes_in, near_m, &p.offsets)
        };
        let t = Tile {
            lda,
            ldb,
            ldc: hw,
            m0,
            m1,
            add: false,
        };
        (strip, t, sample * planes_out * hw + j, near < len)
    }

    /// How the weight-gradient kernel walks the im2col columns of a block: `nb`
    /// samples `sample` values apart, `h` rows of `w` positions, padded rows `wp` apart.
    struct Walk {
        nb: usize,
        h: usize,
        w: usize,
        wp: usize,
        sample: usize,
    }

    /// # Safety
    /// The CPU must support AVX-512F; `xp` holds `nb` padded samples, `dyt` `nb·H·W`
    /// rows of `O` values, `part` `C·k·k` rows of `O`.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn same_conv_dw(
        p: &super::SameConv,
        xp: *const f32,
        nb: usize,
        dyt: *const f32,
        part: *mut f32,
    ) {
        let taps = p.k * p.k;
        let kdim = p.c * taps;
        let wp = p.w + p.k - 1;
        let plane = (p.h + p.k - 1) * wp;
        let walk = Walk {
            nb,
            h: p.h,
            w: p.w,
            wp,
            sample: p.c * plane,
        };
        let mut j = 0;
        while j < p.o {
            let w = (p.o - j).min(NR);
            let (m0, m1) = lanes(w);
            let t = Tile {
                lda: 0,
                ldb: p.o,
                ldc: p.o,
                m0,
                m1,
                add: false,
            };
            if w == NR && p.k == 3 && p.c.is_multiple_of(4) {
                // twelve rows a block read through four pointers (`dw_block_quad`)
                for c0 in (0..p.c).step_by(4) {
                    for ki in 0..3 {
                        let first = c0 * taps + ki * 3;
                        // SAFETY: rows (c0 + ch, ki, kj) of part and the 32 columns from
                        // j are inside; every row's walk stays inside its padded planes.
                        unsafe {
                            dw_block_quad(
                                &walk,
                                xp.add(c0 * plane + ki * wp),
                                plane,
                                dyt.add(j),
                                part.add(first * p.o + j),
                                taps * p.o,
                                t,
                            )
                        }
                    }
                }
                j += NR;
                continue;
            }
            let mut i = 0;
            while i < kdim {
                // a whole strip of columns: twelve rows a block, B without masks (as in
                // `gemm_a`). One thread, engine bench, alternated three times: forward
                // and backward of mnist-gap's conv3 2.866–2.872 → 2.810–2.823 ms,
                // pokedigi-gap's conv4 7.18–7.32 → 6.94–7.09 ms
                let full = w == NR && kdim - i >= 12;
                let rows = if full { 12 } else { (kdim - i).min(MR) };
                // where row (c, ki, kj) of the im2col matrix starts in the padded sample
                let mut base = [0usize; 12];
                for (r, b) in base[..rows].iter_mut().enumerate() {
                    let (c, tap) = ((i + r) / taps, (i + r) % taps);
                    *b = c * plane + (tap / p.k) * wp + tap % p.k;
                }
                // SAFETY: rows i..i+rows of part and the w columns from j are inside
                // (lanes past w masked); every row's walk stays inside its padded planes.
                unsafe {
                    let (b, c) = (dyt.add(j), part.add(i * p.o + j));
                    if full {
                        dw_block::<12, 2, true>(&walk, xp, &base, b, c, t)
                    } else if w > 16 {
                        by_rows!(rows, dw_block::<_, 2, false>(&walk, xp, &base, b, c, t))
                    } else {
                        by_rows!(rows, dw_block::<_, 1, false>(&walk, xp, &base, b, c, t))
                    }
                }
                i += rows;
            }
            j += NR;
        }
    }

    /// As [`block`] (no bias, no add), row `r` of `A` read from the padded samples at
    /// `base[r]` along the walk instead of from a contiguous row.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn dw_block<const R: usize, const V: usize, const FULL: bool>(
        walk: &Walk,
        xp: *const f32,
        base: &[usize; 12],
        b: *const f32,
        c: *mut f32,
        t: Tile,
    ) {
        // SAFETY: the caller guarantees the walk's positions from every base are inside
        // xp, nb·h·w rows of B and R rows of C for the lanes the masks select.
        unsafe {
            let rows: [*const f32; R] = std::array::from_fn(|r| xp.add(base[r]));
            let mut acc = [[_mm512_setzero_ps(); V]; R];
            let mut bp = b;
            for s in 0..walk.nb {
                for y in 0..walk.h {
                    let off = s * walk.sample + y * walk.wp;
                    for x in off..off + walk.w {
                        let [b0, b1] = load_b::<V, FULL>(bp, t);
                        for (row, acc) in rows.iter().zip(acc.iter_mut()) {
                            let av = _mm512_set1_ps(*row.add(x));
                            acc[0] = _mm512_fmadd_ps(av, b0, acc[0]);
                            if V == 2 {
                                acc[V - 1] = _mm512_fmadd_ps(av, b1, acc[V - 1]);
                            }
                        }
                        bp = bp.add(t.ldb);
                    }
                }
            }
            store_rows(&acc, c, t);
        }
    }

    /// [`dw_block`] for a 3×3 kernel's twelve rows `(c + ch, ki, kj)`, `ch` < 4 and
    /// `kj` < 3, at one `ki`: row `(c + ch, ki, kj)` reads the padded sample at
    /// `x + ch·plane + kj` along the walk, so four pointers with constant offsets
    /// address all twelve (with twelve pointers the compiler kept two on the stack and
    /// reloaded them at every step). Row `(c + ch, ki, kj)` of the part is stored at
    /// `c + ch·ldch + kj·t.ldc`. Each value is the same chain over the positions as in
    /// [`dw_block`], so the same bits. On one thread (a block's partial, best of 2000
    /// calls): mnist-gap's conv3 143–145 → 158–159 GF/s, pokedigi-gap's conv4 142–146 →
    /// 158–159, mnist-gap's conv2 155–157 → 164–166; forward and backward on two threads
    /// (engine bench, alternated three times, with `pad_into`'s change) conv3 1.64–1.66 →
    /// 1.50–1.56 ms and conv4 3.95–3.97 → 3.66–3.72 ms.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn dw_block_quad(
        walk: &Walk,
        x: *const f32,
        plane: usize,
        b: *const f32,
        c: *mut f32,
        ldch: usize,
        t: Tile,
    ) {
        // SAFETY: the caller guarantees the walk's positions from every row are inside
        // the padded samples, nb·h·w rows of B and the part's rows for 32 columns.
        unsafe {
            let rows: [*const f32; 4] = std::array::from_fn(|ch| x.add(ch * plane));
            let mut acc = [[_mm512_setzero_ps(); 2]; 12];
            let mut bp = b;
            for s in 0..walk.nb {
                for y in 0..walk.h {
                    let off = s * walk.sample + y * walk.wp;
                    for q in off..off + walk.w {
                        let [b0, b1] = load_b::<2, true>(bp, t);
                        for (ch, row) in rows.iter().enumerate() {
                            for kj in 0..3 {
                                let av = _mm512_set1_ps(*row.add(q + kj));
                                let acc = &mut acc[ch * 3 + kj];
                                acc[0] = _mm512_fmadd_ps(av, b0, acc[0]);
                                acc[1] = _mm512_fmadd_ps(av, b1, acc[1]);
                            }
                        }
                        bp = bp.add(t.ldb);
                    }
                }
            }
            for (ch, acc) in acc.chunks(3).enumerate() {
                for (kj, acc) in acc.iter().enumerate() {
                    let cr = c.add(ch * ldch + kj * t.ldc);
                    _mm512_storeu_ps(cr, acc[0]);
                    _mm512_storeu_ps(cr.add(16), acc[1]);
                }
            }
        }
    }

    /// # Safety
    /// The CPU must support AVX-512F; `dy` holds `O` planes of `H·W` values `ldy` apart,
    /// `wt` the `O·C·k·k` weights packed for it ([`super::SameConv::pack_transposed`]),
    /// `dx` `C·H·W`.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn same_conv_transposed(
        p: &super::SameConv,
        dy: *const f32,
        ldy: usize,
        wt: *const f32,
        dx: *mut f32,
    ) {
        let hw = p.h * p.w;
        let taps = p.k * p.k;
        for (s, masks) in p.masks.chunks(taps).enumerate() {
            let j = s * 32;
            let t = Tile {
                ldb: ldy,
                ..strip_tile(hw, j, p.c * taps)
            };
            let strip = Strip::near(dy.wrapping_add(j), p.o, masks, &p.offsets);
            let mut i = 0;
            while i < p.c {
                let block = super::conv_block_rows(p.c - i);
                let rows = block.min(p.c - i);
                // SAFETY: rows i..i+rows of dx and the strip's columns are inside (masked
                // past hw); the block's weights (packed at i·k·k·O, padded to `block`
                // channels) are inside wt; every dy load is masked to the lanes inside
                // the plane.
                unsafe {
                    let (a, c) = (wt.add(i * taps * p.o), dx.add(i * hw + j));
                    by_conv_rows!(block, transposed_block::<_, false>(&strip, rows, a, c, t))
                }
                i += rows;
            }
        }
    }

    /// [`same_conv_transposed`] over `n` samples as one run of positions, as
    /// [`same_conv_batch`]: the strips `strips` of the batch's `n·H·W` positions of
    /// `dx`. `masks` is scratch for a strip's masks.
    ///
    /// # Safety
    /// The CPU must support AVX-512F; `dy` holds `n·O·H·W` values channel-major (`[O,
    /// n·H·W]`, [`super::channel_major`]), `wt` the `O·C·k·k` weights packed for it, `dx`
    /// `n·C·H·W` values (those of the strips' positions are written); H·W ≥ 32.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn same_conv_transposed_batch(
        p: &super::SameConv,
        n: usize,
        dy: *const f32,
        wt: *const f32,
        dx: *mut f32,
        strips: std::ops::Range<usize>,
        masks: &mut Vec<[u16; 2]>,
    ) {
        let taps = p.k * p.k;
        let planes = [p.o, p.c];
        // SAFETY: forwarded from the caller; the weights of each block's channels are
        // inside wt, its rows of dx inside (`each_batch_block`).
        unsafe {
            each_batch_block(
                p,
                n,
                strips,
                dy,
                planes,
                p.c * taps,
                true,
                super::conv_block_rows,
                dx,
                masks,
                |s, t, spans, i, block, c| {
                    let a = wt.add(i * taps * p.o);
                    let rows = block.min(p.c - i);
                    if spans {
                        by_conv_rows!(block, transposed_block::<_, true>(s, rows, a, c, t))
                    } else {
                        by_conv_rows!(block, transposed_block::<_, false>(s, rows, a, c, t))
                    }
                },
            )
        }
    }

    /// `R` input channels × 32 positions of `dx` (the first `rows` of them stored, the
    /// others being the padding of a last block): for each tap in order, the chain over
    /// the output channels (`s.planes` planes of `dy`, read at the flipped tap's shift and
    /// lanes), added to the running sum in the lanes where the tap reaches an output.
    /// `a` points at the block's weights packed ([`super::SameConv::pack_transposed`]):
    /// for each tap and output channel (`s.planes` of them), the R channels' weights side
    /// by side.
    /// With `SPAN` the strip runs into the next sample, as in [`same_block`].
    ///
    /// The chains take 2R registers; the running sums wait in memory between taps (a
    /// load, a masked add and a store per tap, against the planes' `2R · O` FMAs), so that
    /// twelve channels fit, not six: each load of `dy`, most of them split across two
    /// cache lines at the taps' shifts, then feeds 24 FMAs instead of 12.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn transposed_block<const R: usize, const SPAN: bool>(
        s: &Strip,
        rows: usize,
        a: *const f32,
        c: *mut f32,
        t: Tile,
    ) {
        // SAFETY: the caller guarantees R channels of weights, `rows` rows of dx, and
        // that every lane a mask selects is inside dy; `sums` is this frame's.
        unsafe {
            let taps = s.offsets.len();
            // volatile, so that the compiler keeps them in memory, not in registers the
            // chains need
            let mut sums = [[_mm512_setzero_ps(); 2]; R];
            let sums = sums.as_mut_ptr();
            for tap in 0..taps {
                let flipped = taps - 1 - tap;
                let [m0, m1] = s.masks[flipped];
                let off = s.offsets[flipped];
                let mut acc = [[_mm512_setzero_ps(); 2]; R];
                for o in 0..s.planes {
                    let src = s.x.wrapping_add(o * t.ldb).wrapping_offset(off);
                    fma_packed(
                        &mut acc,
                        a.add((tap * s.planes + o) * R),
                        masked_pair(src, [m0, m1]),
                    );
                }
                for (r, acc) in acc.iter().enumerate() {
                    let at = sums.add(r);
                    let [s0, s1] = std::ptr::read_volatile(at);
                    let sum = [
                        _mm512_mask_add_ps(s0, m0, s0, acc[0]),
                        _mm512_mask_add_ps(s1, m1, s1, acc[1]),
                    ];
                    std::ptr::write_volatile(at, sum);
                }
            }
            for r in 0..rows {
                store_strip::<SPAN>(c.add(r * t.ldc), std::ptr::read_volatile(sums.add(r)), s, t);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::from_row;
    const MR: usize = 6;
    const NR: usize = 16;
    use std::arch::x86_64::*;

    /// # Safety
    /// The CPU must support AVX2 and FMA; `a` holds m×k, `b` k rows of at least n values
    /// `ldb` apart, `c` m×n; `bias` is null or holds m values.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn gemm(
        m: usize,
        k: usize,
        n: usize,
        a: &[f32],
        b: &[f32],
        ldb: usize,
        c: *mut f32,
        bias: *const f32,
    ) {
        let mut j = 0;
        while j + NR <= n {
            let mut i = 0;
            while i + MR <= m {
                // SAFETY: rows i..i+MR and columns j..j+NR are inside a, b and c.
                unsafe {
                    block::<MR>(
                        k,
                        a.as_ptr().add(i * k),
                        k,
                        b.as_ptr().add(j),
                        ldb,
                        c.add(i * n + j),
                        n,
                        from_row(bias, i),
                    )
                };
                i += MR;
            }
            // SAFETY: as above, for the remaining rows.
            unsafe {
                rest_rows(
                    m - i,
                    k,
                    a.as_ptr().add(i * k),
                    b.as_ptr().add(j),
                    ldb,
                    c.add(i * n + j),
                    n,
                    from_row(bias, i),
                )
            };
            j += NR;
        }
        if j < n {
            // last columns: through a zero-padded copy of B's panel and of C's block
            let w = n - j;
            let mut bp = vec![0.0f32; k * NR];
            for p in 0..k {
                bp[p * NR..p * NR + w].copy_from_slice(&b[p * ldb + j..p * ldb + j + w]);
            }
            let mut cp = vec![0.0f32; m * NR];
            let mut i = 0;
            while i + MR <= m {
                // SAFETY: the padded panels hold k×NR and m×NR values.
                unsafe {
                    block::<MR>(
                        k,
                        a.as_ptr().add(i * k),
                        k,
                        bp.as_ptr(),
                        NR,
                        cp.as_mut_ptr().add(i * NR),
                        NR,
                        from_row(bias, i),
                    )
                };
                i += MR;
            }
            // SAFETY: as above.
            unsafe {
                rest_rows(
                    m - i,
                    k,
                    a.as_ptr().add(i * k),
                    bp.as_ptr(),
                    NR,
                    cp.as_mut_ptr().add(i * NR),
                    NR,
                    from_row(bias, i),
                )
            };
            for r in 0..m {
                // SAFETY: row r's last w columns are inside c; cp holds m×NR values.
                unsafe {
                    std::ptr::copy_nonoverlapping(cp.as_ptr().add(r * NR), c.add(r * n + j), w)
                };
            }
        }
    }

    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn rest_rows(
        rows: usize,
        k: usize,
        a: *const f32,
        b: *const f32,
        ldb: usize,
        c: *mut f32,
        ldc: usize,
        bias: *const f32,
    ) {
        // SAFETY: forwarded from the caller.
        unsafe {
            match rows {
                1 => block::<1>(k, a, k, b, ldb, c, ldc, bias),
                2 => block::<2>(k, a, k, b, ldb, c, ldc, bias),
                3 => block::<3>(k, a, k, b, ldb, c, ldc, bias),
                4 => block::<4>(k, a, k, b, ldb, c, ldc, bias),
                5 => block::<5>(k, a, k, b, ldb, c, ldc, bias),
                _ => {}
            }
        }
    }

    /// `R` rows × 16 columns of C from R rows of A (`lda` apart) and 16 columns of B,
    /// plus row `r`'s bias `bias[r]` unless `bias` is null.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    #[allow(clippy::too_many_arguments)]
    unsafe fn block<const R: usize>(
        k: usize,
        a: *const f32,
        lda: usize,
        b: *const f32,
        ldb: usize,
        c: *mut f32,
        ldc: usize,
        bias: *const f32,
    ) {
        // SAFETY: the caller guarantees R rows of k values of A, k rows of 16 values of B
        // and R rows of 16 values of C at the given strides.
        unsafe {
            let mut acc = [[_mm256_setzero_ps(); 2]; R];
            for p in 0..k {
                let b0 = _mm256_loadu_ps(b.add(p * ldb));
                let b1 = _mm256_loadu_ps(b.add(p * ldb + 8));
                for (r, acc) in acc.iter_mut().enumerate() {
                    let av = _mm256_broadcast_ss(&*a.add(r * lda + p));
                    acc[0] = _mm256_fmadd_ps(av, b0, acc[0]);
                    acc[1] = _mm256_fmadd_ps(av, b1, acc[1]);
                }
            }
            if !bias.is_null() {
                for (r, acc) in acc.iter_mut().enumerate() {
                    let bv = _mm256_set1_ps(*bias.add(r));
                    acc[0] = _mm256_add_ps(acc[0], bv);
                    acc[1] = _mm256_add_ps(acc[1], bv);
                }
            }
            for (r, acc) in acc.iter().enumerate() {
                _mm256_storeu_ps(c.add(r * ldc), acc[0]);
                _mm256_storeu_ps(c.add(r * ldc + 8), acc[1]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row and column remainder, a strided B, against a plain f64 product.
    #[test]
    fn wide_gemm_matches_the_definition() {
        for (m, k, n) in [
            (16, 27, 4096),
            (32, 144, 1024),
            (7, 5, 37),
            (13, 300, 16),
            (1, 1, 1),
            (6, 3, 15),
            (144, 64, 16),
            (9, 20, 48),
            (17, 9, 40),
            (8, 4, 33),
        ] {
            let ldb = n + 3;
            let a: Vec<f32> = (0..m * k)
                .map(|i| ((i * 37 % 101) as f32) / 50.0 - 1.0)
                .collect();
            let b: Vec<f32> = (0..k * ldb)
                .map(|i| ((i * 53 % 97) as f32) / 48.0 - 1.0)
                .collect();
            let mut c = vec![f32::NAN; m * n];
            gemm_wide(m, k, n, &a, &b, ldb, &mut c);
            for i in 0..m {
                for j in 0..n {
                    let want: f64 = (0..k)
                        .map(|p| a[i * k + p] as f64 * b[p * ldb + j] as f64)
                        .sum();
                    let got = c[i * n + j] as f64;
                    assert!(
                        (got - want).abs() <= 1e-5 * (1.0 + want.abs()) * k as f64,
                        "{m}×{k}×{n} at ({i},{j}): {got} vs {want}"
                    );
                }
            }
            // the bias in the kernel's store: the bits of adding it afterwards
            let bias: Vec<f32> = (0..m).map(|i| (i as f32 * 0.37).sin()).collect();
            let mut cb = vec![f32::NAN; m * n];
            gemm_wide_bias(m, k, n, &a, &b, ldb, &mut cb, Some(&bias));
            for (idx, (&got, &plain)) in cb.iter().zip(&c).enumerate() {
                let want = plain + bias[idx / n];
                assert_eq!(got.to_bits(), want.to_bits(), "{m}×{k}×{n} bias at {idx}");
            }
            // and in f64, the general kernel's path
            let (a64, b64): (Vec<f64>, Vec<f64>) = (
                a.iter().map(|&v| v as f64).collect(),
                b.iter().map(|&v| v as f64).collect(),
            );
            let bias64: Vec<f64> = bias.iter().map(|&v| v as f64).collect();
            let (mut p64, mut b64c) = (vec![0.0; m * n], vec![0.0; m * n]);
            gemm_wide(m, k, n, &a64, &b64, ldb, &mut p64);
            gemm_wide_bias(m, k, n, &a64, &b64, ldb, &mut b64c, Some(&bias64));
            for (idx, (&got, &plain)) in b64c.iter().zip(&p64).enumerate() {
                assert_eq!(got.to_bits(), (plain + bias64[idx / n]).to_bits());
            }
        }
    }

    /// Both register blocks compute each value as the same in-order FMA chain, so they
    /// agree to the bit (on a CPU that has both; elsewhere there is one path and
    /// nothing to compare).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx512_and_avx2_agree_to_the_bit() {
        if !(std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma"))
        {
            eprintln!(
                "this CPU lacks AVX-512F or AVX2+FMA: one register block, nothing to compare"
            );
            return;
        }
        for (m, k, n) in [(16, 27, 300), (64, 576, 256), (13, 33, 47), (144, 64, 16)] {
            let ldb = n + 5;
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 37 % 101) as f32).sin()).collect();
            let b: Vec<f32> = (0..k * ldb).map(|i| ((i * 53 % 97) as f32).cos()).collect();
            let bias: Vec<f32> = (0..m).map(|i| (i as f32).cos()).collect();
            for bias in [std::ptr::null(), bias.as_ptr()] {
                let (mut c512, mut c256) = (vec![0.0f32; m * n], vec![0.0f32; m * n]);
                // SAFETY: both instruction sets were checked above; the extents are
                // exact; the bias is null or holds m values.
                unsafe {
                    wide_f32(Isa::Avx512, m, k, n, &a, &b, ldb, c512.as_mut_ptr(), bias);
                    wide_f32(Isa::Avx2, m, k, n, &a, &b, ldb, c256.as_mut_ptr(), bias);
                }
                let same = c512
                    .iter()
                    .zip(&c256)
                    .all(|(x, y)| x.to_bits() == y.to_bits());
                assert!(same, "{m}×{k}×{n}: the two register blocks differ");
            }
        }
    }
}
