//! `lamppost tour`: trains (or loads from the cache) every reference model on its
//! default data, evaluates it, and writes `DIR/index.html`. This file only orchestrates;
//! each section is one file calling library functions ([`local`], [`story`],
//! [`treereg`], [`models`]), and the model cache is [`cache`].

pub mod cache;
pub mod data;
pub mod global;
pub mod inside;
pub mod local;
pub mod models;
pub mod story;
pub mod treereg;
pub mod trust;

use crate::data::mnist;
use crate::data::source::{DataSpec, load};
use crate::error::Result;
use crate::io::Outputs;
use crate::nn::Arch;
use crate::profile::Profile;
use crate::viz::report::{Report, esc, site};
use cache::{provenance, train_or_load};
use models::{model_section, pct, samples};
use std::path::PathBuf;
use std::time::Instant;

pub struct TourOptions {
    pub out: PathBuf,
    pub cache: PathBuf,
    /// Small data and short training, for smoke tests (under a minute).
    pub quick: bool,
    pub force: bool,
}

/// Runs the tour.
pub fn run_tour(opts: &TourOptions) -> Result<()> {
    let outputs = Outputs::folder(&opts.out, opts.force, "--out")?;
    let start = Instant::now();
    let mut r = Report::new("Start");
    r.paragraph(&format!(
        "Reference models trained on the default data{}. Same seed, same machine: same numbers. Each chapter is one page: \
         the models, then why each prediction was made (local explanations), then what each layer represents (inside the \
         network), then what a filter or a class looks like to it (global explanations), then which training examples \
         explain it (data map, forgetting, influence), then which explanation to trust (evaluation metrics), then \
         surrogate models that mimic a network.",
        if opts.quick {
            " (quick mode: small subsets, one or two epochs)"
        } else {
            ""
        }
    ));
    let mut summary = Vec::new();

    // MNIST
    let mut mn = load(&DataSpec::Mnist(mnist::default_dir()), &opts.cache, 0)?;
    let mut mnist_note = String::new();
    if opts.quick {
        mn.train = mn.train.subset(&(0..10_000).collect::<Vec<_>>())?;
        mn.test = mn.test.subset(&(0..2000).collect::<Vec<_>>())?;
        mnist_note += " quick-subset=10000/2000";
    }
    let mut mnist_models = Vec::new();
    for arch in ["mnist-cnn", "mnist-gap", "mnist-gru"] {
        let mut cfg = Profile::of(&Arch::from_name(arch)?).train;
        if opts.quick {
            cfg.epochs = 2;
        }
        let prov = provenance(DataSpec::Mnist(mnist::default_dir()), &cfg, &mnist_note);
        let t = train_or_load(arch, &mn, &prov, &opts.cache)?;
        eprintln!(
            "{arch}: test accuracy {} ({})",
            pct(t.eval.accuracy),
            if t.cached { "cached" } else { "trained" }
        );
        summary.push(vec![
            arch.to_string(),
            format!("mnist{mnist_note}"),
            cfg.describe(),
            pct(t.eval.accuracy),
        ]);
        mnist_models.push((arch, t));
    }
    // models beside the galleries: the inside chapter's attention model, the global
    // chapter's interpretable baseline
    let mut extra = |arch: &str, quick_epochs: usize| -> Result<cache::Trained> {
        let mut cfg = Profile::of(&Arch::from_name(arch)?).train;
        if opts.quick {
            cfg.epochs = quick_epochs;
        }
        let prov = provenance(DataSpec::Mnist(mnist::default_dir()), &cfg, &mnist_note);
        let t = train_or_load(arch, &mn, &prov, &opts.cache)?;
        eprintln!("{arch}: test accuracy {}", pct(t.eval.accuracy));
        summary.push(vec![
            arch.to_string(),
            format!("mnist{mnist_note}"),
            cfg.describe(),
            pct(t.eval.accuracy),
        ]);
        Ok(t)
    };
    let attn = extra("mnist-attn-gru", 2)?;
    let linear = extra("mnist-linear", 1)?;
    let vae = {
        let mut cfg = Profile::of(&Arch::from_name("mnist-vae")?).train;
        if opts.quick {
            cfg.epochs = 1;
        }
        let prov = provenance(DataSpec::Mnist(mnist::default_dir()), &cfg, &mnist_note);
        let (model, elbo, mse, cached) = cache::train_or_load_vae(&mn, &prov, &opts.cache)?;
        eprintln!(
            "mnist-vae: test −ELBO {:.1} ({})",
            elbo[0],
            if cached { "cached" } else { "trained" }
        );
        summary.push(vec![
            "mnist-vae".into(),
            format!("mnist{mnist_note}"),
            cfg.describe(),
            format!("−ELBO {:.1}, MSE {:.4}", elbo[0], mse),
        ]);
        (crate::nn::vae::Vae::from_model(&model)?, elbo, mse)
    };
    // the MNIST training images (188 MB as f32) are not needed past training: dropping
    // them here keeps the tour's peak memory to one dataset at a time
    let mn_test = mn.test;
    // the probes of the inside chapter learn from the first 5000 training digits
    let probe_train = mn
        .train
        .subset(&(0..if opts.quick { 2000 } else { 5000 }).collect::<Vec<_>>())?;
    drop(mn.train);

    // Pokémon / Digimon (synthetic stand-in), with and without the background shortcut
    let n = if opts.quick { 200 } else { 1000 };
    let mut poke = Vec::new();
    for debias in [false, true] {
        let spec = DataSpec::Synth { n, seed: 0, debias };
        let data = load(&spec, &opts.cache, 0)?;
        let mut cfg = Profile::of(&Arch::from_name("pokedigi-gap")?).train;
        if opts.quick {
            cfg.epochs = 4;
        }
        let prov = provenance(spec.clone(), &cfg, "");
        let t = train_or_load("pokedigi-gap", &data, &prov, &opts.cache)?;
        eprintln!(
            "pokedigi-gap ({}): test accuracy {}",
            spec.describe(),
            pct(t.eval.accuracy)
        );
        summary.push(vec![
            "pokedigi-gap".into(),
            spec.describe(),
            cfg.describe(),
            pct(t.eval.accuracy),
        ]);
        poke.push((spec, data, t));
    }

    let mut local_page = Report::new("Local explanations");
    local::chapter(&mut local_page, &mn_test, &mnist_models, &poke, opts.quick)?;
    story::section(&mut local_page, &poke)?;

    r.heading("The models at a glance");
    r.table(
        &[
            "model".into(),
            "data".into(),
            "training".into(),
            "test accuracy".into(),
        ],
        &summary,
    );
    r.html(&format!(
        "<p>The Pokémon/Digimon classifier reaches <b>{}</b> on the synthetic set, where every Pokémon is a transparent PNG \
         (black after compositing) and every Digimon a JPEG on white. The same network trained on the <i>debiased</i> set \
         (random backgrounds for both classes, every file a JPEG) reaches <b>{}</b> from the creatures alone (most Digimon \
         wear stripes, have more spikes and a tail; most Pokémon have spots). The explanation pages show which of the two \
         looks at what.</p>",
        pct(poke[0].2.eval.accuracy),
        pct(poke[1].2.eval.accuracy)
    ));
    let mut models_page = Report::new("Models");
    let first16: Vec<usize> = (0..10).collect();
    samples(
        &mut models_page,
        "mnist-samples.svg",
        &mn_test,
        &mnist_models[0].1.model,
        &first16,
        "MNIST test digits, mnist-cnn",
    )?;
    for (spec, data, t) in &poke {
        let mut idx: Vec<usize> = (0..data.test.len())
            .filter(|&i| data.test.y[i] == 0)
            .take(8)
            .collect();
        idx.extend(
            (0..data.test.len())
                .filter(|&i| data.test.y[i] == 1)
                .take(8),
        );
        let file = if spec.describe().contains("debias") {
            "pokedigi-debias-samples.svg"
        } else {
            "pokedigi-samples.svg"
        };
        samples(
            &mut models_page,
            file,
            &data.test,
            &t.model,
            &idx,
            &esc(&spec.describe()),
        )?;
    }
    for (arch, t) in &mnist_models {
        model_section(&mut models_page, arch, t, &mn_test.classes)?;
    }
    for (i, (spec, data, t)) in poke.iter().enumerate() {
        let name = if i == 0 {
            "pokedigi-gap"
        } else {
            "pokedigi-gap-debiased"
        };
        model_section(&mut models_page, name, t, &data.test.classes)?;
        models_page.paragraph(&format!("Data: {}.", spec.describe()));
    }
    let mut inside_page = Report::new("Inside the network");
    inside::chapter(
        &mut inside_page,
        &probe_train,
        &mn_test,
        &[
            ("mnist-cnn", &mnist_models[0].1.model),
            ("mnist-gap", &mnist_models[1].1.model),
            ("mnist-gru", &mnist_models[2].1.model),
        ],
        ("mnist-attn-gru", &attn.model),
        (&poke[0].1.test, &poke[0].2.model),
        opts.quick,
    )?;
    let mut global_page = Report::new("What does the network look for?");
    global::chapter(
        &mut global_page,
        &probe_train,
        &mn_test,
        &global::GlobalModels {
            mnist: &[
                ("mnist-cnn", &mnist_models[0].1.model),
                ("mnist-gap", &mnist_models[1].1.model),
                ("mnist-gru", &mnist_models[2].1.model),
            ],
            judge: ("mnist-gru", &mnist_models[2].1.model),
            linear: (&linear.model, linear.eval.accuracy),
            vae: (&vae.0, vae.1, vae.2),
            poke: (&poke[0].1.test, &poke[0].2.model),
        },
        opts.quick,
    )?;
    let mut data_page = Report::new("Which training examples?");
    data::chapter(&mut data_page, &probe_train, &mn_test, opts.quick)?;
    let mut trust_page = Report::new("Which explanation should I trust?");
    trust::chapter(
        &mut trust_page,
        &mn_test,
        &[
            ("mnist-cnn", &mnist_models[0].1.model),
            ("mnist-gap", &mnist_models[1].1.model),
        ],
        (&poke[0].1.test, &poke[0].2.model),
        opts.quick,
    )?;
    let mut surrogates = Report::new("Surrogates");
    treereg::chapter(&mut surrogates, opts.quick, &opts.cache)?;
    r.paragraph(&format!("Tour took {:.1}s.", start.elapsed().as_secs_f64()));
    let files = site(
        "lamppost tour",
        vec![
            ("index.html".into(), r),
            ("models.html".into(), models_page),
            ("local.html".into(), local_page),
            ("inside.html".into(), inside_page),
            ("global.html".into(), global_page),
            ("data.html".into(), data_page),
            ("trust.html".into(), trust_page),
            ("surrogates.html".into(), surrogates),
        ],
    );
    outputs.write_folder(&opts.out, &files)?;
    eprintln!(
        "wrote {} in {:.1}s",
        opts.out.join("index.html").display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
