//! The tour's model cache: a model trained with the same settings is loaded, not
//! retrained. Keys are the training provenance's settings line.

use crate::data::source::Loaded;
use crate::error::{Error, Result};
use crate::fit::{
    self, NoObserver, Provenance, TrainConfig, evaluate, history_from_string, train_new,
};
use crate::io::safetensors_file::{model_from_bytes, read_bounded};
use crate::io::{save_model, stable_hash};
use crate::nn::{Arch, Model};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A trained model (see [`fit::Trained`]) and whether it came from the cache.
pub struct Trained {
    pub run: fit::Trained,
    pub cached: bool,
    pub seconds: f64,
}

impl std::ops::Deref for Trained {
    type Target = fit::Trained;
    fn deref(&self) -> &fit::Trained {
        &self.run
    }
}

/// A model file's weights and metadata.
type ModelFile = (Model<f32>, HashMap<String, String>);

/// Where the cache keeps `arch` trained with `prov`'s settings, and the model there with
/// its metadata if it was trained with exactly these settings.
fn cached(arch: &str, prov: &Provenance, cache: &Path) -> (PathBuf, Option<ModelFile>) {
    let settings = format!("arch={arch} {}", prov.settings());
    let path = cache.join("models").join(format!(
        "{arch}-{:016x}.safetensors",
        stable_hash(settings.as_bytes())
    ));
    let found = read_bounded(&path)
        .ok()
        .and_then(|bytes| model_from_bytes::<f32>(&bytes, &path).ok())
        .filter(|(_, meta)| meta.get("settings") == Some(&prov.settings()));
    (path, found)
}

/// A new training log beside the cached model `path` (its folder made first).
fn training_log(path: &Path, cache: &Path) -> Result<std::fs::File> {
    std::fs::create_dir_all(path.parent().expect("has parent"))
        .map_err(|e| Error::Io(format!("{}: {e}", cache.display())))?;
    let log_path = path.with_extension("log.jsonl");
    std::fs::File::create(&log_path).map_err(|e| Error::Io(format!("{}: {e}", log_path.display())))
}

/// Trains `arch` on `data` with `cfg`, or loads the cached result of the same settings.
pub fn train_or_load(
    arch: &str,
    data: &Loaded,
    prov: &Provenance,
    cache: &Path,
) -> Result<Trained> {
    let start = Instant::now();
    let (path, found) = cached(arch, prov, cache);
    if let Some((model, meta)) = found {
        let history = meta
            .get("history")
            .map(|h| history_from_string(h))
            .unwrap_or_default();
        let eval = evaluate(&model, &data.test)?;
        return Ok(Trained {
            run: fit::Trained {
                model,
                history,
                eval,
            },
            cached: true,
            seconds: start.elapsed().as_secs_f64(),
        });
    }
    let mut log = training_log(&path, cache)?;
    let run = train_new(
        Arch::from_name(arch)?,
        data,
        &prov.train,
        &mut log,
        &mut NoObserver,
    )?;
    save_model(&run.model, &path, &prov.metadata(&run), true)?;
    Ok(Trained {
        run,
        cached: false,
        seconds: start.elapsed().as_secs_f64(),
    })
}
/// A VAE (`mnist-vae`) trained on `data` with `prov`'s settings, or the cached one:
/// the model and, from its metadata, `[−ELBO, reconstruction, KL]` and the MSE per
/// pixel on the test pictures.
pub fn train_or_load_vae(
    data: &Loaded,
    prov: &Provenance,
    cache: &Path,
) -> Result<(Model<f32>, [f64; 3], f64, bool)> {
    let arch = "mnist-vae";
    let (path, found) = cached(arch, prov, cache);
    let num =
        |meta: &HashMap<String, String>, k: &str| meta.get(k).and_then(|v| v.parse::<f64>().ok());
    if let Some((model, meta)) = found
        && let (Some(e), Some(r), Some(k), Some(m)) = (
            num(&meta, "test_neg_elbo"),
            num(&meta, "test_reconstruction_bce"),
            num(&meta, "test_kl"),
            num(&meta, "test_mse"),
        )
    {
        return Ok((model, [e, r, k], m, true));
    }
    let mut log = training_log(&path, cache)?;
    let t = fit::train_vae(Arch::from_name(arch)?, data, &prov.train, &mut log)?;
    save_model(
        &t.model,
        &path,
        &prov.metadata_with(&t.history, t.results()),
        true,
    )?;
    Ok((t.model, t.test_elbo, t.test_mse, false))
}

/// The provenance of a tour model: `cfg` on `spec`, with `notes` on how the data was cut.
pub fn provenance(
    spec: crate::data::source::DataSpec,
    cfg: &TrainConfig,
    notes: &str,
) -> Provenance {
    Provenance {
        data: spec,
        split_seed: 0,
        train: cfg.clone(),
        notes: notes.to_string(),
    }
}
