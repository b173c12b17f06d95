//! t-SNE: *which examples does a layer put close together?* A 2-D map that keeps each
//! point's neighbours (van der Maaten & Hinton 2008, "Visualizing Data using t-SNE").
//!
//! Input points `xᵢ` (first reduced to 50 dimensions by [`super::pca`] when wider).
//! Each point gets a Gaussian over the others, `p_{j|i} ∝ exp(−βᵢ‖xᵢ − xⱼ‖²)`, with βᵢ
//! found by binary search so that the entropy `H(Pᵢ) = log₂(perplexity)` bits; the joint
//! `pᵢⱼ = (p_{j|i} + p_{i|j}) / 2n`. The map `yᵢ ∈ ℝ²` uses a Student-t kernel,
//! `qᵢⱼ = (1 + ‖yᵢ − yⱼ‖²)⁻¹ / Z`, and gradient descent minimizes `KL(P‖Q)` with
//!
//! `∂KL/∂yᵢ = 4 Σⱼ (pᵢⱼ − qᵢⱼ)(1 + ‖yᵢ − yⱼ‖²)⁻¹ (yᵢ − yⱼ)`.
//!
//! Schedule as scikit-learn's `TSNE(method="exact")`: P multiplied by 12 (early
//! exaggeration) with momentum 0.5 for the first 250 iterations, then momentum 0.8,
//! 1000 iterations in all, learning rate `max(N / 12 / 4, 50)`, per-coordinate gains
//! (+0.2 when the gradient changes sign, ×0.8 otherwise, at least 0.01), PCA
//! initialization scaled so the first coordinate has standard deviation 1e-4, and the
//! same stopping rules (gradient norm ≤ 1e-7; no progress in 300 iterations, checked
//! every 50). Exact O(N²) per iteration; meant for N ≤ 3000.
//!
//! Each row's sums are computed by one thread in a fixed order and the normalizer `Z` is
//! summed row by row, so maps are bit-identical for any thread count.
//!
//! Pinned by the tests below (entropy per row, P symmetric with sum 1, gradient against
//! finite differences, three separated blobs) and in `tests/inside.rs` against
//! scikit-learn's `TSNE` on 2000 MNIST digits (5-NN accuracy in the map).

use super::pca::pca_with;
use crate::error::{Result, invalid};
use crate::tensor::linalg::squared_distances;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;

/// Where the map starts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// The first two principal components, scaled to standard deviation 1e-4
    /// (scikit-learn's default; needs no seed).
    Pca,
    /// N(0, 1e-4²) from a seed.
    Random(u64),
}

#[derive(Clone, Debug)]
pub struct TsneOptions {
    pub perplexity: f64,
    pub iterations: usize,
    pub exaggeration: f64,
    pub exaggeration_iterations: usize,
    /// `None`: `max(N / exaggeration / 4, 50)`.
    pub learning_rate: Option<f64>,
    pub init: Init,
    /// Inputs wider than this are first reduced to this many principal components.
    pub pca_dims: usize,
}

impl Default for TsneOptions {
    fn default() -> Self {
        TsneOptions {
            perplexity: 30.0,
            iterations: 1000,
            exaggeration: 12.0,
            exaggeration_iterations: 250,
            learning_rate: None,
            init: Init::Pca,
            pca_dims: 50,
        }
    }
}

/// A finished map.
#[derive(Clone, Debug)]
pub struct Tsne {
    /// `n × 2`, row-major.
    pub embedding: Vec<f64>,
    /// KL(P‖Q) at the end.
    pub kl: f64,
    /// Iterations run (fewer than asked when a stopping rule fired).
    pub iterations: usize,
}

/// The largest N the exact method accepts (its P and the row sums grow as N²).
pub const MAX_POINTS: usize = 5000;
/// scikit-learn's `MACHINE_EPSILON`: the floor of every pᵢⱼ and qᵢⱼ.
const EPS: f64 = f64::EPSILON;

/// `p_{j|i}` for one row of squared distances (`dist[i]` is ignored) and its entropy in
/// bits: binary search on β (doubling or halving until bracketed, then bisecting) until
/// the entropy is within 1e-10 of `log₂(perplexity)`, at most 200 steps.
pub fn conditional_row(dist: &[f64], i: usize, perplexity: f64) -> (Vec<f64>, f64) {
    let target = perplexity.ln();
    let (mut beta, mut lo, mut hi) = (1.0f64, f64::NEG_INFINITY, f64::INFINITY);
    let mut p = vec![0.0; dist.len()];
    let mut entropy = 0.0;
    for _ in 0..200 {
        let mut sum = 0.0;
        for (j, (pj, &dj)) in p.iter_mut().zip(dist).enumerate() {
            *pj = if j == i { 0.0 } else { (-dj * beta).exp() };
            sum += *pj;
        }
        let sum = if sum == 0.0 { 1e-300 } else { sum };
        let weighted: f64 = p.iter().zip(dist).map(|(pj, dj)| pj * dj).sum();
        p.iter_mut().for_each(|pj| *pj /= sum);
        // H = log Σ + β Σ d p / Σ (nats)
        entropy = sum.ln() + beta * weighted / sum;
        let diff = entropy - target;
        if diff.abs() <= 1e-10 {
            break;
        }
        if diff > 0.0 {
            lo = beta;
            beta = if hi == f64::INFINITY {
                beta * 2.0
            } else {
                (beta + hi) / 2.0
            };
        } else {
            hi = beta;
            beta = if lo == f64::NEG_INFINITY {
                beta / 2.0
            } else {
                (beta + lo) / 2.0
            };
        }
    }
    (p, entropy / std::f64::consts::LN_2)
}

/// The joint affinities `P` (`n × n`, symmetric, zero diagonal, summing to 1, floored at
/// machine epsilon off the diagonal) of the rows of `x`, and each row's calibrated
/// entropy in bits.
pub fn affinities(x: &[f64], n: usize, d: usize, perplexity: f64) -> Result<(Vec<f64>, Vec<f64>)> {
    if !(perplexity.is_finite() && perplexity >= 1.0) {
        return invalid(format!(
            "t-SNE: --perplexity must be a number ≥ 1, got {perplexity}"
        ));
    }
    if perplexity >= n as f64 {
        return invalid(format!(
            "t-SNE: perplexity {perplexity} must be below the number of points ({n}); use a smaller --perplexity or more points"
        ));
    }
    let mut dist = squared_distances(x, x, d);
    (0..n).for_each(|i| dist[i * n + i] = 0.0);
    let rows: Vec<(Vec<f64>, f64)> = dist
        .par_chunks(n)
        .enumerate()
        .map(|(i, row)| conditional_row(row, i, perplexity))
        .collect();
    let entropies = rows.iter().map(|r| r.1).collect();
    let mut p = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            if i != j {
                p[i * n + j] = ((rows[i].0[j] + rows[j].0[i]) / (2.0 * n as f64)).max(EPS);
            }
        }
    }
    Ok((p, entropies))
}

/// `KL(P‖Q)` and its gradient with respect to the map `y` (`n × 2`, row-major), for
/// joint `p`.
pub fn kl_gradient(p: &[f64], y: &[f64], n: usize) -> (f64, Vec<f64>) {
    let mut w = vec![0.0; n * n];
    let (kl, g) = kl_gradient_in(p, y, n, &mut w, true);
    (kl, g)
}

/// `wᵢⱼ = (1 + ‖yᵢ − yⱼ‖²)⁻¹` into `row` (the diagonal included), summed in four lanes.
#[inline(always)]
fn kernel_row_generic(xi: f64, yi: f64, yx: &[f64], yy: &[f64], row: &mut [f64]) -> [f64; 4] {
    let n = row.len();
    let mut acc = [0.0f64; 4];
    for ((wc, xc), yc) in row
        .chunks_exact_mut(4)
        .zip(yx.chunks_exact(4))
        .zip(yy.chunks_exact(4))
    {
        for l in 0..4 {
            let (dx, dy) = (xi - xc[l], yi - yc[l]);
            let v = 1.0 / (1.0 + dx * dx + dy * dy);
            wc[l] = v;
            acc[l] += v;
        }
    }
    for j in n - n % 4..n {
        let (dx, dy) = (xi - yx[j], yi - yy[j]);
        let v = 1.0 / (1.0 + dx * dx + dy * dy);
        row[j] = v;
        acc[j % 4] += v;
    }
    acc
}

/// `Σⱼ (pᵢⱼ − wᵢⱼ/Z) wᵢⱼ (yᵢ − yⱼ)` per coordinate, in four lanes each.
#[inline(always)]
fn gradient_row_generic(
    xi: f64,
    yi: f64,
    yx: &[f64],
    yy: &[f64],
    wrow: &[f64],
    prow: &[f64],
    inv_z: f64,
) -> ([f64; 4], [f64; 4]) {
    let n = wrow.len();
    let (mut gx, mut gy) = ([0.0f64; 4], [0.0f64; 4]);
    let whole = n - n % 4;
    for j0 in (0..whole).step_by(4) {
        for l in 0..4 {
            let j = j0 + l;
            let f = (prow[j] - wrow[j] * inv_z) * wrow[j];
            gx[l] += f * (xi - yx[j]);
            gy[l] += f * (yi - yy[j]);
        }
    }
    for j in whole..n {
        let f = (prow[j] - wrow[j] * inv_z) * wrow[j];
        gx[j % 4] += f * (xi - yx[j]);
        gy[j % 4] += f * (yi - yy[j]);
    }
    (gx, gy)
}

// The same two loops compiled for AVX, used when the processor has it: wider vectors for
// the same additions, multiplications and divisions in the same order (no fused
// multiply-add), so the results are bit-identical to the baseline build's.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn kernel_row_avx(xi: f64, yi: f64, yx: &[f64], yy: &[f64], row: &mut [f64]) -> [f64; 4] {
    kernel_row_generic(xi, yi, yx, yy, row)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn gradient_row_avx(
    xi: f64,
    yi: f64,
    yx: &[f64],
    yy: &[f64],
    wrow: &[f64],
    prow: &[f64],
    inv_z: f64,
) -> ([f64; 4], [f64; 4]) {
    gradient_row_generic(xi, yi, yx, yy, wrow, prow, inv_z)
}

fn kernel_row(xi: f64, yi: f64, yx: &[f64], yy: &[f64], row: &mut [f64]) -> [f64; 4] {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the processor supports AVX (checked on the line above)
        return unsafe { kernel_row_avx(xi, yi, yx, yy, row) };
    }
    kernel_row_generic(xi, yi, yx, yy, row)
}

fn gradient_row(
    xi: f64,
    yi: f64,
    yx: &[f64],
    yy: &[f64],
    wrow: &[f64],
    prow: &[f64],
    inv_z: f64,
) -> ([f64; 4], [f64; 4]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the processor supports AVX (checked on the line above)
        return unsafe { gradient_row_avx(xi, yi, yx, yy, wrow, prow, inv_z) };
    }
    gradient_row_generic(xi, yi, yx, yy, wrow, prow, inv_z)
}

/// [`kl_gradient`] with the kernel values kept in `w` (`n × n`, reused between
/// iterations); the KL itself (a logarithm per pair) only when `with_kl`, else NaN.
///
/// Two passes over rows, each row on one thread: the kernel row `wᵢⱼ = (1 + ‖yᵢ − yⱼ‖²)⁻¹`
/// and its sum, then (with `Z = Σᵢ rowsumᵢ` added in row order) the gradient row. Inner
/// sums run in four fixed lanes so they vectorize and do not depend on the thread count.
fn kl_gradient_in(p: &[f64], y: &[f64], n: usize, w: &mut [f64], with_kl: bool) -> (f64, Vec<f64>) {
    let yx: Vec<f64> = y.iter().step_by(2).copied().collect();
    let yy: Vec<f64> = y.iter().skip(1).step_by(2).copied().collect();
    let row_sums: Vec<f64> = w
        .par_chunks_mut(n)
        .enumerate()
        .map(|(i, row)| {
            let acc = kernel_row(yx[i], yy[i], &yx, &yy, row);
            row[i] = 0.0;
            (acc[0] + acc[1]) + (acc[2] + acc[3]) - 1.0
        })
        .collect();
    let z: f64 = row_sums.iter().sum();
    let inv_z = 1.0 / z;
    let rows: Vec<(f64, [f64; 2])> = w
        .par_chunks(n)
        .zip(p.par_chunks(n))
        .enumerate()
        .map(|(i, (wrow, prow))| {
            let (gx, gy) = gradient_row(yx[i], yy[i], &yx, &yy, wrow, prow, inv_z);
            let mut kl = 0.0;
            if with_kl {
                for j in (0..n).filter(|&j| j != i) {
                    let q = (wrow[j] * inv_z).max(EPS);
                    kl += prow[j] * (prow[j].max(EPS) / q).ln();
                }
            }
            let sum = |a: [f64; 4]| 4.0 * ((a[0] + a[1]) + (a[2] + a[3]));
            (kl, [sum(gx), sum(gy)])
        })
        .collect();
    let kl = if with_kl {
        rows.iter().map(|r| r.0).sum()
    } else {
        f64::NAN
    };
    (kl, rows.iter().flat_map(|r| r.1).collect())
}

/// The t-SNE map of the `n × d` rows of `x`. `tick` is called after every iteration
/// (for a progress bar).
pub fn tsne(
    x: &[f64],
    n: usize,
    d: usize,
    opts: &TsneOptions,
    mut tick: impl FnMut(usize),
) -> Result<Tsne> {
    if x.len() != n * d || d == 0 {
        return invalid(format!(
            "t-SNE: {} values for {n} rows of {d} features",
            x.len()
        ));
    }
    if n < 3 {
        return invalid(format!("t-SNE needs at least 3 points, got {n}"));
    }
    if n > MAX_POINTS {
        return invalid(format!(
            "t-SNE (exact) takes at most {MAX_POINTS} points, got {n}; use a smaller --n"
        ));
    }
    if opts.iterations == 0 || opts.exaggeration_iterations > opts.iterations {
        return invalid(format!(
            "t-SNE: {} iterations with {} of early exaggeration; need at least 1, and at least as many as the exaggerated ones",
            opts.iterations, opts.exaggeration_iterations
        ));
    }
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return invalid(format!(
            "t-SNE: non-finite value at row {}, feature {}",
            i / d,
            i % d
        ));
    }
    // reduce wide inputs to their leading principal components
    let reduced;
    let (x, d) = if d > opts.pca_dims && opts.pca_dims > 0 && n > opts.pca_dims {
        reduced = pca_with(x, n, d, opts.pca_dims, 1e-6)?.coords;
        (&reduced[..], opts.pca_dims)
    } else {
        (x, d)
    };
    let (mut p, _) = affinities(x, n, d, opts.perplexity)?;
    let mut y = match opts.init {
        Init::Pca => {
            let c = pca_with(x, n, d, 2.min(d), 1e-10)?.coords_2d();
            let m = c.iter().step_by(2).sum::<f64>() / n as f64;
            let sd = (c.iter().step_by(2).map(|v| (v - m).powi(2)).sum::<f64>() / n as f64).sqrt();
            let s = if sd > 0.0 { 1e-4 / sd } else { 1.0 };
            c.iter().map(|v| v * s).collect()
        }
        Init::Random(seed) => {
            let mut rng = StdRng::seed_from_u64(seed);
            let normal = Normal::new(0.0, 1e-4).expect("valid σ");
            (0..2 * n)
                .map(|_| normal.sample(&mut rng))
                .collect::<Vec<f64>>()
        }
    };
    let lr = opts
        .learning_rate
        .unwrap_or((n as f64 / opts.exaggeration / 4.0).max(50.0));
    p.iter_mut().for_each(|v| *v *= opts.exaggeration);
    let mut update = vec![0.0; 2 * n];
    let mut gains = vec![1.0; 2 * n];
    let mut w = vec![0.0; n * n];
    let mut it = 0;
    // two phases as scikit-learn's `_gradient_descent` calls: a stopping rule ends a
    // phase, not the run
    let phases = [
        (
            0.5,
            opts.exaggeration_iterations,
            opts.exaggeration_iterations,
        ),
        (0.8, opts.iterations, 300),
    ];
    for (phase, &(momentum, end, patience)) in phases.iter().enumerate() {
        if phase == 1 {
            p.iter_mut().for_each(|v| *v /= opts.exaggeration);
        }
        let (mut best, mut best_iter) = (f64::INFINITY, it);
        while it < end {
            let check = (it + 1) % 50 == 0;
            let (err, mut grad) = kl_gradient_in(&p, &y, n, &mut w, check);
            for i in 0..2 * n {
                if update[i] * grad[i] < 0.0 {
                    gains[i] += 0.2;
                } else {
                    gains[i] *= 0.8;
                }
                gains[i] = f64::max(gains[i], 0.01);
                grad[i] *= gains[i];
                update[i] = momentum * update[i] - lr * grad[i];
                y[i] += update[i];
            }
            tick(it);
            it += 1;
            if check {
                if err < best {
                    (best, best_iter) = (err, it);
                } else if it - best_iter > patience {
                    break;
                }
                if grad.iter().map(|g| g * g).sum::<f64>().sqrt() <= 1e-7 {
                    break;
                }
            }
        }
    }
    let (kl, _) = kl_gradient_in(&p, &y, n, &mut w, true);
    Ok(Tsne {
        embedding: y,
        kl,
        iterations: it,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blobs(per: usize, dims: usize) -> (Vec<f64>, Vec<usize>) {
        let mut rng = StdRng::seed_from_u64(5);
        let normal = Normal::new(0.0, 1.0).unwrap();
        let mut x = Vec::new();
        let mut labels = Vec::new();
        for c in 0..3 {
            for _ in 0..per {
                x.extend(
                    (0..dims).map(|j| normal.sample(&mut rng) + if j == c { 20.0 } else { 0.0 }),
                );
                labels.push(c);
            }
        }
        (x, labels)
    }

    #[test]
    fn calibrated_entropy_and_symmetric_p() {
        let (x, _) = blobs(20, 5);
        let n = 60;
        let (p, h) = affinities(&x, n, 5, 10.0).unwrap();
        for (i, e) in h.iter().enumerate() {
            assert!((e - 10f64.log2()).abs() < 1e-5, "row {i}: {e} bits");
        }
        let sum: f64 = p.iter().sum();
        assert!((sum - 1.0).abs() < 1e-9, "{sum}");
        for i in 0..n {
            assert_eq!(p[i * n + i], 0.0);
            for j in 0..n {
                assert_eq!(p[i * n + j], p[j * n + i]);
            }
        }
    }

    #[test]
    fn gradient_equals_finite_differences() {
        let (x, _) = blobs(4, 3);
        let n = 10;
        let (p, _) = affinities(&x[..n * 3], n, 3, 3.0).unwrap();
        let y: Vec<f64> = (0..2 * n)
            .map(|i| ((i * 37 % 11) as f64 - 5.0) * 0.3)
            .collect();
        let (_, g) = kl_gradient(&p, &y, n);
        let h = 1e-6;
        for k in 0..2 * n {
            let mut a = y.clone();
            let mut b = y.clone();
            a[k] += h;
            b[k] -= h;
            let fd = (kl_gradient(&p, &a, n).0 - kl_gradient(&p, &b, n).0) / (2.0 * h);
            assert!(
                (fd - g[k]).abs() < 1e-7 * (1.0 + g[k].abs()),
                "{k}: {fd} vs {}",
                g[k]
            );
        }
    }

    #[test]
    fn separated_blobs_stay_separated_and_runs_repeat() {
        let (x, labels) = blobs(30, 10);
        let n = 90;
        let opts = TsneOptions {
            perplexity: 10.0,
            iterations: 400,
            ..TsneOptions::default()
        };
        let t = tsne(&x, n, 10, &opts, |_| {}).unwrap();
        let acc = super::super::separation::knn_accuracy(&t.embedding, 2, &labels, 1);
        assert_eq!(acc, 1.0);
        let again = tsne(&x, n, 10, &opts, |_| {}).unwrap();
        assert_eq!(t.embedding, again.embedding);
        assert!(t.kl.is_finite() && t.kl > 0.0);
    }

    #[test]
    fn avx_loops_equal_the_baseline_bit_for_bit() {
        let n = 103;
        let yx: Vec<f64> = (0..n)
            .map(|i| ((i * 37 % 101) as f64 - 50.0) * 0.37)
            .collect();
        let yy: Vec<f64> = (0..n)
            .map(|i| ((i * 53 % 97) as f64 - 48.0) * 0.21)
            .collect();
        let p: Vec<f64> = (0..n).map(|i| (i % 7) as f64 * 1e-4).collect();
        for i in [0, 5, 102] {
            let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
            let sa = kernel_row(yx[i], yy[i], &yx, &yy, &mut a);
            let sb = kernel_row_generic(yx[i], yy[i], &yx, &yy, &mut b);
            assert_eq!((sa, &a), (sb, &b));
            assert_eq!(
                gradient_row(yx[i], yy[i], &yx, &yy, &a, &p, 0.013),
                gradient_row_generic(yx[i], yy[i], &yx, &yy, &a, &p, 0.013)
            );
        }
    }

    #[test]
    fn bad_options_are_errors() {
        let (x, _) = blobs(5, 2);
        let o = TsneOptions::default();
        assert!(
            tsne(&x, 15, 2, &o, |_| {})
                .unwrap_err()
                .to_string()
                .contains("perplexity")
        );
        assert!(tsne(&x[..4], 2, 2, &o, |_| {}).is_err());
        let bad = TsneOptions {
            perplexity: f64::NAN,
            ..o
        };
        assert!(tsne(&x, 15, 2, &bad, |_| {}).is_err());
    }
}
