//! NumPy-style broadcasting: the output shape of a binary op, and the reduction that
//! brings a gradient back to an input's shape.

use super::{Tensor, fmt_shape, strides_of};
use crate::error::{Result, shape_err};
use crate::float::Float;

/// The broadcast shape of `a` and `b` (axes aligned from the right; sizes equal or 1).
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i < n - a.len() {
            1
        } else {
            a[i - (n - a.len())]
        };
        let db = if i < n - b.len() {
            1
        } else {
            b[i - (n - b.len())]
        };
        out[i] = match (da, db) {
            _ if da == db => da,
            (1, d) | (d, 1) => d,
            _ => {
                return shape_err(format!(
                    "shapes {} and {} do not broadcast",
                    fmt_shape(a),
                    fmt_shape(b)
                ));
            }
        };
    }
    Ok(out)
}

/// Strides of `shape` seen inside the larger `out` shape: 0 on broadcast axes.
fn broadcast_strides(shape: &[usize], out: &[usize]) -> Vec<usize> {
    let own = strides_of(shape);
    let pad = out.len() - shape.len();
    (0..out.len())
        .map(|i| {
            if i < pad || shape[i - pad] == 1 {
                0
            } else {
                own[i - pad]
            }
        })
        .collect()
}

/// Calls `f(out_index, a_offset, b_offset)` for every element of `out`, in row-major order.
fn for_each_offset(
    out: &[usize],
    sa: &[usize],
    sb: &[usize],
    mut f: impl FnMut(usize, usize, usize),
) {
    let total: usize = out.iter().product();
    if total == 0 {
        return;
    }
    let nd = out.len();
    if nd == 0 {
        f(0, 0, 0);
        return;
    }
    let last = out[nd - 1];
    let (la, lb) = (sa[nd - 1], sb[nd - 1]);
    let mut idx = vec![0usize; nd];
    let (mut oa, mut ob) = (0usize, 0usize);
    let mut o = 0;
    while o < total {
        for j in 0..last {
            f(o + j, oa + j * la, ob + j * lb);
        }
        o += last;
        // advance the odometer over all axes but the last
        let mut d = nd - 1;
        while d > 0 {
            d -= 1;
            idx[d] += 1;
            oa += sa[d];
            ob += sb[d];
            if idx[d] < out[d] {
                break;
            }
            oa -= sa[d] * out[d];
            ob -= sb[d] * out[d];
            idx[d] = 0;
        }
    }
}

/// `f(a, b)` with broadcasting.
pub fn binary<T: Float>(
    a: &Tensor<T>,
    b: &Tensor<T>,
    f: impl Fn(T, T) -> T + Sync,
) -> Result<Tensor<T>> {
    if a.shape() == b.shape() {
        return a.zip(b, f);
    }
    let out = broadcast_shape(a.shape(), b.shape())?;
    if let Some(t) = suffix_fast_path(a, b, &out, &f) {
        return Ok(t);
    }
    let sa = broadcast_strides(a.shape(), &out);
    let sb = broadcast_strides(b.shape(), &out);
    let mut data = vec![T::zero(); out.iter().product()];
    let (ad, bd) = (a.data(), b.data());
    for_each_offset(&out, &sa, &sb, |o, ia, ib| data[o] = f(ad[ia], bd[ib]));
    Tensor::new(&out, data)
}

/// The common case of a bias: one operand's shape equals the output and the other's is
/// a suffix of it (`[N, C] + [C]`), so the smaller one simply repeats.
fn suffix_fast_path<T: Float>(
    a: &Tensor<T>,
    b: &Tensor<T>,
    out: &[usize],
    f: &impl Fn(T, T) -> T,
) -> Option<Tensor<T>> {
    let is_suffix = |s: &[usize]| !s.is_empty() && out.ends_with(s);
    let (big, small, swapped) = if a.shape() == out && is_suffix(b.shape()) {
        (a, b, false)
    } else if b.shape() == out && is_suffix(a.shape()) {
        (b, a, true)
    } else {
        return None;
    };
    let k = small.len();
    let mut data = Vec::with_capacity(big.len());
    for chunk in big.data().chunks(k) {
        if swapped {
            data.extend(chunk.iter().zip(small.data()).map(|(&x, &s)| f(s, x)));
        } else {
            data.extend(chunk.iter().zip(small.data()).map(|(&x, &s)| f(x, s)));
        }
    }
    Tensor::new(out, data).ok()
}

/// Sums `grad` (of the broadcast shape) down to `shape`, the inverse of broadcasting.
pub fn reduce_to<T: Float>(grad: &Tensor<T>, shape: &[usize]) -> Result<Tensor<T>> {
    if grad.shape() == shape {
        return Ok(grad.clone());
    }
    let out = grad.shape().to_vec();
    if broadcast_shape(shape, &out)? != out {
        return shape_err(format!(
            "cannot reduce {} to {}",
            fmt_shape(&out),
            fmt_shape(shape)
        ));
    }
    if !shape.is_empty() && out.ends_with(shape) && shape.iter().product::<usize>() > 0 {
        // summing the repeats of a suffix (a bias gradient): add whole rows in order
        let k: usize = shape.iter().product();
        let mut acc = vec![T::zero(); k];
        for row in grad.data().chunks(k) {
            acc.iter_mut().zip(row).for_each(|(a, &g)| *a += g);
        }
        return Tensor::new(shape, acc);
    }
    let st = broadcast_strides(shape, &out);
    let zero = vec![0; out.len()];
    let mut acc = vec![T::zero(); shape.iter().product()];
    let g = grad.data();
    for_each_offset(&out, &st, &zero, |o, it, _| acc[it] += g[o]);
    Tensor::new(shape, acc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_broadcast_like_numpy() {
        assert_eq!(broadcast_shape(&[2, 3, 4], &[4]).unwrap(), vec![2, 3, 4]);
        assert_eq!(broadcast_shape(&[2, 1, 4], &[3, 1]).unwrap(), vec![2, 3, 4]);
        let e = broadcast_shape(&[2, 3], &[4]).unwrap_err().to_string();
        assert!(e.contains("[2, 3]") && e.contains("[4]"), "{e}");
    }

    #[test]
    fn binary_and_reduce_are_adjoint() {
        let a = Tensor::<f64>::from_f64(&[2, 1, 3], &[1., 2., 3., 4., 5., 6.]).unwrap();
        let b = Tensor::<f64>::from_f64(&[2, 1], &[10., 20.]).unwrap();
        let c = binary(&a, &b, |x, y| x + y).unwrap();
        assert_eq!(c.shape(), &[2, 2, 3]);
        assert_eq!(c.data()[..6], [11., 12., 13., 21., 22., 23.]);
        let r = reduce_to(&c, &[2, 1]).unwrap();
        // sum over axes 0 and 2 of c
        assert_eq!(
            r.data(),
            &[
                11. + 12. + 13. + 14. + 15. + 16.,
                21. + 22. + 23. + 24. + 25. + 26.
            ]
        );
    }
}
