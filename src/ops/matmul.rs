//! Matrix product `a · b` (or `a · bᵀ` with `matmul_nt`), batched.
//!
//! Shapes: `[.., m, k] · [k, n]` (leading axes of `a` flattened into rows), or
//! `[B, m, k] · [B, k, n]`. Backward: `da = g · bᵀ`, `db = aᵀ · g` (summed over rows).

use crate::autodiff::backward::{Contribs, Ctx};
use crate::autodiff::{Op, Tape, Var};
use crate::error::{Result, shape_err};
use crate::float::Float;
use crate::tensor::matmul::{batched_product, worth_joining};
use crate::tensor::{Tensor, fmt_shape};

/// How the two operands line up: `batch` products of m×k by k×n.
pub(crate) struct Dims {
    batch: usize,
    pub m: usize,
    pub k: usize,
    pub n: usize,
    /// `b` is one matrix shared by all rows/batches.
    shared_b: bool,
    pub out: Vec<usize>,
}

pub(crate) fn dims(a: &[usize], b: &[usize], trans_b: bool) -> Result<Dims> {
    let bad = || {
        shape_err(format!(
            "matmul cannot multiply {} by {}{}",
            fmt_shape(a),
            fmt_shape(b),
            if trans_b { "ᵀ" } else { "" }
        ))
    };
    if a.len() < 2 || !(b.len() == 2 || b.len() == a.len() && a.len() == 3) {
        return bad();
    }
    let (bk, bn) = {
        let (r, c) = (b[b.len() - 2], b[b.len() - 1]);
        if trans_b { (c, r) } else { (r, c) }
    };
    let k = a[a.len() - 1];
    if k != bk {
        return bad();
    }
    if b.len() == 2 {
        let m: usize = a[..a.len() - 1].iter().product();
        let mut out = a[..a.len() - 1].to_vec();
        out.push(bn);
        return Ok(Dims {
            batch: 1,
            m,
            k,
            n: bn,
            shared_b: true,
            out,
        });
    }
    if a[0] != b[0] {
        return bad();
    }
    Ok(Dims {
        batch: a[0],
        m: a[1],
        k,
        n: bn,
        shared_b: false,
        out: vec![a[0], a[1], bn],
    })
}

impl<T: Float> Tape<T> {
    pub fn matmul(&mut self, a: Var, b: Var) -> Result<Var> {
        self.matmul_impl(a, b, false)
    }

    /// `a · bᵀ` without materializing the transpose (a `Linear` layer's `x · Wᵀ`).
    pub fn matmul_nt(&mut self, a: Var, b: Var) -> Result<Var> {
        self.matmul_impl(a, b, true)
    }

    fn matmul_impl(&mut self, a: Var, b: Var, trans_b: bool) -> Result<Var> {
        let d = dims(self.shape(a), self.shape(b), trans_b)?;
        let (av, bv) = (self.value(a).data(), self.value(b).data());
        let out = batched_product(
            d.batch,
            d.m,
            d.k,
            d.n,
            av,
            true,
            false,
            bv,
            !d.shared_b,
            trans_b,
        );
        let y = Tensor::new(&d.out, out)?;
        Ok(self.push(y, Op::MatMul { a, b, trans_b }))
    }
}

pub(crate) fn backward<T: Float>(c: &Ctx<T>, a: Var, b: Var, trans_b: bool) -> Contribs<T> {
    grads(c, a, b, trans_b, c.g.data())
}

/// The gradients of `a` and `b` (those wanted) for the gradient `g` at the product's
/// output: also a linear layer's (`ops::linear`), after its bias and ReLU.
pub(crate) fn grads<T: Float>(c: &Ctx<T>, a: Var, b: Var, trans_b: bool, g: &[T]) -> Contribs<T> {
    let (av, bv) = (c.val(a), c.val(b));
    let d = dims(av.shape(), bv.shape(), trans_b)?;
    let (m, k, n) = (d.m, d.k, d.n);
    // da[m,k] = g[m,n] · op(b)ᵀ
    let da = || {
        c.needs(a).then(|| {
            batched_product(
                d.batch,
                m,
                n,
                k,
                g,
                true,
                false,
                bv.data(),
                !d.shared_b,
                !trans_b,
            )
        })
    };
    // per batch gᵀ · a (`b` used transposed) or aᵀ · g; a shared `b` comes with one
    // batch (`dims`), its rows all of `a`'s leading axes
    let db = || {
        c.needs(b).then(|| {
            if trans_b {
                batched_product(d.batch, n, m, k, g, true, true, av.data(), true, false)
            } else {
                batched_product(d.batch, k, m, n, av.data(), true, true, g, true, false)
            }
        })
    };
    // The two products at once, their parts sharing the pool (each value is the same
    // chain whichever thread computes it), where they are large enough
    // (`worth_joining`): a training step of mnist-vae went 1.83–1.90 → 1.66–1.76 ms and
    // of mnist-cnn 1.64–1.72 → 1.49–1.57 ms (engine bench, alternated three times; the
    // others within the noise)
    let (da, db) = if worth_joining(d.batch * m * n * k) {
        rayon::join(da, db)
    } else {
        (da(), db())
    };
    let mut out = Vec::new();
    if let Some(da) = da {
        out.push((a, Tensor::new(av.shape(), da)?));
    }
    if let Some(db) = db {
        out.push((b, Tensor::new(bv.shape(), db)?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck_2d_3d_and_transposed() {
        assert_gradcheck(
            |t, v| t.matmul(v[0], v[1]),
            &[test_input(&[3, 4], 1, 0.0), test_input(&[4, 2], 2, 0.0)],
        );
        assert_gradcheck(
            |t, v| t.matmul(v[0], v[1]),
            &[test_input(&[2, 3, 4], 1, 0.0), test_input(&[4, 5], 2, 0.0)],
        );
        assert_gradcheck(
            |t, v| t.matmul(v[0], v[1]),
            &[
                test_input(&[2, 3, 4], 1, 0.0),
                test_input(&[2, 4, 5], 2, 0.0),
            ],
        );
        assert_gradcheck(
            |t, v| t.matmul_nt(v[0], v[1]),
            &[test_input(&[3, 4], 1, 0.0), test_input(&[5, 4], 2, 0.0)],
        );
        assert_gradcheck(
            |t, v| t.matmul_nt(v[0], v[1]),
            &[
                test_input(&[2, 3, 4], 1, 0.0),
                test_input(&[2, 5, 4], 2, 0.0),
            ],
        );
    }

    #[test]
    fn mismatched_inner_dimension_is_an_error() {
        let mut t = crate::autodiff::Tape::<f32>::new();
        let a = t.leaf(crate::tensor::Tensor::zeros(&[2, 3]));
        let b = t.leaf(crate::tensor::Tensor::zeros(&[4, 5]));
        let e = t.matmul(a, b).unwrap_err().to_string();
        assert!(e.contains("[2, 3]") && e.contains("[4, 5]"), "{e}");
    }
}
