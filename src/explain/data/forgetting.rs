//! Forgetting events (Toneva et al., "An Empirical Study of Example Forgetting during
//! Deep Neural Network Learning", ICLR 2019).
//!
//! **Question.** Which training examples does the network learn once and keep, and which
//! does it keep forgetting?
//!
//! **Definition.** Over an example's presentations in training order, with `acc_t ∈
//! {0, 1}` its correctness at presentation `t` (recorded before the update):
//! - a *forgetting event* is `acc_t = 1, acc_{t+1} = 0`;
//! - a *learning event* is `acc_t = 0, acc_{t+1} = 1`;
//! - an example is *learned* if it is correct at some presentation, and *unforgettable*
//!   if it is learned and never forgotten.
//!
//! An example that is never learned is not unforgettable. Its forgetting count is the
//! number of its presentations, so it sorts as the most forgettable (Toneva's
//! convention). InterpretDL's `ForgettingEventsInterpreter` gives such examples −1 and
//! dataset cartography 1000. Counts from several seeds are summed.
//!
//! **Pinned by** the unit tests below (`[1,0,1,0] → 2`, `[0,0,1,1] → 0` and
//! unforgettable, `[0,0,0]` never learned, learning events of `[0,1,0,1] → 2`) and
//! `tests/training_data.rs` (with a zero learning rate every count is 0).

use super::record::Record;

/// Forgetting statistics of one example's presentations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Forgetting {
    /// Forgetting events, or the number of presentations if the example was never learned.
    pub count: usize,
    pub learning_events: usize,
    pub learned: bool,
}

impl Forgetting {
    /// Learned and never forgotten.
    pub fn unforgettable(&self) -> bool {
        self.learned && self.count == 0
    }
}

/// The statistics of one presentation sequence (see the module documentation).
pub fn forgetting(acc: &[bool]) -> Forgetting {
    let pairs = || acc.windows(2);
    let events = pairs().filter(|w| w[0] && !w[1]).count();
    let learned = acc.iter().any(|&a| a);
    Forgetting {
        count: if learned { events } else { acc.len() },
        learning_events: pairs().filter(|w| !w[0] && w[1]).count(),
        learned,
    }
}

/// [`forgetting`] for every example of a record.
pub fn forgetting_of(record: &Record) -> Vec<Forgetting> {
    (0..record.n)
        .map(|i| forgetting(&record.correct_of(i)))
        .collect()
}

/// Forgetting counts summed over several runs (seeds) of the same training set; an
/// example is unforgettable if it is in every run. The runs must have the same size.
pub fn sum_over_runs(runs: &[Vec<Forgetting>]) -> Vec<Forgetting> {
    let n = runs.first().map_or(0, Vec::len);
    (0..n)
        .map(|i| {
            runs.iter().fold(
                Forgetting {
                    count: 0,
                    learning_events: 0,
                    learned: true,
                },
                |a, r| Forgetting {
                    count: a.count + r[i].count,
                    learning_events: a.learning_events + r[i].learning_events,
                    learned: a.learned && r[i].learned,
                },
            )
        })
        .collect()
}

/// The fraction of examples that are unforgettable.
pub fn unforgettable_fraction(stats: &[Forgetting]) -> f64 {
    stats.iter().filter(|f| f.unforgettable()).count() as f64 / stats.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(v: &[u8]) -> Vec<bool> {
        v.iter().map(|&a| a == 1).collect()
    }

    #[test]
    fn counts_follow_toneva() {
        assert_eq!(forgetting(&seq(&[1, 0, 1, 0])).count, 2);
        let f = forgetting(&seq(&[0, 0, 1, 1]));
        assert_eq!((f.count, f.unforgettable()), (0, true));
        let never = forgetting(&seq(&[0, 0, 0]));
        assert!(!never.learned && !never.unforgettable());
        assert_eq!(never.count, 3, "never learned counts as every presentation");
        assert_eq!(forgetting(&seq(&[0, 1, 0, 1])).learning_events, 2);
        assert_eq!(forgetting(&seq(&[0, 1, 0, 1])).count, 1);
    }

    #[test]
    fn runs_add_up() {
        let a = vec![forgetting(&seq(&[1, 0, 1])), forgetting(&seq(&[1, 1, 1]))];
        let b = vec![forgetting(&seq(&[1, 1, 1])), forgetting(&seq(&[0, 0, 0]))];
        let s = sum_over_runs(&[a, b]);
        assert_eq!(s[0].count, 1);
        assert!(!s[0].unforgettable());
        assert_eq!(s[1].count, 3);
        assert!(!s[1].learned);
        assert_eq!(unforgettable_fraction(&s), 0.0);
    }
}
