//! Matrix-multiply kernels on raw row-major slices, split over both cores.
//!
//! A large product is split into one part of the rows or of the columns per thread.
//! Each output element is summed over k inside one part by the same kernel whatever the
//! split, so results are bit-identical whatever the thread count.

use super::kernel::{
    Layout, PANEL, gemm_unpacked, gemm_unpacked_applies, pack_panels, pack_panels_t,
};
use super::{SendPtr, filled, slots, transpose_to, transpose_uninit, written, zeroed};
use crate::float::Float;
use rayon::prelude::*;
use std::borrow::Cow;
use std::mem::MaybeUninit;

/// Below this many multiply-adds a GEMM runs on the calling thread.
const PAR_WORK: usize = 1 << 20;

/// Whether two products of `work` multiply-adds each are worth running at once on the
/// threads (the two gradients of a product): from 2¹⁹, half of `PAR_WORK`, where a
/// product alone stays on one thread. Joined only from `PAR_WORK` on, mnist-gru's
/// per-step products (64×64 by 64×192) and mnist-vae's 400 → 32 layer (64×400 by
/// 400×32) had run their two gradients one after the other; joined from 2¹⁹, every
/// training step was as fast or faster (engine bench, alternated three times: mnist-gru
/// 2.66–2.72 → 2.61–2.63 ms, mnist-attn-gru 3.32–3.39 → 3.22–3.28, mnist-vae 1.43–1.44 →
/// 1.37–1.41, the others within the noise). Below it, waking the other thread costs more
/// than it saves: joined, mnist-linear's step (64×784 by 784×10, 0.5 M) took 95 µs
/// against 36.
pub fn worth_joining(work: usize) -> bool {
    work >= PAR_WORK / 2
}

/// `c (+)= op(a) · op(b)` for one m×k by k×n product.
///
/// `a` is stored m×k (or k×m when `ta`), `b` is stored k×n (or n×k when `tb`), `c` is m×n.
/// With `acc` the product is added to `c`, otherwise it overwrites it.
#[allow(clippy::too_many_arguments)]
pub fn gemm<T: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: &[T],
    ta: bool,
    b: &[T],
    tb: bool,
    c: &mut [T],
    acc: bool,
) {
    // SAFETY: `gemm_slots` writes only computed values (or zeros) into `c`.
    gemm_slots(m, k, n, a, ta, b, tb, unsafe { slots(c) }, true, acc, None)
}

/// `op(a) · op(b)` as a new m×n buffer, written by the kernel without being
/// zero-filled first.
///
/// A `vec![0; m·n]` for the product to overwrite is a pass over memory that the kernel
/// then writes again: under mnist-vae's linear layers (products of 64×784 by 784×400
/// and their gradients) the zero-fills were 7% of a training step's samples on the
/// calling thread in `perf`, and the step took 1.89–1.93 ms without them against 2.16–2.26 ms, bench
/// binaries alternated three times (the fresh lines no longer pass through the cache
/// twice).
#[allow(clippy::too_many_arguments)]
pub fn product<T: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: &[T],
    ta: bool,
    b: &[T],
    tb: bool,
) -> Vec<T> {
    // SAFETY: `gemm_slots` without `acc` writes all m·n values.
    unsafe {
        filled(m * n, |c| {
            gemm_slots(m, k, n, a, ta, b, tb, c, false, false, None)
        })
    }
}

/// What a linear layer applies to each value of its product `x · Wᵀ` as it is stored:
/// the bias of the value's output unit, then (with `relu`) the ReLU,
/// `relu(Σ_p x_ip w_jp + b_j)`. Each value gets the addition and the
/// [`Float::relu`] that the separate `add` and `relu` ops would apply to it, so the bits
/// are theirs.
#[derive(Clone, Copy, Debug)]
pub struct Epilogue<'a, T> {
    pub bias: &'a [T],
    pub relu: bool,
}

impl<T: Float> Epilogue<'_, T> {
    /// Applies it to the rows of `cols` values in `c`, a part of a product whose first
    /// row is row `row0`: each value takes the bias of its column, or with `per_row` (a
    /// product computed transposed, one row per output unit) the bias of its row.
    fn apply(&self, c: &mut [T], cols: usize, row0: usize, per_row: bool) {
        if cols == 0 {
            return;
        }
        // one loop per case, the tests made once a row, so that each loop vectorizes
        for (i, row) in c.chunks_mut(cols).enumerate() {
            match (per_row, self.relu) {
                (true, relu) => {
                    let b = self.bias[row0 + i];
                    if relu {
                        row.iter_mut().for_each(|v| *v = (*v + b).relu());
                    } else {
                        row.iter_mut().for_each(|v| *v += b);
                    }
                }
                (false, true) => row
                    .iter_mut()
                    .zip(self.bias)
                    .for_each(|(v, &b)| *v = (*v + b).relu()),
                (false, false) => row.iter_mut().zip(self.bias).for_each(|(v, &b)| *v += b),
            }
        }
    }
}

/// A linear layer's `relu?(x · Wᵀ + b)` as a new m×n buffer: `x` m×k, `w` n×k (PyTorch's
/// layout), `ep.bias` n values. The epilogue is applied by the thread that computed
/// each part of the product, right after it did, while the part is in its cache: as
/// separate ops, the bias and the ReLU were each a pass over values that were half
/// written by the other core.
pub fn linear_product<T: Float>(
    m: usize,
    k: usize,
    n: usize,
    x: &[T],
    w: &[T],
    ep: Epilogue<'_, T>,
) -> Vec<T> {
    assert!(
        ep.bias.len() == n,
        "linear_product: {} bias values for {n} outputs",
        ep.bias.len()
    );
    // SAFETY: `gemm_slots` without `acc` writes all m·n values.
    unsafe {
        filled(m * n, |c| {
            gemm_slots(m, k, n, x, false, w, true, c, false, false, Some(ep))
        })
    }
}

/// [`gemm`]'s body. `c` holds values where `init` (a caller's slice), and is read only
/// with `acc` (which needs `init`); without `acc` every value of `c[..m·n]` is written,
/// and then `ep` applied to it (never with `acc`).
#[allow(clippy::too_many_arguments)]
fn gemm_slots<T: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: &[T],
    ta: bool,
    b: &[T],
    tb: bool,
    c: &mut [MaybeUninit<T>],
    init: bool,
    acc: bool,
    ep: Option<Epilogue<'_, T>>,
) {
    debug_assert!(init || !acc, "accumulating into unwritten memory");
    debug_assert!(
        !(acc && ep.is_some()),
        "an epilogue on an accumulated product"
    );
    let c = &mut c[..m * n];
    if k == 0 {
        if !acc {
            let c = zeroed(c);
            if let Some(ep) = ep {
                ep.apply(c, n, 0, false);
            }
        }
        return;
    }
    // `a` stored k×m (a weight gradient `dyᵀ · x`) is read by columns where it is. When
    // it was transposed first, narrow products stayed on matrixmultiply (400×64×16 6.9
    // µs against 4.5–5.4, 192×1792×28, mnist-gru's input weights over all steps, 180
    // against 83–90); read in place they take 6.0–6.1 against 7.2–7.3 and 85 against
    // 112 (one process each, alternated twice)
    let unpacked_fits = n <= NARROW || k * n <= UNPACKED_B;
    if n > 0 && unpacked_fits && gemm_unpacked_applies::<T>() {
        return unpacked(m, k, n, a, ta, b, tb, c, acc, ep);
    }
    // matrixmultiply and the generic loop take initialized memory (neither reads it
    // with β = 0): a buffer never written is zeroed for them, a product this large
    // hardly notices
    let c: &mut [T] = if init {
        // SAFETY: the caller's values (`init`)
        unsafe { written(c) }
    } else {
        zeroed(c)
    };
    let beta = if acc { T::one() } else { T::zero() };
    // rows r0.. and columns j0.. of the product into `c`, whose rows are `ldc` apart
    let block = |r0: usize, rows: usize, j0: usize, cols: usize, c: &mut [T], ldc: usize| {
        let (a_off, rsa, csa) = if ta {
            (r0, 1, m as isize)
        } else {
            (r0 * k, k as isize, 1)
        };
        let (b_off, rsb, csb) = if tb {
            (j0 * k, 1, k as isize)
        } else {
            (j0, n as isize, 1)
        };
        T::gemm(
            rows,
            k,
            cols,
            T::one(),
            &a[a_off..],
            rsa,
            csa,
            &b[b_off..],
            rsb,
            csb,
            beta,
            c,
            ldc as isize,
            1,
        );
    };
    // One part per thread, each at least half of PAR_WORK. Each part's matrixmultiply
    // call packs the whole of the other operand: a part of the rows repacks op(b) (k×n),
    // a part of the columns repacks op(a) (m×k) and is computed in a buffer of its own
    // (no two threads write one slice) that is copied back, about two passes over its
    // share of C. Split the way that costs less: linear layers on a batch (m = 64 rows
    // against n = 400–784 columns, k = 400–784) by columns, their weight gradients
    // (k = 64) and the GRU's gate products (k = 64, n = 192) by rows. The split changes
    // which thread computes an element, never how: every element is the same k-loop of
    // the same kernel, so the bits do not depend on the thread count (the test
    // `any_split_gives_the_bits_of_one_call` checks it). The earlier fixed blocks of 32
    // rows or 128 columns ran the GRU's 256×64×192 at 59 GFLOP/s on 2 threads, less
    // than half of one thread's 121–141 (two column blocks of 128 and 64, and
    // copies); one part per thread ran it at 65–129 in later runs, and 400×64×784 at
    // 113–167 against 89 (this machine's noise is that wide; the model benches moved
    // within it).
    let parts = thread_parts(m, k, n);
    let row_part = m.div_ceil(parts).next_multiple_of(8);
    let col_part = n.div_ceil(parts).next_multiple_of(16);
    let (can_rows, can_cols) = (m > row_part, n > col_part);
    let by_columns = can_cols && (!can_rows || parts * m * k + 2 * m * n < parts * k * n);
    if parts == 1 || !(can_rows || can_cols) {
        block(0, m, 0, n, &mut c[..m * n], n);
    } else if by_columns {
        let col_blocks = n.div_ceil(col_part);
        let c_in: &[T] = &c[..m * n];
        let blocks: Vec<Vec<T>> = (0..col_blocks)
            .into_par_iter()
            .map(|j| {
                let (j0, cols) = (j * col_part, col_part.min(n - j * col_part));
                let mut cb = Vec::with_capacity(m * cols);
                if acc {
                    c_in.chunks(n)
                        .for_each(|row| cb.extend_from_slice(&row[j0..j0 + cols]));
                } else {
                    cb.resize(m * cols, T::zero());
                }
                block(0, m, j0, cols, &mut cb, cols);
                cb
            })
            .collect();
        for (j, cb) in blocks.iter().enumerate() {
            let (j0, cols) = (j * col_part, col_part.min(n - j * col_part));
            for (row, src) in c[..m * n].chunks_mut(n).zip(cb.chunks(cols)) {
                row[j0..j0 + cols].copy_from_slice(src);
            }
        }
    } else {
        c[..m * n]
            .par_chunks_mut(row_part * n)
            .enumerate()
            .for_each(|(i, cb)| block(i * row_part, cb.len() / n, 0, n, cb, n));
    }
    // (these paths are for f64, machines without AVX-512 and the largest products,
    // where one more pass hardly shows)
    if let Some(ep) = ep {
        ep.apply(c, n, 0, false);
    }
}

/// How many parts an m×k×n product is split into: one per thread, each at least half
/// of [`PAR_WORK`] multiply-adds.
fn thread_parts(m: usize, k: usize, n: usize) -> usize {
    rayon::current_num_threads()
        .min(m * k * n / (PAR_WORK / 2))
        .max(1)
}

/// The rows of each part when an m-row product is split by rows between the threads
/// ([`split_rows`], [`transposed_parts`]): a multiple of 8; `m` or more for one part.
fn row_part(m: usize, k: usize, n: usize) -> usize {
    m.div_ceil(thread_parts(m, k, n)).next_multiple_of(8).max(8)
}

/// Products with at most this many columns, or with `op(b)` of at most
/// [`UNPACKED_B`] values, run on [`gemm_unpacked`] (same bits, no packing).
const NARROW: usize = 32;
/// 2 MiB of f32. An earlier session measured the VAE's 784×400 faster packed (182
/// against 214 GFLOP/s on two threads) and kept 128 KiB; with the transposes in whole
/// tiles (`tensor::transpose_into`) the same bench binaries alternated three rounds gave
/// gemm/512 706–749 → 595–614 µs and mnist-vae's inference 1.21–1.38 → 1.17–1.18 ms at
/// 2 MiB, and mnist-cnn, mnist-attn-gru and mnist-vae training steps within noise.
/// gemm/1024 (4 MiB) stays packed.
const UNPACKED_B: usize = 1 << 19;
/// An `op(b)` stored k×n is copied into panels from this many values (128 KiB of f32,
/// more than the L1 cache) and [`PACK_ROWS`] rows: see [`rows_or_panels`].
const PACK_FROM: usize = 1 << 15;
const PACK_ROWS: usize = 128;

/// `c (+)= op(a) · op(b)` on [`gemm_unpacked`], the rows split
/// between the threads (each value is the same chain whatever the split). The kernel
/// reads `a` as it is stored (by rows, or by columns when stored k×m) and `b` as k×n
/// (row-major, or in panels of 32 columns: see [`rows_or_panels`]), so a `b` stored
/// n×k is moved first; which values move is chosen by their count:
/// - `op(b)` stored n×k: either `b` is transposed into panels (n·k values), or the product is run
///   the other way round, `cᵀ = b · op(a)ᵀ`, which reads `b` as it is stored and moves
///   `a` (unless it is stored k×m already) and `c` instead. Every value of `c` is the
///   same chain of the same products (`fma` is symmetric in its factors), so the bits
///   are the same either way. A linear layer's `x · Wᵀ` on a batch of 64 had spent
///   half its time transposing the 784×400 weights (188–196 µs, 97 µs without
///   transposes); the other way round it took 121–126 µs. It runs the other way round
///   when that moves at most half the values: alone, 784×400 weights on 32, 64, 96 and
///   128 rows took 60/121/166/261 µs the other way round against 150/188/220/269, but
///   256 rows (moving 303 000 values against 313 600) 528–532 against 445 µs;
/// - `op(a)` stored k×m (a weight gradient `dyᵀ · x`, k = the batch): the kernel reads
///   `a` by columns, each step's values of a block's rows side by side. Transposing it
///   first had been a fortieth of mnist-vae's training step (perf); read in place,
///   mnist-gru's and mnist-attn-gru's steps took 2.86–2.89 and 3.57–3.61 ms against
///   3.00–3.08 and 3.74–3.84 (bench binaries alternated three times).
///
/// `c` (m×n) is read only with `acc`; without it every value is written, and `ep`
/// applied to each part of the rows computed (of `cᵀ`, per row, when run the other way
/// round) by the thread that computed it.
#[allow(clippy::too_many_arguments)]
fn unpacked<T: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: &[T],
    ta: bool,
    b: &[T],
    tb: bool,
    c: &mut [MaybeUninit<T>],
    acc: bool,
    ep: Option<Epilogue<'_, T>>,
) {
    // values each way moves: `c` (twice when accumulating) and `a` unless it is stored
    // k×m already, against `b`
    let c_moves = if acc { 2 } else { 1 } * m * n;
    let swapped = c_moves + if ta { 0 } else { m * k };
    if tb && 2 * swapped <= n * k {
        // cᵀ (n×m) = b (n×k, as stored) · op(a)ᵀ (k×m)
        let (at, layout) = if ta {
            rows_or_panels(n, k, m, &a[..k * m])
        } else {
            (Cow::Owned(pack_panels_t(m, k, a)), Layout::Panels)
        };
        if acc {
            // SAFETY: with `acc`, `c` holds the values to add to (`gemm_slots`).
            let mut ct = super::transposed(m, n, unsafe { written(c) });
            // SAFETY: split_rows writes only products into `ct`.
            split_rows(
                n,
                k,
                m,
                b,
                false,
                &at,
                layout,
                unsafe { slots(&mut ct) },
                true,
                None,
            );
            transpose_uninit(n, m, &ct, m, c);
        } else {
            transposed_parts(n, k, m, b, &at, layout, c, ep);
        }
        return;
    }
    let (b, layout) = if tb {
        (Cow::Owned(pack_panels_t(n, k, b)), Layout::Panels)
    } else {
        rows_or_panels(m, k, n, &b[..k * n])
    };
    split_rows(m, k, n, a, ta, &b, layout, c, acc, ep);
}

/// `op(b)` stored k×n for a product with `m` rows: copied into panels
/// ([`pack_panels`]; the layout says so) where it has more than one panel, does not fit
/// in the L1 cache, and is read by enough rows to repay the copy, else as it is. (An
/// operand stored transposed is packed instead of transposed, the same pass.)
/// On an Intel Xeon (2 threads, best of 100 calls in one process, old and new builds
/// alternated): gemm/512 1.10 → 0.98 ms and mnist-vae's reconstruction of 256 digits
/// 2.6–2.8 → 2.1–2.2 ms. Without the row and size conditions, a copy for 10 rows
/// (mnist-linear's weight gradient, k = 64) made its training step 40 → 46 µs, and the
/// GRU's 64×192 recurrent weights, copied at every step, slowed its inference.
fn rows_or_panels<T: Float>(m: usize, k: usize, n: usize, b: &[T]) -> (Cow<'_, [T]>, Layout) {
    if n > PANEL && k * n > PACK_FROM && m >= PACK_ROWS {
        (Cow::Owned(pack_panels(k, n, b, n)), Layout::Panels)
    } else {
        (Cow::Borrowed(b), Layout::Rows)
    }
}

/// `c (+)= op(a) · b` (`a` m×k contiguous, or k×m with `ta`; `b` k×n as `layout`
/// says) on [`gemm_unpacked`], a part of the rows per thread (`c` read only with `acc`),
/// then `ep` applied to each part by its thread.
#[allow(clippy::too_many_arguments)]
fn split_rows<T: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: &[T],
    ta: bool,
    b: &[T],
    layout: Layout,
    c: &mut [MaybeUninit<T>],
    acc: bool,
    ep: Option<Epilogue<'_, T>>,
) {
    let row_part = row_part(m, k, n);
    let lda = if ta { m } else { k };
    let part = |row0: usize, a: &[T], cb: &mut [MaybeUninit<T>]| {
        gemm_unpacked(cb.len() / n, k, n, a, lda, ta, b, layout, cb, acc);
        if let Some(ep) = ep {
            // SAFETY: `gemm_unpacked` without `acc` wrote every value (`ep` comes only
            // without it, `gemm_slots`)
            ep.apply(unsafe { written(cb) }, n, row0, false);
        }
    };
    if row_part >= m {
        part(0, a, &mut c[..m * n]);
    } else {
        c[..m * n]
            .par_chunks_mut(row_part * n)
            .enumerate()
            .for_each(|(i, cb)| {
                part(
                    i * row_part,
                    &a[i * row_part * if ta { 1 } else { k }..],
                    cb,
                )
            });
    }
}

/// `c = (b · at)ᵀ` (`c` m×n; `b` n×k row-major, `at` k×m as `layout` says) with `ep`
/// applied per row of `b · at`: [`split_rows`]' parts of the rows of `b · at`, each
/// computed (the same chains), given its bias and ReLU and transposed into its band of
/// `c`'s columns by one thread, while it is in that thread's cache. Transposed in one
/// piece by the calling thread afterwards, the transposes of mnist-vae's two products
/// that run this way on a batch of 64 (`cᵀ` 400×64 and 784×64) had been 2.4% of a
/// training step's samples (`perf`), all on one thread.
#[allow(clippy::too_many_arguments)]
fn transposed_parts<T: Float>(
    n: usize,
    k: usize,
    m: usize,
    b: &[T],
    at: &[T],
    layout: Layout,
    c: &mut [MaybeUninit<T>],
    ep: Option<Epilogue<'_, T>>,
) {
    assert!(
        c.len() >= m * n && b.len() >= n * k,
        "transposed_parts: extents too short"
    );
    let row_part = row_part(n, k, m);
    let out = SendPtr(c.as_mut_ptr() as *mut T);
    let part = |r0: usize| {
        let rows = row_part.min(n - r0);
        // SAFETY: `gemm_unpacked` without `acc` writes all rows·m values.
        let mut ct = unsafe {
            filled(rows * m, |cb| {
                gemm_unpacked(rows, k, m, &b[r0 * k..], k, false, at, layout, cb, false)
            })
        };
        if let Some(ep) = ep {
            ep.apply(&mut ct, m, r0, true);
        }
        // SAFETY: columns r0..r0 + rows of the m×n `c` (asserted above), which no other
        // part writes.
        unsafe { transpose_to(rows, m, &ct, m, out.get().add(r0), n) };
    };
    if row_part >= n {
        part(0);
    } else {
        (0..n.div_ceil(row_part))
            .into_par_iter()
            .for_each(|i| part(i * row_part));
    }
}

/// Batched product as a new `batch·m·n` buffer (written once, as [`product`]): `a`
/// holds one matrix or `batch` (`a_batched`), so does `b`.
#[allow(clippy::too_many_arguments)]
pub fn batched_product<T: Float>(
    batch: usize,
    m: usize,
    k: usize,
    n: usize,
    a: &[T],
    a_batched: bool,
    ta: bool,
    b: &[T],
    b_batched: bool,
    tb: bool,
) -> Vec<T> {
    let one = |i: usize, cb: &mut [MaybeUninit<T>]| {
        let ab = if a_batched {
            &a[i * m * k..(i + 1) * m * k]
        } else {
            &a[..m * k]
        };
        let bbm = if b_batched {
            &b[i * k * n..(i + 1) * k * n]
        } else {
            &b[..k * n]
        };
        gemm_slots(m, k, n, ab, ta, bbm, tb, cb, false, false, None);
    };
    let fill = |c: &mut [MaybeUninit<T>]| {
        if batch > 1 && batch * m * k * n >= PAR_WORK && m * n > 0 {
            c.par_chunks_mut(m * n)
                .enumerate()
                .for_each(|(i, cb)| one(i, cb));
        } else if m * n > 0 {
            c.chunks_mut(m * n)
                .enumerate()
                .for_each(|(i, cb)| one(i, cb));
        }
    };
    // SAFETY: each of the `batch` products writes its m·n values, without `acc`.
    unsafe { filled(batch * m * n, fill) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, k: usize, n: usize, a: &[f64], b: &[f64]) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                for p in 0..k {
                    c[i * n + j] += a[i * k + p] * b[p * n + j];
                }
            }
        }
        c
    }

    fn transpose(r: usize, c: usize, x: &[f64]) -> Vec<f64> {
        let mut t = vec![0.0; r * c];
        for i in 0..r {
            for j in 0..c {
                t[j * r + i] = x[i * c + j];
            }
        }
        t
    }

    #[test]
    fn all_transpose_flags_agree_with_naive_product() {
        let (m, k, n) = (70, 33, 90);
        let a: Vec<f64> = (0..m * k).map(|i| ((i * 7 % 13) as f64) - 6.0).collect();
        let b: Vec<f64> = (0..k * n).map(|i| ((i * 5 % 11) as f64) * 0.5).collect();
        let want = naive(m, k, n, &a, &b);
        let at = transpose(m, k, &a);
        let bt = transpose(k, n, &b);
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let mut c = vec![0.0; m * n];
            gemm(
                m,
                k,
                n,
                if ta { &at } else { &a },
                ta,
                if tb { &bt } else { &b },
                tb,
                &mut c,
                false,
            );
            assert_eq!(c, want, "ta={ta} tb={tb}");
        }
    }

    /// Products split by rows and by columns, over 1–4 threads, give the bits of one
    /// unsplit matrixmultiply call, for every transpose flag, overwriting (also into a
    /// new buffer, [`product`]) and accumulating; the parts are ragged.
    #[test]
    fn any_split_gives_the_bits_of_one_call() {
        // (40, 140, 401): few rows against many columns, split by columns;
        // (203, 64, 150): k small, split by rows
        for (m, k, n) in [(40, 140, 401), (203, 64, 150)] {
            assert!(m * k * n >= PAR_WORK);
            let a: Vec<f32> = (0..m * k)
                .map(|i| ((i * 7 % 13) as f32) * 0.37 - 2.0)
                .collect();
            let b: Vec<f32> = (0..k * n)
                .map(|i| ((i * 5 % 11) as f32) * 0.29 - 1.0)
                .collect();
            let c0: Vec<f32> = (0..m * n).map(|i| (i % 17) as f32 * 0.1).collect();
            for (ta, tb, acc) in [
                (false, false, false),
                (true, false, true),
                (false, true, false),
                (true, true, true),
            ] {
                let mut want = c0.clone();
                let (rsa, csa) = if ta { (1, m as isize) } else { (k as isize, 1) };
                let (rsb, csb) = if tb { (1, k as isize) } else { (n as isize, 1) };
                let beta = if acc { 1.0 } else { 0.0 };
                f32::gemm(
                    m, k, n, 1.0, &a, rsa, csa, &b, rsb, csb, beta, &mut want, n as isize, 1,
                );
                for threads in 1..=4 {
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(threads)
                        .build()
                        .unwrap();
                    // overwriting: NaN in `c` would show if anything read it
                    let mut got = if acc {
                        c0.clone()
                    } else {
                        vec![f32::NAN; m * n]
                    };
                    pool.install(|| gemm(m, k, n, &a, ta, &b, tb, &mut got, acc));
                    assert_eq!(
                        got, want,
                        "{m}×{k}×{n} ta={ta} tb={tb} acc={acc} {threads} threads"
                    );
                    if !acc {
                        let fresh = pool.install(|| product(m, k, n, &a, ta, &b, tb));
                        assert_eq!(fresh, want, "product {m}×{k}×{n} ta={ta} tb={tb}");
                    }
                }
            }
        }
    }

    /// Products with few columns or a small `op(b)` take `gemm_unpacked` (row-major or
    /// panels), which must give the bits of one matrixmultiply call: depths around its blocks of 256 (one,
    /// two, three and four chains), every column count's lanes, a last panel narrower
    /// than 32 columns (130×300×150 from a copy of `b`, 40×700×400 from `bᵀ`, and
    /// 48×800×600 run the other way round from panels of `a`), row
    /// remainders, `a` and `b` stored either way (few rows against a transposed `b`,
    /// e.g. 16×300×200, run as `cᵀ = b · op(a)ᵀ`), overwriting (also into a new buffer,
    /// [`product`]) and accumulating, over 1–3 threads.
    #[test]
    fn unpacked_products_have_the_bits_of_matrixmultiply() {
        if !gemm_unpacked_applies::<f32>() {
            eprintln!("no AVX-512F here: products with few columns run on matrixmultiply");
        }
        for (m, k, n) in [
            (256, 784, 10),
            (64, 400, 16),
            (37, 256, 32),
            (9, 257, 17),
            (8, 255, 1),
            (1, 513, 31),
            (300, 100, 2),
            (32, 64, 192),
            (7, 28, 192),
            (256, 192, 64),
            (16, 300, 200),
            (40, 600, 70),
            (40, 700, 400),
            (48, 800, 600),
            (130, 300, 150),
        ] {
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 37 % 101) as f32).sin()).collect();
            let b: Vec<f32> = (0..k * n).map(|i| ((i * 53 % 97) as f32).cos()).collect();
            let bt: Vec<f32> = (0..k * n).map(|i| b[(i % k) * n + i / k]).collect();
            let at: Vec<f32> = (0..m * k).map(|i| a[(i % m) * k + i / m]).collect();
            let c0: Vec<f32> = (0..m * n).map(|i| (i % 17) as f32 * 0.1 - 0.8).collect();
            for acc in [false, true] {
                let mut want = c0.clone();
                let beta = if acc { 1.0 } else { 0.0 };
                f32::gemm(
                    m, k, n, 1.0, &a, k as isize, 1, &b, n as isize, 1, beta, &mut want,
                    n as isize, 1,
                );
                for threads in 1..=3 {
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(threads)
                        .build()
                        .unwrap();
                    for (ta, aa, tb, bb) in [
                        (false, &a, false, &b),
                        (false, &a, true, &bt),
                        (true, &at, false, &b),
                        (true, &at, true, &bt),
                    ] {
                        let same = |got: &[f32]| {
                            got.iter()
                                .zip(&want)
                                .all(|(x, y)| x.to_bits() == y.to_bits())
                        };
                        // overwriting: NaN in `c` would show if anything read it
                        let mut got = if acc {
                            c0.clone()
                        } else {
                            vec![f32::NAN; m * n]
                        };
                        pool.install(|| gemm(m, k, n, aa, ta, bb, tb, &mut got, acc));
                        assert!(
                            same(&got),
                            "{m}×{k}×{n} ta={ta} tb={tb} acc={acc} {threads} threads"
                        );
                        if !acc {
                            let fresh = pool.install(|| product(m, k, n, aa, ta, bb, tb));
                            assert!(same(&fresh), "product {m}×{k}×{n} ta={ta} tb={tb}");
                        }
                    }
                }
            }
        }
    }

    /// A batched product, its batches run in parallel, gives each batch's own product,
    /// with `b` shared or one per batch, and `a` stored transposed.
    #[test]
    fn batched_products_are_each_batch_product() {
        let (batch, m, k, n) = (3, 40, 96, 120);
        assert!(batch * m * k * n >= PAR_WORK);
        let a: Vec<f32> = (0..batch * m * k)
            .map(|i| (i as f32 * 0.37).sin())
            .collect();
        let b: Vec<f32> = (0..batch * k * n)
            .map(|i| (i as f32 * 0.53).cos())
            .collect();
        for (ta, b_batched) in [(false, false), (false, true), (true, true)] {
            let got = batched_product(batch, m, k, n, &a, true, ta, &b, b_batched, false);
            for i in 0..batch {
                let bi = if b_batched { &b[i * k * n..] } else { &b[..] };
                let want = product(
                    m,
                    k,
                    n,
                    &a[i * m * k..(i + 1) * m * k],
                    ta,
                    &bi[..k * n],
                    false,
                );
                assert_eq!(
                    &got[i * m * n..(i + 1) * m * n],
                    &want[..],
                    "batch {i} ta={ta}"
                );
            }
        }
    }

    #[test]
    fn generic_fallback_matches_matrixmultiply() {
        use crate::autodiff::dual::Dual;
        let (m, k, n) = (5, 4, 3);
        let a: Vec<f64> = (0..m * k).map(|i| i as f64 * 0.3 - 1.0).collect();
        let b: Vec<f64> = (0..k * n).map(|i| 2.0 - i as f64 * 0.1).collect();
        let mut c = vec![0.0; m * n];
        gemm(m, k, n, &a, false, &b, false, &mut c, false);
        let ad: Vec<Dual<f64>> = a.iter().map(|&v| Dual::constant(v)).collect();
        let bd: Vec<Dual<f64>> = b.iter().map(|&v| Dual::constant(v)).collect();
        let mut cd = vec![Dual::constant(0.0); m * n];
        gemm(m, k, n, &ad, false, &bd, false, &mut cd, false);
        for (x, y) in c.iter().zip(&cd) {
            assert!((x - y.re).abs() < 1e-12);
        }
    }
}
