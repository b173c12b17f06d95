//! A linear layer as one op: `y = x · Wᵀ + b`, or with `relu` `y = max(x · Wᵀ + b, 0)`
//! (`W` `[out, in]`, PyTorch's layout; `x` `[.., in]`, its leading axes flattened into
//! rows).
//!
//! The bias and the ReLU are applied to each part of the product by the thread that
//! computed it, while the part is in its cache ([`crate::tensor::matmul::Epilogue`]);
//! as three ops, the product, the bias and the ReLU were three passes over memory, the
//! last two over values half written by the other core. Backward: `g' = g · 1[y > 0]`
//! (with `relu`, under the call's [`BackwardRule`](crate::autodiff::BackwardRule)),
//! `db = Σ_rows g'`, `dx = g' · W`, `dW = g'ᵀ · x`.
//!
//! The same bits as `matmul_nt`, `add` and `relu`, forward and backward under every
//! rule (each value gets the same product, addition and ReLU; the bias gradient adds
//! the rows in the same order as `add`'s): pinned by `the_bits_of_the_three_ops`, with
//! the finite-difference check `gradcheck`.

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::{Result, shape_err};
use crate::float::Float;
use crate::ops::{matmul, relu};
use crate::tensor::broadcast::reduce_to;
use crate::tensor::matmul::{Epilogue, linear_product};
use crate::tensor::{Tensor, fmt_shape};

impl<T: Float> Tape<T> {
    /// `x · Wᵀ + b`, then with `relu` the ReLU, as one op (`x` `[.., in]`, `w`
    /// `[out, in]`, `b` `[out]`).
    pub fn linear(&mut self, x: Var, w: Var, b: Var, relu: bool) -> Result<Var> {
        if self.shape(w).len() != 2 {
            return shape_err(format!(
                "a linear layer's weights must be [out, in], got {}",
                fmt_shape(self.shape(w))
            ));
        }
        let d = matmul::dims(self.shape(x), self.shape(w), true)?;
        if self.shape(b) != [d.n] {
            return shape_err(format!(
                "a linear layer with {} outputs needs a bias of shape [{}], got {}",
                d.n,
                d.n,
                fmt_shape(self.shape(b))
            ));
        }
        let ep = Epilogue {
            bias: self.value(b).data(),
            relu,
        };
        let (xv, wv) = (self.value(x).data(), self.value(w).data());
        let y = linear_product(d.m, d.k, d.n, xv, wv, ep);
        let y = Tensor::new(&d.out, y)?;
        Ok(self.push(y, Op::Linear { x, w, b, relu }))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, x: Var, w: Var, b: Var, relu: bool) -> Contribs<T> {
    // the gradient at the product: through the ReLU, which its output decides
    let g = if relu {
        Tensor::new(
            c.g.shape(),
            relu::gradient(c.rule, c.g.data(), c.out.data()),
        )?
    } else {
        c.g.clone()
    };
    let mut out = matmul::grads(c, x, w, true, g.data())?;
    if c.needs(b) {
        // the rows added in order, as `add` reduces a broadcast bias
        out.push((b, reduce_to(&g, c.val(b).shape())?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};
    use crate::autodiff::{BackwardRule, Tape};
    use crate::tensor::Tensor;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn gradcheck() {
        for relu in [false, true] {
            assert_gradcheck(
                |t, v| t.linear(v[0], v[1], v[2], relu),
                &[
                    test_input(&[3, 4], 1, 0.0),
                    test_input(&[5, 4], 2, 0.0),
                    test_input(&[5], 3, 0.0),
                ],
            );
            assert_gradcheck(
                |t, v| t.linear(v[0], v[1], v[2], relu),
                &[
                    test_input(&[2, 3, 4], 4, 0.0),
                    test_input(&[2, 4], 5, 0.0),
                    test_input(&[2], 6, 0.0),
                ],
            );
        }
    }

    /// The output and the three gradients of the op and of `matmul_nt`, `add` and
    /// `relu` (or the first two), in f32.
    fn both(
        xs: &[usize],
        n: usize,
        relu: bool,
        rule: BackwardRule,
        seed: u64,
    ) -> [[Vec<f32>; 4]; 2] {
        let rng = &mut StdRng::seed_from_u64(seed);
        let k = *xs.last().unwrap();
        let x = Tensor::<f32>::uniform(xs, -1.0, 1.0, rng);
        let w = Tensor::<f32>::uniform(&[n, k], -0.1, 0.1, rng);
        let b = Tensor::<f32>::uniform(&[n], -0.5, 0.5, rng);
        let mut out_shape = xs[..xs.len() - 1].to_vec();
        out_shape.push(n);
        let seed = Tensor::<f32>::uniform(&out_shape, -1.0, 1.0, rng);
        [true, false].map(|fused| {
            let mut t = Tape::new();
            let (xv, wv, bv) = (t.leaf(x.clone()), t.leaf(w.clone()), t.leaf(b.clone()));
            let y = if fused {
                t.linear(xv, wv, bv, relu).unwrap()
            } else {
                let p = t.matmul_nt(xv, wv).unwrap();
                let y = t.add(p, bv).unwrap();
                if relu { t.relu(y) } else { y }
            };
            let g = t.backward_with(y, seed.clone(), rule).unwrap();
            [
                t.value(y).data().to_vec(),
                g.get(xv).into_data(),
                g.get(wv).into_data(),
                g.get(bv).into_data(),
            ]
        })
    }

    /// Every path of the product: run the other way round (mnist-vae's 784 → 400 and
    /// 400 → 784 on a batch of 64), as it is with panels (400 → 16·2, 16 → 400), with
    /// `b` in rows (a classifier head, 10 outputs), on matrixmultiply (1024 → 1024),
    /// with leading axes, and one row; on 1, 2 and 3 threads (parts of other sizes).
    #[test]
    fn the_bits_of_the_three_ops() {
        let cases: [(&[usize], usize); 8] = [
            (&[64, 784], 400),
            (&[64, 400], 784),
            (&[64, 400], 32),
            (&[64, 16], 400),
            (&[64, 64], 10),
            (&[8, 1024], 1024),
            (&[2, 7, 12], 9),
            (&[1, 5], 3),
        ];
        for threads in 1..=3 {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            for (i, (xs, n)) in cases.into_iter().enumerate() {
                for relu in [false, true] {
                    for rule in [
                        BackwardRule::Standard,
                        BackwardRule::GuidedBackprop,
                        BackwardRule::Deconvnet,
                    ] {
                        let [fused, ops] = pool.install(|| both(xs, n, relu, rule, i as u64));
                        let what = ["y", "dx", "dW", "db"];
                        for (what, (a, b)) in what.iter().zip(fused.iter().zip(&ops)) {
                            let same = a.len() == b.len()
                                && a.iter().zip(b).all(|(a, b)| a.to_bits() == b.to_bits());
                            assert!(
                                same,
                                "{what} differs for {xs:?} → {n}, relu {relu}, {rule:?}, \
                                 {threads} threads"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn shapes_are_checked() {
        let mut t = Tape::<f32>::new();
        let x = t.leaf(Tensor::zeros(&[2, 3]));
        let w = t.leaf(Tensor::zeros(&[4, 3]));
        let b = t.leaf(Tensor::zeros(&[3]));
        let e = t.linear(x, w, b, false).unwrap_err().to_string();
        assert!(e.contains("[4]") && e.contains("[3]"), "{e}");
        let w2 = t.leaf(Tensor::zeros(&[4, 5]));
        let b4 = t.leaf(Tensor::zeros(&[4]));
        let e = t.linear(x, w2, b4, true).unwrap_err().to_string();
        assert!(e.contains("[2, 3]") && e.contains("[4, 5]"), "{e}");
        let w3 = t.leaf(Tensor::zeros(&[1, 4, 3]));
        let e = t.linear(x, w3, b4, true).unwrap_err().to_string();
        assert!(e.contains("[out, in]"), "{e}");
    }
}
