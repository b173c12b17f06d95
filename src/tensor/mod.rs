//! `Tensor<T>`: a contiguous, row-major n-dimensional array, and the graph-free kernels
//! that the ops are built on.

pub mod broadcast;
pub mod conv;
pub mod image;
pub mod kernel;
pub mod linalg;
pub mod matmul;
pub mod pool;
pub mod vlibm;
pub mod vmath;

use crate::error::{Result, invalid, shape_err};
use crate::float::Float;
use rand::Rng;
use rayon::prelude::*;
use std::mem::MaybeUninit;
use std::sync::Arc;

/// Elementwise work on at least this many elements is split over threads.
pub const PAR_ELEMS: usize = 1 << 16;
/// Elements per parallel chunk.
const PAR_CHUNK: usize = 1 << 14;
/// Elementwise work of nanoseconds a value (libm's `exp` and `ln`, the f64 curves) is
/// split over threads from two chunks on (mnist-vae's 50 176 BCE values).
const PAR_ELEMS_COSTLY: usize = 2 * PAR_CHUNK;
/// [`Tensor::check_finite`] splits tensors of at least this many values over threads.
const CHECK_PAR_ELEMS: usize = 1 << 20;

/// A dense row-major array. The last axis varies fastest.
///
/// The values are shared between clones and copied on the first write to a shared
/// tensor ([`Tensor::data_mut`]), so a clone costs nothing until then. The tape clones a
/// value for every reshape, every bound parameter and every input: those copies were a
/// third of mnist-linear's inference (perf) and 2.6 MB per step for mnist-vae.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor<T> {
    shape: Vec<usize>,
    data: Arc<Vec<T>>,
}

/// Formats a shape the way error messages show it: `[2, 3, 4]`.
pub fn fmt_shape(shape: &[usize]) -> String {
    format!("{shape:?}")
}

impl<T: Float> Tensor<T> {
    /// Builds a tensor from data in row-major order; the length must match the shape.
    pub fn new(shape: &[usize], data: Vec<T>) -> Result<Self> {
        let n: usize = shape.iter().product();
        if n != data.len() {
            return shape_err(format!(
                "shape {} holds {n} elements but {} were given",
                fmt_shape(shape),
                data.len()
            ));
        }
        Ok(Tensor {
            shape: shape.to_vec(),
            data: data.into(),
        })
    }

    pub fn from_f64(shape: &[usize], data: &[f64]) -> Result<Self> {
        Self::new(shape, data.iter().map(|&v| T::from_f64_lossy(v)).collect())
    }

    pub fn zeros(shape: &[usize]) -> Self {
        Self::full(shape, T::zero())
    }

    pub fn ones(shape: &[usize]) -> Self {
        Self::full(shape, T::one())
    }

    pub fn full(shape: &[usize], v: T) -> Self {
        Tensor {
            shape: shape.to_vec(),
            data: vec![v; shape.iter().product()].into(),
        }
    }

    pub fn scalar(v: T) -> Self {
        Tensor {
            shape: vec![],
            data: vec![v].into(),
        }
    }

    /// Uniform samples in `[lo, hi)`.
    pub fn uniform(shape: &[usize], lo: f64, hi: f64, rng: &mut impl Rng) -> Self {
        let n = shape.iter().product();
        let data = (0..n)
            .map(|_| T::from_f64_lossy(rng.gen_range(lo..hi)))
            .collect::<Vec<T>>()
            .into();
        Tensor {
            shape: shape.to_vec(),
            data,
        }
    }

    /// Standard normal samples times `std`.
    pub fn randn(shape: &[usize], std: f64, rng: &mut impl Rng) -> Self {
        let n = shape.iter().product();
        let normal = rand_distr::StandardNormal;
        let data = (0..n)
            .map(|_| T::from_f64_lossy(std * rng.sample::<f64, _>(normal)))
            .collect::<Vec<T>>()
            .into();
        Tensor {
            shape: shape.to_vec(),
            data,
        }
    }

    /// One-hot rows: `[n, classes]` with a 1 at `(i, idx[i])`.
    pub fn one_hot(idx: &[usize], classes: usize) -> Result<Self> {
        let mut t = Self::zeros(&[idx.len(), classes]);
        let d = t.data_mut();
        for (i, &c) in idx.iter().enumerate() {
            if c >= classes {
                return invalid(format!("class {c} out of range for {classes} classes"));
            }
            d[i * classes + c] = T::one();
        }
        Ok(t)
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    pub fn data(&self) -> &[T] {
        &self.data
    }

    /// The values, for writing: copied first if another clone shares them.
    pub fn data_mut(&mut self) -> &mut [T] {
        Arc::make_mut(&mut self.data).as_mut_slice()
    }

    /// The values, copied only if another clone shares them.
    pub fn into_data(self) -> Vec<T> {
        Arc::try_unwrap(self.data).unwrap_or_else(|shared| (*shared).clone())
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// The single value of a one-element tensor.
    pub fn item(&self) -> Result<T> {
        if self.data.len() != 1 {
            return shape_err(format!(
                "item() needs one element, shape is {}",
                fmt_shape(&self.shape)
            ));
        }
        Ok(self.data[0])
    }

    /// Same data, new shape with the same number of elements.
    pub fn reshape(mut self, shape: &[usize]) -> Result<Self> {
        let n: usize = shape.iter().product();
        if n != self.data.len() {
            return shape_err(format!(
                "cannot reshape {} into {}",
                fmt_shape(&self.shape),
                fmt_shape(shape)
            ));
        }
        self.shape = shape.to_vec();
        Ok(self)
    }

    /// Elementwise `f(x)`; large tensors are split over threads (the result does not
    /// depend on the split).
    pub fn map(&self, f: impl Fn(T) -> T + Sync) -> Self {
        let data = par_map2(&self.data, &self.data, |x, _| f(x));
        Tensor {
            shape: self.shape.clone(),
            data: data.into(),
        }
    }

    /// Elementwise [`Float::sigmoid`], the same bits as `map(Float::sigmoid)`; f32 on
    /// AVX-512 eight lanes at a time ([`vmath`], 1.6× as fast on 16 384 values).
    pub fn sigmoid(&self) -> Self {
        self.curve(vmath::Curve::Sigmoid)
    }

    /// Elementwise [`Float::tanh`], as [`Tensor::sigmoid`] is `sigmoid` (the bits of
    /// `map(Float::tanh)`; for f32 not of `f32::tanh`, libm's, which `v.tanh()` names).
    pub fn tanh(&self) -> Self {
        self.curve(vmath::Curve::Tanh)
    }

    fn curve(&self, curve: vmath::Curve) -> Self {
        self.costly_map(|x, o| vmath::curve_into(curve, x, o))
    }

    /// `f(σ(x), o)` elementwise for `x` in `self` and `o` in `other` (same shape), in one
    /// pass: the bits of `self.sigmoid().zip(other, f)`, without writing σ out and
    /// reading it back (the BCE's backward on mnist-vae's 50 176 logits, 2 threads,
    /// median of 500, alternated three times: 41.2–41.5 → 34.7–36.1 µs).
    pub fn sigmoid_zip(&self, other: &Self, f: impl Fn(T, T) -> T + Sync) -> Result<Self> {
        self.same_shape(other)?;
        let (x, y) = (&self.data[..], &other.data[..]);
        let data = par_fill(x.len(), PAR_ELEMS_COSTLY, |o, start| {
            // SUM_BLOCK values at a time, read back while in L1
            for (b, o) in o.chunks_mut(SUM_BLOCK).enumerate() {
                let start = start + b * SUM_BLOCK;
                vmath::curve_into(vmath::Curve::Sigmoid, &x[start..start + o.len()], o);
                // SAFETY: `curve_into` wrote every value of `o`.
                let o = unsafe { written(o) };
                for (o, &y) in o.iter_mut().zip(&y[start..]) {
                    *o = f(*o, y);
                }
            }
        });
        Ok(Tensor {
            shape: self.shape.clone(),
            data: data.into(),
        })
    }

    /// `run(x, o)` writes `o` from the same stretch `x` of the values, in chunks split over
    /// threads from [`PAR_ELEMS_COSTLY`] values on.
    fn costly_map(&self, run: impl Fn(&[T], &mut [MaybeUninit<T>]) + Sync) -> Self {
        let x = &self.data[..];
        let data = par_fill(x.len(), PAR_ELEMS_COSTLY, |o, start| {
            run(&x[start..start + o.len()], o)
        });
        Tensor {
            shape: self.shape.clone(),
            data: data.into(),
        }
    }

    /// Elementwise combination of two tensors of exactly the same shape.
    pub fn zip(&self, other: &Self, f: impl Fn(T, T) -> T + Sync) -> Result<Self> {
        self.same_shape(other)?;
        Ok(Tensor {
            shape: self.shape.clone(),
            data: par_map2(&self.data, &other.data, f).into(),
        })
    }

    /// `f(self[i], b[i], c[i])` for three tensors of exactly the same shape.
    pub fn zip3(&self, b: &Self, c: &Self, f: impl Fn(T, T, T) -> T + Sync) -> Result<Self> {
        self.same_shape(b)?;
        self.same_shape(c)?;
        Ok(Tensor {
            shape: self.shape.clone(),
            data: par_map3(&self.data, &b.data, &c.data, f).into(),
        })
    }

    /// An error naming both shapes unless `self` and `other` have the same one.
    pub(crate) fn same_shape(&self, other: &Self) -> Result<()> {
        if self.shape != other.shape {
            return shape_err(format!(
                "elementwise op needs equal shapes, got {} and {}",
                fmt_shape(&self.shape),
                fmt_shape(&other.shape)
            ));
        }
        Ok(())
    }

    /// `self += other` for equal shapes (used to accumulate gradients).
    pub fn add_assign(&mut self, other: &Self) -> Result<()> {
        if self.shape != other.shape {
            return shape_err(format!(
                "cannot accumulate {} into {}",
                fmt_shape(&other.shape),
                fmt_shape(&self.shape)
            ));
        }
        for (a, &b) in self.data_mut().iter_mut().zip(other.data.iter()) {
            *a += b;
        }
        Ok(())
    }

    pub fn sum(&self) -> T {
        self.data.iter().copied().sum()
    }

    /// Converts element type through f64 (e.g. f64 → f32 for saving).
    pub fn cast<U: Float>(&self) -> Tensor<U> {
        Tensor {
            shape: self.shape.clone(),
            data: self
                .data
                .iter()
                .map(|v| U::from_f64_lossy(v.to_f64()))
                .collect::<Vec<U>>()
                .into(),
        }
    }

    pub fn to_f64_vec(&self) -> Vec<f64> {
        self.data.iter().map(|v| v.to_f64()).collect()
    }

    /// An error naming the first NaN or infinity, if any.
    pub fn check_finite(&self, what: &str) -> Result<()> {
        // the search runs only to name the bad value; below a million values the
        // threads' wake-up costs more than splitting the test saves
        let all_finite = if self.data.len() >= CHECK_PAR_ELEMS {
            self.data.par_chunks(PAR_CHUNK).all(all_finite)
        } else {
            all_finite(&self.data)
        };
        if all_finite {
            return Ok(());
        }
        match self.data.iter().position(|v| !v.is_finite()) {
            None => Ok(()),
            Some(i) => invalid(format!(
                "{what} contains a non-finite value ({}) at flat index {i} of shape {}",
                self.data[i],
                fmt_shape(&self.shape)
            )),
        }
    }

    /// Row-major strides of the shape.
    pub fn strides(&self) -> Vec<usize> {
        strides_of(&self.shape)
    }

    /// Largest absolute value (0 for an empty tensor).
    pub fn max_abs(&self) -> f64 {
        self.data
            .iter()
            .fold(0.0f64, |m, v| m.max(v.to_f64().abs()))
    }

    /// Rows `[start, end)` of the first axis.
    pub fn slice_rows(&self, start: usize, end: usize) -> Result<Self> {
        if self.shape.is_empty() || start > end || end > self.shape[0] {
            return shape_err(format!(
                "rows {start}..{end} out of range for {}",
                fmt_shape(&self.shape)
            ));
        }
        if start == 0 && end == self.shape[0] {
            return Ok(self.clone());
        }
        let row: usize = self.shape[1..].iter().product();
        let mut shape = self.shape.clone();
        shape[0] = end - start;
        Ok(Tensor {
            shape,
            data: self.data[start * row..end * row].to_vec().into(),
        })
    }

    /// Gathers rows of the first axis by index.
    pub fn select_rows(&self, idx: &[usize]) -> Result<Self> {
        if self.shape.is_empty() {
            return shape_err("select_rows needs at least one axis");
        }
        let row: usize = self.shape[1..].iter().product();
        let mut data = Vec::with_capacity(idx.len() * row);
        for &i in idx {
            if i >= self.shape[0] {
                return shape_err(format!(
                    "row {i} out of range for {}",
                    fmt_shape(&self.shape)
                ));
            }
            data.extend_from_slice(&self.data[i * row..(i + 1) * row]);
        }
        let mut shape = self.shape.clone();
        shape[0] = idx.len();
        Ok(Tensor {
            shape,
            data: data.into(),
        })
    }

    /// Index of the largest value in each row of a `[n, c]` tensor (first one on ties).
    pub fn argmax_rows(&self) -> Result<Vec<usize>> {
        if self.shape.len() != 2 || self.shape[1] == 0 {
            return shape_err(format!(
                "argmax_rows needs [n, c] with c > 0, got {}",
                fmt_shape(&self.shape)
            ));
        }
        let c = self.shape[1];
        Ok(self
            .data
            .chunks(c)
            .map(|row| {
                let mut best = 0;
                for j in 1..c {
                    if row[j] > row[best] {
                        best = j;
                    }
                }
                best
            })
            .collect())
    }
}

/// `f(a[i], b[i])` for every i; inputs of at least [`PAR_ELEMS`] elements are split
/// over threads in fixed chunks (elementwise, so the result does not depend on it).
pub fn par_map2<T: Float>(a: &[T], b: &[T], f: impl Fn(T, T) -> T + Sync) -> Vec<T> {
    par_map3(a, b, a, |x, y, _| f(x, y))
}

/// `f(a[i], b[i], c[i])` for every i, split over threads like [`par_map2`].
///
/// The output is written once, into uninitialized capacity: zero-filling it first (as
/// `vec![0; n]` does) had cost a memset of every op's output, about a tenth of a
/// pokedigi-gap training step.
pub fn par_map3<T: Float>(a: &[T], b: &[T], c: &[T], f: impl Fn(T, T, T) -> T + Sync) -> Vec<T> {
    let n = a.len().min(b.len()).min(c.len());
    par_fill(n, PAR_ELEMS, |o, start| {
        let (a, b, c) = (
            &a[start..start + o.len()],
            &b[start..start + o.len()],
            &c[start..start + o.len()],
        );
        map3_into(o, a, b, c, &f);
    })
}

/// `n` values, made by `run(chunk, start)` writing every value of `chunk` (the outputs
/// `start..start + chunk.len()`), in fixed chunks split over threads from `par_from`
/// values on.
fn par_fill<T: Float>(
    n: usize,
    par_from: usize,
    run: impl Fn(&mut [MaybeUninit<T>], usize) + Sync,
) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(n);
    let spare = &mut out.spare_capacity_mut()[..n];
    if n >= par_from {
        spare
            .par_chunks_mut(PAR_CHUNK)
            .enumerate()
            .for_each(|(k, o)| run(o, k * PAR_CHUNK));
    } else {
        run(spare, 0);
    }
    // SAFETY: `run` wrote all n values of the spare capacity (every chunk above covers
    // its slice of 0..n exactly once).
    unsafe { out.set_len(n) };
    out
}

#[inline(always)]
fn map3_body<T: Float>(
    o: &mut [MaybeUninit<T>],
    a: &[T],
    b: &[T],
    c: &[T],
    f: &impl Fn(T, T, T) -> T,
) {
    let (a, b, c) = (&a[..o.len()], &b[..o.len()], &c[..o.len()]);
    for i in 0..o.len() {
        o[i].write(f(a[i], b[i], c[i]));
    }
}

/// [`map3_body`] compiled for AVX2: 8 f32 (4 f64) lanes instead of SSE2's 4 (2) where
/// the loop vectorizes, as the branch-free sigmoid and tanh do. No FMA is enabled and Rust
/// never contracts `a * b + c` itself, so the values are the same bits as the portable
/// build's.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn map3_avx2<T: Float>(
    o: &mut [MaybeUninit<T>],
    a: &[T],
    b: &[T],
    c: &[T],
    f: &impl Fn(T, T, T) -> T,
) {
    map3_body(o, a, b, c, f)
}

/// [`map3_body`] compiled for AVX-512: twice AVX2's lanes, the same IEEE operations. The
/// branch-free sigmoid and tanh gain most: the GRU's gate loop, the same arithmetic, ran
/// 1.5× faster this way (`nn::gru`), and with this build mnist-gru's training step went
/// from 1.40× to 1.88× PyTorch's (benches/compare.sh, different sittings).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn map3_avx512<T: Float>(
    o: &mut [MaybeUninit<T>],
    a: &[T],
    b: &[T],
    c: &[T],
    f: &impl Fn(T, T, T) -> T,
) {
    map3_body(o, a, b, c, f)
}

/// Writes `o[i] = f(a[i], b[i], c[i])` for every i of `o` (the inputs must be at least
/// as long), with the widest build (AVX-512, AVX2, portable) the CPU runs.
pub fn map3_into<T: Float>(
    o: &mut [MaybeUninit<T>],
    a: &[T],
    b: &[T],
    c: &[T],
    f: &impl Fn(T, T, T) -> T,
) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU was just checked to support AVX-512F.
        return unsafe { map3_avx512(o, a, b, c, f) };
    }
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU was just checked to support AVX2.
        return unsafe { map3_avx2(o, a, b, c, f) };
    }
    map3_body(o, a, b, c, f)
}

/// The sum of `xs` in eight interleaved partial sums (`xs[i]` goes to sum `i mod 8`),
/// added pairwise at the end. A plain left-to-right float sum is one chain of dependent
/// additions the compiler may not reorder, so it runs at one element per add latency
/// (about 4 cycles); eight chains keep the adder busy and vectorize. The order is fixed,
/// so the result does not depend on threads or on the CPU.
pub fn sum_lanes<T: Float>(xs: &[T]) -> T {
    sum_lanes_of(xs, |v| v)
}

/// [`sum_lanes`] of `f(x)` over `xs`, in the same order.
#[inline(always)]
pub fn sum_lanes_of<T: Float>(xs: &[T], f: impl Fn(T) -> T) -> T {
    let mut acc = [T::zero(); 8];
    let mut chunks = xs.chunks_exact(8);
    for c in &mut chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += f(v);
        }
    }
    for (a, &v) in acc.iter_mut().zip(chunks.remainder()) {
        *a += f(v);
    }
    ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]))
}

/// Terms per block of [`sum_terms`]: 8 KiB of f32, in L1 while they are made and added.
pub const SUM_BLOCK: usize = 2048;

/// `Σ` of `n` terms that `fill(start, terms)` writes (terms `start..start + terms.len()`,
/// over zeros), made and added a block of [`SUM_BLOCK`] at a time while the block is in
/// cache: each block by [`sum_lanes`], the blocks' sums left to right. Blocks are split
/// over threads from 32 768 terms on (`fill` is meant for costly terms, such as the
/// BCE's `exp` and `ln`); the order is fixed, so the bits do not depend on the threads.
///
/// Against terms written out and summed left to right (one chain of dependent
/// additions, 30 µs alone): the BCE forward on mnist-vae's 50 176 logits, 2 threads,
/// median of 500, builds alternated three times, 75.6–75.8 → 36.2–37.1 µs, of which
/// the `exp` and `ln` alone take 35.
pub fn sum_terms<T: Float>(n: usize, fill: impl Fn(usize, &mut [T]) + Sync) -> T {
    let block = |b: usize| {
        let mut buf = [const { MaybeUninit::uninit() }; SUM_BLOCK];
        let start = b * SUM_BLOCK;
        let terms = zeroed(&mut buf[..SUM_BLOCK.min(n - start)]);
        fill(start, terms);
        sum_lanes(terms)
    };
    let blocks = n.div_ceil(SUM_BLOCK);
    let sums: Vec<T> = if n >= PAR_ELEMS_COSTLY {
        (0..blocks).into_par_iter().map(block).collect()
    } else {
        (0..blocks).map(block).collect()
    };
    sums.into_iter().fold(T::zero(), |s, v| s + v)
}

/// Zeroes a run of a few values (the padding columns of one im2col row or padded plane, as many as the
/// padding) with plain stores: as a `fill` the compiler calls `memset` for each run, and
/// those calls for one or two values were a tenth of a forward convolution on 8×8 maps.
#[inline]
pub(crate) fn zero_few<T: Float>(run: &mut [T]) {
    match run {
        [] => {}
        [a] => *a = T::zero(),
        [a, b] => {
            *a = T::zero();
            *b = T::zero();
        }
        _ => run.fill(T::zero()),
    }
}

/// Zeroes uninitialized memory and returns it as initialized values: a buffer allocated
/// with `Vec::with_capacity` can be zeroed chunk by chunk by the thread that fills the
/// chunk next, while it is in cache, instead of all at once by `vec![0; n]`'s memset.
pub fn zeroed<T: Float>(d: &mut [MaybeUninit<T>]) -> &mut [T] {
    d.iter_mut().for_each(|v| {
        v.write(T::zero());
    });
    // SAFETY: every value of `d` was just written.
    unsafe { written(d) }
}

/// Memory every value of which has been written, as those values.
///
/// # Safety
/// Every value of `d` must have been written.
pub unsafe fn written<T>(d: &mut [MaybeUninit<T>]) -> &mut [T] {
    // SAFETY: the caller guarantees every value is initialised; `MaybeUninit<T>` has
    // `T`'s layout.
    unsafe { &mut *(d as *mut [MaybeUninit<T>] as *mut [T]) }
}

/// `dst[c·rows + r] = src[r·lds + c]` for the `rows × cols` matrix `src` (row stride
/// `lds`): its transpose, contiguous. Walks 8×8 tiles so that both sides stay within a
/// few cache lines (a row-by-row scatter had cost as much as a tenth of conv backward);
/// for f32 on a CPU with AVX, each whole tile is eight loads, 24 shuffles and eight
/// stores (element by element, the transposes of `dy` were a tenth of a convolution's
/// forward and backward pass on 14×14 maps, perf). Values are only moved.
pub fn transpose_into<T: Copy + 'static>(
    rows: usize,
    cols: usize,
    src: &[T],
    lds: usize,
    dst: &mut [T],
) {
    // SAFETY: `transpose_uninit` writes only values of `src`, all initialized.
    transpose_uninit(rows, cols, src, lds, unsafe { slots(dst) })
}

/// A buffer of `len` values, all written by `fill`, never initialized before: for a
/// kernel that overwrites its output, a zero-fill first is a pass over memory it then
/// writes again.
///
/// # Safety
/// `fill` must write every value of the slice it is given.
pub(crate) unsafe fn filled<T>(len: usize, fill: impl FnOnce(&mut [MaybeUninit<T>])) -> Vec<T> {
    let mut v = Vec::with_capacity(len);
    fill(&mut v.spare_capacity_mut()[..len]);
    // SAFETY: `fill` wrote all `len` values (the caller's guarantee).
    unsafe { v.set_len(len) };
    v
}

/// Values as slots to be written: what a function that writes memory without reading
/// it ([`transpose_uninit`], the body of [`matmul::gemm`]) takes, so that it also fills a buffer
/// that was never initialized.
///
/// # Safety
/// Only initialized values may be written through the result.
pub(crate) unsafe fn slots<T>(d: &mut [T]) -> &mut [MaybeUninit<T>] {
    // SAFETY: `MaybeUninit<T>` has `T`'s layout; the caller writes only values.
    unsafe { &mut *(d as *mut [T] as *mut [MaybeUninit<T>]) }
}

/// A raw pointer that tasks writing disjoint values may share (the batch convolution's
/// strips, the parts of a product transposed by their threads).
#[derive(Clone, Copy)]
pub(crate) struct SendPtr<T>(pub *mut T);
// SAFETY: only shared by tasks whose writes are disjoint (its users say how).
unsafe impl<T: Send> Send for SendPtr<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for SendPtr<T> {}
impl<T> SendPtr<T> {
    /// The pointer (a method, so that a closure captures the whole `SendPtr`).
    pub(crate) fn get(self) -> *mut T {
        self.0
    }
}

/// [`transpose_into`] into memory that need not be initialized: it writes all
/// `rows·cols` values of `dst` and reads none.
pub fn transpose_uninit<T: Copy + 'static>(
    rows: usize,
    cols: usize,
    src: &[T],
    lds: usize,
    dst: &mut [MaybeUninit<T>],
) {
    if rows == 0 || cols == 0 {
        return;
    }
    assert!(
        dst.len() >= rows * cols,
        "transpose_into: extents too short for {rows}×{cols}"
    );
    // SAFETY: `dst` holds the `cols` rows of `rows` values written.
    unsafe { transpose_to(rows, cols, src, lds, dst.as_mut_ptr() as *mut T, rows) }
}

/// [`transpose_uninit`] into rows `ldd` apart: `dst[c·ldd + r] = src[r·lds + c]`, a
/// band of columns of a wider matrix (where each thread writes its own band: the other
/// way round products of `matmul`).
///
/// # Safety
/// `dst` must be valid for writes at `c·ldd + r` for every `r < rows`, `c < cols`, and
/// no other thread may access those values meanwhile.
pub(crate) unsafe fn transpose_to<T: Copy + 'static>(
    rows: usize,
    cols: usize,
    src: &[T],
    lds: usize,
    dst: *mut T,
    ldd: usize,
) {
    const TILE: usize = 8;
    if rows == 0 || cols == 0 {
        return;
    }
    assert!(
        cols <= lds && rows <= ldd && src.len() >= (rows - 1) * lds + cols,
        "transpose_into: extents too short for {rows}×{cols}"
    );
    let (mut rows8, mut cols8) = (0, 0);
    #[cfg(target_arch = "x86_64")]
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>()
        && std::is_x86_feature_detected!("avx")
    {
        (rows8, cols8) = (rows / TILE * TILE, cols / TILE * TILE);
        // SAFETY: T is f32; the CPU has AVX; the whole tiles are inside `src` (asserted
        // above) and `dst` (the caller's promise).
        unsafe {
            transpose_tiles_avx(
                ldd,
                rows8,
                cols8,
                src.as_ptr() as *const f32,
                lds,
                dst as *mut f32,
            )
        };
    }
    let scalar = |r0: usize, r1: usize, c0: usize| {
        for rt in (r0..r1).step_by(TILE) {
            let rt1 = (rt + TILE).min(r1);
            for ct in (c0..cols).step_by(TILE) {
                for c in ct..(ct + TILE).min(cols) {
                    for r in rt..rt1 {
                        // SAFETY: inside `dst` (the caller's promise)
                        unsafe { dst.add(c * ldd + r).write(src[r * lds + c]) };
                    }
                }
            }
        }
    };
    // what the tiles left: the last columns of their rows, then the last rows
    scalar(0, rows8, cols8);
    scalar(rows8, rows, 0);
}

/// The whole 8×8 tiles of [`transpose_into`]: rows `0..rows8`, columns `0..cols8`, into
/// rows of `dst` `ldd` apart.
///
/// # Safety
/// The CPU must support AVX; `src` holds `rows8` rows of `cols8` values `lds` apart and
/// `dst` `cols8` rows of `rows8` values `ldd` apart.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn transpose_tiles_avx(
    ldd: usize,
    rows8: usize,
    cols8: usize,
    src: *const f32,
    lds: usize,
    dst: *mut f32,
) {
    use std::arch::x86_64::*;
    for r0 in (0..rows8).step_by(8) {
        for c0 in (0..cols8).step_by(8) {
            // SAFETY: rows r0..r0+8 and columns c0..c0+8 are inside both (caller).
            unsafe {
                let r: [__m256; 8] =
                    std::array::from_fn(|i| _mm256_loadu_ps(src.add((r0 + i) * lds + c0)));
                // pairs of rows interleaved, then quadruples, then the 128-bit halves
                let t0 = _mm256_unpacklo_ps(r[0], r[1]);
                let t1 = _mm256_unpackhi_ps(r[0], r[1]);
                let t2 = _mm256_unpacklo_ps(r[2], r[3]);
                let t3 = _mm256_unpackhi_ps(r[2], r[3]);
                let t4 = _mm256_unpacklo_ps(r[4], r[5]);
                let t5 = _mm256_unpackhi_ps(r[4], r[5]);
                let t6 = _mm256_unpacklo_ps(r[6], r[7]);
                let t7 = _mm256_unpackhi_ps(r[6], r[7]);
                let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
                let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
                let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
                let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
                let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
                let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
                let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
                let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
                let out = [
                    _mm256_permute2f128_ps::<0x20>(u0, u4),
                    _mm256_permute2f128_ps::<0x20>(u1, u5),
                    _mm256_permute2f128_ps::<0x20>(u2, u6),
                    _mm256_permute2f128_ps::<0x20>(u3, u7),
                    _mm256_permute2f128_ps::<0x31>(u0, u4),
                    _mm256_permute2f128_ps::<0x31>(u1, u5),
                    _mm256_permute2f128_ps::<0x31>(u2, u6),
                    _mm256_permute2f128_ps::<0x31>(u3, u7),
                ];
                for (j, v) in out.into_iter().enumerate() {
                    _mm256_storeu_ps(dst.add((c0 + j) * ldd + r0), v);
                }
            }
        }
    }
}

/// The transpose of the row-major `rows × cols` matrix `src`, as a new `cols × rows` one.
/// From [`PAR_TRANSPOSE`] values on, each thread writes its own band of the result's
/// rows (the source's columns).
pub fn transposed<T: Float>(rows: usize, cols: usize, src: &[T]) -> Vec<T> {
    let threads = rayon::current_num_threads();
    let fill = |d: &mut [MaybeUninit<T>]| {
        if rows * cols < PAR_TRANSPOSE || threads == 1 || rows == 0 {
            transpose_uninit(rows, cols, src, cols, d);
        } else {
            let band = cols.div_ceil(threads).next_multiple_of(8);
            d.par_chunks_mut(band * rows)
                .enumerate()
                .for_each(|(i, d)| {
                    transpose_uninit(rows, d.len() / rows, &src[i * band..], cols, d)
                });
        }
    };
    // SAFETY: the transposes write all rows·cols values.
    unsafe { filled(rows * cols, fill) }
}

/// Values from which [`transposed`] splits its work between the threads: a linear
/// layer's 400×784 weights, transposed for every product on a batch of 256, took
/// 46 µs on one thread and 27 on two (784×400: 39 and 25), alone.
pub(crate) const PAR_TRANSPOSE: usize = 1 << 16;

/// Row-major strides of a shape.
pub fn strides_of(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// Whether every value is finite: `0 · v` is ±0 for a finite value and NaN for ±∞ or
/// NaN, so a sum of them vectorizes, where a search stops to branch on every value (a
/// fifth of mnist-linear's inference). The sums are only compared with zero, so the lane
/// count and any chunking over threads change nothing but the time. Measured on
/// mnist-linear's input (200 704 values, one thread, best of 3000 calls): 8 lanes waited
/// on the latency of each lane's additions (26 µs); 32 or 128 lanes compiled for SSE2
/// took 15–16 µs, 32 lanes for AVX-512 12–14 µs, and 128 lanes (eight registers of f32)
/// for AVX-512 6 µs, about the time to read the values from L2.
fn all_finite<T: Float>(xs: &[T]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F.
        return unsafe { all_finite_avx512(xs) };
    }
    all_finite_body(xs)
}

/// [`all_finite_body`] compiled for AVX-512.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn all_finite_avx512<T: Float>(xs: &[T]) -> bool {
    all_finite_body(xs)
}

#[inline(always)]
fn all_finite_body<T: Float>(xs: &[T]) -> bool {
    let mut lanes = [T::zero(); 128];
    let mut chunks = xs.chunks_exact(128);
    for c in &mut chunks {
        for (s, &v) in lanes.iter_mut().zip(c) {
            *s += v * T::zero();
        }
    }
    for (s, &v) in lanes.iter_mut().zip(chunks.remainder()) {
        *s += v * T::zero();
    }
    lanes.iter().all(|&s| s == T::zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A non-finite value is found and named wherever it lies, in a tensor checked in
    /// parallel chunks and in a small one.
    /// Tiles and edges of the transpose put every value where the definition does:
    /// shapes on, below and beyond the 8×8 tile, a row stride wider than the rows,
    /// f32 (the AVX tiles where the CPU has them) and f64 (element by element).
    /// `dst` holds the transpose of the `rows × cols` matrix `src` (rows `lds` apart).
    fn assert_transpose<T: Copy + PartialEq + std::fmt::Debug>(
        rows: usize,
        cols: usize,
        src: &[T],
        lds: usize,
        dst: &[T],
        case: &str,
    ) {
        assert_eq!(dst.len(), rows * cols, "{case}");
        for r in 0..rows {
            for c in 0..cols {
                assert_eq!(dst[c * rows + r], src[r * lds + c], "{case} ({r}, {c})");
            }
        }
    }

    #[test]
    fn transposes_move_every_value_to_its_place() {
        fn check<T: Copy + PartialEq + std::fmt::Debug + 'static>(val: fn(usize) -> T) {
            for rows in [1, 7, 8, 9, 16, 23, 32] {
                for cols in [1, 5, 8, 15, 16, 17, 196] {
                    let lds = cols + 3;
                    let src: Vec<T> = (0..rows * lds).map(val).collect();
                    let mut dst = vec![val(usize::MAX); rows * cols];
                    transpose_into(rows, cols, &src, lds, &mut dst);
                    assert_transpose(rows, cols, &src, lds, &dst, &format!("{rows}×{cols}"));
                }
            }
        }
        check::<f32>(|i| i as f32);
        check::<f64>(|i| -(i as f64));
    }

    /// `transposed` splits large matrices into bands of the result's rows, one per
    /// thread: every value lands in its place for 1–3 threads, with column counts on and
    /// off the bands' multiple of 8.
    #[test]
    fn large_transposes_split_between_threads_move_every_value() {
        for (rows, cols) in [(300, 301), (257, 256), (64, PAR_TRANSPOSE / 64 + 3)] {
            assert!(rows * cols >= PAR_TRANSPOSE);
            let src: Vec<f32> = (0..rows * cols).map(|i| i as f32).collect();
            for threads in 1..=3 {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let t = pool.install(|| transposed(rows, cols, &src));
                let case = format!("{rows}×{cols} on {threads} threads");
                assert_transpose(rows, cols, &src, cols, &t, &case);
            }
        }
    }

    #[test]
    fn check_finite_names_the_first_bad_value() {
        // fewer values than one block of 128 lanes, blocks and a tail, and the split
        for n in [100, 300, CHECK_PAR_ELEMS + 3 * PAR_CHUNK + 5] {
            let t = Tensor::<f32>::zeros(&[n]);
            assert!(t.check_finite("x").is_ok());
            for (at, bad) in [
                (n - 1, f32::NAN),
                (n / 2, f32::INFINITY),
                (7, -f32::INFINITY),
            ] {
                let mut u = t.clone();
                u.data_mut()[at] = bad;
                let e = u.check_finite("x").unwrap_err().to_string();
                assert!(e.contains(&format!("at flat index {at} ")), "{e}");
                assert!(
                    t.data()[at] == 0.0,
                    "writing a clone left the original alone"
                );
            }
        }
        let mut f = Tensor::<f64>::full(&[300], -1.5);
        assert!(f.check_finite("x").is_ok());
        f.data_mut()[130] = f64::NAN;
        let e = f.check_finite("x").unwrap_err().to_string();
        assert!(e.contains("at flat index 130 "), "{e}");
    }

    #[test]
    fn lane_sums_add_every_value_in_a_fixed_order() {
        assert_eq!(sum_lanes::<f32>(&[]), 0.0);
        assert_eq!(sum_lanes(&[2.5f64; 3]), 7.5);
        // integers below 2²⁴ add exactly in f32, in any order
        let ints: Vec<f32> = (1..=1000).map(|i| i as f32).collect();
        assert_eq!(sum_lanes(&ints), 500_500.0);
        // the order is fixed: value i goes to partial sum i mod 8
        let xs: Vec<f32> = (0..37).map(|i| (i as f32 * 0.37).sin()).collect();
        let mut acc = [0.0f32; 8];
        xs.iter().enumerate().for_each(|(i, &v)| acc[i % 8] += v);
        let want =
            ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
        assert_eq!(sum_lanes(&xs).to_bits(), want.to_bits());
    }

    /// `sum_terms` adds blocks of `SUM_BLOCK` terms by `sum_lanes` and the blocks left to
    /// right, whatever the threads; every term is made once, at its index.
    #[test]
    fn term_sums_add_blocks_in_a_fixed_order_on_any_threads() {
        let term = |i: usize| ((i as f32) * 0.37).sin() * 1e3;
        for n in [0, 5, SUM_BLOCK, 3 * SUM_BLOCK + 5, PAR_ELEMS_COSTLY + 7] {
            let terms: Vec<f32> = (0..n).map(term).collect();
            let want = terms
                .chunks(SUM_BLOCK)
                .fold(0.0f32, |s, c| s + sum_lanes(c));
            for threads in 1..=3 {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let got = pool.install(|| {
                    sum_terms(n, |start, t: &mut [f32]| {
                        for (j, t) in t.iter_mut().enumerate() {
                            assert_eq!(*t, 0.0, "terms start as zeros");
                            *t = term(start + j);
                        }
                    })
                });
                assert_eq!(
                    got.to_bits(),
                    want.to_bits(),
                    "{n} terms, {threads} threads"
                );
            }
        }
    }
}
