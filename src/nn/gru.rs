//! A one-layer GRU with `torch.nn.GRU`'s equations and parameter layout, built only
//! from ops (its backward is whatever the tape derives):
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
use crate::error::{Result, shape_err};
use crate::float::Float;
use crate::tensor::{Tensor, fmt_shape};

/// The four GRU parameters, in state-dict order.
#[derive(Clone, Copy, Debug)]
pub struct GruParams {
    pub w_ih: Var,
    pub w_hh: Var,
    pub b_ih: Var,
    pub b_hh: Var,
}

/// Runs the GRU over `x [N, T, I]`; returns the hidden state after every step (`T` vars of `[N, H]`).
pub fn gru<T: Float>(tape: &mut Tape<T>, x: Var, p: GruParams) -> Result<Vec<Var>> {
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
        let gate = |tape: &mut Tape<T>, v: Var, k: usize| tape.slice(v, 1, k * hid, (k + 1) * hid);
        let (i_r, i_z, i_n) = (gate(tape, gi, 0)?, gate(tape, gi, 1)?, gate(tape, gi, 2)?);
        let (h_r, h_z, h_n) = (gate(tape, gh, 0)?, gate(tape, gh, 1)?, gate(tape, gh, 2)?);
        let r = tape.add(i_r, h_r)?;
        let r = tape.sigmoid(r);
        let z = tape.add(i_z, h_z)?;
        let z = tape.sigmoid(z);
        let rn = tape.mul(r, h_n)?;
        let nn = tape.add(i_n, rn)?;
        let nn = tape.tanh(nn);
        let diff = tape.sub(h, nn)?;
        let zd = tape.mul(z, diff)?;
        h = tape.add(nn, zd)?;
        states.push(h);
    }
    Ok(states)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

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
