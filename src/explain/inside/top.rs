//! Top-activating examples: *which inputs excite this filter most?* (Zeiler & Fergus
//! 2014 show such patches beside their deconvolutions; Olah et al. 2017, "Feature
//! Visualization", pair them with optimized images.)
//!
//! For channel c of a convolutional layer with output `A[n, c, i, j]`, each example's
//! score is its strongest response `maxᵢⱼ A[n, c, i, j]`, at position `(i*, j*)`; the k
//! examples with the highest scores are kept (ties to the lower index). The input region
//! that position sees, its **receptive field**, follows from the layers below: through
//! a convolution or pooling of kernel k, stride s and padding p, a window of size r with
//! jump j and offset o becomes `r + (k − 1)j`, `j·s` and `o − p·j`. For a dense layer
//! every unit is a channel and sees the whole input.
//!
//! Pinned by `receptive_fields_of_mnist_cnn` below and `top_examples_rank_by_maximum`
//! in `tests/inside.rs`.

use super::layers::{INPUT, activations, check_layers};
use crate::error::{Result, invalid};
use crate::nn::arch::LayerSpec;
use crate::nn::{Arch, Model};
use crate::tensor::Tensor;

/// Where output position `u` of a layer looks in the input: pixels
/// `[u·jump + offset, u·jump + offset + size)` along each axis (clipped to the image).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub jump: usize,
    pub size: usize,
    pub offset: isize,
}

/// The receptive field of the named layer's positions, or `None` when the layer mixes
/// the whole input (dense, pooled or recurrent layers).
pub fn receptive_field(arch: &Arch, layer: &str) -> Result<Option<Field>> {
    check_layers(arch, &[layer.to_string()])?;
    let mut f = Field {
        jump: 1,
        size: 1,
        offset: 0,
    };
    if layer == INPUT {
        return Ok(Some(f));
    }
    for l in &arch.layers {
        match l {
            LayerSpec::Conv2d { k, stride, pad, .. } => {
                f.offset -= (*pad * f.jump) as isize;
                f.size += (k - 1) * f.jump;
                f.jump *= stride;
            }
            LayerSpec::MaxPool2d { k, stride, .. } => {
                f.size += (k - 1) * f.jump;
                f.jump *= stride;
            }
            LayerSpec::Relu { .. } => {}
            _ => return Ok(None),
        }
        if l.name() == layer || layer.starts_with(&format!("{}.h", l.name())) {
            return Ok(Some(f));
        }
    }
    Ok(None)
}

/// The k most exciting examples of every channel of one layer.
#[derive(Clone, Debug)]
pub struct TopExamples {
    pub layer: String,
    /// `index[c]`: example indices, strongest first.
    pub index: Vec<Vec<usize>>,
    /// `value[c]`: their maximal activations.
    pub value: Vec<Vec<f32>>,
    /// `region[c]`: the input box `(top, left, bottom, right)` (exclusive ends) each
    /// strongest position sees.
    pub region: Vec<Vec<[usize; 4]>>,
}

/// The `k` examples of `x` that excite each channel of `layer` most, read in chunks of
/// 512 examples; `tick` gets the number done.
pub fn top_examples(
    model: &Model<f32>,
    x: &Tensor<f32>,
    layer: &str,
    k: usize,
    mut tick: impl FnMut(usize),
) -> Result<TopExamples> {
    let field = receptive_field(&model.arch, layer)?;
    if k == 0 {
        return invalid("top examples: --top must be at least 1");
    }
    let n = x.shape()[0];
    let (ih, iw) = {
        let s = x.shape();
        (s[s.len() - 2], s[s.len() - 1])
    };
    // per channel: (score, example, position)
    let mut scores: Vec<Vec<(f32, usize, usize, usize)>> = Vec::new();
    for start in (0..n).step_by(512) {
        let end = (start + 512).min(n);
        let a = activations(
            model,
            &x.slice_rows(start, end)?,
            &[layer.to_string()],
            |_| {},
        )?
        .remove(0);
        let s = a.shape().to_vec();
        let (c, h, w) = match s.len() {
            4 => (s[1], s[2], s[3]),
            _ => (a.len() / s[0], 1, 1),
        };
        if scores.is_empty() {
            scores = vec![Vec::with_capacity(n); c];
        }
        for (r, ex) in a.data().chunks(c * h * w).enumerate() {
            for (ch, plane) in ex.chunks(h * w).enumerate() {
                let (mut best, mut at) = (f32::NEG_INFINITY, 0);
                for (p, &v) in plane.iter().enumerate() {
                    if v > best {
                        (best, at) = (v, p);
                    }
                }
                scores[ch].push((best, start + r, at / w, at % w));
            }
        }
        tick(end);
    }
    let mut out = TopExamples {
        layer: layer.to_string(),
        index: Vec::new(),
        value: Vec::new(),
        region: Vec::new(),
    };
    for mut s in scores {
        s.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        s.truncate(k);
        out.index.push(s.iter().map(|e| e.1).collect());
        out.value.push(s.iter().map(|e| e.0).collect());
        out.region.push(
            s.iter()
                .map(|&(_, _, i, j)| match field {
                    Some(f) => {
                        let span = |u: usize, len: usize| {
                            let lo = u as isize * f.jump as isize + f.offset;
                            let hi = lo + f.size as isize;
                            (lo.max(0) as usize, (hi.max(0) as usize).min(len))
                        };
                        let (t, b) = span(i, ih);
                        let (l, r) = span(j, iw);
                        [t, l, b, r]
                    }
                    None => [0, 0, ih, iw],
                })
                .collect(),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receptive_fields_of_mnist_cnn() {
        let arch = Arch::from_name("mnist-cnn").unwrap();
        let f = |l: &str| receptive_field(&arch, l).unwrap();
        // conv1 3×3 pad 1: size 3, offset −1; pool 2: size 4, jump 2
        assert_eq!(
            f("conv1.relu").unwrap(),
            Field {
                jump: 1,
                size: 3,
                offset: -1
            }
        );
        assert_eq!(
            f("conv1.pool").unwrap(),
            Field {
                jump: 2,
                size: 4,
                offset: -1
            }
        );
        // conv2 3×3 pad 1 at jump 2: size 8, offset −3
        assert_eq!(
            f("conv2.relu").unwrap(),
            Field {
                jump: 2,
                size: 8,
                offset: -3
            }
        );
        assert_eq!(f("fc1"), None);
        assert!(receptive_field(&arch, "nope").is_err());
    }
}
