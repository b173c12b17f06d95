//! Per-example gradients kept in blocks, so that dot products between two sets of them
//! (TracIn's `∇ℓ_testᵀ ∇ℓ_train`, self-influence's `‖∇ℓ‖²`) need not build them whole.
//!
//! A linear layer on a feature row `a` with output gradient `δ = ∂ℓ/∂z` has the weight
//! gradient `δ aᵀ` (and `δ` for its bias). Between two examples
//!
//! `⟨δ aᵀ, δ′ a′ᵀ⟩ = (δ·δ′)(a·a′)`,
//!
//! so a `[m, n]` block of those dot products costs two Gram matrices of `out + in`
//! columns instead of one of `out × in` (mnist-cnn's fc1: 848 instead of 50 176). Other
//! layers (convolutions, whose weight gradient sums `δ_p a_pᵀ` over positions) keep
//! their per-example gradients whole ([`Block::Dense`]). The dense form of every block,
//! in state-dict order, is the flattened gradient (`torch.nn.utils.parameters_to_vector`).
//!
//! **Pinned by** the unit tests below (Gram products and norms equal those of the dense
//! gradients) and `tests/training_data.rs` (TracInCP equals Captum's on the same weights).

use crate::error::{Result, invalid};
use crate::tensor::matmul::gemm;

/// One group of parameters' per-example gradients, for `n` examples (row-major).
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    /// `n × d` gradients.
    Dense { d: usize, g: Vec<f64> },
    /// A linear layer's `δᵢ aᵢᵀ` (`weight`) and `δᵢ` (`bias`): `delta` `n × out`, `act`
    /// `n × inp`.
    Outer {
        out: usize,
        inp: usize,
        delta: Vec<f64>,
        act: Vec<f64>,
        weight: bool,
        bias: bool,
    },
}

impl Block {
    /// Values of one example's dense gradient.
    pub fn dim(&self) -> usize {
        match self {
            Block::Dense { d, .. } => *d,
            Block::Outer {
                out,
                inp,
                weight,
                bias,
                ..
            } => out * (inp * *weight as usize + *bias as usize),
        }
    }
}

/// Per-example gradients of `n` examples as [`Block`]s, in parameter order.
#[derive(Clone, Debug, PartialEq)]
pub struct GradBlocks {
    pub n: usize,
    pub blocks: Vec<Block>,
}

impl GradBlocks {
    /// Whole gradients (`grads[i]` of example `i`) as one dense block.
    pub fn from_dense(grads: &[Vec<f64>]) -> Result<Self> {
        let d = grads.first().map_or(0, Vec::len);
        if grads.iter().any(|g| g.len() != d) {
            return invalid("per-example gradients of different lengths");
        }
        Ok(GradBlocks {
            n: grads.len(),
            blocks: vec![Block::Dense {
                d,
                g: grads.concat(),
            }],
        })
    }

    /// Values of one example's gradient.
    pub fn dim(&self) -> usize {
        self.blocks.iter().map(Block::dim).sum()
    }

    /// The examples of several parts (each with the same blocks), one after another.
    pub fn concat(parts: Vec<GradBlocks>) -> Result<Self> {
        let mut parts = parts.into_iter();
        let Some(mut all) = parts.next() else {
            return Ok(GradBlocks {
                n: 0,
                blocks: Vec::new(),
            });
        };
        for p in parts {
            if p.blocks.len() != all.blocks.len() {
                return invalid("gradient blocks of different layouts");
            }
            all.n += p.n;
            for (a, b) in all.blocks.iter_mut().zip(p.blocks) {
                match (a, b) {
                    (Block::Dense { d, g }, Block::Dense { d: d2, g: g2 }) if *d == d2 => {
                        g.extend(g2)
                    }
                    (
                        Block::Outer {
                            out,
                            inp,
                            delta,
                            act,
                            ..
                        },
                        Block::Outer {
                            out: o2,
                            inp: i2,
                            delta: d2,
                            act: a2,
                            ..
                        },
                    ) if *out == o2 && *inp == i2 => {
                        delta.extend(d2);
                        act.extend(a2);
                    }
                    _ => return invalid("gradient blocks of different layouts"),
                }
            }
        }
        Ok(all)
    }

    /// `[self.n, other.n]` dot products `∇ℓᵢᵀ ∇ℓ′ⱼ`, row-major (block by block, in order:
    /// the same sums for any thread count).
    pub fn gram(&self, other: &GradBlocks) -> Result<Vec<f64>> {
        let (m, n) = (self.n, other.n);
        if self.blocks.len() != other.blocks.len() {
            return invalid("gradient blocks of different layouts");
        }
        let mut out = vec![0.0; m * n];
        for (a, b) in self.blocks.iter().zip(&other.blocks) {
            match (a, b) {
                (Block::Dense { d, g }, Block::Dense { d: d2, g: g2 }) if d == d2 => {
                    gemm(m, *d, n, g, false, g2, true, &mut out, true);
                }
                (
                    Block::Outer {
                        out: o,
                        inp,
                        delta,
                        act,
                        weight,
                        bias,
                    },
                    Block::Outer {
                        out: o2,
                        inp: i2,
                        delta: d2,
                        act: a2,
                        weight: w2,
                        bias: b2,
                    },
                ) if o == o2 && inp == i2 && weight == w2 && bias == b2 => {
                    let mut gd = vec![0.0; m * n];
                    gemm(m, *o, n, delta, false, d2, true, &mut gd, false);
                    let mut ga = vec![*bias as u8 as f64; m * n];
                    if *weight {
                        gemm(m, *inp, n, act, false, a2, true, &mut ga, true);
                    }
                    for ((s, x), y) in out.iter_mut().zip(&gd).zip(&ga) {
                        *s += x * y;
                    }
                }
                _ => return invalid("gradient blocks of different layouts"),
            }
        }
        Ok(out)
    }

    /// `‖∇ℓᵢ‖²` of every example.
    pub fn sq_norms(&self) -> Vec<f64> {
        let sq = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>();
        let mut out = vec![0.0; self.n];
        for b in &self.blocks {
            match b {
                Block::Dense { d, g } => {
                    for (o, row) in out.iter_mut().zip(g.chunks(*d)) {
                        *o += sq(row);
                    }
                }
                Block::Outer {
                    out: k,
                    inp,
                    delta,
                    act,
                    weight,
                    bias,
                } => {
                    for (i, o) in out.iter_mut().enumerate() {
                        let a = if *weight {
                            sq(&act[i * inp..(i + 1) * inp])
                        } else {
                            0.0
                        };
                        *o += sq(&delta[i * k..(i + 1) * k]) * (a + *bias as u8 as f64);
                    }
                }
            }
        }
        out
    }

    /// Every example's whole gradient, in state-dict order (a linear layer's weight
    /// `δ aᵀ` row-major, then its bias `δ`).
    pub fn dense(&self) -> Vec<Vec<f64>> {
        let mut out: Vec<Vec<f64>> = (0..self.n)
            .map(|_| Vec::with_capacity(self.dim()))
            .collect();
        for b in &self.blocks {
            for (i, row) in out.iter_mut().enumerate() {
                match b {
                    Block::Dense { d, g } => row.extend_from_slice(&g[i * d..(i + 1) * d]),
                    Block::Outer {
                        out: k,
                        inp,
                        delta,
                        act,
                        weight,
                        bias,
                    } => {
                        let (d, a) = (&delta[i * k..(i + 1) * k], &act[i * inp..(i + 1) * inp]);
                        if *weight {
                            for &dc in d {
                                row.extend(a.iter().map(|&v| dc * v));
                            }
                        }
                        if *bias {
                            row.extend_from_slice(d);
                        }
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: u64) -> Vec<f64> {
        (0..n)
            .map(|i| (((i as u64 + 1) * (seed * 2 + 1) * 2654435761) % 1000) as f64 / 500.0 - 1.0)
            .collect()
    }

    fn blocks(n: usize, seed: u64) -> GradBlocks {
        GradBlocks {
            n,
            blocks: vec![
                Block::Dense {
                    d: 3,
                    g: values(n * 3, seed),
                },
                Block::Outer {
                    out: 2,
                    inp: 4,
                    delta: values(n * 2, seed + 1),
                    act: values(n * 4, seed + 2),
                    weight: true,
                    bias: true,
                },
                Block::Outer {
                    out: 3,
                    inp: 2,
                    delta: values(n * 3, seed + 3),
                    act: values(n * 2, seed + 4),
                    weight: true,
                    bias: false,
                },
            ],
        }
    }

    #[test]
    fn gram_and_norms_equal_those_of_the_dense_gradients() {
        let (a, b) = (blocks(3, 1), blocks(5, 7));
        let (da, db) = (a.dense(), b.dense());
        assert_eq!(da[0].len(), 3 + (2 * 4 + 2) + 3 * 2);
        assert_eq!(a.dim(), da[0].len());
        let g = a.gram(&b).unwrap();
        for i in 0..3 {
            for j in 0..5 {
                let want: f64 = da[i].iter().zip(&db[j]).map(|(x, y)| x * y).sum();
                assert!((g[i * 5 + j] - want).abs() < 1e-12, "({i},{j})");
            }
            let want: f64 = da[i].iter().map(|x| x * x).sum();
            assert!((a.sq_norms()[i] - want).abs() < 1e-12);
        }
        // the dense form back as one block gives the same products
        let back = GradBlocks::from_dense(&da).unwrap();
        let g2 = back.gram(&GradBlocks::from_dense(&db).unwrap()).unwrap();
        assert!(g.iter().zip(&g2).all(|(x, y)| (x - y).abs() < 1e-12));
        // a layout mismatch is an error, not a wrong number
        assert!(a.gram(&back).is_err());
        // concat keeps the examples in order
        let both = GradBlocks::concat(vec![blocks(3, 1), blocks(5, 7)]).unwrap();
        assert_eq!(both.n, 8);
        assert_eq!(both.dense()[3], db[0]);
    }
}
