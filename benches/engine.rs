//! Engine benchmarks. Compare with PyTorch on the same machine, in one command that
//! prints the ratio and roofline table (see benches/README.md):
//!
//! ```text
//! bash benches/compare.sh
//! ```

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lamppost::autodiff::{BackwardRule, Tape};
use lamppost::nn::train::train_step;
use lamppost::nn::{Arch, Model};
use lamppost::optim::Sgd;
use lamppost::tensor::Tensor;
use lamppost::tensor::matmul::gemm;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Times `routine` called from a thread of the pool, as the `lamppost` command calls
/// `predict` and the training steps (it runs on the pool, `runtime::on_pool`) and as
/// PyTorch's calling thread is its first OpenMP thread. A pass called from the
/// program's own thread first moves onto the pool and back, two thread wake-ups that
/// `lamppost` never pays per pass: after the untimed copy of `from_one_step`, about
/// 47 µs in and 38 out (`hot` of an empty closure after 1 ms idle), and mnist-vae's
/// step timed 1.70–1.76 ms that way against 1.60–1.65 ms from the pool (bench binaries
/// alternated three times).
fn on_pool_iter<O>(bn: &mut criterion::Bencher, mut routine: impl FnMut() -> O + Send) {
    bn.iter_custom(|iters| lamppost::runtime::on_pool(|| timed(iters, &mut routine)))
}

/// The time of `iters` calls of `routine`, one after the other.
fn timed<O>(iters: u64, routine: &mut impl FnMut() -> O) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        black_box(routine());
    }
    start.elapsed()
}

/// Times `routine` inside a [`lamppost::runtime::hot`] region, as an op runs within a
/// model's pass (`predict`, a training step) and as PyTorch's ops run between OpenMP
/// threads that spin while they wait: one op called from the program's own thread
/// would also time two thread wake-ups (about 5% of mnist-gap's conv3 forward).
fn hot_iter<O>(bn: &mut criterion::Bencher, mut routine: impl FnMut() -> O + Send) {
    bn.iter_custom(|iters| lamppost::runtime::hot(|| timed(iters, &mut routine)))
}

fn gemm_bench(c: &mut Criterion) {
    lamppost::runtime::tune_allocator();
    let mut g = c.benchmark_group("gemm");
    for n in [128usize, 512, 1024] {
        let a = vec![0.5f32; n * n];
        let b = vec![0.25f32; n * n];
        let mut out = vec![0.0f32; n * n];
        g.throughput(Throughput::Elements((2 * n * n * n) as u64));
        g.bench_function(BenchmarkId::from_parameter(n), |bn| {
            hot_iter(bn, || {
                gemm(
                    n,
                    n,
                    n,
                    black_box(&a),
                    false,
                    black_box(&b),
                    false,
                    &mut out,
                    false,
                )
            })
        });
    }
    g.finish();
}

/// The reference layers' convolutions (3×3, padding 1), as in `benches/pytorch_bench.py`:
/// (name, N, C, H, W, O).
const CONVS: [(&str, usize, usize, usize, usize, usize); 6] = [
    ("mnist-cnn.conv2", 64, 8, 14, 14, 16),
    ("mnist-gap.conv2", 64, 16, 14, 14, 32),
    ("mnist-gap.conv3", 64, 32, 7, 7, 64),
    ("pokedigi-gap.conv1", 64, 3, 64, 64, 16),
    ("pokedigi-gap.conv2", 64, 16, 32, 32, 32),
    ("pokedigi-gap.conv4", 64, 64, 8, 8, 64),
];

fn conv_bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("conv2d");
    for (name, n, ch, h, wd, o) in CONVS {
        let mut rng = StdRng::seed_from_u64(0);
        let x = Tensor::<f32>::randn(&[n, ch, h, wd], 1.0, &mut rng);
        let w = Tensor::<f32>::randn(&[o, ch, 3, 3], 0.1, &mut rng);
        let b = Tensor::<f32>::zeros(&[o]);
        g.bench_function(format!("{name}/forward"), |bn| {
            hot_iter(bn, || {
                let mut t = Tape::no_grad();
                let (xv, wv, bv) = (
                    t.constant(x.clone()),
                    t.constant(w.clone()),
                    t.constant(b.clone()),
                );
                black_box(t.conv2d(xv, wv, Some(bv), 1, 1).unwrap());
            })
        });
        g.bench_function(format!("{name}/forward_backward"), |bn| {
            hot_iter(bn, || {
                let mut t = Tape::new();
                let (xv, wv, bv) = (t.leaf(x.clone()), t.leaf(w.clone()), t.leaf(b.clone()));
                let y = t.conv2d(xv, wv, Some(bv), 1, 1).unwrap();
                let seed = Tensor::ones(t.shape(y));
                black_box(t.backward_with(y, seed, BackwardRule::Standard).unwrap());
            })
        });
    }
    g.finish();
}

fn input_for(arch: &Arch, n: usize) -> Tensor<f32> {
    let mut shape = vec![n];
    shape.extend(arch.input.clone().unwrap());
    Tensor::randn(&shape, 1.0, &mut StdRng::seed_from_u64(1))
}

/// Times `step` on a copy of `model` and `opt` (the state after one step, with momentum),
/// written back before every step (untimed), so that every timed step starts from the
/// same weights, as `benches/pytorch_bench.py` does. Stepping on and on over one batch
/// drives both libraries into subnormal numbers: mnist-vae's dead units leave momentum
/// values that `0.9·v` rounds back to themselves, which take a microcode assist on every
/// operation on Intel processors. PyTorch's own step went from 2.4 ms to 4–6 ms after
/// ~1000 steps (`benches/vae_subnormals.py`); ours took 6.5 ms there, 3.2 ms with
/// flush-to-zero set; and which side had drifted how far depended on how long each had
/// run.
///
/// The write-back is PyTorch's: `load_state_dict` and the momentum's `copy_` write into
/// the tensors the step updates, and ATen splits a copy of more than 32 768 values
/// (its grain) into one contiguous part per thread (a 784×400 weight: 55–59 µs on one
/// thread, 17 on two). The step's own tensors are written here the same way, see
/// [`write_back`]. Earlier, each step had run on a fresh clone whose tensors one thread
/// had copied, and mnist-vae's forward pass then read weights that the other core's
/// cache did not hold: the step took 1.57–1.59 ms against 1.40–1.43 ms written back
/// this way (medians of 600 in a scratch program, alternated twice), about what steps
/// one after the other take as a training loop runs them (1.36–1.40 ms on the pool).
///
/// With `steps` above 1, each write-back is followed by that many steps one after the
/// other, as a training loop runs them, and the time per step is reported.
///
/// The steps are called from a thread of the pool (see `on_pool_iter`).
fn from_one_step(
    bn: &mut criterion::Bencher,
    model: &Model<f32>,
    opt: &Sgd<f32>,
    steps: u32,
    step: impl Fn(&mut Model<f32>, &mut Sgd<f32>) + Sync,
) {
    // tensors of their own, written back in place before each step (a clone shares the
    // tensors, and the timed step would copy every weight and momentum buffer before
    // writing it, which no training loop does): the first write-back makes them the
    // step's own (`data_mut` copies a shared tensor once), the later ones reuse them
    let (mut from_m, mut from_o) = (model.clone(), opt.clone());
    let (mut m, mut o) = (model.clone(), opt.clone());
    bn.iter_custom(|iters| {
        lamppost::runtime::on_pool(|| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                let tensors = m.param_tensors_mut().into_iter();
                let tensors = tensors.chain(o.buffers_mut().iter_mut());
                let from = from_m.param_tensors_mut().into_iter();
                for (t, f) in tensors.zip(from.chain(from_o.buffers_mut().iter_mut())) {
                    write_back(t, f);
                }
                let start = Instant::now();
                for _ in 0..steps {
                    step(&mut m, &mut o);
                }
                spent += start.elapsed() / steps;
            }
            spent
        })
    })
}

/// `to`'s values set to `from`'s in place, as ATen's `copy_` on two threads: more than
/// 32 768 values (its grain) in two contiguous halves, the first on this thread.
fn write_back(to: &mut Tensor<f32>, from: &Tensor<f32>) {
    let (to, from) = (to.data_mut(), from.data());
    assert_eq!(to.len(), from.len(), "the step changed a tensor's length");
    if to.len() <= 32_768 {
        to.copy_from_slice(from);
        return;
    }
    let half = to.len().div_ceil(2);
    let ((t0, t1), (f0, f1)) = (to.split_at_mut(half), from.split_at(half));
    rayon::join(|| t0.copy_from_slice(f0), || t1.copy_from_slice(f1));
}

fn model_bench(c: &mut Criterion) {
    for name in [
        "mnist-cnn",
        "mnist-gap",
        "mnist-gru",
        "pokedigi-gap",
        "mnist-attn-gru",
        "mnist-linear",
    ] {
        let arch = Arch::from_name(name).unwrap();
        let mut g = c.benchmark_group(name);
        g.measurement_time(Duration::from_secs(6));
        let x = input_for(&arch, 64);
        let y: Vec<usize> = (0..64).map(|i| i % arch.num_classes()).collect();
        let mut model = Model::<f32>::init(arch.clone(), 0);
        let mut opt = Sgd::new(0.01).momentum(0.9, false);
        // every timed step starts from the state after one step (see `from_one_step`)
        train_step(&mut model, &mut opt, &x, &y).unwrap();
        g.throughput(Throughput::Elements(64));
        g.bench_function("train_step_b64", |bn| {
            from_one_step(bn, &model, &opt, 1, |m, o| {
                train_step(m, o, &x, &y).unwrap();
            })
        });
        let x = input_for(&arch, 256);
        g.throughput(Throughput::Elements(256));
        g.bench_function("inference_b256", |bn| {
            on_pool_iter(bn, || model.predict(&x).unwrap())
        });
        g.finish();
    }
}

/// mnist-vae: a training step on `−ELBO` (batch 64, pictures in [0, 1], fixed noise) and,
/// as its inference, reconstruction of 256 pictures (encoder → μ → decoder → sigmoid), as
/// `benches/pytorch_bench.py` times them.
fn vae_bench(c: &mut Criterion) {
    use lamppost::nn::vae::{Vae, noise, vae_step};
    let arch = Arch::from_name("mnist-vae").unwrap();
    let mut g = c.benchmark_group("mnist-vae");
    g.measurement_time(Duration::from_secs(6));
    let unit = |n: usize| {
        let x = Tensor::<f32>::uniform(&[n, 784], 0.0, 1.0, &mut StdRng::seed_from_u64(1));
        (x.clone(), x.reshape(&[n, 1, 28, 28]).unwrap())
    };
    let mut model = Model::<f32>::init(arch, 0);
    let mut opt = Sgd::new(0.01).momentum(0.9, false);
    let (x, _) = unit(64);
    let eps = noise::<f32>(64, 16, 2);
    vae_step(&mut model, &mut opt, &x, &eps).unwrap();
    g.throughput(Throughput::Elements(64));
    g.bench_function("train_step_b64", |bn| {
        from_one_step(bn, &model, &opt, 1, |m, o| {
            vae_step(m, o, &x, &eps).unwrap();
        })
    });
    // eight steps one after the other from the same state, per step: what a training
    // loop sees, where each step's weights were last written by the step before
    g.bench_function("train_8_steps_b64", |bn| {
        from_one_step(bn, &model, &opt, 8, |m, o| {
            vae_step(m, o, &x, &eps).unwrap();
        })
    });
    let vae = Vae::from_model(&model).unwrap();
    let (_, pictures) = unit(256);
    g.throughput(Throughput::Elements(256));
    g.bench_function("inference_b256", |bn| {
        on_pool_iter(bn, || {
            let (mu, _) = vae.encode(&pictures).unwrap();
            vae.decode(&mu).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, gemm_bench, conv_bench, model_bench, vae_bench);
criterion_main!(benches);
