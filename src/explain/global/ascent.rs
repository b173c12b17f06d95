//! Activation maximization: filter and class visualization, in pixels or through a
//! generator.
//!
//! *Question:* what input makes this channel (or this class's logit) as large as it can
//! be, and what does that tell us about what the network looks for?
//!
//! *Formula:* gradient ascent on
//! `J(v) = f(X(v)) − λ₁‖X‖₁ − λ₂‖X‖₂² − λ_TV·TV(X) [− μ/2‖z‖²]`, where `f` is the mean
//! activation of one channel of a named layer (Erhan et al. 2009) or the **logit** of
//! one class (Simonyan et al. 2014: the logit, not the softmax, which can be raised by
//! pushing the other classes down); `TV(X) = Σ |X_{i+1,j} − X_{i,j}| + |X_{i,j+1} − X_{i,j}|`
//! per channel (anisotropic total variation); and `X(v)` one of
//! * `sigmoid(θ)`: pixels in [0, 1] (then the model's normalization), the default;
//! * `θ`: unconstrained (the closed-form checks);
//! * `G(z)`: a generator's picture of a latent vector (Nguyen et al. 2016's generator
//!   constraint, here a VAE's decoder), with the prior term `μ/2‖z‖²`.
//!
//! Two regularizers act on the pixels between steps, as in Yosinski et al. 2015: random
//! **jitter** (the picture is rolled by up to ±k pixels each step before the model sees
//! it) and a **Gaussian blur** every k steps. The optimizer is Adam (default) or plain
//! gradient ascent, whose L1 term on unconstrained pixels is a proximal step
//! (soft-thresholding), so that its optimum is exact.
//!
//! Many targets run as one batch: each picture's objective depends on its own pixels
//! only, so the batch is K independent ascents with one pass per step.
//!
//! Pinned by `tests/global.rs`: a first-layer filter's maximizer in the box [0, 1] is 1
//! exactly where the taps covering a pixel sum to a positive number; a linear class
//! score's maximizer is `w/(2λ)` under L2 and `sign(w)·max(|w| − λ₁, 0)/μ` under L1 + L2;
//! through a linear generator `G(z) = Az + b` the latent optimum is `Aᵀw/μ`; the same
//! seed gives bit-identical pictures.

use crate::autodiff::{Tape, Var};
use crate::error::{Error, Result, invalid};
use crate::explain::metrics::sanity::pearson;
use crate::float::Float;
use crate::nn::Model;
use crate::optim::{Adam, Optimizer};
use crate::tensor::Tensor;
use crate::tensor::image::gaussian_blur;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// What one picture maximizes.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// The mean over positions of channel `channel` of layer `layer` (a unit of a linear
    /// layer's output).
    Channel { layer: String, channel: usize },
    /// The logit of a class.
    Logit(usize),
}

/// How the optimized variable becomes a picture.
#[derive(Clone, Copy, Debug)]
pub enum Space<'a, T> {
    /// `X = sigmoid(θ)`: pixels stay in [0, 1].
    Sigmoid,
    /// `X = θ`, unconstrained.
    Raw,
    /// `X = G(z)`, `G` a decoder model reading `[K, latent]` (with `sigmoid`, its output
    /// goes through a sigmoid, as a VAE's Bernoulli means); the prior term is `μ/2‖z‖²`.
    Generator {
        decoder: &'a Model<T>,
        sigmoid: bool,
        mu: f64,
    },
}

/// The pixel regularizers; all off by default. Weights multiply sums over each picture.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Regularizers {
    pub l1: f64,
    pub l2: f64,
    pub tv: f64,
    /// Roll the picture by up to ± this many pixels (each axis) every step.
    pub jitter: usize,
    /// Gaussian blur of this σ (pixels) every `blur_every` steps (0 = off).
    pub blur_sigma: f64,
    pub blur_every: usize,
}

impl Regularizers {
    /// The regularizers in use, as `L1 0.05, TV 0.1, jitter 2 px` (or `none`).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (name, w) in [("L1", self.l1), ("L2", self.l2), ("TV", self.tv)] {
            if w > 0.0 {
                parts.push(format!("{name} {w}"));
            }
        }
        if self.jitter > 0 {
            parts.push(format!("jitter {} px", self.jitter));
        }
        if self.blur_every > 0 {
            parts.push(format!(
                "blur σ {} every {} steps",
                self.blur_sigma, self.blur_every
            ));
        }
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        }
    }
}

/// The optimizer of the ascent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ascender {
    Adam,
    /// `v ← v + lr·∇J`; with [`Space::Raw`], the L1 term as a proximal step.
    Gradient,
}

/// Settings of an ascent.
#[derive(Clone, Debug, PartialEq)]
pub struct AscentConfig {
    pub steps: usize,
    pub lr: f64,
    pub seed: u64,
    /// Standard deviation of the seeded start (θ or z around 0).
    pub init_std: f64,
    pub optimizer: Ascender,
    pub reg: Regularizers,
    /// `(a, b)`: the model reads `a·X + b` (its normalization of [0, 1] pixels).
    pub pixel_affine: (f64, f64),
}

impl Default for AscentConfig {
    fn default() -> Self {
        AscentConfig {
            steps: 300,
            lr: 0.05,
            seed: 0,
            init_std: 0.01,
            optimizer: Ascender::Adam,
            reg: Regularizers::default(),
            pixel_affine: (1.0, 0.0),
        }
    }
}

/// The result of an ascent: one picture per target.
#[derive(Clone, Debug, PartialEq)]
pub struct Visualization<T> {
    /// `[K, …input]` pictures (in [0, 1] unless the space is [`Space::Raw`]).
    pub images: Tensor<T>,
    /// `[K, latent]` with a generator.
    pub latents: Option<Tensor<T>>,
    /// Each picture's final target value (channel mean or logit).
    pub values: Vec<f64>,
    /// The model's logits `[K, classes]` for the final pictures.
    pub logits: Tensor<T>,
    /// `J` summed over the pictures, before each step.
    pub trace: Vec<f64>,
}

/// Checks settings, targets and the space against the model before any work; returns the
/// per-picture input shape.
fn validate<T: Float>(
    model: &Model<T>,
    targets: &[Target],
    space: &Space<T>,
    cfg: &AscentConfig,
) -> Result<Vec<usize>> {
    let shape = model.arch.input.clone().ok_or_else(|| {
        Error::Invalid(format!(
            "'{}' does not fix its input shape; visualization needs one",
            model.arch.name
        ))
    })?;
    if targets.is_empty() {
        return invalid("nothing to visualize: give at least one channel or class");
    }
    if cfg.steps == 0 {
        return invalid("--steps must be at least 1");
    }
    if !(cfg.lr.is_finite() && cfg.lr > 0.0) {
        return invalid(format!("--lr must be a positive number, got {}", cfg.lr));
    }
    let r = &cfg.reg;
    for (name, w) in [
        ("--l1", r.l1),
        ("--l2", r.l2),
        ("--tv", r.tv),
        ("--blur", r.blur_sigma),
        ("the start's spread", cfg.init_std),
    ] {
        if !(w.is_finite() && w >= 0.0) {
            return invalid(format!("{name} must be a number ≥ 0, got {w}"));
        }
    }
    if (r.blur_sigma > 0.0) != (r.blur_every > 0) {
        return invalid("--blur and --blur-every go together: give both or neither");
    }
    let picture = shape.len() == 3;
    if !picture && (r.tv > 0.0 || r.jitter > 0 || r.blur_every > 0) {
        return invalid(format!(
            "--tv, --jitter and --blur act on pictures; '{}' reads rows of features",
            model.arch.name
        ));
    }
    if picture && r.jitter >= shape[1].min(shape[2]) {
        return invalid(format!(
            "--jitter {} must be smaller than the picture's side {}",
            r.jitter,
            shape[1].min(shape[2])
        ));
    }
    if let Space::Generator { decoder, mu, .. } = space {
        if r.blur_every > 0 {
            return invalid(
                "--blur acts on pixels; through a generator the pixels are G(z): leave it out",
            );
        }
        if !(mu.is_finite() && *mu >= 0.0) {
            return invalid(format!("the latent prior μ must be ≥ 0, got {mu}"));
        }
        let latent = decoder
            .arch
            .input
            .as_ref()
            .map_or(0, |s| s.iter().product());
        let z = Tensor::<T>::zeros(&[1, latent.max(1)]);
        let out = decoder.predict(&z)?;
        let px: usize = shape.iter().product();
        if out.len() != px {
            return invalid(format!(
                "the generator draws {} values, the model reads {px}",
                out.len()
            ));
        }
    }
    // the targets against the layers' shapes, from one forward pass on a blank picture
    let mut tape = Tape::no_grad();
    let mut s1 = vec![1];
    s1.extend(&shape);
    let x = tape.constant(Tensor::zeros(&s1));
    let params = model.bind(&mut tape, false);
    let f = model.forward(&mut tape, x, &params)?;
    let classes = tape.shape(f.logits)[1];
    for t in targets {
        match t {
            Target::Logit(c) if *c >= classes => {
                return invalid(format!(
                    "class {c} out of range: '{}' has classes 0..{}",
                    model.arch.name,
                    classes - 1
                ));
            }
            Target::Channel { layer, channel } => {
                let v = f.activation(layer)?;
                let ch = tape.shape(v).get(1).copied().unwrap_or(0);
                if *channel >= ch {
                    return invalid(format!(
                        "channel {channel} out of range: layer {layer} has channels 0..{}",
                        ch.saturating_sub(1)
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(shape)
}

/// Channels (axis 1) of a named layer's output, from one forward pass on a blank input.
pub fn layer_channels<T: Float>(model: &Model<T>, layer: &str) -> Result<usize> {
    let mut shape = vec![1];
    shape.extend(model.arch.input.clone().unwrap_or_default());
    let mut tape = Tape::no_grad();
    let x = tape.constant(Tensor::zeros(&shape));
    let p = model.bind(&mut tape, false);
    let f = model.forward(&mut tape, x, &p)?;
    let v = f.activation(layer)?;
    Ok(tape.shape(v).get(1).copied().unwrap_or(1))
}

/// `x` rolled by `(dy, dx)` over its last two axes (`out[i, j] = x[i − dy, j − dx]`,
/// indices modulo the sides).
fn roll<T: Float>(tape: &mut Tape<T>, x: Var, dy: isize, dx: isize) -> Result<Var> {
    let mut h = x;
    for (axis, d) in [(2usize, dy), (3, dx)] {
        let n = tape.shape(h)[axis] as isize;
        let s = d.rem_euclid(n) as usize;
        if s == 0 {
            continue;
        }
        let n = n as usize;
        let tail = tape.slice(h, axis, n - s, n)?;
        let head = tape.slice(h, axis, 0, n - s)?;
        h = tape.concat(&[tail, head], axis)?;
    }
    Ok(h)
}

/// Anisotropic total variation of `[K, C, H, W]` pictures, summed.
fn total_variation<T: Float>(tape: &mut Tape<T>, x: Var) -> Result<Var> {
    let mut parts = Vec::new();
    for axis in [2usize, 3] {
        let n = tape.shape(x)[axis];
        let a = tape.slice(x, axis, 1, n)?;
        let b = tape.slice(x, axis, 0, n - 1)?;
        let d = tape.sub(a, b)?;
        let d = tape.abs(d);
        parts.push(tape.sum_all(d));
    }
    tape.add(parts[0], parts[1])
}

/// Anisotropic total variation of one picture `[C, H, W]` (for reports).
pub fn tv_of(x: &[f64], c: usize, h: usize, w: usize) -> f64 {
    let mut s = 0.0;
    for ch in 0..c {
        let p = &x[ch * h * w..(ch + 1) * h * w];
        for i in 0..h {
            for j in 0..w {
                if i + 1 < h {
                    s += (p[(i + 1) * w + j] - p[i * w + j]).abs();
                }
                if j + 1 < w {
                    s += (p[i * w + j + 1] - p[i * w + j]).abs();
                }
            }
        }
    }
    s
}

/// The mask that turns an activation `[K, C, …]` into `Σ_k mean(act[k, c_k])`; a
/// picture whose channel is `usize::MAX` (another layer's target) gets no weight.
fn channel_mask<T: Float>(shape: &[usize], channels: &[usize]) -> Tensor<T> {
    let k = shape[0];
    let c = shape[1];
    let per: usize = shape[2..].iter().product();
    let mut m = vec![T::zero(); k * c * per];
    let w = T::from_f64_lossy(1.0 / per as f64);
    for (i, &ch) in channels.iter().enumerate().filter(|e| *e.1 < c) {
        let off = (i * c + ch) * per;
        m[off..off + per].iter_mut().for_each(|v| *v = w);
    }
    Tensor::new(shape, m).expect("shape and length agree")
}

/// The targets that read one layer (`None`: the logits): their pictures, each picture's
/// channel (`usize::MAX` for pictures of other groups) and the mask, built on the first
/// pass (the activation's shape is the same at every step).
struct Group<T> {
    layer: Option<String>,
    members: Vec<usize>,
    chans: Vec<usize>,
    mask: std::cell::OnceCell<Tensor<T>>,
}

fn group_targets<T>(targets: &[Target]) -> Vec<Group<T>> {
    let k = targets.len();
    let mut groups: Vec<Group<T>> = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let (layer, ch) = match t {
            Target::Logit(c) => (None, *c),
            Target::Channel { layer, channel } => (Some(layer.clone()), *channel),
        };
        let at = match groups.iter().position(|g| g.layer == layer) {
            Some(at) => at,
            None => {
                groups.push(Group {
                    layer,
                    members: Vec::new(),
                    chans: vec![usize::MAX; k],
                    mask: std::cell::OnceCell::new(),
                });
                groups.len() - 1
            }
        };
        groups[at].members.push(i);
        groups[at].chans[i] = ch;
    }
    groups
}

/// One forward pass from the variable: the pictures, the model's forward, and the
/// per-picture objective's pieces.
struct Pass {
    x: Var,
    logits: Var,
    target: Var,
    target_values: Vec<f64>,
}

/// Runs the ascent for `targets` (one picture each) and returns the pictures.
pub fn visualize<T: Float>(
    model: &Model<T>,
    targets: &[Target],
    space: Space<T>,
    cfg: &AscentConfig,
    progress: impl FnMut(usize) + Send,
) -> Result<Visualization<T>> {
    // one hot region for all the steps' passes (see `runtime::hot`): `lamppost visualize
    // class` on mnist-gap, whole processes alternated three times, 0.47–0.48 → 0.44–0.45 s
    crate::runtime::hot(|| visualize_here(model, targets, space, cfg, progress))
}

fn visualize_here<T: Float>(
    model: &Model<T>,
    targets: &[Target],
    space: Space<T>,
    cfg: &AscentConfig,
    mut progress: impl FnMut(usize),
) -> Result<Visualization<T>> {
    let shape = validate(model, targets, &space, cfg)?;
    let k = targets.len();
    let mut batch_shape = vec![k];
    batch_shape.extend(&shape);
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let var_shape = match &space {
        Space::Generator { decoder, .. } => {
            let latent = decoder
                .arch
                .input
                .as_ref()
                .map_or(1, |s| s.iter().product());
            vec![k, latent]
        }
        _ => batch_shape.clone(),
    };
    let mut var = Tensor::<T>::randn(&var_shape, cfg.init_std, &mut rng);
    let (a, b) = cfg.pixel_affine;
    let r = &cfg.reg;
    let proximal = cfg.optimizer == Ascender::Gradient && matches!(space, Space::Raw);
    let mut adam = Adam::<T>::new(cfg.lr);
    let mut trace = Vec::with_capacity(cfg.steps);
    let picture = shape.len() == 3;
    let groups = group_targets::<T>(targets);

    let pass = |tape: &mut Tape<T>, v: Var, shift: (isize, isize)| -> Result<Pass> {
        let x = match &space {
            Space::Sigmoid => tape.sigmoid(v),
            Space::Raw => v,
            Space::Generator {
                decoder, sigmoid, ..
            } => {
                let dp = decoder.bind(tape, false);
                let out = decoder.forward(tape, v, &dp)?.logits;
                let out = if *sigmoid { tape.sigmoid(out) } else { out };
                tape.reshape(out, &batch_shape)?
            }
        };
        let seen = if shift != (0, 0) {
            roll(tape, x, shift.0, shift.1)?
        } else {
            x
        };
        let input = if (a, b) != (1.0, 0.0) {
            let av = tape.constant(Tensor::scalar(T::from_f64_lossy(a)));
            let bv = tape.constant(Tensor::scalar(T::from_f64_lossy(b)));
            let s = tape.mul(seen, av)?;
            tape.add(s, bv)?
        } else {
            seen
        };
        let params = model.bind(tape, false);
        let f = model.forward(tape, input, &params)?;
        // Σ over pictures of each one's target, one masked sum per layer read
        let mut parts = Vec::with_capacity(groups.len());
        let mut values = vec![0.0; k];
        for g in &groups {
            let act = match &g.layer {
                None => f.logits,
                Some(l) => f.activation(l)?,
            };
            let s = tape.shape(act).to_vec();
            let per: usize = s[2..].iter().product();
            let av = tape.value(act);
            for &i in &g.members {
                let off = (i * s[1] + g.chans[i]) * per;
                values[i] = av.data()[off..off + per]
                    .iter()
                    .map(|v| v.to_f64())
                    .sum::<f64>()
                    / per as f64;
            }
            let mask = g
                .mask
                .get_or_init(|| channel_mask::<T>(&s, &g.chans))
                .clone();
            let m = tape.constant(mask);
            let prod = tape.mul(act, m)?;
            parts.push(tape.sum_all(prod));
        }
        let mut target = parts[0];
        for &p in &parts[1..] {
            target = tape.add(target, p)?;
        }
        Ok(Pass {
            x,
            logits: f.logits,
            target,
            target_values: values,
        })
    };

    for step in 0..cfg.steps {
        let shift = if r.jitter > 0 {
            let j = r.jitter as isize;
            (rng.gen_range(-j..=j), rng.gen_range(-j..=j))
        } else {
            (0, 0)
        };
        let mut tape = Tape::new();
        let v = tape.leaf(var.clone());
        let p = pass(&mut tape, v, shift)?;
        let mut j = p.target;
        if r.l1 > 0.0 && !proximal {
            let ab = tape.abs(p.x);
            let s = tape.sum_all(ab);
            j = subtract(&mut tape, j, s, r.l1)?;
        }
        if r.l2 > 0.0 {
            let sq = tape.mul(p.x, p.x)?;
            let s = tape.sum_all(sq);
            j = subtract(&mut tape, j, s, r.l2)?;
        }
        if r.tv > 0.0 && picture {
            let tv = total_variation(&mut tape, p.x)?;
            j = subtract(&mut tape, j, tv, r.tv)?;
        }
        if let Space::Generator { mu, .. } = &space
            && *mu > 0.0
        {
            let sq = tape.mul(v, v)?;
            let s = tape.sum_all(sq);
            j = subtract(&mut tape, j, s, mu / 2.0)?;
        }
        let jv = tape.value(j).item()?.to_f64();
        let non_finite = || {
            invalid(format!(
                "the ascent produced a non-finite value at step {} of {} (objective {jv}); \
                 lower --lr or add a regularizer",
                step + 1,
                cfg.steps
            ))
        };
        if !jv.is_finite() {
            return non_finite();
        }
        let g = tape.backward(j)?.get(v);
        trace.push(jv);
        match cfg.optimizer {
            Ascender::Adam => {
                adam.step(&mut [&mut var], &[g.map(|x| -x)])?;
            }
            Ascender::Gradient => {
                let lr = T::from_f64_lossy(cfg.lr);
                var = var.zip(&g, |v, g| v + lr * g)?;
            }
        }
        // a non-finite gradient or an overflowing step shows here
        if var.data().iter().any(|x| !x.is_finite()) {
            return non_finite();
        }
        if proximal && r.l1 > 0.0 {
            let t = T::from_f64_lossy(cfg.lr * r.l1);
            var = var.map(|v| {
                if v > t {
                    v - t
                } else if v < -t {
                    v + t
                } else {
                    T::zero()
                }
            });
        }
        if r.blur_every > 0 && (step + 1) % r.blur_every == 0 {
            var = blur_var(&var, &shape, r.blur_sigma, matches!(space, Space::Sigmoid))?;
        }
        progress(step + 1);
    }
    // the final pictures, unshifted
    let mut tape = Tape::no_grad();
    let v = tape.constant(var.clone());
    let p = pass(&mut tape, v, (0, 0))?;
    let images = tape.value(p.x).clone();
    let logits = tape.value(p.logits).clone();
    if images.data().iter().any(|x| !x.is_finite()) {
        return invalid("the final pictures hold non-finite values; lower --lr");
    }
    Ok(Visualization {
        images,
        latents: matches!(space, Space::Generator { .. }).then_some(var),
        values: p.target_values,
        logits,
        trace,
    })
}

/// `j − w·penalty` on the tape.
fn subtract<T: Float>(tape: &mut Tape<T>, j: Var, penalty: Var, w: f64) -> Result<Var> {
    let wv = tape.constant(Tensor::scalar(T::from_f64_lossy(w)));
    let pen = tape.mul(penalty, wv)?;
    tape.sub(j, pen)
}

/// Blurs the pictures the variable stands for and returns the variable of the blurred
/// pictures (through the inverse sigmoid when the pixels are `sigmoid(θ)`).
fn blur_var<T: Float>(
    var: &Tensor<T>,
    shape: &[usize],
    sigma: f64,
    sigmoid: bool,
) -> Result<Tensor<T>> {
    let (c, h, w) = (shape[0], shape[1], shape[2]);
    let per = c * h * w;
    let mut out = Vec::with_capacity(var.len());
    for pic in var.data().chunks(per) {
        let px: Vec<f64> = pic
            .iter()
            .map(|v| {
                let v = v.to_f64();
                if sigmoid { 1.0 / (1.0 + (-v).exp()) } else { v }
            })
            .collect();
        for p in gaussian_blur(&px, c, h, w, sigma) {
            out.push(T::from_f64_lossy(if sigmoid {
                let p = p.clamp(1e-4, 1.0 - 1e-4);
                (p / (1.0 - p)).ln()
            } else {
                p
            }));
        }
    }
    Tensor::new(var.shape(), out)
}

/// The class whose mean picture correlates best (Pearson) with `image` (`means` one
/// picture per class, same length): the class-mean alignment of a class visualization.
pub fn best_correlated(image: &[f64], means: &[Vec<f64>]) -> usize {
    let mut best = 0;
    let mut best_r = f64::NEG_INFINITY;
    for (c, m) in means.iter().enumerate() {
        let r = pearson(image, m);
        if r > best_r {
            best = c;
            best_r = r;
        }
    }
    best
}
