//! Class separation: *how cleanly does a layer (or a 2-D map of it) sort the classes?*
//!
//! * **Silhouette** (Rousseeuw 1987): for point i with mean distance `a(i)` to the
//!   other members of its class and smallest mean distance `b(i)` to another class,
//!   `s(i) = (b − a) / max(a, b)` (0 for a class of one), averaged over the points;
//!   scikit-learn's `silhouette_score` with the Euclidean metric. From −1 to 1; higher
//!   is better separated.
//! * **k-NN accuracy**: each point's class predicted by the majority of its k nearest
//!   other points (leave-one-out; distance ties go to the lower index, vote ties to the
//!   lower class, as scikit-learn's `KNeighborsClassifier` does).
//!
//! Pinned by the tests below (hand-worked silhouette, two far clusters) and by
//! `tests/inside.rs` (the penultimate layer of mnist-cnn separates the digits better
//! than the pixels do).

use rayon::prelude::*;

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// Mean silhouette of the points (`dim` values each, row-major) under `labels`; 0 when
/// there are fewer than two classes.
pub fn silhouette(points: &[f64], dim: usize, labels: &[usize]) -> f64 {
    let n = labels.len();
    let k = labels.iter().max().map_or(0, |m| m + 1);
    let mut size = vec![0usize; k];
    labels.iter().for_each(|&l| size[l] += 1);
    if size.iter().filter(|&&s| s > 0).count() < 2 {
        return 0.0;
    }
    let s: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|i| {
            let own = labels[i];
            if size[own] < 2 {
                return 0.0;
            }
            let mut sums = vec![0.0; k];
            let pi = &points[i * dim..(i + 1) * dim];
            for j in (0..n).filter(|&j| j != i) {
                sums[labels[j]] += distance(pi, &points[j * dim..(j + 1) * dim]);
            }
            let a = sums[own] / (size[own] - 1) as f64;
            let b = (0..k)
                .filter(|&c| c != own && size[c] > 0)
                .map(|c| sums[c] / size[c] as f64)
                .fold(f64::INFINITY, f64::min);
            let m = a.max(b);
            if m > 0.0 { (b - a) / m } else { 0.0 }
        })
        .collect();
    s.iter().sum::<f64>() / n as f64
}

/// Leave-one-out accuracy of the k-nearest-neighbour vote.
pub fn knn_accuracy(points: &[f64], dim: usize, labels: &[usize], k: usize) -> f64 {
    let n = labels.len();
    if n < 2 || k == 0 {
        return 0.0;
    }
    let classes = labels.iter().max().map_or(0, |m| m + 1);
    let hits = (0..n)
        .into_par_iter()
        .filter(|&i| {
            let pi = &points[i * dim..(i + 1) * dim];
            let mut d: Vec<(f64, usize)> = (0..n)
                .filter(|&j| j != i)
                .map(|j| (distance(pi, &points[j * dim..(j + 1) * dim]), j))
                .collect();
            let k = k.min(d.len());
            d.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let mut votes = vec![0usize; classes];
            d[..k].iter().for_each(|&(_, j)| votes[labels[j]] += 1);
            // the first class with the most votes (ties to the lower class)
            let best = (0..classes).fold(0, |b, c| if votes[c] > votes[b] { c } else { b });
            best == labels[i]
        })
        .count();
    hits as f64 / n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silhouette_by_hand() {
        // 1-D points 0, 1 (class 0) and 4, 6 (class 1)
        // s(0) = (5 − 1)/5, s(1) = (4 − 1)/4, s(4) = (3.5 − 2)/3.5, s(6) = (5.5 − 2)/5.5
        let want = (0.8 + 0.75 + 1.5 / 3.5 + 3.5 / 5.5) / 4.0;
        let got = silhouette(&[0.0, 1.0, 4.0, 6.0], 1, &[0, 0, 1, 1]);
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        assert_eq!(silhouette(&[0.0, 1.0], 1, &[0, 0]), 0.0);
    }

    #[test]
    fn knn_on_far_clusters_and_a_stray_point() {
        let pts = [0.0, 0.1, 0.2, 10.0, 10.1, 10.2, 0.15];
        let labels = [0, 0, 0, 1, 1, 1, 1];
        // the stray class-1 point at 0.15 sits among class 0: only it is wrong
        let acc = knn_accuracy(&pts, 1, &labels, 3);
        assert!((acc - 6.0 / 7.0).abs() < 1e-12, "{acc}");
    }
}
