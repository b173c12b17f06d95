//! Matrix-multiply kernels on raw row-major slices, split over both cores.
//!
//! Work is split into fixed blocks of output rows that do not depend on the number of
//! threads, and each output element is summed over k inside one block, so results are
//! bit-identical whatever the thread count.

use crate::float::Float;
use rayon::prelude::*;

/// Rows of C per parallel block.
const ROW_BLOCK: usize = 32;
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
    let (rsb, csb) = if tb { (1, k as isize) } else { (n as isize, 1) };
    let beta = if acc { T::one() } else { T::zero() };
    if k == 0 {
        if !acc {
            c[..m * n].iter_mut().for_each(|v| *v = T::zero());
        }
        return;
    }
    let run = |r0: usize, rows: usize, c: &mut [T]| {
        let (a_off, rsa, csa) = if ta {
            (r0, 1, m as isize)
        } else {
            (r0 * k, k as isize, 1)
        };
        T::gemm(
            rows,
            k,
            n,
            T::one(),
            &a[a_off..],
            rsa,
            csa,
            b,
            rsb,
            csb,
            beta,
            c,
            n as isize,
            1,
        );
    };
    if m * k * n < PAR_WORK || m <= ROW_BLOCK {
        run(0, m, &mut c[..m * n]);
    } else {
        c[..m * n]
            .par_chunks_mut(ROW_BLOCK * n)
            .enumerate()
            .for_each(|(i, cb)| run(i * ROW_BLOCK, cb.len() / n, cb));
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
