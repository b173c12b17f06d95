//! The lecture's Pokémon/Digimon story on the synthetic set: the model trained on it
//! looks at the background; the one trained on the debiased set looks less at it.

use lamppost::data::source::{DataSpec, load};
use lamppost::fit::{TrainConfig, fit};
use lamppost::nn::{Arch, Model};
use lamppost::tour::background_fraction;

fn trained(debias: bool, cache: &std::path::Path) -> (Model<f32>, lamppost::data::Dataset) {
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

#[test]
fn the_biased_model_looks_at_the_background() {
    let cache = std::env::temp_dir().join(format!("lamppost-story-{}", std::process::id()));
    let (biased, test) = trained(false, &cache);
    let s = background_fraction(&biased, &test, "saliency").unwrap();
    let g = background_fraction(&biased, &test, "grad-cam").unwrap();
    eprintln!("biased: saliency {s:.3}, grad-cam {g:.3} of the mass on the background");
    assert!(
        s > 0.5 && g > 0.5,
        "biased model: saliency {s:.3}, Grad-CAM {g:.3} on the background"
    );
    // The debiased model has only the creature to go by. Its saliency moves towards the
    // creature; "most on the creature" is not reached yet at this size (see the issue).
    let (debiased, test) = trained(true, &cache);
    let sd = background_fraction(&debiased, &test, "saliency").unwrap();
    let gd = background_fraction(&debiased, &test, "grad-cam").unwrap();
    eprintln!("debiased: saliency {sd:.3}, grad-cam {gd:.3} of the mass on the background");
    assert!(
        sd < s - 0.1,
        "debiased saliency {sd:.3} should sit clearly less on the background than {s:.3}"
    );
    std::fs::remove_dir_all(cache).unwrap();
}
