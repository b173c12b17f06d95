//! TIDY, InterpretDL's TrainIng Data analYzer heuristic, implemented as its tutorial
//! describes it.
//!
//! **Question.** Which examples does the network learn late, or only now and then?
//!
//! **Score.** The mean index (0-based) of the presentations at which the example was
//! correct: examples learned early and kept score low, examples the network gets right
//! only late or occasionally score high. An example that is never correct scores the
//! number of presentations (later than any index, the same convention as forgetting
//! counts). An example is *flagged* when its score is above `mean + 5σ` of all scores
//! (population σ).
//!
//! **Pinned by** the unit test below and, beside the data map and forgetting counts, the
//! label-noise AUROC reported by `tests/training_data.rs`.

use super::record::Record;

/// The TIDY score of one example's correctness sequence.
pub fn tidy_score(correct: &[bool]) -> f64 {
    let hits: Vec<usize> = (0..correct.len()).filter(|&t| correct[t]).collect();
    if hits.is_empty() {
        correct.len() as f64
    } else {
        hits.iter().sum::<usize>() as f64 / hits.len() as f64
    }
}

/// Every example's score, and whether it is flagged (`score > mean + 5σ`).
pub fn tidy(record: &Record) -> (Vec<f64>, Vec<bool>) {
    let scores: Vec<f64> = (0..record.n)
        .map(|i| tidy_score(&record.correct_of(i)))
        .collect();
    let flags = flag(&scores);
    (scores, flags)
}

/// `score > mean + 5σ` for each score.
pub fn flag(scores: &[f64]) -> Vec<bool> {
    let n = scores.len().max(1) as f64;
    let mean = scores.iter().sum::<f64>() / n;
    let sd = (scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / n).sqrt();
    scores.iter().map(|&s| s > mean + 5.0 * sd).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_index_of_correct_presentations() {
        assert_eq!(tidy_score(&[true, true, false, false]), 0.5);
        assert_eq!(tidy_score(&[false, false, false, true]), 3.0);
        assert_eq!(tidy_score(&[false, false]), 2.0);
        let mut s = vec![0.0; 100];
        s[7] = 10.0;
        let f = flag(&s);
        assert!(f[7] && f.iter().filter(|&&x| x).count() == 1);
    }
}
