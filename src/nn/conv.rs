//! `Conv2d` layer (weight `[out, in, kh, kw]`, bias `[out]`), and the pooling layers
//! used by the reference architectures, all as thin wrappers over the ops.

use crate::autodiff::{Tape, Var};
use crate::error::Result;
use crate::float::Float;

pub fn conv2d<T: Float>(
    tape: &mut Tape<T>,
    x: Var,
    w: Var,
    b: Var,
    stride: usize,
    pad: usize,
) -> Result<Var> {
    tape.conv2d(x, w, Some(b), stride, pad)
}

/// `nn.AdaptiveAvgPool2d(1)`: `[N,C,H,W] → [N,C,1,1]`.
pub fn adaptive_avg_pool_1<T: Float>(tape: &mut Tape<T>, x: Var) -> Result<Var> {
    let g = tape.global_avg_pool(x)?;
    let s = tape.shape(g).to_vec();
    tape.reshape(g, &[s[0], s[1], 1, 1])
}

#[cfg(test)]
mod tests {
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn gradcheck_conv_relu_pool_stack() {
        assert_gradcheck(
            |t, v| {
                let c = super::conv2d(t, v[0], v[1], v[2], 1, 1)?;
                let r = t.relu(c);
                let p = t.maxpool2d(r, 2, 2)?;
                super::adaptive_avg_pool_1(t, p)
            },
            &[
                test_input(&[2, 1, 6, 6], 1, 0.0),
                test_input(&[3, 1, 3, 3], 2, 0.0),
                test_input(&[3], 3, 0.0),
            ],
        );
    }
}
