//! ROAD's noisy linear imputation (Rong et al. 2022, "A Consistent and Efficient
//! Evaluation Strategy for Attribution Methods").
//!
//! *Question:* removing pixels by painting them a constant leaves a shape the model can
//! read ("the removed pixels are where the digit was"), so MoRF/LeRF partly measure the
//! leak, not the map. ROAD fills removed pixels from their neighbours instead.
//!
//! *Formula.* Each removed pixel is the weighted mean of its 8 neighbours, weights 1/6
//! for the 4 direct and 1/12 for the 4 diagonal ones, renormalized at the border (only
//! neighbours inside the picture count), where removed neighbours are unknowns too:
//! `S_p u_p − Σ_{q removed} w_pq u_q = Σ_{q kept} w_pq x_q` with `S_p = Σ_{q inside} w_pq`,
//! solved per channel; then `N(0, 0.01²)` noise is added to each imputed value. The
//! system is symmetric and diagonally dominant, so we solve it by conjugate gradients
//! (the reference code, also pytorch-grad-cam's `NoisyLinearImputer`, calls a sparse
//! direct solver; the solutions agree to the solver's tolerance, 1e-10 relative).
//! Where a group of removed pixels touches no kept pixel (e.g. 100% removed) the system
//! is singular and the reference code fails; we give such pixels the mean of the kept
//! pixels of that channel (0 if none is kept), and say so here.
//!
//! Pinned by `one_interior_pixel_is_the_weighted_mean` (Σ direct/6 + Σ diagonal/12) and
//! `border_weights_are_renormalized` below.

use super::curves::mix;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

/// Neighbour offsets and weights.
const NEIGHBOURS: [(isize, isize, f64); 8] = [
    (-1, 0, 1.0 / 6.0),
    (1, 0, 1.0 / 6.0),
    (0, -1, 1.0 / 6.0),
    (0, 1, 1.0 / 6.0),
    (-1, -1, 1.0 / 12.0),
    (-1, 1, 1.0 / 12.0),
    (1, -1, 1.0 / 12.0),
    (1, 1, 1.0 / 12.0),
];

/// The image `x` (`[C, H, W]`) with the pixels where `removed` is true imputed, plus
/// `N(0, noise²)` noise from `seed`.
pub fn impute(
    x: &[f64],
    removed: &[bool],
    c: usize,
    h: usize,
    w: usize,
    noise: f64,
    seed: u64,
) -> Vec<f64> {
    let hw = h * w;
    let mut out = x.to_vec();
    let neighbours = |p: usize| {
        let (i, j) = ((p / w) as isize, (p % w) as isize);
        NEIGHBOURS.iter().filter_map(move |&(di, dj, wt)| {
            let (a, b) = (i + di, j + dj);
            (a >= 0 && b >= 0 && a < h as isize && b < w as isize)
                .then(|| (a as usize * w + b as usize, wt))
        })
    };
    // removed pixels reachable from a kept one are solved; the others take the mean
    let mut reached = vec![false; hw];
    let mut queue: Vec<usize> = (0..hw).filter(|&p| !removed[p]).collect();
    queue.iter().for_each(|&p| reached[p] = true);
    while let Some(p) = queue.pop() {
        for (q, _) in neighbours(p) {
            if !reached[q] {
                reached[q] = true;
                queue.push(q);
            }
        }
    }
    let unknown: Vec<usize> = (0..hw).filter(|&p| removed[p] && reached[p]).collect();
    let kept = (0..hw).filter(|&p| !removed[p]).count();
    let mut index = vec![usize::MAX; hw];
    unknown.iter().enumerate().for_each(|(k, &p)| index[p] = k);
    // A = D − W over the unknowns, shared by the channels: D the summed weights of each
    // pixel's neighbours in the picture, W the weights between unknown neighbours (rows
    // stored compactly, so a product is one pass over at most 8 entries a row)
    let mut diag = Vec::with_capacity(unknown.len());
    let mut row_start = Vec::with_capacity(unknown.len() + 1);
    let (mut cols, mut wts) = (Vec::new(), Vec::new());
    let mut known_of: Vec<(usize, usize, f64)> = Vec::new(); // (row, pixel, weight)
    row_start.push(0);
    for (k, &p) in unknown.iter().enumerate() {
        let mut d = 0.0;
        for (q, wt) in neighbours(p) {
            d += wt;
            match index[q] {
                usize::MAX => known_of.push((k, q, wt)),
                j => {
                    cols.push(j);
                    wts.push(wt);
                }
            }
        }
        diag.push(d);
        row_start.push(cols.len());
    }
    let system = Sparse {
        diag,
        row_start,
        cols,
        wts,
    };
    for ch in 0..c {
        let img = &x[ch * hw..(ch + 1) * hw];
        let mean = if kept == 0 {
            0.0
        } else {
            (0..hw)
                .filter(|&p| !removed[p])
                .map(|p| img[p])
                .sum::<f64>()
                / kept as f64
        };
        let mut known = img.to_vec();
        for p in 0..hw {
            if removed[p] && !reached[p] {
                known[p] = mean;
                out[ch * hw + p] = mean;
            }
        }
        // A u = b over the reachable removed pixels
        let mut b = vec![0.0; unknown.len()];
        for &(k, q, wt) in &known_of {
            b[k] += wt * known[q];
        }
        let u = system.solve(&b, mean);
        for (&p, v) in unknown.iter().zip(u) {
            out[ch * hw + p] = v;
        }
    }
    if noise > 0.0 {
        let mut rng = StdRng::seed_from_u64(mix(seed, 0));
        for ch in 0..c {
            for p in (0..hw).filter(|&p| removed[p]) {
                let e: f64 = StandardNormal.sample(&mut rng);
                out[ch * hw + p] += noise * e;
            }
        }
    }
    out
}

/// The imputation's system `A = D − W`, rows stored compactly.
struct Sparse {
    diag: Vec<f64>,
    row_start: Vec<usize>,
    cols: Vec<usize>,
    wts: Vec<f64>,
}

impl Sparse {
    /// `out = A u`.
    fn apply(&self, u: &[f64], out: &mut [f64]) {
        for (k, o) in out.iter_mut().enumerate() {
            let (a, b) = (self.row_start[k], self.row_start[k + 1]);
            let off: f64 = self.cols[a..b]
                .iter()
                .zip(&self.wts[a..b])
                .map(|(&j, &wt)| wt * u[j])
                .sum();
            *o = self.diag[k] * u[k] - off;
        }
    }

    /// Solves `A u = b` (symmetric positive definite) by conjugate gradients with the
    /// diagonal as preconditioner, from `u = start`, to a residual of 1e-6 of `‖b‖`: far
    /// below the N(0, 0.01²) noise ROAD adds to every imputed value (1e-10 made
    /// `evaluate road` on pokedigi-gap 35% slower and moved no AUC in the 6th decimal).
    fn solve(&self, b: &[f64], start: f64) -> Vec<f64> {
        let n = b.len();
        let mut u = vec![start; n];
        let mut q = vec![0.0; n];
        self.apply(&u, &mut q);
        let mut r: Vec<f64> = b.iter().zip(&q).map(|(b, a)| b - a).collect();
        let mut z: Vec<f64> = r.iter().zip(&self.diag).map(|(r, d)| r / d).collect();
        let mut d = z.clone();
        let mut rz: f64 = r.iter().zip(&z).map(|(a, b)| a * b).sum();
        let tol = 1e-12 * b.iter().map(|v| v * v).sum::<f64>().max(1e-300);
        for _ in 0..4 * n + 10 {
            if r.iter().map(|v| v * v).sum::<f64>() <= tol {
                break;
            }
            self.apply(&d, &mut q);
            let alpha = rz / d.iter().zip(&q).map(|(a, b)| a * b).sum::<f64>();
            u.iter_mut().zip(&d).for_each(|(u, d)| *u += alpha * d);
            r.iter_mut().zip(&q).for_each(|(r, a)| *r -= alpha * a);
            z.iter_mut()
                .zip(&r)
                .zip(&self.diag)
                .for_each(|((z, r), dg)| *z = r / dg);
            let rz_new: f64 = r.iter().zip(&z).map(|(a, b)| a * b).sum();
            let beta = rz_new / rz;
            d.iter_mut().zip(&z).for_each(|(d, z)| *d = z + beta * *d);
            rz = rz_new;
        }
        u
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_interior_pixel_is_the_weighted_mean() {
        let x: Vec<f64> = (0..9).map(|v| (v * v) as f64).collect();
        let mut removed = vec![false; 9];
        removed[4] = true;
        let out = impute(&x, &removed, 1, 3, 3, 0.0, 0);
        let direct = x[1] + x[3] + x[5] + x[7];
        let diagonal = x[0] + x[2] + x[6] + x[8];
        assert!((out[4] - (direct / 6.0 + diagonal / 12.0)).abs() < 1e-12);
        assert_eq!(out[0], x[0]);
    }

    #[test]
    fn border_weights_are_renormalized() {
        // a corner pixel has 2 direct and 1 diagonal neighbour: weights 1/6,1/6,1/12 → /(5/12)
        let x = [0.0, 2.0, 3.0, 5.0];
        let out = impute(&x, &[true, false, false, false], 1, 2, 2, 0.0, 0);
        let want = (2.0 / 6.0 + 3.0 / 6.0 + 5.0 / 12.0) / (5.0 / 12.0);
        assert!((out[0] - want).abs() < 1e-12);
    }

    #[test]
    fn joint_solution_satisfies_every_equation_and_noise_is_seeded() {
        let (h, w) = (6, 5);
        let x: Vec<f64> = (0..h * w).map(|v| ((v * 7) % 11) as f64).collect();
        let removed: Vec<bool> = (0..h * w).map(|p| p % 3 != 0 || p == 12).collect();
        let u = impute(&x, &removed, 1, h, w, 0.0, 0);
        for p in (0..h * w).filter(|&p| removed[p]) {
            let (i, j) = ((p / w) as isize, (p % w) as isize);
            let (mut s, mut t) = (0.0, 0.0);
            for &(di, dj, wt) in &NEIGHBOURS {
                let (a, b) = (i + di, j + dj);
                if a >= 0 && b >= 0 && a < h as isize && b < w as isize {
                    s += wt;
                    t += wt * u[a as usize * w + b as usize];
                }
            }
            // the solver stops at a residual of 1e-6 of ‖b‖ (values up to 10 here)
            assert!((u[p] - t / s).abs() < 1e-5, "pixel {p}");
        }
        let a = impute(&x, &removed, 1, h, w, 0.01, 5);
        assert_eq!(a, impute(&x, &removed, 1, h, w, 0.01, 5));
        assert_ne!(a, impute(&x, &removed, 1, h, w, 0.01, 6));
        // all removed: the mean of nothing kept is 0
        assert!(
            impute(&x, &[true; 30], 1, h, w, 0.0, 0)
                .iter()
                .all(|&v| v == 0.0)
        );
    }
}
