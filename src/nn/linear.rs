//! `Linear`: `y = x · Wᵀ + b` with `W` of shape `[out, in]` (PyTorch's layout), one op
//! ([`Tape::linear`]).

use crate::autodiff::{Tape, Var};
use crate::error::Result;
use crate::float::Float;

pub fn linear<T: Float>(tape: &mut Tape<T>, x: Var, w: Var, b: Var) -> Result<Var> {
    tape.linear(x, w, b, false)
}

/// `relu(x · Wᵀ + b)`: a linear layer and the ReLU after it as one op, the same bits as
/// the two.
pub fn linear_relu<T: Float>(tape: &mut Tape<T>, x: Var, w: Var, b: Var) -> Result<Var> {
    tape.linear(x, w, b, true)
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck() {
        assert_gradcheck(
            |t, v| super::linear(t, v[0], v[1], v[2]),
            &[
                test_input(&[3, 4], 1, 0.0),
                test_input(&[5, 4], 2, 0.0),
                test_input(&[5], 3, 0.0),
            ],
        );
    }
}
