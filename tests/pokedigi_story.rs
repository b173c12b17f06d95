//! The lecture's Pokémon/Digimon story on the synthetic set: the model trained on it
//! looks at the background; the one trained on the debiased set looks at the creature.

use lamppost::data::Dataset;
use lamppost::data::source::{DataSpec, load};
use lamppost::fit::{TrainConfig, evaluate, fit};
use lamppost::nn::{Arch, Model};
use lamppost::tour::{background_fraction, story_methods};

fn trained(debias: bool, cache: &std::path::Path) -> (Model<f32>, Dataset) {
    let data = load(
        &DataSpec::Synth {
            n: 600,
            seed: 0,
            debias,
        },
        cache,
        0,
    )
    .unwrap();
    let mut model = Model::<f32>::init(Arch::from_name("pokedigi-gap").unwrap(), 0);
    fit(
        &mut model,
        &data.train,
        None,
        &TrainConfig::reference("pokedigi-gap"),
        &mut std::io::sink(),
    )
    .unwrap();
    (model, data.test)
}

/// Background fraction of saliency and Grad-CAM, with the tour's options.
fn fractions(model: &Model<f32>, test: &Dataset) -> Vec<f64> {
    story_methods()
        .iter()
        .filter(|(m, _)| ["saliency", "grad-cam"].contains(m))
        .map(|(m, o)| background_fraction(model, test, m, o).unwrap())
        .collect()
}

#[test]
fn the_shortcut_model_looks_at_the_background_the_debiased_one_at_the_creature() {
    let cache = std::env::temp_dir().join(format!("lamppost-story-{}", std::process::id()));
    let (biased, test) = trained(false, &cache);
    let b = fractions(&biased, &test);
    eprintln!("biased: [saliency, grad-cam] background fractions {b:.3?}");
    assert!(
        b[0] > 0.5 && b[1] > 0.5,
        "biased model: saliency {:.3}, Grad-CAM {:.3} on the background",
        b[0],
        b[1]
    );
    let (debiased, dtest) = trained(true, &cache);
    let d = fractions(&debiased, &dtest);
    eprintln!("debiased: [saliency, grad-cam] background fractions {d:.3?}");
    // Both models are accurate; the shortcut shows when the background stops carrying
    // the class: the biased model falls to chance on the debiased pictures.
    let acc = |m: &Model<f32>, t: &Dataset| evaluate(m, t).unwrap().accuracy;
    assert!(
        acc(&debiased, &dtest) > 0.9,
        "debiased model: {}",
        acc(&debiased, &dtest)
    );
    assert!(
        acc(&biased, &dtest) < 0.7,
        "shortcut model on debiased pictures: {}",
        acc(&biased, &dtest)
    );
    // Grad-CAM moves clearly towards the creature. "Most on the creature" is not reached
    // by saliency or Grad-CAM (see the README's results).
    assert!(
        d[1] < b[1] - 0.1,
        "debiased Grad-CAM {:.3} vs biased {:.3}",
        d[1],
        b[1]
    );
    std::fs::remove_dir_all(cache).unwrap();
}
