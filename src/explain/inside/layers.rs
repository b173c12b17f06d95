//! Which layers the inside methods read, and their activations for many examples.
//!
//! Names are those of [`crate::nn::model::Forward`] (`conv2.relu`, `fc1`, `gru.h13`, …)
//! plus [`INPUT`] for the pixels themselves.

use crate::error::{Error, Result};
use crate::nn::arch::LayerSpec;
use crate::nn::model::rows_per_pass;
use crate::nn::{Arch, Model};
use crate::tensor::Tensor;

/// The name under which the model's input (the pixels) is read as a layer.
pub const INPUT: &str = "input";

/// The number of time steps of a recurrent architecture (its input's rows), if known.
fn time_steps(arch: &Arch) -> Option<usize> {
    arch.input
        .as_ref()
        .and_then(|s| s.get(s.len().wrapping_sub(2)).copied())
}

/// Every name [`activations`] accepts for `arch`.
pub fn available(arch: &Arch) -> Vec<String> {
    let mut names = vec![INPUT.to_string()];
    for l in &arch.layers {
        if let LayerSpec::Gru { name, .. } = l {
            let t = time_steps(arch).unwrap_or(0);
            names.extend((0..t).map(|s| format!("{name}.h{s}")));
        }
        if let LayerSpec::AttentionPool { name, .. } = l {
            names.push(format!("{name}.alpha"));
        }
        names.push(l.name().to_string());
    }
    names
}

/// The layers a per-layer figure shows by default, from the pixels up: the input, each
/// block's output (after its pooling, or its activation when it has none), the pooled
/// features, a recurrent layer's state after each quarter of the rows, and the logits.
pub fn default_layers(arch: &Arch) -> Vec<String> {
    let mut names = vec![INPUT.to_string()];
    let layers = &arch.layers;
    for (i, l) in layers.iter().enumerate() {
        let next = layers.get(i + 1);
        let keep = match l {
            LayerSpec::MaxPool2d { .. }
            | LayerSpec::GlobalAvgPool { .. }
            | LayerSpec::AttentionPool { .. } => true,
            LayerSpec::Relu { .. } => !matches!(next, Some(LayerSpec::MaxPool2d { .. })),
            LayerSpec::Gru { name, .. } => {
                let t = time_steps(arch).unwrap_or(4).max(4);
                names.extend((1..=4).map(|q| format!("{name}.h{}", q * t / 4 - 1)));
                false
            }
            _ => i + 1 == layers.len(),
        };
        if keep {
            names.push(l.name().to_string());
        }
    }
    names
}

/// Refuses a name the model does not have, listing the names there are.
pub fn check_layers(arch: &Arch, names: &[String]) -> Result<()> {
    let known = available(arch);
    for n in names {
        if !known.contains(n) {
            return Err(Error::Invalid(format!(
                "{} has no layer named '{n}'; layers are: {}",
                arch.name,
                known
                    .iter()
                    .filter(|k| !k.contains(".h") || k.ends_with(".h0"))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
                    + if known.iter().any(|k| k.contains(".h")) {
                        " (and every recurrent state .h0, .h1, …)"
                    } else {
                        ""
                    }
            )));
        }
    }
    Ok(())
}

/// The activations of `layers` for every example of `x`, each as `[N, …]` (the layer's
/// own shape), computed without a tape in passes of [`rows_per_pass`] examples; `tick`
/// gets the number of examples done after each pass.
pub fn activations(
    model: &Model<f32>,
    x: &Tensor<f32>,
    layers: &[String],
    mut tick: impl FnMut(usize),
) -> Result<Vec<Tensor<f32>>> {
    check_layers(&model.arch, layers)?;
    model.check_input(x.shape())?;
    let n = x.shape()[0];
    let per = x.len() / n.max(1);
    let step = rows_per_pass(per).min(256);
    let mut data: Vec<Vec<f32>> = vec![Vec::new(); layers.len()];
    let mut shapes: Vec<Vec<usize>> = vec![Vec::new(); layers.len()];
    for start in (0..n).step_by(step) {
        let chunk = x.slice_rows(start, (start + step).min(n))?;
        let mut tape = crate::autodiff::Tape::no_grad();
        let xv = tape.constant(chunk);
        let params = model.bind(&mut tape, false);
        let f = model.forward(&mut tape, xv, &params)?;
        for (k, name) in layers.iter().enumerate() {
            let v = if name == INPUT {
                xv
            } else {
                f.activation(name)?
            };
            let t = tape.value(v);
            shapes[k] = t.shape()[1..].to_vec();
            data[k].extend_from_slice(t.data());
        }
        tick((start + step).min(n));
    }
    data.into_iter()
        .zip(shapes)
        .map(|(d, s)| {
            let mut shape = vec![n];
            shape.extend(s);
            Tensor::new(&shape, d)
        })
        .collect()
}

/// One layer's activations for every example of `x`, flattened to `[N, F]` (the
/// features a probe or a decoder reads).
pub fn features(model: &Model<f32>, x: &Tensor<f32>, layer: &str) -> Result<Tensor<f32>> {
    let a = activations(model, x, &[layer.to_string()], |_| {})?.remove(0);
    let n = a.shape()[0];
    let f = a.len() / n.max(1);
    a.reshape(&[n, f])
}

/// A `[N, …]` tensor as `N` rows of f64 features (flattened).
pub fn rows_f64(t: &Tensor<f32>) -> (Vec<f64>, usize, usize) {
    let n = t.shape()[0];
    let d = t.len() / n.max(1);
    (t.data().iter().map(|&v| v as f64).collect(), n, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_layers_follow_the_blocks() {
        let names = |a: &str| default_layers(&Arch::from_name(a).unwrap());
        assert_eq!(
            names("mnist-cnn"),
            ["input", "conv1.pool", "conv2.pool", "fc1.relu", "fc2"]
        );
        assert_eq!(
            names("mnist-gap"),
            [
                "input",
                "conv1.pool",
                "conv2.pool",
                "conv3.relu",
                "gap",
                "fc"
            ]
        );
        assert_eq!(
            names("mnist-gru"),
            ["input", "gru.h6", "gru.h13", "gru.h20", "gru.h27", "fc"]
        );
        let arch = Arch::from_name("mnist-cnn").unwrap();
        let e = check_layers(&arch, &["conv9".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("conv9") && e.contains("conv2.relu"), "{e}");
    }

    #[test]
    fn activations_in_passes_equal_one_forward() {
        let model = Model::<f32>::init(Arch::from_name("mnist-cnn").unwrap(), 1);
        let x = Tensor::new(
            &[3, 1, 28, 28],
            (0..3 * 784).map(|i| (i % 13) as f32 / 13.0).collect(),
        )
        .unwrap();
        let a = activations(&model, &x, &["input".into(), "fc2".into()], |_| {}).unwrap();
        assert_eq!(a[0], x);
        assert_eq!(a[1], model.predict(&x).unwrap());
    }
}
