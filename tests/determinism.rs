//! Same seed ⇒ bit-identical weights after 100 training steps, whatever the thread count.

use lamppost::nn::train::train_step;
use lamppost::nn::{Arch, Model};
use lamppost::optim::Sgd;
use lamppost::tensor::Tensor;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn train(arch: &str, steps: usize, threads: usize) -> Model<f32> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let arch = Arch::from_name(arch).unwrap();
        let mut shape = vec![64];
        shape.extend(arch.input.clone().unwrap());
        let mut model = Model::<f32>::init(arch, 11);
        let mut opt = Sgd::new(0.05).momentum(0.9, false);
        let mut rng = StdRng::seed_from_u64(5);
        for _ in 0..steps {
            let x = Tensor::<f32>::randn(&shape, 1.0, &mut rng);
            let y: Vec<usize> = (0..64)
                .map(|_| rng.gen_range(0..model.arch.num_classes()))
                .collect();
            train_step(&mut model, &mut opt, &x, &y).unwrap();
        }
        model
    })
}

fn bits(m: &Model<f32>) -> Vec<u32> {
    m.params()
        .iter()
        .flat_map(|(_, t)| t.data().iter().map(|v| v.to_bits()))
        .collect()
}

#[test]
fn mnist_cnn_100_steps_bit_identical_across_thread_counts() {
    let a = train("mnist-cnn", 100, 2);
    let b = train("mnist-cnn", 100, 2);
    let c = train("mnist-cnn", 100, 1);
    let d = train("mnist-cnn", 100, 3);
    assert!(bits(&a) == bits(&b), "two runs with 2 threads differ");
    assert!(bits(&a) == bits(&c), "1 thread differs from 2");
    assert!(bits(&a) == bits(&d), "3 threads differ from 2");
    assert!(
        bits(&a) != bits(&Model::<f32>::init(a.arch.clone(), 11)),
        "training changed nothing"
    );
}

#[test]
fn other_reference_archs_are_bit_identical_across_thread_counts() {
    for arch in ["mnist-gap", "mnist-gru", "pokedigi-gap"] {
        let a = train(arch, 5, 2);
        let b = train(arch, 5, 1);
        assert!(bits(&a) == bits(&b), "{arch}: 1 thread differs from 2");
    }
}

/// LIME on pokedigi-gap (quickshift segments, perturbed images built in parallel, batched
/// forward passes): the same attribution bit for bit with 1 and 2 threads.
#[test]
fn lime_is_bit_identical_across_thread_counts() {
    use lamppost::explain::attribution::AttributionMethod;
    use lamppost::explain::local::lime::Lime;
    let model = Model::<f32>::init(Arch::from_name("pokedigi-gap").unwrap(), 3);
    let x =
        Tensor::<f32>::randn(&[1, 3, 64, 64], 0.3, &mut StdRng::seed_from_u64(2)).map(|v| v + 0.5);
    let lime = Lime {
        samples: 200,
        ..Lime::default()
    };
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| lime.attribute(&model, &x, &[0]).unwrap())
    };
    let (one, two) = (run(1), run(2));
    let bits = |a: &lamppost::explain::attribution::Attribution<f32>| {
        let mut v: Vec<u32> = a.map.data().iter().map(|v| v.to_bits()).collect();
        for (_, t) in &a.extras {
            v.extend(t.data().iter().map(|v| v.to_bits()));
        }
        v
    };
    assert_eq!(bits(&one), bits(&two));
    assert!(one.map.data().iter().any(|&v| v != 0.0));
}
