//! Small dense linear algebra in f64: the symmetric eigen-decompositions that principal
//! components stand on. [`symmetric_eigen`] (Jacobi) gives every pair of a small matrix
//! (Eigen-CAM's channel covariance); [`top_eigen`] (block subspace iteration) gives the
//! leading pairs of a large one (layer PCA's 784 × 784 covariance).

use super::matmul::gemm;

/// Eigenvalues (descending) and unit eigenvectors (`vectors[k]` for `values[k]`) of the
/// symmetric `n × n` matrix `a` (row-major), by cyclic Jacobi rotations until the
/// off-diagonal mass is below `1e-30` of the total (or 100 sweeps). Each eigenvector's
/// sign is fixed so that its largest-magnitude component is positive (scikit-learn's
/// `svd_flip` convention), so results do not depend on rotation order accidents.
pub fn symmetric_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
    assert_eq!(a.len(), n * n, "symmetric_eigen: matrix is not n × n");
    let mut m = a.to_vec();
    let mut v = vec![0.0; n * n];
    (0..n).for_each(|i| v[i * n + i] = 1.0);
    let total: f64 = m.iter().map(|x| x * x).sum();
    for _ in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * n + j] * m[i * n + j])
            .sum();
        if off <= 1e-30 * total.max(f64::MIN_POSITIVE) {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                // the rotation that zeroes m[p][q] (Golub & Van Loan, Algorithm 8.4.1)
                let theta = (m[q * n + q] - m[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (mkp, mkq) = (m[k * n + p], m[k * n + q]);
                    m[k * n + p] = c * mkp - s * mkq;
                    m[k * n + q] = s * mkp + c * mkq;
                }
                for k in 0..n {
                    let (mpk, mqk) = (m[p * n + k], m[q * n + k]);
                    m[p * n + k] = c * mpk - s * mqk;
                    m[q * n + k] = s * mpk + c * mqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| m[j * n + j].total_cmp(&m[i * n + i]).then(i.cmp(&j)));
    let values = order.iter().map(|&i| m[i * n + i]).collect();
    let vectors = order
        .iter()
        .map(|&i| {
            let mut col: Vec<f64> = (0..n).map(|k| v[k * n + i]).collect();
            flip_sign(&mut col);
            col
        })
        .collect();
    (values, vectors)
}

/// Squared Euclidean distances `‖aᵢ − bⱼ‖²` between the rows of `a` and of `b` (`d`
/// values each), `|a| × |b|` row-major, by `‖a‖² + ‖b‖² − 2 a·b` (one GEMM), clamped at 0
/// against rounding.
pub fn squared_distances(a: &[f64], b: &[f64], d: usize) -> Vec<f64> {
    let (na, nb) = (a.len() / d.max(1), b.len() / d.max(1));
    let norms =
        |x: &[f64]| -> Vec<f64> { x.chunks(d).map(|r| r.iter().map(|v| v * v).sum()).collect() };
    let (an, bn) = (norms(a), norms(b));
    let mut g = vec![0.0; na * nb];
    gemm(na, d, nb, a, false, b, true, &mut g, false);
    for (i, row) in g.chunks_mut(nb.max(1)).enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = (an[i] + bn[j] - 2.0 * *v).max(0.0);
        }
    }
    g
}

/// The lower-triangular Cholesky factor `L` of the symmetric `n × n` matrix `a`
/// (row-major, `a = L Lᵀ`; the upper triangle of the result is zero), or `None` when `a`
/// is not positive definite (a pivot ≤ 0 or NaN). Influence functions' explicit-Hessian
/// solver and LIME's ridge system use it.
pub fn cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    assert_eq!(a.len(), n * n, "cholesky: matrix is not n × n");
    let mut l = a.to_vec();
    for j in 0..n {
        let s = l[j * n + j] - (0..j).map(|k| l[j * n + k] * l[j * n + k]).sum::<f64>();
        if s.is_nan() || s <= 0.0 {
            return None;
        }
        l[j * n + j] = s.sqrt();
        for i in j + 1..n {
            let dot = (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum::<f64>();
            l[i * n + j] = (l[i * n + j] - dot) / l[j * n + j];
        }
        for k in j + 1..n {
            l[j * n + k] = 0.0;
        }
    }
    Some(l)
}

/// Solves `L Lᵀ x = b` with the factor from [`cholesky`] (forward, then back substitution).
pub fn cholesky_solve(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut x = b.to_vec();
    for i in 0..n {
        x[i] = (x[i] - (0..i).map(|k| l[i * n + k] * x[k]).sum::<f64>()) / l[i * n + i];
    }
    for i in (0..n).rev() {
        x[i] = (x[i] - (i + 1..n).map(|k| l[k * n + i] * x[k]).sum::<f64>()) / l[i * n + i];
    }
    x
}

/// Flips `v` so that its largest-magnitude component is positive (scikit-learn's
/// `svd_flip(u_based_decision=False)`); the first such component wins a tie.
pub fn flip_sign(v: &mut [f64]) {
    let big = v
        .iter()
        .fold(0.0f64, |b, &x| if x.abs() > b.abs() { x } else { b });
    if big < 0.0 {
        v.iter_mut().for_each(|x| *x = -*x);
    }
}

/// Orthonormalizes the `b` columns of the `n × b` row-major `q` in place (modified
/// Gram–Schmidt, twice for stability). A column that is (numerically) a combination of
/// the earlier ones, below 1e-12 of the largest column's norm after projection, is
/// replaced by the first unit basis vector that keeps half its length after projection:
/// a rank-deficient block would otherwise yield normalized rounding noise that is not
/// orthogonal to anything.
fn orthonormalize(q: &mut [f64], n: usize, b: usize) {
    let col_norm = |q: &[f64], j: usize| (0..n).map(|r| q[r * b + j].powi(2)).sum::<f64>().sqrt();
    let scale = (0..b).map(|j| col_norm(q, j)).fold(0.0f64, f64::max);
    // removes the earlier columns' components from column j (twice); returns its norm
    let project = |q: &mut [f64], j: usize| {
        for _pass in 0..2 {
            for i in 0..j {
                let d: f64 = (0..n).map(|r| q[r * b + i] * q[r * b + j]).sum();
                (0..n).for_each(|r| q[r * b + j] -= d * q[r * b + i]);
            }
        }
        col_norm(q, j)
    };
    for j in 0..b {
        let mut norm = project(q, j);
        if norm <= 1e-12 * scale || norm == 0.0 {
            // the basis vector that keeps the most length (the first keeping half will do)
            let mut best = (0.0, j % n);
            for e in (j..j + n).map(|e| e % n) {
                (0..n).for_each(|r| q[r * b + j] = if r == e { 1.0 } else { 0.0 });
                let len = project(q, j);
                if len > best.0 {
                    best = (len, e);
                }
                if len >= 0.5 {
                    break;
                }
            }
            (0..n).for_each(|r| q[r * b + j] = if r == best.1 { 1.0 } else { 0.0 });
            norm = project(q, j);
        }
        (0..n).for_each(|r| q[r * b + j] /= norm);
    }
}

/// The `k` largest eigenvalues (descending) and their unit eigenvectors (signs as
/// [`flip_sign`]) of the symmetric positive semi-definite `n × n` matrix `a`.
///
/// Small matrices (n ≤ 96) go to [`symmetric_eigen`]. Larger ones use block subspace
/// iteration with Rayleigh–Ritz (Saad, *Numerical Methods for Large Eigenvalue Problems*,
/// §5.2): a block of `2k + 8` columns is multiplied by `a` (one GEMM), the small
/// projected matrix is diagonalized by Jacobi, and the iteration stops when every wanted
/// Ritz pair has `‖a v − λ v‖ ≤ tol · λ₁`, or after `max_iter` rounds. Error in the
/// subspace shrinks like `(λ_{b+1}/λ_k)^t`. Returns the number of rounds as well; the
/// start block is fixed, so results are the same on every run and thread count.
pub fn top_eigen(
    a: &[f64],
    n: usize,
    k: usize,
    tol: f64,
    max_iter: usize,
) -> (Vec<f64>, Vec<Vec<f64>>, usize) {
    assert_eq!(a.len(), n * n, "top_eigen: matrix is not n × n");
    let k = k.min(n);
    if n <= 96 {
        let (mut vals, mut vecs) = symmetric_eigen(a, n);
        vals.truncate(k);
        vecs.truncate(k);
        return (vals, vecs, 0);
    }
    let b = (2 * k + 8).min(n);
    // a fixed, well-spread start block (a deterministic hash of the position)
    let mut q: Vec<f64> = (0..n * b)
        .map(|i| {
            let h = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let h = (h ^ (h >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            ((h >> 11) as f64 / (1u64 << 53) as f64) - 0.5
        })
        .collect();
    orthonormalize(&mut q, n, b);
    let mut z = vec![0.0; n * b];
    let mut small = vec![0.0; b * b];
    let mut rounds = 0;
    loop {
        rounds += 1;
        gemm(n, n, b, a, false, &q, false, &mut z, false);
        // Rayleigh–Ritz: T = Qᵀ A Q, T = S Θ Sᵀ
        gemm(b, n, b, &q, true, &z, false, &mut small, false);
        for i in 0..b {
            for j in 0..i {
                let m = 0.5 * (small[i * b + j] + small[j * b + i]);
                small[i * b + j] = m;
                small[j * b + i] = m;
            }
        }
        let (theta, s) = symmetric_eigen(&small, b);
        let s_mat: Vec<f64> = (0..b * b).map(|i| s[i % b][i / b]).collect();
        let mut x = vec![0.0; n * b];
        let mut ax = vec![0.0; n * b];
        gemm(n, b, b, &q, false, &s_mat, false, &mut x, false);
        gemm(n, b, b, &z, false, &s_mat, false, &mut ax, false);
        let scale = theta[0].abs().max(f64::MIN_POSITIVE);
        let worst = (0..k)
            .map(|j| {
                (0..n)
                    .map(|r| (ax[r * b + j] - theta[j] * x[r * b + j]).powi(2))
                    .sum::<f64>()
                    .sqrt()
            })
            .fold(0.0f64, f64::max);
        if worst <= tol * scale || rounds >= max_iter {
            let vecs = (0..k)
                .map(|j| {
                    let mut v: Vec<f64> = (0..n).map(|r| x[r * b + j]).collect();
                    flip_sign(&mut v);
                    v
                })
                .collect();
            return (theta[..k].to_vec(), vecs, rounds);
        }
        q = ax;
        orthonormalize(&mut q, n, b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconstructs_a_symmetric_matrix() {
        // A = Σ λ v vᵀ, orthonormal vectors, descending values, fixed signs
        let n = 6;
        let a: Vec<f64> = (0..n * n)
            .map(|k| {
                let (i, j) = (k / n, k % n);
                ((i + 1) * (j + 1)) as f64 / 7.0 + if i == j { i as f64 } else { 0.0 }
                    - ((i as f64 - j as f64).abs()).sqrt()
            })
            .collect();
        let (vals, vecs) = symmetric_eigen(&a, n);
        assert!(vals.windows(2).all(|w| w[0] >= w[1]));
        for i in 0..n {
            for j in 0..n {
                let r: f64 = (0..n).map(|k| vals[k] * vecs[k][i] * vecs[k][j]).sum();
                assert!((r - a[i * n + j]).abs() < 1e-10, "A[{i}][{j}]");
                let d: f64 = (0..n).map(|k| vecs[i][k] * vecs[j][k]).sum();
                assert!((d - if i == j { 1.0 } else { 0.0 }).abs() < 1e-10);
            }
            let big = vecs[i]
                .iter()
                .fold(0.0f64, |b, &x| if x.abs() > b.abs() { x } else { b });
            assert!(big > 0.0);
        }
    }

    #[test]
    fn top_eigen_matches_jacobi_on_a_large_matrix() {
        // A = B Bᵀ with a decaying spectrum; the leading pairs equal Jacobi's
        let n = 120;
        let b: Vec<f64> = (0..n * n)
            .map(|i| (((i * 7919) % 1000) as f64 / 1000.0 - 0.5) / (1.0 + (i % n) as f64))
            .collect();
        let mut a = vec![0.0; n * n];
        gemm(n, n, n, &b, false, &b, true, &mut a, false);
        let (want_v, want) = symmetric_eigen(&a, n);
        let (got_v, got, rounds) = top_eigen(&a, n, 3, 1e-13, 5000);
        assert!(rounds > 0 && rounds < 5000, "{rounds} rounds");
        for j in 0..3 {
            assert!((got_v[j] - want_v[j]).abs() < 1e-10 * want_v[0], "λ{j}");
            let d = got[j]
                .iter()
                .zip(&want[j])
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f64::max);
            assert!(d < 1e-8, "vector {j}: {d}");
        }
    }

    #[test]
    fn top_eigen_of_a_rank_deficient_matrix() {
        // nonzero only in a 3 × 3 corner: the block's extra columns are rounding noise in a
        // 3-dimensional space and must be replaced, not normalized
        let n = 150;
        let mut a = vec![0.0; n * n];
        for (i, j, v) in [
            (0, 0, 3.0),
            (0, 1, 1.0),
            (1, 0, 1.0),
            (1, 1, 2.0),
            (2, 2, 0.5),
        ] {
            a[i * n + j] = v;
        }
        let (vals, vecs, rounds) = top_eigen(&a, n, 2, 1e-13, 100);
        assert!(rounds < 100);
        let s5 = 5f64.sqrt();
        assert!((vals[0] - (5.0 + s5) / 2.0).abs() < 1e-12);
        assert!((vals[1] - (5.0 - s5) / 2.0).abs() < 1e-12);
        assert!(vecs[1][0].abs() > 0.5 && vecs[1][2].abs() < 1e-12);
    }
}
