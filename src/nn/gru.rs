//! A one-layer GRU with `torch.nn.GRU`'s equations and parameter layout, built from ops
//! (its backward is whatever the tape derives; each step's gate arithmetic is one op,
//! [`Tape::gru_gates`], with the bits of the elementwise ops it fuses):
//!
//! ```text
//! r = σ(W_ir x + b_ir + W_hr h + b_hr)
//! z = σ(W_iz x + b_iz + W_hz h + b_hz)
//! n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
//! h' = (1 − z) ⊙ n + z ⊙ h          (computed as n + z ⊙ (h − n))
//! ```
//!
//! `weight_ih_l0` is `[3H, I]` and `weight_hh_l0` `[3H, H]` with the gates stacked in
//! the order r, z, n; `h₀ = 0`; batch-first input `[N, T, I]`.

use crate::autodiff::{Tape, Var};
use crate::error::{Error, Result, shape_err};
use crate::float::Float;
use crate::tensor::matmul::{gemm, product};
use crate::tensor::transposed;
use crate::tensor::vmath;
use crate::tensor::{Tensor, fmt_shape};
use rayon::prelude::*;

/// The four GRU parameters, in state-dict order.
#[derive(Clone, Copy, Debug)]
pub struct GruParams {
    pub w_ih: Var,
    pub w_hh: Var,
    pub b_ih: Var,
    pub b_hh: Var,
}

/// What [`gru_output`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GruOutput {
    /// The state after the last step, `[N, H]`.
    Last,
    /// The state after every step, `[N, T, H]` (`torch.nn.GRU`'s batch-first output).
    Sequence,
}

/// Runs the GRU over `x [N, T, I]`; returns the hidden state after every step (`T` vars of `[N, H]`).
pub fn gru<T: Float>(tape: &mut Tape<T>, x: Var, p: GruParams) -> Result<Vec<Var>> {
    let dims = check(tape, x, p)?;
    if tape.grad_enabled() {
        return taped(tape, x, p, dims);
    }
    let [n, steps, _, hid] = dims;
    let seq = inference(tape, x, p, dims, GruOutput::Sequence);
    Ok((0..steps)
        .map(|t| {
            let mut s = Vec::with_capacity(n * hid);
            for row in seq.chunks(steps * hid) {
                s.extend_from_slice(&row[t * hid..(t + 1) * hid]);
            }
            tape.constant(Tensor::new(&[n, hid], s).expect("sized above"))
        })
        .collect())
}

/// Runs the GRU over `x [N, T, I]` and returns what `out` asks for. Without gradients
/// the states are written where they belong as they are computed; the every-step
/// [`gru`] followed by [`gather`] gives the same bits through per-step tensors and a
/// concatenation (mnist-attn-gru's inference of 256 digits moved its 1.8 MB of states
/// three times that way).
pub fn gru_output<T: Float>(
    tape: &mut Tape<T>,
    x: Var,
    p: GruParams,
    out: GruOutput,
) -> Result<Var> {
    let dims = check(tape, x, p)?;
    if tape.grad_enabled() {
        let states = taped(tape, x, p, dims)?;
        return gather(tape, &states, out);
    }
    let [n, steps, _, hid] = dims;
    let shape = match out {
        GruOutput::Last => vec![n, hid],
        GruOutput::Sequence => vec![n, steps, hid],
    };
    let values = inference(tape, x, p, dims, out);
    Ok(tape.constant(Tensor::new(&shape, values).expect("sized above")))
}

/// [`gru`]'s per-step states as `out` asks: the last, or all of them as `[N, T, H]`.
pub fn gather<T: Float>(tape: &mut Tape<T>, states: &[Var], out: GruOutput) -> Result<Var> {
    let &last = states
        .last()
        .ok_or_else(|| Error::Invalid("GRU input has no time steps".into()))?;
    match out {
        GruOutput::Last => Ok(last),
        GruOutput::Sequence => {
            // [N, T·H] → [N, T, H]
            let (n, hid) = (tape.shape(last)[0], tape.shape(last)[1]);
            let all = tape.concat(states, 1)?;
            tape.reshape(all, &[n, states.len(), hid])
        }
    }
}

/// `[N, T, I, H]` once the shapes of `x` and the parameters are checked.
fn check<T: Float>(tape: &Tape<T>, x: Var, p: GruParams) -> Result<[usize; 4]> {
    let &[n, steps, input] = tape.shape(x) else {
        return shape_err(format!(
            "GRU needs input [N, T, I], got {}",
            fmt_shape(tape.shape(x))
        ));
    };
    let h3 = tape.shape(p.w_ih)[0];
    if tape.shape(p.w_ih) != [h3, input] || !h3.is_multiple_of(3) {
        return shape_err(format!(
            "GRU weight_ih {} does not match input size {input}",
            fmt_shape(tape.shape(p.w_ih))
        ));
    }
    let hid = h3 / 3;
    if tape.shape(p.w_hh) != [h3, hid] || tape.shape(p.b_ih) != [h3] || tape.shape(p.b_hh) != [h3] {
        return shape_err(format!(
            "GRU weight_hh {}, bias_ih {} and bias_hh {} do not match hidden size {hid}",
            fmt_shape(tape.shape(p.w_hh)),
            fmt_shape(tape.shape(p.b_ih)),
            fmt_shape(tape.shape(p.b_hh))
        ));
    }
    if steps == 0 {
        return Err(Error::Invalid("GRU input has no time steps".into()));
    }
    Ok([n, steps, input, hid])
}

/// The GRU from ops on the tape, for gradients: each step's state. Per step, two
/// products with their biases and one [`Tape::gru_gates`]: in place of the gates' 16
/// elementwise ops (six slices, adds, sigmoids, products, tanh, a difference), it took
/// mnist-attn-gru's training step from 5.08–5.16 to 3.99–4.14 ms and mnist-gru's from
/// 4.20–4.21 to 3.13–3.15 ms (two threads, best of 100 steps, old and new alternated
/// three times), with the same trained weights byte for byte.
fn taped<T: Float>(
    tape: &mut Tape<T>,
    x: Var,
    p: GruParams,
    [n, steps, input, hid]: [usize; 4],
) -> Result<Vec<Var>> {
    let mut h = tape.constant(Tensor::zeros(&[n, hid]));
    let mut states = Vec::with_capacity(steps);
    for t in 0..steps {
        // the input projection is taken step by step: slicing one [N, T, 3H] projection
        // would make every step's backward touch the whole [N, T, 3H] gradient
        let xt = tape.slice(x, 1, t, t + 1)?;
        let xt = tape.reshape(xt, &[n, input])?;
        let gi = tape.matmul_nt(xt, p.w_ih)?;
        let gi = tape.add(gi, p.b_ih)?;
        let gh = tape.matmul_nt(h, p.w_hh)?;
        let gh = tape.add(gh, p.b_hh)?;
        h = tape.gru_gates(gi, gh, h)?;
        states.push(h);
    }
    Ok(states)
}

/// [`gru_inference`] on the tape's values.
fn inference<T: Float>(
    tape: &Tape<T>,
    x: Var,
    p: GruParams,
    dims: [usize; 4],
    out: GruOutput,
) -> Vec<T> {
    let weights = [p.w_ih, p.w_hh, p.b_ih, p.b_hh].map(|v| tape.value(v).data());
    gru_inference(tape.value(x).data(), dims, weights, out)
}

/// Batch rows per parallel block of [`gru_inference`]: fixed, so results do not depend
/// on the thread count.
const GRU_ROWS: usize = 32;

/// The no-tape forward pass used when nothing needs a gradient (`predict`, perturbation
/// methods): one GEMM for the input projections of all time steps of a block of rows,
/// then per step one GEMM `h · W_hhᵀ` and one fused loop over the gates, with no
/// intermediate tensors. Every value is computed with the same operations in the same
/// order as the taped path above (the test below checks they are bit-identical).
/// Returns the states `out` asks for, `[N, H]` or `[N, T, H]`, each block writing its
/// rows' share.
fn gru_inference<T: Float>(
    x: &[T],
    [n, steps, input, hid]: [usize; 4],
    [w_ih, w_hh, b_ih, b_hh]: [&[T]; 4],
    out: GruOutput,
) -> Vec<T> {
    let h3 = 3 * hid;
    // The weights as k×n matrices, made once: each block's products then read them
    // where they are instead of transposing (or packing) them per step (same bits).
    let (w_ih, w_hh) = (transposed(h3, input, w_ih), transposed(h3, hid, w_hh));
    let per_row = match out {
        GruOutput::Last => hid,
        GruOutput::Sequence => steps * hid,
    };
    // written once by the blocks, every value: zero-filling it first (1.8 MB for
    // mnist-attn-gru at batch 256, on one thread) had cost its inference about 4%
    let mut states: Vec<T> = Vec::with_capacity(n * per_row);
    states.spare_capacity_mut()[..n * per_row]
        .par_chunks_mut(GRU_ROWS * per_row)
        .enumerate()
        .for_each(|(b, states)| {
            let (r0, rows) = (b * GRU_ROWS, states.len() / per_row);
            // [rows·T, 3H] input projections, rows in (row, step) order as x is stored
            let xs = &x[r0 * steps * input..(r0 + rows) * steps * input];
            let gi = product(rows * steps, input, h3, xs, false, &w_ih, false);
            let mut h = vec![T::zero(); rows * hid];
            let mut gh = vec![T::zero(); rows * h3];
            for t in 0..steps {
                gemm(rows, hid, h3, &h, false, &w_hh, false, &mut gh, false);
                for i in 0..rows {
                    let gi = &gi[(i * steps + t) * h3..(i * steps + t + 1) * h3];
                    let gh = &gh[i * h3..(i + 1) * h3];
                    gates(gi, gh, b_ih, b_hh, &mut h[i * hid..(i + 1) * hid]);
                }
                if out == GruOutput::Sequence {
                    for (row, hi) in states.chunks_mut(per_row).zip(h.chunks(hid)) {
                        row[t * hid..(t + 1) * hid].write_copy_of_slice(hi);
                    }
                }
            }
            if out == GruOutput::Last {
                states.write_copy_of_slice(&h);
            }
        });
    // SAFETY: the blocks wrote all n·per_row values: each of its rows' states at every
    // step (a sequence) or its rows' last states
    unsafe { states.set_len(n * per_row) };
    states
}

/// One row's gate arithmetic: `h ← n + z ⊙ (h − n)` from the projections `gi`, `gh`
/// (`[3H]` each, gates r, z, n) and the biases, exactly as the taped ops compute it, for
/// the units from `from` on.
#[inline(always)]
fn gates_body<T: Float>(from: usize, gi: &[T], gh: &[T], b_ih: &[T], b_hh: &[T], h: &mut [T]) {
    let hid = h.len();
    let (gi, gh) = (&gi[..3 * hid], &gh[..3 * hid]);
    let (b_ih, b_hh) = (&b_ih[..3 * hid], &b_hh[..3 * hid]);
    for j in from..hid {
        let r = ((gi[j] + b_ih[j]) + (gh[j] + b_hh[j])).sigmoid();
        let z = ((gi[hid + j] + b_ih[hid + j]) + (gh[hid + j] + b_hh[hid + j])).sigmoid();
        let hn = gh[2 * hid + j] + b_hh[2 * hid + j];
        let nn = ((gi[2 * hid + j] + b_ih[2 * hid + j]) + r * hn).tanh();
        h[j] = nn + z * (h[j] - nn);
    }
}

/// [`gates_body`] compiled for AVX2 (4 f64 lanes for the exponentials instead of SSE2's
/// 2). No FMA is enabled and Rust never contracts `a * b + c` on its own, so the values
/// are the same bits as the portable build's.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn gates_avx2<T: Float>(gi: &[T], gh: &[T], b_ih: &[T], b_hh: &[T], h: &mut [T]) {
    gates_body(0, gi, gh, b_ih, b_hh, h)
}

/// [`gates_body`] compiled for AVX-512: the same IEEE operations (no FMA, no
/// contraction), eight f64 lanes per register. 1.5× the AVX2 build's speed on
/// mnist-gru's 64 units (8.2–8.8 against 12.4–13.8 ns a unit, alternated in one run).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn gates_avx512<T: Float>(gi: &[T], gh: &[T], b_ih: &[T], b_hh: &[T], h: &mut [T]) {
    gates_body(0, gi, gh, b_ih, b_hh, h)
}

/// f32 gates on AVX-512 with [`vmath`]'s sigmoid and tanh (the bits of `Float::sigmoid`
/// and `Float::tanh`, at about two thirds of their cost): sixteen units at a time, their
/// r and z as four vectors side by side, then their n as two; the f32 sums and products
/// are the same IEEE operations as [`gates_body`]'s. Units past the last sixteen go through
/// [`gates_body`].
///
/// Measured on an Intel Xeon (one thread, 256 rows of 64 units, `cargo bench --bench
/// gate_exp`, two runs): 65.7 and 79.7 µs against 112.8 and 116.1 µs for
/// [`gates_avx512`], whose exponentials and divisions are each value's own. In a scratch
/// copy, eight units at a time (two sigmoids and one tanh side by side) took 81 µs
/// where this took 66.
///
/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn gates_f32_avx512(gi: &[f32], gh: &[f32], b_ih: &[f32], b_hh: &[f32], h: &mut [f32]) {
    use std::arch::x86_64::*;
    let hid = h.len();
    let (gi, gh) = (&gi[..3 * hid], &gh[..3 * hid]);
    let (b_ih, b_hh) = (&b_ih[..3 * hid], &b_hh[..3 * hid]);
    let full = hid / 16 * 16;
    // SAFETY (of every load and store): j + 16 ≤ full ≤ hid, so each eight values read
    // at j + d (d < 2·hid + 16) lie inside the 3H-long slices, and those written inside h.
    unsafe {
        let ld = |s: &[f32], i: usize| _mm256_loadu_ps(s.as_ptr().add(i));
        let pre = |i: usize| {
            _mm256_add_ps(
                _mm256_add_ps(ld(gi, i), ld(b_ih, i)),
                _mm256_add_ps(ld(gh, i), ld(b_hh, i)),
            )
        };
        for j in (0..full).step_by(16) {
            let [r0, r1, z0, z1] =
                vmath::sigmoid_x([pre(j), pre(j + 8), pre(hid + j), pre(hid + j + 8)]);
            let (jn, r) = (2 * hid + j, [r0, r1]);
            let mut pn = [_mm256_setzero_ps(); 2];
            for (d, pn) in pn.iter_mut().enumerate() {
                let hn = _mm256_add_ps(ld(gh, jn + 8 * d), ld(b_hh, jn + 8 * d));
                let x = _mm256_add_ps(ld(gi, jn + 8 * d), ld(b_ih, jn + 8 * d));
                *pn = _mm256_add_ps(x, _mm256_mul_ps(r[d], hn));
            }
            let n = vmath::tanh_x(pn);
            for (d, z) in [z0, z1].into_iter().enumerate() {
                let hv = ld(h, j + 8 * d);
                let out = _mm256_add_ps(n[d], _mm256_mul_ps(z, _mm256_sub_ps(hv, n[d])));
                _mm256_storeu_ps(h.as_mut_ptr().add(j + 8 * d), out);
            }
        }
    }
    gates_body(full, gi, gh, b_ih, b_hh, h)
}

/// Dispatches once per row: moving the loop over rows into the AVX2 function measured
/// 15–20% slower (benches/engine.rs, mnist-gru/inference_b256, old and new binaries
/// interleaved).
fn gates<T: Float>(gi: &[T], gh: &[T], b_ih: &[T], b_hh: &[T], h: &mut [T]) {
    #[cfg(target_arch = "x86_64")]
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>() && vmath::fast_applies() {
        let f32s = |s: &[T]| {
            // SAFETY: T is f32, so this is the same slice with its own type.
            unsafe { std::slice::from_raw_parts(s.as_ptr() as *const f32, s.len()) }
        };
        // SAFETY: T is f32 as above; the CPU has AVX-512F (fast_applies).
        return unsafe {
            let h = std::slice::from_raw_parts_mut(h.as_mut_ptr() as *mut f32, h.len());
            gates_f32_avx512(f32s(gi), f32s(gh), f32s(b_ih), f32s(b_hh), h)
        };
    }
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU was just checked to support AVX-512F.
        return unsafe { gates_avx512(gi, gh, b_ih, b_hh, h) };
    }
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU was just checked to support AVX2.
        return unsafe { gates_avx2(gi, gh, b_ih, b_hh, h) };
    }
    gates_body(0, gi, gh, b_ih, b_hh, h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    /// The no-tape inference path gives the taped path's states bit for bit, for a batch
    /// that spans several row blocks with a ragged last one, at a small size and at
    /// mnist-gru's (28 inputs, 64 hidden units).
    #[test]
    fn inference_path_matches_the_tape_exactly() {
        for (steps, i, h) in [(6, 5, 7), (28, 28, 64)] {
            inference_matches_tape(GRU_ROWS * 2 + 5, steps, i, h);
        }
    }

    fn inference_matches_tape(n: usize, steps: usize, i: usize, h: usize) {
        let inputs = [
            test_input(&[n, steps, i], 1, 0.0),
            test_input(&[3 * h, i], 2, 0.0),
            test_input(&[3 * h, h], 3, 0.0),
            test_input(&[3 * h], 4, 0.0),
            test_input(&[3 * h], 5, 0.0),
        ]
        .map(|t| t.cast::<f32>());
        // the input and the parameters as constants of `tape`
        let constants = |tape: &mut Tape<f32>| {
            let v: Vec<Var> = inputs.iter().map(|t| tape.constant(t.clone())).collect();
            let p = GruParams {
                w_ih: v[1],
                w_hh: v[2],
                b_ih: v[3],
                b_hh: v[4],
            };
            (v[0], p)
        };
        let run = |mut tape: Tape<f32>| {
            let (x, p) = constants(&mut tape);
            let hs = gru(&mut tape, x, p).unwrap();
            hs.iter()
                .map(|&s| tape.value(s).clone())
                .collect::<Vec<_>>()
        };
        let (taped, fused) = (run(Tape::new()), run(Tape::no_grad()));
        assert_eq!(taped.len(), steps);
        assert_eq!(taped, fused);
        // the states written in place, as the last or as [N, T, H]: the same bits as
        // gathering the taped path's steps
        for out in [GruOutput::Last, GruOutput::Sequence] {
            let run = |mut tape: Tape<f32>, direct: bool| {
                let (x, p) = constants(&mut tape);
                let y = if direct {
                    gru_output(&mut tape, x, p, out).unwrap()
                } else {
                    let hs = gru(&mut tape, x, p).unwrap();
                    gather(&mut tape, &hs, out).unwrap()
                };
                tape.value(y).clone()
            };
            let want = run(Tape::new(), false);
            let shape = match out {
                GruOutput::Last => vec![n, h],
                GruOutput::Sequence => vec![n, steps, h],
            };
            assert_eq!(want.shape(), &shape[..]);
            assert_eq!(run(Tape::no_grad(), true), want, "{out:?}");
            assert_eq!(run(Tape::new(), true), want, "{out:?} with gradients");
        }
    }

    /// An input without time steps is refused, whatever the output asked for.
    #[test]
    fn no_time_steps_is_an_error() {
        for grad in [false, true] {
            let mut tape = if grad { Tape::new() } else { Tape::no_grad() };
            let x = tape.constant(Tensor::<f32>::zeros(&[2, 0, 3]));
            let w = [&[6, 3][..], &[6, 2], &[6], &[6]].map(|s| tape.constant(Tensor::zeros(s)));
            let p = GruParams {
                w_ih: w[0],
                w_hh: w[1],
                b_ih: w[2],
                b_hh: w[3],
            };
            for out in [GruOutput::Last, GruOutput::Sequence] {
                let e = gru_output(&mut tape, x, p, out).unwrap_err().to_string();
                assert!(e.contains("no time steps"), "{e}");
            }
        }
    }

    /// The portable, AVX2 and AVX-512 builds of the gate loop and the f32 AVX-512 one
    /// give the same bits, on values across the sigmoid's and tanh's ranges (with tanh's
    /// series region) and on hidden sizes with and without a vector tail (40: two
    /// vectors of sixteen units, then eight element by element).
    #[test]
    fn gate_builds_agree_to_the_bit() {
        for hid in [7, 40, 64] {
            let wave =
                |s: f32| -> Vec<f32> { (0..3 * hid).map(|i| 6.0 * (i as f32 * s).sin()).collect() };
            let (gi, gh, bi) = (wave(0.37), wave(0.11), wave(0.05));
            let bh: Vec<f32> = bi.iter().map(|b| -b * 0.999).collect();
            let h0: Vec<f32> = (0..hid).map(|j| (j as f32 * 0.3).cos()).collect();
            let run = |f: &dyn Fn(&mut [f32])| {
                let mut h = h0.clone();
                f(&mut h);
                h.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            };
            let want = run(&|h| gates_body(0, &gi, &gh, &bi, &bh, h));
            #[cfg(target_arch = "x86_64")]
            {
                if std::is_x86_feature_detected!("avx2") {
                    // SAFETY: AVX2 was just detected.
                    let got = run(&|h| unsafe { gates_avx2(&gi, &gh, &bi, &bh, h) });
                    assert_eq!(got, want, "AVX2, hidden {hid}");
                }
                if std::is_x86_feature_detected!("avx512f") {
                    // SAFETY: AVX-512F was just detected.
                    let got = run(&|h| unsafe { gates_avx512(&gi, &gh, &bi, &bh, h) });
                    assert_eq!(got, want, "AVX-512, hidden {hid}");
                    // SAFETY: as above.
                    let got = run(&|h| unsafe { gates_f32_avx512(&gi, &gh, &bi, &bh, h) });
                    assert_eq!(got, want, "f32 AVX-512, hidden {hid}");
                }
            }
        }
    }

    #[test]
    fn gradcheck_through_time() {
        let (i, h) = (3, 4);
        assert_gradcheck(
            |t, v| {
                let p = GruParams {
                    w_ih: v[1],
                    w_hh: v[2],
                    b_ih: v[3],
                    b_hh: v[4],
                };
                let hs = gru(t, v[0], p)?;
                t.concat(&hs, 1)
            },
            &[
                test_input(&[2, 3, i], 1, 0.0),
                test_input(&[3 * h, i], 2, 0.0),
                test_input(&[3 * h, h], 3, 0.0),
                test_input(&[3 * h], 4, 0.0),
                test_input(&[3 * h], 5, 0.0),
            ],
        );
    }
}
