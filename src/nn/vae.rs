//! A variational autoencoder (Kingma & Welling 2014): the generator that the class
//! visualization of `explain::global` searches through.
//!
//! `encoder: x ↦ (μ, log σ²)`, `z = μ + σ ⊙ ε` with `ε ~ N(0, I)` (the reparameterization),
//! `decoder: z ↦ logits of p(x | z)` (Bernoulli pixels, `x̂ = sigmoid(logits)`). Training
//! maximizes the evidence lower bound, i.e. minimizes, per example and averaged over the
//! batch,
//!
//! `−ELBO = Σ_pixels BCE(logits, x) + KL(N(μ, σ²) ‖ N(0, I))`,
//! `KL = −½ Σ_j (1 + log σ²_j − μ_j² − σ²_j)`.
//!
//! `mnist-vae` is an MLP (784 → 400 → 2·16 for the encoder, 16 → 400 → 784 for the
//! decoder), named as `torch.nn` names the modules `encoder.fc1`, `encoder.fc2`,
//! `decoder.fc1`, `decoder.fc2`, so that `tests/golden/lamppost_torch.py`'s `MnistVae`
//! strict-loads the file. Pinned by the tests below: the ELBO's gradient against finite
//! differences on a tiny VAE, and the reparameterized sample deterministic for a seed.

use super::arch::{Arch, LayerSpec};
use super::linear::{linear, linear_relu};
use super::model::Model;
use crate::autodiff::{Tape, Var};
use crate::error::{Error, Result, invalid, shape_err};
use crate::float::Float;
use crate::tensor::{Tensor, fmt_shape};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Latent dimensions of `mnist-vae`.
pub const LATENT: usize = 16;
/// Hidden units of `mnist-vae`'s encoder and decoder.
pub const HIDDEN: usize = 400;

fn lin(name: &str, in_f: usize, out_f: usize) -> LayerSpec {
    LayerSpec::Linear {
        name: name.into(),
        in_f,
        out_f,
    }
}

/// The encoder's layers: `[N, …] → [N, 2·latent]` (μ then log σ²).
fn encoder_layers(pixels: usize, hidden: usize, latent: usize) -> Vec<LayerSpec> {
    vec![
        LayerSpec::Flatten {
            name: "encoder.flatten".into(),
        },
        lin("encoder.fc1", pixels, hidden),
        LayerSpec::Relu {
            name: "encoder.relu".into(),
        },
        lin("encoder.fc2", hidden, 2 * latent),
    ]
}

/// The decoder's layers: `[N, latent] → [N, pixels]` logits.
fn decoder_layers(pixels: usize, hidden: usize, latent: usize) -> Vec<LayerSpec> {
    vec![
        lin("decoder.fc1", latent, hidden),
        LayerSpec::Relu {
            name: "decoder.relu".into(),
        },
        lin("decoder.fc2", hidden, pixels),
    ]
}

/// A VAE architecture over pictures of shape `input` (`mnist-vae`: `[1, 28, 28]`, 400
/// hidden units, 16 latent dimensions). Its layer list is the encoder's then the
/// decoder's: a parameter container, not a sequence to run (see [`Arch::is_vae`]).
pub fn vae_arch(name: &str, input: &[usize], hidden: usize, latent: usize) -> Arch {
    let pixels: usize = input.iter().product();
    let mut layers = encoder_layers(pixels, hidden, latent);
    layers.extend(decoder_layers(pixels, hidden, latent));
    Arch {
        name: name.into(),
        layers,
        input: Some(input.to_vec()),
        classes: vec![],
    }
}

/// A VAE split into its two halves, each an ordinary [`Model`]: the encoder reads
/// pictures, the decoder reads latent vectors `[N, latent]` and returns pixel logits.
#[derive(Clone, Debug)]
pub struct Vae<T> {
    pub encoder: Model<T>,
    pub decoder: Model<T>,
    pub latent: usize,
    /// The per-example picture shape.
    pub input: Vec<usize>,
}

impl<T: Float> Vae<T> {
    /// Splits a model of a [`vae_arch`] architecture.
    pub fn from_model(model: &Model<T>) -> Result<Vae<T>> {
        if !model.arch.is_vae() {
            return invalid(format!(
                "'{}' is not a VAE: give a model trained with `lamppost train mnist-vae`",
                model.arch.name
            ));
        }
        let input = model.arch.input.clone().unwrap_or_default();
        let pixels: usize = input.iter().product();
        let hidden = model.param("encoder.fc1.weight")?.shape()[0];
        let latent = model.param("decoder.fc1.weight")?.shape()[1];
        let pick = |prefix: &str| -> Vec<(String, Tensor<T>)> {
            model
                .params()
                .iter()
                .filter(|p| p.0.starts_with(prefix))
                .cloned()
                .collect()
        };
        let encoder = Model::from_named(
            Arch {
                name: format!("{}.encoder", model.arch.name),
                layers: encoder_layers(pixels, hidden, latent),
                input: Some(input.clone()),
                classes: vec![],
            },
            pick("encoder."),
        )?;
        let decoder = Model::from_named(
            Arch {
                name: format!("{}.decoder", model.arch.name),
                layers: decoder_layers(pixels, hidden, latent),
                input: Some(vec![latent]),
                classes: vec![],
            },
            pick("decoder."),
        )?;
        Ok(Vae {
            encoder,
            decoder,
            latent,
            input,
        })
    }

    /// `(μ, log σ²)`, each `[N, latent]`, of pictures in [0, 1].
    pub fn encode(&self, x: &Tensor<T>) -> Result<(Tensor<T>, Tensor<T>)> {
        let s = self.encoder.predict(x)?;
        let (n, l) = (s.shape()[0], self.latent);
        let (mut mu, mut lv) = (Vec::with_capacity(n * l), Vec::with_capacity(n * l));
        for row in s.data().chunks(2 * l) {
            mu.extend_from_slice(&row[..l]);
            lv.extend_from_slice(&row[l..]);
        }
        Ok((Tensor::new(&[n, l], mu)?, Tensor::new(&[n, l], lv)?))
    }

    /// Pictures `[N, …input]` in [0, 1] (the Bernoulli means) decoded from `z` `[N, latent]`.
    pub fn decode(&self, z: &Tensor<T>) -> Result<Tensor<T>> {
        if z.shape().len() != 2 || z.shape()[1] != self.latent {
            return shape_err(format!(
                "latent vectors must be [N, {}], got {}",
                self.latent,
                fmt_shape(z.shape())
            ));
        }
        let logits = self.decoder.predict(z)?;
        let mut shape = vec![z.shape()[0]];
        shape.extend(&self.input);
        logits.sigmoid().reshape(&shape)
    }
}

/// Standard normal noise `[n, latent]` from a seed: the reparameterization's ε, the
/// same for the same seed on any machine.
pub fn noise<T: Float>(n: usize, latent: usize, seed: u64) -> Tensor<T> {
    Tensor::randn(&[n, latent], 1.0, &mut StdRng::seed_from_u64(seed))
}

/// The two terms of `−ELBO`, each averaged over the batch: the reconstruction
/// `Σ_pixels BCE` and the KL divergence, on a tape with the parameters `params` bound in
/// the VAE's state-dict order (`encoder.fc1.weight, .bias, encoder.fc2.…, decoder.…`).
/// `x` is `[N, pixels]` in [0, 1]; `eps` is `[N, latent]`.
pub fn elbo_terms<T: Float>(
    tape: &mut Tape<T>,
    params: &[Var],
    x: Var,
    eps: Var,
) -> Result<(Var, Var)> {
    if params.len() != 8 {
        return invalid(format!(
            "a VAE has 8 parameter tensors, {} given",
            params.len()
        ));
    }
    let (n, pixels) = (tape.shape(x)[0], tape.shape(x)[1]);
    let latent = tape.shape(eps)[1];
    let h = linear_relu(tape, x, params[0], params[1])?;
    let stats = linear(tape, h, params[2], params[3])?;
    if tape.shape(stats)[1] != 2 * latent {
        return shape_err(format!(
            "the encoder gives {} values per example; ε has {latent} dimensions",
            tape.shape(stats)[1]
        ));
    }
    let mu = tape.slice(stats, 1, 0, latent)?;
    let logvar = tape.slice(stats, 1, latent, 2 * latent)?;
    let half = tape.constant(Tensor::scalar(T::from_f64_lossy(0.5)));
    let half_lv = tape.mul(logvar, half)?;
    let sigma = tape.exp(half_lv);
    let spread = tape.mul(sigma, eps)?;
    let z = tape.add(mu, spread)?;
    let h = linear_relu(tape, z, params[4], params[5])?;
    let logits = linear(tape, h, params[6], params[7])?;
    // bce_with_logits is a mean over all N·pixels values: × pixels = per-example sum
    let bce = tape.bce_with_logits(logits, x)?;
    let px = tape.constant(Tensor::scalar(T::from_usize(pixels).unwrap_or(T::one())));
    let recon = tape.mul(bce, px)?;
    // KL = −½ Σ (1 + lv − μ² − e^lv), averaged over the batch
    let mu2 = tape.mul(mu, mu)?;
    let var = tape.exp(logvar);
    let one = tape.constant(Tensor::scalar(T::one()));
    let a = tape.add(logvar, one)?;
    let a = tape.sub(a, mu2)?;
    let a = tape.sub(a, var)?;
    let s = tape.sum_all(a);
    let k = tape.constant(Tensor::scalar(T::from_f64_lossy(-0.5 / n as f64)));
    let kl = tape.mul(s, k)?;
    Ok((recon, kl))
}

/// One optimizer step on `−ELBO` (reconstruction + KL, each averaged over the batch) for
/// pictures `x` `[N, pixels]` in [0, 1] and the reparameterization's noise `eps`
/// `[N, latent]`; returns the loss before the update. `lamppost train mnist-vae` runs
/// it every step; `benches/engine.rs` times it.
pub fn vae_step<T: Float>(
    model: &mut Model<T>,
    opt: &mut (impl crate::optim::Optimizer<T> + ?Sized),
    x: &Tensor<T>,
    eps: &Tensor<T>,
) -> Result<f64> {
    crate::runtime::on_pool_for(model.pass_work(x.shape()[0]), || {
        let mut tape = Tape::new();
        let xv = tape.constant(x.clone());
        let ev = tape.constant(eps.clone());
        let params = model.bind(&mut tape, true);
        let (r, k) = elbo_terms(&mut tape, &params, xv, ev)?;
        let loss = tape.add(r, k)?;
        super::train::descend(model, opt, tape, &params, loss)
    })
}

/// `−ELBO` of a VAE model on pictures `x` `[N, …]` in [0, 1] with noise from `seed`, and
/// its two terms, without gradients: `(total, reconstruction, kl)` per example.
pub fn evaluate_elbo<T: Float>(model: &Model<T>, x: &Tensor<T>, seed: u64) -> Result<[f64; 3]> {
    if !model.arch.is_vae() {
        return Err(Error::Invalid(format!(
            "'{}' is not a VAE",
            model.arch.name
        )));
    }
    let n = x.shape()[0];
    if n == 0 {
        return invalid("no pictures to evaluate the VAE on");
    }
    let pixels = x.len() / n;
    let latent = model.param("decoder.fc1.weight")?.shape()[1];
    let (x, eps) = (
        x.clone().reshape(&[n, pixels])?,
        noise::<T>(n, latent, seed),
    );
    // in passes of EVAL_ROWS pictures, each pass's means weighted by its rows and summed
    // in f64. One pass over MNIST's 10 000 test pictures had summed 7.8 million f32 BCE
    // terms in eight lanes and come out 0.9% low (reconstruction 124.55 against 125.69
    // nats on a one-epoch model; passes of 1000, 100 and 10 rows gave 125.54, 125.68,
    // 125.69), and held about 160 MB of activations, the largest part of training
    // mnist-vae's peak memory.
    const EVAL_ROWS: usize = 16;
    let (mut r, mut k) = (0.0, 0.0);
    for start in (0..n).step_by(EVAL_ROWS) {
        let end = (start + EVAL_ROWS).min(n);
        let mut tape = Tape::no_grad();
        let params = model.bind(&mut tape, false);
        let xv = tape.constant(x.slice_rows(start, end)?);
        let ev = tape.constant(eps.slice_rows(start, end)?);
        let (rv, kv) = elbo_terms(&mut tape, &params, xv, ev)?;
        let m = (end - start) as f64;
        r += tape.value(rv).item()?.to_f64() * m;
        k += tape.value(kv).item()?.to_f64() * m;
    }
    let (r, k) = (r / n as f64, k / n as f64);
    Ok([r + k, r, k])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autodiff::gradcheck::{assert_gradcheck, test_input};

    #[test]
    fn elbo_gradient_matches_finite_differences() {
        // a tiny VAE: 5 pixels, 3 hidden units, 2 latent dimensions; every parameter and
        // the pictures themselves are checked
        let arch = vae_arch("tiny-vae", &[5], 3, 2);
        let shapes: Vec<Vec<usize>> = arch.params().into_iter().map(|p| p.1).collect();
        let mut inputs: Vec<Tensor<f64>> = shapes
            .iter()
            .enumerate()
            .map(|(i, s)| test_input(s, i as u64 + 1, 0.05))
            .collect();
        let x = test_input(&[4, 5], 20, 0.0).map(|v| 0.5 + 0.4 * v);
        inputs.push(x);
        inputs.push(noise(4, 2, 3));
        assert_gradcheck(
            |t, v| {
                let (r, k) = elbo_terms(t, &v[..8], v[8], v[9])?;
                let (r, k) = (t.reshape(r, &[1])?, t.reshape(k, &[1])?);
                t.concat(&[r, k], 0)
            },
            &inputs,
        );
    }

    /// The test ELBO of 5000 pictures in f32 agrees with the same model's in f64: summed
    /// in one f32 pass, its 3.9 million BCE terms came out 1.2% high (556.7 against 550.0).
    #[test]
    fn elbo_of_many_pictures_in_f32_agrees_with_f64() {
        let m = Model::<f32>::init(vae_arch("mnist-vae", &[1, 28, 28], HIDDEN, LATENT), 0);
        let x = Tensor::<f32>::uniform(&[5000, 1, 28, 28], 0.0, 1.0, &mut StdRng::seed_from_u64(2));
        let single = evaluate_elbo(&m, &x, 4).unwrap();
        let double = evaluate_elbo(&m.cast::<f64>(), &x.cast::<f64>(), 4).unwrap();
        for (s, d) in single.iter().zip(&double) {
            assert!(
                (s - d).abs() <= 1e-5 * d.abs(),
                "f32 {single:?} against f64 {double:?}"
            );
        }
    }

    #[test]
    fn reparameterized_sample_is_deterministic_for_a_seed() {
        let a: Tensor<f32> = noise(3, 16, 9);
        assert_eq!(a, noise(3, 16, 9));
        assert_ne!(a, noise(3, 16, 10));
        let m = Model::<f32>::init(vae_arch("mnist-vae", &[1, 28, 28], HIDDEN, LATENT), 0);
        let x = Tensor::<f32>::uniform(&[2, 1, 28, 28], 0.0, 1.0, &mut StdRng::seed_from_u64(1));
        assert_eq!(
            evaluate_elbo(&m, &x, 4).unwrap(),
            evaluate_elbo(&m, &x, 4).unwrap()
        );
        let v = Vae::from_model(&m).unwrap();
        let pics = v.decode(&noise(2, LATENT, 0)).unwrap();
        assert_eq!(pics.shape(), &[2, 1, 28, 28]);
        assert!(pics.data().iter().all(|p| (0.0..=1.0).contains(p)));
        assert_eq!(v.encode(&x).unwrap().0.shape(), &[2, LATENT]);
    }
}
