//! The tour's model cache: a model trained with the same settings is loaded, not
//! retrained. Keys are the training provenance's settings line.

use crate::data::source::Loaded;
use crate::error::{Error, Result};
use crate::fit::{
    EpochLog, Evaluation, NoObserver, Provenance, TrainConfig, evaluate, history_from_string,
    train_new,
};
use crate::io::{load_model, read_tensors, save_model, stable_hash};
use crate::nn::{Arch, Model};
use std::path::Path;
use std::time::Instant;

/// A trained model with what is known about its training.
pub struct Trained {
    pub model: Model<f32>,
    pub history: Vec<EpochLog>,
    pub eval: Evaluation,
    pub cached: bool,
    pub seconds: f64,
}

/// Trains `arch` on `data` with `cfg`, or loads the cached result of the same settings.
pub fn train_or_load(
    arch: &str,
    data: &Loaded,
    prov: &Provenance,
    cache: &Path,
) -> Result<Trained> {
    let settings = format!("arch={arch} {}", prov.settings());
    let path = cache.join("models").join(format!(
        "{arch}-{:016x}.safetensors",
        stable_hash(settings.as_bytes())
    ));
    let start = Instant::now();
    if path.exists()
        && let (Ok(model), Ok((_, meta))) = (load_model::<f32>(&path), read_tensors::<f32>(&path))
        && meta.get("settings") == Some(&prov.settings())
    {
        let history = meta
            .get("history")
            .map(|h| history_from_string(h))
            .unwrap_or_default();
        let eval = evaluate(&model, &data.test)?;
        return Ok(Trained {
            model,
            history,
            eval,
            cached: true,
            seconds: start.elapsed().as_secs_f64(),
        });
    }
    std::fs::create_dir_all(path.parent().expect("has parent"))
        .map_err(|e| Error::Io(format!("{}: {e}", cache.display())))?;
    let log_path = path.with_extension("log.jsonl");
    let mut log = std::fs::File::create(&log_path)
        .map_err(|e| Error::Io(format!("{}: {e}", log_path.display())))?;
    let t = train_new(
        Arch::from_name(arch)?,
        data,
        &prov.train,
        &mut log,
        &mut NoObserver,
    )?;
    let meta = prov.metadata(&t);
    let meta: Vec<(&str, String)> = meta.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    save_model(&t.model, &path, &meta, true)?;
    Ok(Trained {
        model: t.model,
        history: t.history,
        eval: t.eval,
        cached: false,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The provenance of a tour model: `cfg` on `data` (described as `data_id` notes).
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
