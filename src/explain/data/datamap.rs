//! Data maps (Swayamdipta et al., "Dataset Cartography: Mapping and Diagnosing Datasets
//! with Training Dynamics", EMNLP 2020).
//!
//! **Question.** Which training examples are easy, which ambiguous, which hard — and
//! which are probably mislabeled?
//!
//! **Formula.** Over an example's `E` presentations, with `p_e` the probability of its
//! gold label (recorded before each update):
//! `confidence = (1/E) Σ p_e`, `variability = sqrt((1/E) Σ (p_e − confidence)²)` (the
//! population standard deviation, as in the paper's code), `correctness` = the fraction
//! of presentations that were correct.
//!
//! **Regions** (the paper's Figure 1): *easy-to-learn* examples have high confidence and
//! low variability, *ambiguous* ones high variability, *hard-to-learn* ones low
//! confidence and low variability; mislabeled examples gather in the hard-to-learn corner.
//! [`select`] takes exactly `⌊f·N⌋` examples of a region by sorting (ties by index).
//!
//! **Pinned by** the unit test below (`p = [0.2, 0.4, 0.6]` → confidence 0.4,
//! variability √(0.08/3)) and `tests/training_data.rs` (flipped labels: AUROC of
//! `1 − confidence`).

use super::record::Record;

/// One example's coordinates on the data map.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MapPoint {
    pub confidence: f64,
    pub variability: f64,
    pub correctness: f64,
}

/// The map coordinates of one example's presentations.
pub fn map_point(p_gold: &[f64], correct: &[bool]) -> MapPoint {
    let e = p_gold.len().max(1) as f64;
    let confidence = p_gold.iter().sum::<f64>() / e;
    let variability = (p_gold.iter().map(|p| (p - confidence).powi(2)).sum::<f64>() / e).sqrt();
    MapPoint {
        confidence,
        variability,
        correctness: correct.iter().filter(|&&c| c).count() as f64 / e,
    }
}

/// [`map_point`] for every example of a record.
pub fn data_map(record: &Record) -> Vec<MapPoint> {
    (0..record.n)
        .map(|i| map_point(&record.p_gold_of(i), &record.correct_of(i)))
        .collect()
}

/// The three regions of a data map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    /// Highest confidence first.
    Easy,
    /// Highest variability first.
    Ambiguous,
    /// Lowest confidence first.
    Hard,
}

impl Region {
    pub const ALL: [Region; 3] = [Region::Easy, Region::Ambiguous, Region::Hard];

    pub fn name(self) -> &'static str {
        match self {
            Region::Easy => "easy-to-learn",
            Region::Ambiguous => "ambiguous",
            Region::Hard => "hard-to-learn",
        }
    }
}

/// The `⌊fraction·N⌋` examples of `region`, most typical first (ties by index).
pub fn select(map: &[MapPoint], region: Region, fraction: f64) -> Vec<usize> {
    let k = (fraction.clamp(0.0, 1.0) * map.len() as f64).floor() as usize;
    let key = |p: &MapPoint| match region {
        Region::Easy => -p.confidence,
        Region::Ambiguous => -p.variability,
        Region::Hard => p.confidence,
    };
    let mut idx: Vec<usize> = (0..map.len()).collect();
    idx.sort_by(|&a, &b| key(&map[a]).total_cmp(&key(&map[b])).then(a.cmp(&b)));
    idx.truncate(k);
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_form() {
        let m = map_point(&[0.2, 0.4, 0.6], &[false, false, true]);
        assert!((m.confidence - 0.4).abs() < 1e-15);
        assert!((m.variability - (0.08f64 / 3.0).sqrt()).abs() < 1e-15);
        assert!((m.correctness - 1.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn select_takes_floor_of_fraction() {
        let map: Vec<MapPoint> = (0..10)
            .map(|i| map_point(&[i as f64 / 10.0], &[i > 5]))
            .collect();
        assert_eq!(select(&map, Region::Hard, 0.25), vec![0, 1]);
        assert_eq!(select(&map, Region::Easy, 0.3), vec![9, 8, 7]);
        assert_eq!(select(&map, Region::Ambiguous, 0.0), Vec::<usize>::new());
    }
}
