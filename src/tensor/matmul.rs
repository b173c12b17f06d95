//! Matrix-multiply kernels on raw row-major slices, split over both cores.
//!
//! Work is split into fixed blocks of output rows that do not depend on the number of
//! threads, and each output element is summed over k inside one block, so results are
//! bit-identical whatever the thread count.

use crate::float::Float;
use rayon::prelude::*;

/// Rows of C per parallel block.
const ROW_BLOCK: usize = 32;
/// Columns of C per parallel block when the product is split by columns.
const COL_BLOCK: usize = 128;
/// Below this many multiply-adds a GEMM runs on the calling thread.
const PAR_WORK: usize = 1 << 20;

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
    let beta = if acc { T::one() } else { T::zero() };
    if k == 0 {
        if !acc {
            c[..m * n].iter_mut().for_each(|v| *v = T::zero());
        }
        return;
    }
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
    // Each block's matrixmultiply call packs the whole of the other operand: a row block
    // repacks op(b) (k×n), a column block repacks op(a) (m×k). Split the way that packs
    // less. Linear layers on a batch (m = 64 rows against n = 400–784 columns) and their
    // weight gradients (k = 64) pack 3–7× less by columns: mnist-vae's training step
    // spent a sixth of its time packing. Either split computes each element with the same
    // k-loop, and the split depends only on the shapes, never on the thread count.
    let (row_blocks, col_blocks) = (m.div_ceil(ROW_BLOCK), n.div_ceil(COL_BLOCK));
    let by_columns = col_blocks > 1 && col_blocks * m < row_blocks * n;
    if m * k * n < PAR_WORK || (m <= ROW_BLOCK && !by_columns) {
        block(0, m, 0, n, &mut c[..m * n], n);
    } else if by_columns {
        // each column block into its own buffer (holding the block of `c` first when
        // accumulating), copied back after: no two threads write the same slice
        let c_in: &[T] = &c[..m * n];
        let blocks: Vec<Vec<T>> = (0..col_blocks)
            .into_par_iter()
            .map(|j| {
                let (j0, cols) = (j * COL_BLOCK, COL_BLOCK.min(n - j * COL_BLOCK));
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
            let (j0, cols) = (j * COL_BLOCK, COL_BLOCK.min(n - j * COL_BLOCK));
            for (row, src) in c[..m * n].chunks_mut(n).zip(cb.chunks(cols)) {
                row[j0..j0 + cols].copy_from_slice(src);
            }
        }
    } else {
        c[..m * n]
            .par_chunks_mut(ROW_BLOCK * n)
            .enumerate()
            .for_each(|(i, cb)| block(i * ROW_BLOCK, cb.len() / n, 0, n, cb, n));
    }
}

/// Batched product: `a` holds `ba` matrices and `b` holds `bb` (each 1 or `batch`).
#[allow(clippy::too_many_arguments)]
pub fn batched_gemm<T: Float>(
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
    c: &mut [T],
) {
    let one = |i: usize, cb: &mut [T]| {
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
        gemm(m, k, n, ab, ta, bbm, tb, cb, false);
    };
    if batch > 1 && batch * m * k * n >= PAR_WORK && m * n > 0 {
        c.par_chunks_mut(m * n)
            .enumerate()
            .for_each(|(i, cb)| one(i, cb));
    } else if m * n > 0 {
        c.chunks_mut(m * n)
            .enumerate()
            .for_each(|(i, cb)| one(i, cb));
    }
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

    /// A product large enough to be split by columns gives the bits of one unsplit
    /// matrixmultiply call, for every transpose flag, overwriting and accumulating.
    #[test]
    fn column_split_gives_the_bits_of_one_call() {
        // parallel (m·k·n ≥ PAR_WORK), and 4 column blocks of 40 rows pack less than 2
        // row blocks of 401 columns; the last column block is ragged
        let (m, k, n) = (40, 140, 3 * COL_BLOCK + 17);
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
            let mut got = c0.clone();
            gemm(m, k, n, &a, ta, &b, tb, &mut got, acc);
            let mut want = c0.clone();
            let (rsa, csa) = if ta { (1, m as isize) } else { (k as isize, 1) };
            let (rsb, csb) = if tb { (1, k as isize) } else { (n as isize, 1) };
            let beta = if acc { 1.0 } else { 0.0 };
            f32::gemm(
                m, k, n, 1.0, &a, rsa, csa, &b, rsb, csb, beta, &mut want, n as isize, 1,
            );
            assert_eq!(got, want, "ta={ta} tb={tb} acc={acc}");
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
