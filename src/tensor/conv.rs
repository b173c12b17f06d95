//! 2-D convolution by im2col + GEMM, forward and backward, split over samples.
//!
//! Weight gradients are summed over fixed chunks of samples and the chunk partials are
//! added in order, so the result does not depend on how many threads ran.

use super::matmul::gemm;
use crate::float::Float;
use rayon::prelude::*;

/// Geometry of one convolution (symmetric zero padding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeom {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub o: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride: usize,
    pub pad: usize,
}

impl ConvGeom {
    pub fn ho(&self) -> usize {
        (self.h + 2 * self.pad - self.kh) / self.stride + 1
    }
    pub fn wo(&self) -> usize {
        (self.w + 2 * self.pad - self.kw) / self.stride + 1
    }
    /// Rows of the column matrix: C·kh·kw.
    pub fn ck(&self) -> usize {
        self.c * self.kh * self.kw
    }
    fn in_len(&self) -> usize {
        self.c * self.h * self.w
    }
    fn out_len(&self) -> usize {
        self.o * self.ho() * self.wo()
    }
}

/// Samples per chunk when summing weight gradients.
const SAMPLE_CHUNK: usize = 4;

/// Unfolds one sample `[C,H,W]` into columns `[C·kh·kw, Ho·Wo]`.
pub fn im2col<T: Float>(g: &ConvGeom, x: &[T], cols: &mut [T]) {
    let (ho, wo) = (g.ho(), g.wo());
    for c in 0..g.c {
        for ki in 0..g.kh {
            for kj in 0..g.kw {
                let row = (c * g.kh + ki) * g.kw + kj;
                let dst = &mut cols[row * ho * wo..(row + 1) * ho * wo];
                for oy in 0..ho {
                    let iy = (oy * g.stride + ki) as isize - g.pad as isize;
                    let drow = &mut dst[oy * wo..(oy + 1) * wo];
                    if iy < 0 || iy >= g.h as isize {
                        drow.iter_mut().for_each(|v| *v = T::zero());
                        continue;
                    }
                    let src = &x[(c * g.h + iy as usize) * g.w..(c * g.h + iy as usize + 1) * g.w];
                    if g.stride == 1 {
                        // columns ox whose input ix = ox + kj - pad lies inside the row
                        let lo = g.pad.saturating_sub(kj).min(wo);
                        let hi = (g.w + g.pad).saturating_sub(kj).min(wo).max(lo);
                        drow[..lo].iter_mut().for_each(|v| *v = T::zero());
                        drow[hi..].iter_mut().for_each(|v| *v = T::zero());
                        let off = lo + kj - g.pad;
                        drow[lo..hi].copy_from_slice(&src[off..off + hi - lo]);
                        continue;
                    }
                    for (ox, d) in drow.iter_mut().enumerate() {
                        let ix = (ox * g.stride + kj) as isize - g.pad as isize;
                        *d = if ix < 0 || ix >= g.w as isize {
                            T::zero()
                        } else {
                            src[ix as usize]
                        };
                    }
                }
            }
        }
    }
}

/// Folds columns back, adding overlapping contributions: the adjoint of [`im2col`].
pub fn col2im<T: Float>(g: &ConvGeom, cols: &[T], dx: &mut [T]) {
    let (ho, wo) = (g.ho(), g.wo());
    dx.iter_mut().for_each(|v| *v = T::zero());
    for c in 0..g.c {
        for ki in 0..g.kh {
            for kj in 0..g.kw {
                let row = (c * g.kh + ki) * g.kw + kj;
                let src = &cols[row * ho * wo..(row + 1) * ho * wo];
                for oy in 0..ho {
                    let iy = (oy * g.stride + ki) as isize - g.pad as isize;
                    if iy < 0 || iy >= g.h as isize {
                        continue;
                    }
                    let drow =
                        &mut dx[(c * g.h + iy as usize) * g.w..(c * g.h + iy as usize + 1) * g.w];
                    for ox in 0..wo {
                        let ix = (ox * g.stride + kj) as isize - g.pad as isize;
                        if ix >= 0 && ix < g.w as isize {
                            drow[ix as usize] += src[oy * wo + ox];
                        }
                    }
                }
            }
        }
    }
}

/// `y[n] = W · im2col(x[n]) + b` for every sample; returns `[N,O,Ho,Wo]` data.
pub fn conv2d_forward<T: Float>(g: &ConvGeom, x: &[T], w: &[T], b: Option<&[T]>) -> Vec<T> {
    let hw = g.ho() * g.wo();
    let mut out = vec![T::zero(); g.n * g.out_len()];
    if out.is_empty() {
        return out;
    }
    out.par_chunks_mut(g.out_len())
        .zip(x.par_chunks(g.in_len()))
        .for_each_init(
            || vec![T::zero(); g.ck() * hw],
            |cols, (y, xs)| {
                im2col(g, xs, cols);
                gemm(g.o, g.ck(), hw, w, false, cols, false, y, false);
                if let Some(b) = b {
                    for (o, row) in y.chunks_mut(hw).enumerate() {
                        row.iter_mut().for_each(|v| *v += b[o]);
                    }
                }
            },
        );
    out
}

/// Gradients of a convolution given `dy` (`[N,O,Ho,Wo]`): `(dx, dw, db)`, each only if asked.
pub fn conv2d_backward<T: Float>(
    g: &ConvGeom,
    x: &[T],
    w: &[T],
    dy: &[T],
    want_dx: bool,
    want_dw: bool,
) -> (Option<Vec<T>>, Option<Vec<T>>, Vec<T>) {
    let hw = g.ho() * g.wo();
    let ck = g.ck();
    let db: Vec<T> = (0..g.o)
        .map(|o| {
            let mut s = T::zero();
            for n in 0..g.n {
                s += dy[n * g.out_len() + o * hw..n * g.out_len() + (o + 1) * hw]
                    .iter()
                    .copied()
                    .sum();
            }
            s
        })
        .collect();
    let dx = want_dx.then(|| {
        let mut dx = vec![T::zero(); g.n * g.in_len()];
        if !dx.is_empty() {
            dx.par_chunks_mut(g.in_len())
                .zip(dy.par_chunks(g.out_len()))
                .for_each_init(
                    || vec![T::zero(); ck * hw],
                    |cols, (dxs, dys)| {
                        gemm(ck, g.o, hw, w, true, dys, false, cols, false);
                        col2im(g, cols, dxs);
                    },
                );
        }
        dx
    });
    let dw = want_dw.then(|| {
        let chunks: Vec<Vec<T>> = (0..g.n.div_ceil(SAMPLE_CHUNK))
            .into_par_iter()
            .map(|ci| {
                let mut part = vec![T::zero(); g.o * ck];
                let mut cols = vec![T::zero(); ck * hw];
                for n in ci * SAMPLE_CHUNK..((ci + 1) * SAMPLE_CHUNK).min(g.n) {
                    im2col(g, &x[n * g.in_len()..(n + 1) * g.in_len()], &mut cols);
                    let dys = &dy[n * g.out_len()..(n + 1) * g.out_len()];
                    gemm(g.o, hw, ck, dys, false, &cols, true, &mut part, true);
                }
                part
            })
            .collect();
        let mut dw = vec![T::zero(); g.o * ck];
        for part in &chunks {
            dw.iter_mut().zip(part).for_each(|(a, &b)| *a += b);
        }
        dw
    });
    (dx, dw, db)
}
