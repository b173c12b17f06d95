//! Layer PCA: *along which directions do a layer's activations vary most, and does the
//! class structure show in the first two?*
//!
//! For activations `X` (`n × d`, one row per example) with column means `μ`, the
//! principal directions are the leading eigenvectors `v₁, v₂, …` of the covariance
//! `C = (X − μ)ᵀ(X − μ) / (n − 1)`; the coordinates are `(X − μ) vⱼ`, the explained
//! variance `λⱼ` and its ratio `λⱼ / tr C` (Pearson 1901; Hotelling 1933; scikit-learn's
//! `PCA`). When `d > n` the `n × n` Gram matrix `(X − μ)(X − μ)ᵀ / (n − 1)` has the same
//! non-zero eigenvalues and `vⱼ = (X − μ)ᵀuⱼ / √((n − 1)λⱼ)`, which is cheaper.
//!
//! Sign convention: each component's largest-magnitude loading is positive, as
//! scikit-learn's `svd_flip(u_based_decision=False)` (its PCA since 1.5), so our
//! coordinates equal scikit-learn's exactly, not just up to sign.
//!
//! Pinned by `pca_recovers_a_rank_two_plane` (below) and by `tests/inside.rs`, which
//! compares coordinates, components and ratios with scikit-learn 1.9 on committed goldens
//! (`tests/golden/make_inside_golden.py`).

use crate::error::{Result, invalid};
use crate::tensor::linalg::{flip_sign, top_eigen};
use crate::tensor::matmul::gemm;

/// A fitted PCA.
#[derive(Clone, Debug)]
pub struct Pca {
    /// Column means `μ` (length d).
    pub mean: Vec<f64>,
    /// `k` unit directions of length d (scikit-learn's `components_`).
    pub components: Vec<Vec<f64>>,
    /// `λⱼ`, the variance along each direction.
    pub explained_variance: Vec<f64>,
    /// `λⱼ / tr C`.
    pub explained_variance_ratio: Vec<f64>,
    /// `n × k` coordinates, row-major.
    pub coords: Vec<f64>,
    pub k: usize,
}

impl Pca {
    /// The coordinates as `n × 2` (a second column of zeros when only one component was
    /// kept), for 2-D maps.
    pub fn coords_2d(&self) -> Vec<f64> {
        match self.k {
            1 => self.coords.iter().flat_map(|&v| [v, 0.0]).collect(),
            _ => self
                .coords
                .chunks(self.k)
                .flat_map(|r| [r[0], r[1]])
                .collect(),
        }
    }
}

/// Relative residual at which the eigen-solver stops ([`top_eigen`]'s `tol`): enough for
/// coordinates that agree with LAPACK's SVD to about 1e-10.
pub const EXACT: f64 = 1e-13;

/// PCA of the `n × d` row-major `x`, keeping `k` components, solved to [`EXACT`].
pub fn pca(x: &[f64], n: usize, d: usize, k: usize) -> Result<Pca> {
    pca_with(x, n, d, k, EXACT)
}

/// [`pca`] with the eigen-solver's tolerance (t-SNE's 50-dimensional preprocessing uses a
/// looser one: distances, not exact directions, matter there).
pub fn pca_with(x: &[f64], n: usize, d: usize, k: usize, tol: f64) -> Result<Pca> {
    if x.len() != n * d {
        return invalid(format!(
            "PCA: {} values for {n} rows of {d} features",
            x.len()
        ));
    }
    if n < 2 || d == 0 {
        return invalid(format!(
            "PCA needs at least 2 examples with at least 1 feature, got {n} × {d}"
        ));
    }
    if k == 0 || k > n.min(d) {
        return invalid(format!(
            "PCA: {k} components asked of {n} examples × {d} features (at most {})",
            n.min(d)
        ));
    }
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return invalid(format!(
            "PCA: non-finite value at row {}, feature {}",
            i / d,
            i % d
        ));
    }
    let mut mean = vec![0.0; d];
    for row in x.chunks(d) {
        mean.iter_mut().zip(row).for_each(|(m, v)| *m += v);
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let xc: Vec<f64> = x
        .chunks(d)
        .flat_map(|row| row.iter().zip(&mean).map(|(v, m)| v - m))
        .collect();
    let denom = (n - 1) as f64;
    let total: f64 = xc.iter().map(|v| v * v).sum::<f64>() / denom;
    let components: Vec<Vec<f64>>;
    let values: Vec<f64>;
    if d <= n {
        let mut c = vec![0.0; d * d];
        gemm(d, n, d, &xc, true, &xc, false, &mut c, false);
        c.iter_mut().for_each(|v| *v /= denom);
        let (vals, vecs, _) = top_eigen(&c, d, k, tol, 5000);
        values = vals;
        components = vecs;
    } else {
        let mut g = vec![0.0; n * n];
        gemm(n, d, n, &xc, false, &xc, true, &mut g, false);
        g.iter_mut().for_each(|v| *v /= denom);
        let (vals, us, _) = top_eigen(&g, n, k, tol, 5000);
        components = us
            .iter()
            .zip(&vals)
            .map(|(u, &l)| {
                let mut v = vec![0.0; d];
                gemm(1, n, d, u, false, &xc, false, &mut v, false);
                let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
                if l > 0.0 && norm > 0.0 {
                    v.iter_mut().for_each(|a| *a /= norm);
                }
                flip_sign(&mut v);
                v
            })
            .collect();
        values = vals;
    }
    let values: Vec<f64> = values.into_iter().map(|v| v.max(0.0)).collect();
    let flat: Vec<f64> = components.iter().flatten().copied().collect();
    let mut coords = vec![0.0; n * k];
    gemm(n, d, k, &xc, false, &flat, true, &mut coords, false);
    Ok(Pca {
        mean,
        explained_variance_ratio: values
            .iter()
            .map(|v| if total > 0.0 { v / total } else { 0.0 })
            .collect(),
        explained_variance: values,
        components,
        coords,
        k,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points on a plane through `c` spanned by two orthogonal directions: PCA gives the
    /// plane back exactly and all of the variance lies in it.
    fn plane(n: usize, d: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let mut a = vec![0.0; d];
        let mut b = vec![0.0; d];
        a[0] = 0.6;
        a[1] = 0.8;
        b[2] = 1.0;
        let mut x = Vec::new();
        for i in 0..n {
            let (s, t) = ((i as f64 * 0.37).sin() * 3.0, (i as f64 * 1.3).cos());
            x.extend((0..d).map(|j| 5.0 + j as f64 + s * a[j] + t * b[j]));
        }
        (x, a, b)
    }

    #[test]
    fn pca_recovers_a_rank_two_plane() {
        // both routes: covariance (d ≤ n) and Gram (d > n), small and large d
        for (n, d) in [(50, 5), (8, 30), (300, 200), (120, 400)] {
            let (x, a, b) = plane(n, d);
            let p = pca(&x, n, d, 2).unwrap();
            let sum: f64 = p.explained_variance_ratio.iter().sum();
            assert!((sum - 1.0).abs() < 1e-10, "{n}×{d}: ratios sum to {sum}");
            // both directions lie in the plane, are orthonormal, and follow the sign rule
            let dot = |u: &[f64], v: &[f64]| u.iter().zip(v).map(|(p, q)| p * q).sum::<f64>();
            for c in &p.components {
                let in_plane = dot(c, &a).powi(2) + dot(c, &b).powi(2);
                assert!((in_plane - 1.0).abs() < 1e-10, "{n}×{d}: {in_plane}");
                let big = c
                    .iter()
                    .fold(0.0f64, |m, &v| if v.abs() > m.abs() { v } else { m });
                assert!(big > 0.0);
            }
            assert!(dot(&p.components[0], &p.components[1]).abs() < 1e-10);
            assert!(p.explained_variance[0] >= p.explained_variance[1]);
            // reconstruction from 2 coordinates is exact
            for i in 0..n {
                for j in 0..d {
                    let r = p.mean[j]
                        + p.coords[i * 2] * p.components[0][j]
                        + p.coords[i * 2 + 1] * p.components[1][j];
                    assert!((r - x[i * d + j]).abs() < 1e-10, "{n}×{d} [{i},{j}]");
                }
            }
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(pca(&[1.0, 2.0], 1, 2, 1).is_err());
        assert!(pca(&[1.0, 2.0, 3.0, 4.0], 2, 2, 3).is_err());
        assert!(pca(&[1.0, f64::NAN, 3.0, 4.0], 2, 2, 1).is_err());
        assert!(pca(&[1.0, 2.0, 3.0], 2, 2, 1).is_err());
    }
}
