//! A model: an [`Arch`] and its parameters in state-dict order.

use super::arch::{Arch, LayerSpec};
use super::attention::{attention_pool, attention_weights, sequence_dims};
use super::conv::{adaptive_avg_pool_1, conv2d};
use super::gru::{GruOutput, GruParams, gather, gru, gru_output};
use super::init::fan_in_uniform;
use super::linear::{linear, linear_relu};
use crate::autodiff::{Tape, Var};
use crate::error::{Error, Result, invalid, shape_err};
use crate::float::Float;
use crate::tensor::{Tensor, fmt_shape};
use rand::SeedableRng;
use rand::rngs::StdRng;

#[derive(Clone, Debug, PartialEq)]
pub struct Model<T> {
    pub arch: Arch,
    params: Vec<(String, Tensor<T>)>,
}

/// The result of a forward pass: the logits and every layer's output by name
/// (`conv3` is the convolution's output, `conv3.relu` the activation after it,
/// `gru.h5` the GRU's hidden state after step 5, and so on).
#[derive(Clone, Debug)]
pub struct Forward {
    pub logits: Var,
    pub activations: Vec<(String, Var)>,
}

impl Forward {
    /// The output of the named layer, or an error listing the names there are.
    pub fn activation(&self, name: &str) -> Result<Var> {
        self.activations
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| {
                let names: Vec<&str> = self
                    .activations
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .filter(|n| !n.contains(".h"))
                    .collect();
                Error::Invalid(format!(
                    "no layer named '{name}'; layers are: {}",
                    names.join(", ")
                ))
            })
    }
}

/// Largest batch a single no-grad pass of [`Model::predict`] takes.
const PREDICT_CHUNK: usize = 256;
/// Input values per no-grad pass, here and in the explainers' batched evaluator: a pass
/// keeps every layer's output until it ends, so 256 Pokémon pictures (3×64×64) held about
/// 180 MB of activations; 2¹⁹ values (42 such pictures, 668 digits) keep it near 30 MB
/// with the same throughput (benches/engine.rs, inference_b256), and GEMMs stay wide.
pub const PASS_VALUES: usize = 1 << 19;

/// Rows of `values_per_row` values in one pass under [`PASS_VALUES`] (at least one).
pub fn rows_per_pass(values_per_row: usize) -> usize {
    (PASS_VALUES / values_per_row.max(1)).max(1)
}

impl<T: Float> Model<T> {
    /// Fresh weights with PyTorch's default initialization, from a seed.
    pub fn init(arch: Arch, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let params = arch.params().into_iter().map(|(name, shape, fan)| {
            let t = fan_in_uniform(&shape, fan, &mut rng);
            (name, t)
        });
        let params = params.collect();
        Model { arch, params }
    }

    /// A model from named tensors; names and shapes must match the architecture exactly.
    pub fn from_named(arch: Arch, mut tensors: Vec<(String, Tensor<T>)>) -> Result<Self> {
        let want = arch.params();
        let missing: Vec<&str> = want
            .iter()
            .filter(|w| !tensors.iter().any(|t| t.0 == w.0))
            .map(|w| w.0.as_str())
            .collect();
        let extra: Vec<&str> = tensors
            .iter()
            .filter(|t| !want.iter().any(|w| w.0 == t.0))
            .map(|t| t.0.as_str())
            .collect();
        if !missing.is_empty() || !extra.is_empty() {
            return Err(Error::Model(format!(
                "tensors do not match architecture '{}': missing [{}], unexpected [{}]",
                arch.name,
                missing.join(", "),
                extra.join(", ")
            )));
        }
        let mut params = Vec::with_capacity(want.len());
        for (name, shape, _) in want {
            let i = tensors
                .iter()
                .position(|t| t.0 == name)
                .expect("checked above");
            let (_, t) = tensors.swap_remove(i);
            if t.shape() != shape.as_slice() {
                return Err(Error::Model(format!(
                    "tensor '{name}' has shape {} but architecture '{}' needs {}",
                    fmt_shape(t.shape()),
                    arch.name,
                    fmt_shape(&shape)
                )));
            }
            t.check_finite(&format!("tensor '{name}'"))?;
            params.push((name, t));
        }
        Ok(Model { arch, params })
    }

    /// The parameter with this state-dict name, or an error naming the model.
    pub fn param(&self, name: &str) -> Result<&Tensor<T>> {
        self.params
            .iter()
            .find(|p| p.0 == name)
            .map(|p| &p.1)
            .ok_or_else(|| Error::Invalid(format!("{} has no parameter '{name}'", self.arch.name)))
    }

    pub fn params(&self) -> &[(String, Tensor<T>)] {
        &self.params
    }

    /// The parameter tensors, in state-dict order, for an optimizer to update.
    pub fn param_tensors_mut(&mut self) -> Vec<&mut Tensor<T>> {
        self.params.iter_mut().map(|(_, t)| t).collect()
    }

    pub fn num_params(&self) -> usize {
        self.params.iter().map(|p| p.1.len()).sum()
    }

    /// Same model in another precision.
    pub fn cast<U: Float>(&self) -> Model<U> {
        Model {
            arch: self.arch.clone(),
            params: self
                .params
                .iter()
                .map(|(n, t)| (n.clone(), t.cast()))
                .collect(),
        }
    }

    /// Puts the parameters on the tape: as leaves that get gradients, or as constants.
    pub fn bind(&self, tape: &mut Tape<T>, trainable: bool) -> Vec<Var> {
        self.params
            .iter()
            .map(|(_, t)| {
                if trainable {
                    tape.leaf(t.clone())
                } else {
                    tape.constant(t.clone())
                }
            })
            .collect()
    }

    /// Checks a batch against the architecture's input shape (when it has one).
    pub fn check_input(&self, shape: &[usize]) -> Result<()> {
        if shape.first() == Some(&0) {
            return invalid("empty batch: the input has no examples");
        }
        if let Some(inp) = &self.arch.input
            && (shape.len() != inp.len() + 1 || shape[1..] != inp[..])
        {
            return shape_err(format!(
                "model '{}' expects input [N, {}], got {}",
                self.arch.name,
                fmt_shape(inp).trim_matches(|c| c == '[' || c == ']'),
                fmt_shape(shape)
            ));
        }
        Ok(())
    }

    /// Runs the layers on `x`, with the parameters bound by [`Model::bind`].
    pub fn forward(&self, tape: &mut Tape<T>, x: Var, params: &[Var]) -> Result<Forward> {
        self.check_pass(tape, x, params)?;
        let mut acts = Vec::with_capacity(self.arch.layers.len());
        let h = self.run_layers(tape, x, params, 0, Some(&mut acts))?;
        Ok(Forward {
            logits: h,
            activations: acts,
        })
    }

    /// [`Model::forward`]'s logits without its activations: each ReLU that follows a
    /// convolution or a linear layer is then applied as the layer writes its output
    /// ([`Tape::conv2d_relu`], [`Tape::linear`]), and a max-pooling after a convolution's
    /// ReLU pools each sample's output in the same task ([`Tape::conv2d_relu_pool`]): the
    /// same bits, and with gradients the same gradients, with fewer passes over the maps
    /// and less memory. Training steps use it.
    pub fn logits(&self, tape: &mut Tape<T>, x: Var, params: &[Var]) -> Result<Var> {
        self.check_pass(tape, x, params)?;
        self.run_layers(tape, x, params, 0, None)
    }

    fn check_pass(&self, tape: &Tape<T>, x: Var, params: &[Var]) -> Result<()> {
        if self.arch.is_vae() {
            return invalid(format!(
                "'{}' is a VAE (a generator), not a classifier: use it as \
                 `lamppost visualize generator --generator FILE`",
                self.arch.name
            ));
        }
        self.check_input(tape.shape(x))?;
        if params.len() != self.params.len() {
            return invalid(format!(
                "{} parameter vars given, model has {}",
                params.len(),
                self.params.len()
            ));
        }
        Ok(())
    }

    /// Runs layers `from..` on `h` (the output of layer `from − 1`, or the input), pushing
    /// each layer's output to `acts`; returns the logits. Without `acts`, a convolution
    /// or a linear layer followed by a ReLU runs as one op, and a convolution with a
    /// max-pooling after the ReLU, all three (the same bits, with or without gradients).
    fn run_layers(
        &self,
        tape: &mut Tape<T>,
        x: Var,
        params: &[Var],
        from: usize,
        mut acts: Option<&mut Vec<(String, Var)>>,
    ) -> Result<Var> {
        let fuse = acts.is_none();
        // layers already run by a fused op
        let mut skip = 0;
        let mut h = x;
        let mut p = params.iter().copied();
        let mut next = || p.next().expect("parameter count checked above");
        for (i, layer) in self.arch.layers.iter().enumerate() {
            if i < from {
                // bind order: skip the parameters of layers before `from`
                layer.params().iter().for_each(|_| {
                    next();
                });
                continue;
            }
            if skip > 0 {
                skip -= 1;
                continue;
            }
            h = match layer {
                LayerSpec::Conv2d { stride, pad, .. } => {
                    let (w, b) = (next(), next());
                    let next_two = (self.arch.layers.get(i + 1), self.arch.layers.get(i + 2));
                    match next_two {
                        (
                            Some(LayerSpec::Relu { .. }),
                            Some(LayerSpec::MaxPool2d { k, stride: s, .. }),
                        ) if fuse => {
                            skip = 2;
                            tape.conv2d_relu_pool(h, w, Some(b), *stride, *pad, *k, *s)?
                        }
                        (Some(LayerSpec::Relu { .. }), _) if fuse => {
                            skip = 1;
                            tape.conv2d_relu(h, w, Some(b), *stride, *pad)?
                        }
                        _ => conv2d(tape, h, w, b, *stride, *pad)?,
                    }
                }
                LayerSpec::Relu { .. } => tape.relu(h),
                LayerSpec::Tanh { .. } => tape.tanh(h),
                LayerSpec::MaxPool2d { k, stride, .. } => tape.maxpool2d(h, *k, *stride)?,
                LayerSpec::GlobalAvgPool {
                    keep_spatial: true, ..
                } => adaptive_avg_pool_1(tape, h)?,
                LayerSpec::GlobalAvgPool {
                    keep_spatial: false,
                    ..
                } => tape.global_avg_pool(h)?,
                LayerSpec::Flatten { .. } => tape.flatten(h)?,
                LayerSpec::Linear { .. } => {
                    let (w, b) = (next(), next());
                    match self.arch.layers.get(i + 1) {
                        Some(LayerSpec::Relu { .. }) if fuse => {
                            skip = 1;
                            linear_relu(tape, h, w, b)?
                        }
                        _ => linear(tape, h, w, b)?,
                    }
                }
                LayerSpec::Gru { name, sequence, .. } => {
                    let gp = GruParams {
                        w_ih: next(),
                        w_hh: next(),
                        b_ih: next(),
                        b_hh: next(),
                    };
                    let s = tape.shape(h).to_vec();
                    let seq = if s.len() == 4 && s[1] == 1 {
                        tape.reshape(h, &[s[0], s[2], s[3]])?
                    } else {
                        h
                    };
                    let out = if *sequence {
                        GruOutput::Sequence
                    } else {
                        GruOutput::Last
                    };
                    match acts.as_deref_mut() {
                        Some(acts) => {
                            let states = gru(tape, seq, gp)?;
                            for (t, &st) in states.iter().enumerate() {
                                acts.push((format!("{name}.h{t}"), st));
                            }
                            gather(tape, &states, out)?
                        }
                        None => gru_output(tape, seq, gp, out)?,
                    }
                }
                LayerSpec::AttentionPool { name, .. } => {
                    let (w, b, v) = (next(), next(), next());
                    let dims = sequence_dims(tape.shape(h))?;
                    let nonempty = dims[1] > 0 && dims[2] > 0 && !tape.value(b).is_empty();
                    if fuse && !tape.grad_enabled() && nonempty {
                        let [w, b, v] = [w, b, v].map(|p| tape.value(p).data());
                        let out = attention_pool(tape.value(h).data(), dims, w, b, v);
                        h = tape.constant(Tensor::new(&[dims[0], dims[2]], out)?);
                        continue;
                    }
                    let alpha = attention_weights(tape, h, w, b, v)?;
                    if let Some(acts) = acts.as_deref_mut() {
                        acts.push((format!("{name}.alpha"), alpha));
                    }
                    let s = tape.shape(h).to_vec();
                    let a3 = tape.reshape(alpha, &[s[0], s[1], 1])?;
                    let weighted = tape.mul(a3, h)?;
                    tape.sum(weighted, &[1], false)?
                }
            };
            if let Some(acts) = acts.as_deref_mut() {
                acts.push((layer.name().to_string(), h));
            }
        }
        Ok(h)
    }

    /// The logits computed from the output `h` of the named layer onwards (the rest of
    /// the network after it): Ablation-CAM edits a layer's maps and re-runs the head.
    pub fn forward_from(
        &self,
        tape: &mut Tape<T>,
        layer: &str,
        h: Var,
        params: &[Var],
    ) -> Result<Var> {
        let at = self
            .arch
            .layers
            .iter()
            .position(|l| l.name() == layer)
            .ok_or_else(|| Error::Invalid(format!("no layer named '{layer}'")))?;
        if params.len() != self.params.len() {
            return invalid(format!(
                "{} parameter vars given, model has {}",
                params.len(),
                self.params.len()
            ));
        }
        self.run_layers(tape, h, params, at + 1, None)
    }

    /// Logits from a batch of the named layer's outputs, without recording gradients.
    pub fn predict_from(&self, layer: &str, h: &Tensor<T>) -> Result<Tensor<T>> {
        let mut tape = Tape::no_grad();
        let hv = tape.constant(h.clone());
        let params = self.bind(&mut tape, false);
        let logits = self.forward_from(&mut tape, layer, hv, &params)?;
        Ok(tape.value(logits).clone())
    }

    /// Logits for a batch, without recording gradients, in chunks of at most 256 examples
    /// and [`PASS_VALUES`] input values.
    pub fn predict(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let rows = x.shape().first().copied().unwrap_or(0);
        crate::runtime::on_pool_for(self.pass_work(rows), || self.predict_here(x))
    }

    /// The work of a pass of `rows` examples, as [`crate::runtime::on_pool_for`] weighs
    /// it: rows × parameters.
    pub fn pass_work(&self, rows: usize) -> usize {
        rows.saturating_mul(self.num_params())
    }

    fn predict_here(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        self.check_input(x.shape())?;
        x.check_finite("input")?;
        let n = x.shape()[0];
        let mut out: Vec<T> = Vec::new();
        let mut classes = 0;
        let step = rows_per_pass(x.len() / n).min(PREDICT_CHUNK);
        for start in (0..n).step_by(step) {
            let chunk = x.slice_rows(start, (start + step).min(n))?;
            let mut tape = Tape::no_grad();
            let xv = tape.constant(chunk);
            let params = self.bind(&mut tape, false);
            let f = self.logits(&mut tape, xv, &params)?;
            let logits = tape.value(f);
            classes = logits.len() / logits.shape()[0];
            out.extend_from_slice(logits.data());
        }
        Tensor::new(&[n, classes], out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    /// `predict` applies each ReLU as the convolution before it writes its output, and
    /// pools attention without the ops' tensors; its logits must be the bits of the
    /// layer-by-layer forward (which keeps every activation), in f32 (the direct "same"
    /// kernel where the CPU has AVX-512) and in f64 (the unfolded path), on a batch that
    /// spans several of each path's tasks (two blocks of the attention pooling).
    #[test]
    fn fused_convolution_and_relu_give_the_layer_by_layer_bits() {
        fn check<T: Float>(name: &str) {
            let m = Model::<T>::init(Arch::from_name(name).unwrap(), 3);
            let mut shape = vec![if name.contains("gru") { 21 } else { 5 }];
            shape.extend(m.arch.input.clone().unwrap());
            let x = Tensor::<T>::randn(&shape, 1.0, &mut StdRng::seed_from_u64(4));
            let fused = m.predict(&x).unwrap();
            let mut tape = Tape::no_grad();
            let xv = tape.constant(x.clone());
            let params = m.bind(&mut tape, false);
            let f = m.forward(&mut tape, xv, &params).unwrap();
            let fused_layer = |n: &str| n.starts_with("conv") || n.starts_with("attn");
            assert!(f.activations.iter().any(|(n, _)| fused_layer(n)));
            let plain = tape.value(f.logits);
            let same = (fused.data().iter().zip(plain.data()))
                .all(|(a, b)| a.to_f64().to_bits() == b.to_f64().to_bits());
            assert!(same && fused.shape() == plain.shape(), "{name}");
        }
        for name in ["mnist-cnn", "mnist-gap", "pokedigi-gap"] {
            check::<f32>(name);
            check::<f64>(name);
        }
    }

    /// With gradients too, the fused layers give the layer-by-layer bits: the logits and
    /// every parameter's and the input's gradient of a training-like loss (the sum of
    /// the logits times fixed weights), under the standard rule and guided backprop.
    #[test]
    fn fused_layers_give_the_layer_by_layer_gradients() {
        use crate::autodiff::BackwardRule;
        fn check<T: Float>(name: &str) {
            let m = Model::<T>::init(Arch::from_name(name).unwrap(), 3);
            let mut shape = vec![3];
            shape.extend(m.arch.input.clone().unwrap());
            let x = Tensor::<T>::randn(&shape, 1.0, &mut StdRng::seed_from_u64(4));
            let seed = Tensor::<T>::randn(
                &[3, m.arch.num_classes()],
                1.0,
                &mut StdRng::seed_from_u64(5),
            );
            for rule in [BackwardRule::Standard, BackwardRule::GuidedBackprop] {
                let run = |fused: bool| {
                    let mut tape = Tape::new();
                    let xv = tape.leaf(x.clone());
                    let params = m.bind(&mut tape, true);
                    let logits = if fused {
                        m.logits(&mut tape, xv, &params).unwrap()
                    } else {
                        m.forward(&mut tape, xv, &params).unwrap().logits
                    };
                    let grads = tape.backward_with(logits, seed.clone(), rule).unwrap();
                    let mut all = vec![tape.value(logits).clone(), grads.get(xv)];
                    all.extend(params.iter().map(|&p| grads.get(p)));
                    all
                };
                let (fused, plain) = (run(true), run(false));
                for (i, (a, b)) in fused.iter().zip(&plain).enumerate() {
                    let same = a.shape() == b.shape()
                        && (a.data().iter().zip(b.data()))
                            .all(|(p, q)| p.to_f64().to_bits() == q.to_f64().to_bits());
                    assert!(
                        same,
                        "{name} {rule:?}: tensor {i} (logits, input, parameters) differs"
                    );
                }
            }
        }
        for name in ["mnist-cnn", "mnist-gap", "pokedigi-gap", "mnist-attn-gru"] {
            check::<f32>(name);
            check::<f64>(name);
        }
    }

    #[test]
    fn every_reference_arch_runs_and_has_pytorch_sizes() {
        let want = [
            ("mnist-cnn", 52_138usize),
            ("mnist-gap", 23_946),
            ("mnist-gru", 18_698),
            ("mnist-attn-gru", 20_810),
            ("pokedigi-gap", 60_642),
        ];
        for (name, n) in want {
            let m = Model::<f32>::init(Arch::from_name(name).unwrap(), 0);
            assert_eq!(m.num_params(), n, "{name}");
            let mut shape = vec![2];
            shape.extend(m.arch.input.clone().unwrap());
            let y = m.predict(&Tensor::zeros(&shape)).unwrap();
            assert_eq!(y.shape(), &[2, m.arch.num_classes()]);
        }
    }

    #[test]
    fn same_seed_same_weights() {
        let a = Model::<f32>::init(Arch::from_name("mnist-cnn").unwrap(), 3);
        let b = Model::<f32>::init(Arch::from_name("mnist-cnn").unwrap(), 3);
        let c = Model::<f32>::init(Arch::from_name("mnist-cnn").unwrap(), 4);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn wrong_input_empty_batch_and_nan_are_errors() {
        let m = Model::<f32>::init(Arch::from_name("mnist-cnn").unwrap(), 0);
        let e = m
            .predict(&Tensor::zeros(&[2, 3, 28, 28]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("[N, 1, 28, 28]") && e.contains("[2, 3, 28, 28]"),
            "{e}"
        );
        assert!(
            m.predict(&Tensor::zeros(&[0, 1, 28, 28]))
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
        let mut x = Tensor::zeros(&[1, 1, 28, 28]);
        x.data_mut()[5] = f32::NAN;
        assert!(
            m.predict(&x)
                .unwrap_err()
                .to_string()
                .contains("non-finite")
        );
    }

    /// Gradient check of a whole small model, every parameter and the input at once.
    #[test]
    fn gradcheck_small_sequential_model() {
        let arch = Arch::from_name("seq:conv2d(2,3,3,padding=1),relu,maxpool2d(2),conv2d(3,4,3,stride=2,padding=1),relu,adaptiveavgpool2d(1),flatten,linear(4,3)").unwrap();
        let model = Model::<f64>::init(arch, 1);
        let mut inputs = vec![test_input(&[2, 2, 6, 6], 9, 0.0)];
        inputs.extend(model.params().iter().map(|p| p.1.clone()));
        assert_gradcheck(
            |t, v| {
                let f = model.forward(t, v[0], &v[1..])?;
                Ok(f.logits)
            },
            &inputs,
        );
    }
}
