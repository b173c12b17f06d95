//! Learning-rate schedules (per epoch or per step, as the caller counts):
//! `Step`: `lr₀·γ^⌊t/s⌋` (`StepLR`); `Cosine`: `η_min + (lr₀ − η_min)(1 + cos(πt/T))/2`
//! (`CosineAnnealingLR`, held at η_min after T).

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Schedule {
    Constant,
    Step { every: usize, gamma: f64 },
    Cosine { total: usize, min_lr: f64 },
}

impl Schedule {
    pub fn lr(&self, base: f64, t: usize) -> f64 {
        match *self {
            Schedule::Constant => base,
            Schedule::Step { every, gamma } => base * gamma.powi((t / every.max(1)) as i32),
            Schedule::Cosine { total, min_lr } => {
                let t = t.min(total) as f64;
                min_lr
                    + (base - min_lr)
                        * (1.0 + (std::f64::consts::PI * t / total.max(1) as f64).cos())
                        / 2.0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_and_cosine() {
        let s = Schedule::Step {
            every: 2,
            gamma: 0.1,
        };
        assert_eq!([s.lr(1.0, 0), s.lr(1.0, 1), s.lr(1.0, 2)], [1.0, 1.0, 0.1]);
        let c = Schedule::Cosine {
            total: 10,
            min_lr: 0.0,
        };
        assert_eq!(c.lr(1.0, 0), 1.0);
        assert!((c.lr(1.0, 5) - 0.5).abs() < 1e-12);
        assert!(c.lr(1.0, 10).abs() < 1e-12 && c.lr(1.0, 20).abs() < 1e-12);
    }
}
