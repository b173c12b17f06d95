//! Which data a model trains on, and loading it: MNIST's IDX files, a Pokémon/Digimon
//! folder, or the synthetic stand-in (generated once into a cache folder).

use super::folder::{LoadReport, load_folder};
use super::{Dataset, mnist, stratified_split, synth};
use crate::error::Result;
use crate::io::Outputs;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Image side for Pokémon/Digimon inputs.
pub const POKEDIGI_SIZE: usize = 64;

#[derive(Clone, Debug, PartialEq)]
pub enum DataSpec {
    /// A folder with the four MNIST IDX files.
    Mnist(PathBuf),
    /// A folder with `pokemon/*.png` and `digimon/*.jpg`.
    Folder(PathBuf),
    /// `pokedigi-synth`: `n` sprites from `seed`, optionally with random backgrounds.
    Synth { n: usize, seed: u64, debias: bool },
}

impl DataSpec {
    /// A stable description, stored in model files and used in cache keys.
    pub fn describe(&self) -> String {
        match self {
            DataSpec::Mnist(_) => "mnist".into(),
            DataSpec::Folder(d) => format!("folder:{}", d.display()),
            DataSpec::Synth { n, seed, debias } => format!(
                "pokedigi-synth v{} n={n} seed={seed}{}",
                synth::VERSION,
                if *debias { " debias" } else { "" }
            ),
        }
    }
}

impl DataSpec {
    /// As model-file metadata: `data` (the description, for people) and structured
    /// entries `data.kind`, `data.path`, `data.n`, `data.seed`, `data.debias`.
    pub fn to_metadata(&self) -> Vec<(String, String)> {
        let mut m = vec![("data".to_string(), self.describe())];
        let mut add = |k: &str, v: String| m.push((format!("data.{k}"), v));
        match self {
            DataSpec::Mnist(d) => {
                add("kind", "mnist".into());
                add("path", d.display().to_string());
            }
            DataSpec::Folder(d) => {
                add("kind", "folder".into());
                add("path", d.display().to_string());
            }
            DataSpec::Synth { n, seed, debias } => {
                add("kind", "pokedigi-synth".into());
                add("n", n.to_string());
                add("seed", seed.to_string());
                add("debias", debias.to_string());
            }
        }
        m
    }

    /// Reads [`DataSpec::to_metadata`]'s entries back; `None` if they are missing or
    /// malformed (files written by other tools).
    pub fn from_metadata(meta: &HashMap<String, String>) -> Option<DataSpec> {
        let get = |k: &str| meta.get(&format!("data.{k}")).map(String::as_str);
        Some(match get("kind")? {
            "mnist" => DataSpec::Mnist(PathBuf::from(get("path")?)),
            "folder" => DataSpec::Folder(PathBuf::from(get("path")?)),
            "pokedigi-synth" => DataSpec::Synth {
                n: get("n")?.parse().ok()?,
                seed: get("seed")?.parse().ok()?,
                debias: get("debias")?.parse().ok()?,
            },
            _ => return None,
        })
    }
}

/// Train and test sets and what loading found.
pub struct Loaded {
    pub train: Dataset,
    pub test: Dataset,
    pub report: Option<LoadReport>,
}

/// Writes the synthetic set into `cache` unless it is already complete there; returns its folder.
pub fn synth_folder(cache: &Path, n: usize, seed: u64, debias: bool) -> Result<PathBuf> {
    let dir = cache.join(format!(
        "pokedigi-synth-v{}-n{n}-s{seed}{}",
        synth::VERSION,
        if debias { "-debias" } else { "" }
    ));
    let done = dir.join(".complete");
    if !done.exists() {
        // built under a temporary name and renamed into place whole
        let mut files = synth::pokedigi_files(n, seed, debias)?;
        files.push((".complete".into(), Vec::new()));
        Outputs::folder(&dir, true, "--cache")?.write_folder(&dir, &files)?;
    }
    Ok(dir)
}

/// Loads the data; folders are split 80/20 per class with `split_seed`.
pub fn load(spec: &DataSpec, cache: &Path, split_seed: u64) -> Result<Loaded> {
    let folder = match spec {
        DataSpec::Mnist(dir) => {
            let (train, test) = mnist::load(dir)?;
            return Ok(Loaded {
                train,
                test,
                report: None,
            });
        }
        DataSpec::Folder(d) => d.clone(),
        DataSpec::Synth { n, seed, debias } => synth_folder(cache, *n, *seed, *debias)?,
    };
    let (all, report) = load_folder(&folder, POKEDIGI_SIZE)?;
    let (tr, te) = stratified_split(&all.y, all.classes.len(), 0.2, split_seed)?;
    Ok(Loaded {
        train: all.subset(&tr)?,
        test: all.subset(&te)?,
        report: Some(report),
    })
}
