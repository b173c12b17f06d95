//! Pooling kernels on `[N,C,H,W]` data (no padding, floor mode, as PyTorch's defaults).

use crate::float::Float;

/// Output size of a pooling window along one axis.
pub fn pooled(len: usize, k: usize, stride: usize) -> usize {
    if len < k { 0 } else { (len - k) / stride + 1 }
}

/// Max-pooling. Returns the output and, for each output, the flat input index of the
/// first maximum of its window in row-major order (PyTorch's choice on ties).
pub fn maxpool2d<T: Float>(
    x: &[T],
    nc: usize,
    h: usize,
    w: usize,
    k: usize,
    s: usize,
) -> (Vec<T>, Vec<usize>) {
    let (ho, wo) = (pooled(h, k, s), pooled(w, k, s));
    let mut out = Vec::with_capacity(nc * ho * wo);
    let mut arg = Vec::with_capacity(nc * ho * wo);
    for p in 0..nc {
        let base = p * h * w;
        for oy in 0..ho {
            for ox in 0..wo {
                let mut best = base + oy * s * w + ox * s;
                for ky in 0..k {
                    for kx in 0..k {
                        let i = base + (oy * s + ky) * w + ox * s + kx;
                        // strict '>' keeps the first maximum; a NaN wins, as in PyTorch
                        if x[i] > x[best] || (x[i] != x[i] && x[best] == x[best]) {
                            best = i;
                        }
                    }
                }
                out.push(x[best]);
                arg.push(best);
            }
        }
    }
    (out, arg)
}

/// Average pooling over k×k windows.
pub fn avgpool2d<T: Float>(x: &[T], nc: usize, h: usize, w: usize, k: usize, s: usize) -> Vec<T> {
    let (ho, wo) = (pooled(h, k, s), pooled(w, k, s));
    let inv = T::one() / T::from_usize(k * k).unwrap_or(T::one());
    let mut out = Vec::with_capacity(nc * ho * wo);
    for p in 0..nc {
        for oy in 0..ho {
            for ox in 0..wo {
                let mut acc = T::zero();
                for ky in 0..k {
                    for kx in 0..k {
                        acc += x[p * h * w + (oy * s + ky) * w + ox * s + kx];
                    }
                }
                out.push(acc * inv);
            }
        }
    }
    out
}

/// The adjoint of [`avgpool2d`].
pub fn avgpool2d_backward<T: Float>(
    dy: &[T],
    nc: usize,
    h: usize,
    w: usize,
    k: usize,
    s: usize,
) -> Vec<T> {
    let (ho, wo) = (pooled(h, k, s), pooled(w, k, s));
    let inv = T::one() / T::from_usize(k * k).unwrap_or(T::one());
    let mut dx = vec![T::zero(); nc * h * w];
    for p in 0..nc {
        for oy in 0..ho {
            for ox in 0..wo {
                let g = dy[(p * ho + oy) * wo + ox] * inv;
                for ky in 0..k {
                    for kx in 0..k {
                        dx[p * h * w + (oy * s + ky) * w + ox * s + kx] += g;
                    }
                }
            }
        }
    }
    dx
}
