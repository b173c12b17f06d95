//! The lecture's Pokémon/Digimon story on the synthetic set: the model trained on it
//! looks at the background; the one trained on the debiased set looks at the creature.

use lamppost::data::Dataset;
use lamppost::data::source::{DataSpec, load};
use lamppost::explain::metrics::mass::{background_fraction, story_methods};
use lamppost::fit::{evaluate, fit};
use lamppost::nn::{Arch, Model};
use lamppost::profile::Profile;

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
    let arch = Arch::from_name("pokedigi-gap").unwrap();
    let cfg = Profile::of(&arch).train;
    let mut model = Model::<f32>::init(arch, 0);
    fit(&mut model, &data.train, None, &cfg, &mut std::io::sink()).unwrap();
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
    assert_eq!(
        dtest.class_counts(),
        test.class_counts(),
        "both sets have both classes"
    );
    let d = fractions(&debiased, &dtest);
    eprintln!("debiased: [saliency, grad-cam] background fractions {d:.3?}");
    // The debiased model learned from the creature; the shortcut model falls to chance
    // (or below) once the background stops carrying the class.
    let acc = |m: &Model<f32>, t: &Dataset| evaluate(m, t).unwrap().accuracy;
    let (own, transfer) = (acc(&debiased, &dtest), acc(&biased, &dtest));
    eprintln!("debiased model {own:.3}; shortcut model on debiased pictures {transfer:.3}");
    assert!(own > 0.85, "debiased model: {own}");
    assert!(
        transfer < 0.6,
        "shortcut model on debiased pictures: {transfer}"
    );
    // Most of the debiased model's saliency lies on the creature, and its Grad-CAM moves
    // clearly towards it (measured 0.47 here and 0.49 in the tour: just under half on the
    // background, too close to 0.5 to pin across machines; see the README's results).
    assert!(
        d[0] < 0.5,
        "debiased saliency {:.3} on the background",
        d[0]
    );
    assert!(
        d[1] < b[1] - 0.2,
        "debiased Grad-CAM {:.3} vs biased {:.3}",
        d[1],
        b[1]
    );
    std::fs::remove_dir_all(cache).unwrap();
}
