//! The two tasks of the tree-regularization paper (Wu et al., AAAI 2018).
//!
//! * **Signal-and-noise HMM**: sequences of 14 binary features. A 5-state "signal" HMM
//!   emits features 0–6 and an independent 5-state "noise" HMM emits features 7–13.
//!   The label of a step is drawn from `σ(10·[signal state = 0] + 10·x₀ − 15)`: positive
//!   (almost surely) only when the first signal state is active and feature 0 is on.
//!   Transition and emission tables follow the paper's description and public generator.
//! * **2-D parabola**: points in [−1, 1]² labelled by `x₂ > x₁² − 0.5`, with 10% of the
//!   labels flipped among the points nearest the boundary.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// Sequences `[n, t, d]` (row-major) with one binary label per step.
#[derive(Clone, Debug, PartialEq)]
pub struct SeqData {
    pub x: Vec<f64>,
    pub y: Vec<bool>,
    pub n: usize,
    pub t: usize,
    pub d: usize,
}

impl SeqData {
    /// The sequences at `idx`.
    pub fn subset(&self, idx: &[usize]) -> SeqData {
        let (t, d) = (self.t, self.d);
        let x = idx
            .iter()
            .flat_map(|&i| self.x[i * t * d..(i + 1) * t * d].iter().copied())
            .collect();
        let y = idx
            .iter()
            .flat_map(|&i| self.y[i * t..(i + 1) * t].iter().copied())
            .collect();
        SeqData {
            x,
            y,
            n: idx.len(),
            t,
            d,
        }
    }
}

const SIGNAL_START: [f64; 5] = [0.5, 0.5, 0.0, 0.0, 0.0];
const SIGNAL_TRANS: [[f64; 5]; 5] = [
    [0.7, 0.3, 0.0, 0.0, 0.0],
    [0.5, 0.25, 0.25, 0.0, 0.0],
    [0.0, 0.25, 0.5, 0.25, 0.0],
    [0.0, 0.0, 0.25, 0.25, 0.5],
    [0.0, 0.0, 0.0, 0.5, 0.5],
];
const SIGNAL_EMIT: [[f64; 7]; 5] = [
    [0.5, 0.5, 0.5, 0.5, 0.0, 0.0, 0.0],
    [0.5, 0.5, 0.5, 0.5, 0.5, 0.0, 0.0],
    [0.5, 0.5, 0.5, 0.0, 0.5, 0.0, 0.0],
    [0.5, 0.5, 0.5, 0.0, 0.0, 0.5, 0.0],
    [0.5, 0.5, 0.5, 0.0, 0.0, 0.0, 0.5],
];
const NOISE_EMIT: [[f64; 7]; 5] = [
    [0.5, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.5, 0.5, 0.5, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.5, 0.5, 0.5, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.5, 0.5, 0.5, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.5, 0.5, 0.5],
];

fn draw(p: &[f64], rng: &mut StdRng) -> usize {
    let u: f64 = rng.r#gen();
    let mut acc = 0.0;
    for (i, &q) in p.iter().enumerate() {
        acc += q;
        if u < acc {
            return i;
        }
    }
    p.len() - 1
}

/// `n` sequences of `t` steps from the signal-and-noise HMM (paper: n = 100, t = 50).
pub fn signal_noise_hmm(n: usize, t: usize, seed: u64) -> SeqData {
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut x, mut y) = (Vec::with_capacity(n * t * 14), Vec::with_capacity(n * t));
    for _ in 0..n {
        let mut s = draw(&SIGNAL_START, &mut rng);
        let mut z = rng.gen_range(0..5);
        for step in 0..t {
            if step > 0 {
                s = draw(&SIGNAL_TRANS[s], &mut rng);
                z = rng.gen_range(0..5); // the noise chain's transitions are uniform
            }
            let obs: Vec<f64> = SIGNAL_EMIT[s]
                .iter()
                .chain(&NOISE_EMIT[z])
                .map(|&p| f64::from(u8::from(rng.r#gen::<f64>() < p)))
                .collect();
            let logit = 10.0 * f64::from(u8::from(s == 0)) + 10.0 * obs[0] - 15.0;
            y.push(rng.r#gen::<f64>() < 1.0 / (1.0 + (-logit).exp()));
            x.extend(obs);
        }
    }
    SeqData { x, y, n, t, d: 14 }
}

/// `n` points of the parabola task as `n` sequences of one step with 2 features.
pub fn parabola(n: usize, seed: u64) -> SeqData {
    let mut rng = StdRng::seed_from_u64(seed);
    let x: Vec<f64> = (0..2 * n).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let margin = |i: usize| x[2 * i + 1] - (x[2 * i] * x[2 * i] - 0.5);
    let mut y: Vec<bool> = (0..n).map(|i| margin(i) > 0.0).collect();
    let mut near: Vec<usize> = (0..n).collect();
    near.sort_by(|&a, &b| margin(a).abs().total_cmp(&margin(b).abs()));
    let mut band = near[..(n / 5).max(1).min(n)].to_vec();
    band.shuffle(&mut rng);
    for &i in band.iter().take(n / 10) {
        y[i] = !y[i];
    }
    SeqData {
        x,
        y,
        n,
        t: 1,
        d: 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmm_labels_follow_the_rule_and_are_seeded() {
        let d = signal_noise_hmm(100, 50, 1);
        assert_eq!((d.x.len(), d.y.len()), (100 * 50 * 14, 5000));
        assert_eq!(d, signal_noise_hmm(100, 50, 1));
        let pos = d.y.iter().filter(|&&v| v).count();
        assert!((100..2500).contains(&pos), "{pos} positives");
        // positives need feature 0 on (up to the σ(−5) ≈ 0.7% slack)
        let pos_without = (0..5000).filter(|&i| d.y[i] && d.x[i * 14] == 0.0).count();
        assert!(pos_without * 20 < pos, "{pos_without} of {pos}");
        assert!(d.x.iter().all(|&v| v == 0.0 || v == 1.0));
    }

    #[test]
    fn parabola_flips_ten_percent() {
        let d = parabola(500, 3);
        let clean = (0..500)
            .filter(|&i| d.y[i] == (d.x[2 * i + 1] > d.x[2 * i].powi(2) - 0.5))
            .count();
        assert_eq!(clean, 450);
    }
}
