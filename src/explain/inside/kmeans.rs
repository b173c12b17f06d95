//! k-means (Lloyd 1982, with k-means++ seeding, Arthur & Vassilvitskii 2007): the
//! clusters behind the probes' control task. `kmeans` alternates assigning each point
//! to its nearest centroid and moving each centroid to its points' mean, until no
//! assignment changes or `max_iter` rounds; a cluster that empties keeps its centroid.
//! Seeded: the same seed gives the same clusters on any thread count.
//!
//! Pinned by `kmeans_finds_separated_groups` below.

use crate::error::{Result, invalid};
use crate::tensor::linalg::squared_distances;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[derive(Clone, Debug)]
pub struct KMeans {
    /// `k × d`, row-major.
    pub centroids: Vec<f64>,
    pub labels: Vec<usize>,
    /// Sum of squared distances to the assigned centroids.
    pub inertia: f64,
    pub k: usize,
    pub d: usize,
}

/// The nearest centroid of every row of `x` (`n × d`) and its squared distance.
pub fn assign(x: &[f64], d: usize, centroids: &[f64]) -> (Vec<usize>, Vec<f64>) {
    let k = centroids.len() / d;
    squared_distances(x, centroids, d)
        .chunks(k)
        .map(|row| {
            row.iter().enumerate().fold(
                (0, f64::INFINITY),
                |b, (c, &v)| if v < b.1 { (c, v) } else { b },
            )
        })
        .unzip()
}

/// k clusters of the `n × d` rows of `x`.
pub fn kmeans(x: &[f64], d: usize, k: usize, seed: u64, max_iter: usize) -> Result<KMeans> {
    let n = x.len() / d.max(1);
    if d == 0 || n * d != x.len() || k == 0 || k > n {
        return invalid(format!(
            "k-means: {k} clusters of {n} points with {d} features (need 1 ≤ k ≤ n)"
        ));
    }
    let mut rng = StdRng::seed_from_u64(seed);
    // k-means++: each next centroid drawn with probability ∝ squared distance
    let mut centroids = Vec::with_capacity(k * d);
    let first = rng.gen_range(0..n);
    centroids.extend_from_slice(&x[first * d..(first + 1) * d]);
    let mut near: Vec<f64> = assign(x, d, &centroids).1;
    for _ in 1..k {
        let total: f64 = near.iter().sum();
        let pick = if total > 0.0 {
            let mut r = rng.r#gen::<f64>() * total;
            near.iter()
                .position(|&w| {
                    r -= w;
                    r < 0.0
                })
                .unwrap_or(n - 1)
        } else {
            rng.gen_range(0..n)
        };
        let c = &x[pick * d..(pick + 1) * d];
        centroids.extend_from_slice(c);
        let (_, dn) = assign(x, d, c);
        near.iter_mut().zip(dn).for_each(|(a, b)| *a = a.min(b));
    }
    let mut labels = vec![usize::MAX; n];
    let mut inertia = 0.0;
    for _ in 0..max_iter.max(1) {
        let (new, dist) = assign(x, d, &centroids);
        inertia = dist.iter().sum();
        let changed = new != labels;
        labels = new;
        if !changed {
            break;
        }
        let mut sums = vec![0.0; k * d];
        let mut counts = vec![0usize; k];
        for (row, &c) in x.chunks(d).zip(&labels) {
            counts[c] += 1;
            sums[c * d..(c + 1) * d]
                .iter_mut()
                .zip(row)
                .for_each(|(s, v)| *s += v);
        }
        for c in (0..k).filter(|&c| counts[c] > 0) {
            for j in 0..d {
                centroids[c * d + j] = sums[c * d + j] / counts[c] as f64;
            }
        }
    }
    Ok(KMeans {
        centroids,
        labels,
        inertia,
        k,
        d,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kmeans_finds_separated_groups() {
        let mut x = Vec::new();
        for g in 0..3 {
            for i in 0..20 {
                x.extend([g as f64 * 10.0 + (i % 5) as f64 * 0.1, (i / 5) as f64 * 0.1]);
            }
        }
        let km = kmeans(&x, 2, 3, 4, 50).unwrap();
        for g in 0..3 {
            let l = km.labels[g * 20];
            assert!(km.labels[g * 20..(g + 1) * 20].iter().all(|&v| v == l));
        }
        assert_ne!(km.labels[0], km.labels[20]);
        assert_ne!(km.labels[20], km.labels[40]);
        assert!(kmeans(&x, 2, 61, 0, 5).is_err());
    }
}
