//! `lamppost inside pca|tsne|probe|top-examples`: what the layers of a model represent.

use super::InsideArgs;
use super::explain::model_data;
use crate::data::source::load;
use crate::error::{Error, Result};
use crate::explain::inside::layers::{check_layers, default_layers};
use crate::explain::inside::probe::ProbeConfig;
use crate::explain::inside::reconstruct::DecoderConfig;
use crate::explain::inside::tsne::{Init, MAX_POINTS, TsneOptions};
use crate::io::Outputs;
use crate::io::safetensors_file::{FileDtype, model_from_bytes, read_bounded};
use crate::profile::Profile;
use crate::report::inside::{
    attention_csv, attention_section, maps_csv, maps_section, probe_section, probes_csv,
    reconstruct_csv, reconstruct_section, top_csv, top_section,
};
use crate::tensor::Tensor;
use crate::viz::report::Report;
use std::time::Instant;

/// The inside methods.
pub const METHODS: [&str; 6] = [
    "pca",
    "tsne",
    "probe",
    "reconstruct",
    "attention",
    "top-examples",
];

pub fn inside(args: &InsideArgs) -> Result<()> {
    // every option is checked before any work
    let method = args.method.as_str();
    if !METHODS.contains(&method) {
        return Err(Error::Invalid(format!(
            "unknown inside method '{method}'; use one of {}",
            METHODS.join(", ")
        )));
    }
    // an option the method does not read is an error, as for `explain`
    let given: [(&str, bool, &[&str]); 7] = [
        ("--perplexity", args.perplexity.is_some(), &["tsne"]),
        ("--iterations", args.iterations.is_some(), &["tsne"]),
        ("--init", args.init.is_some(), &["tsne"]),
        (
            "--train-n",
            args.train_n.is_some(),
            &["probe", "reconstruct"],
        ),
        ("--epochs", args.epochs.is_some(), &["probe", "reconstruct"]),
        (
            "--control-clusters",
            args.control_clusters.is_some(),
            &["probe"],
        ),
        ("--top", args.top.is_some(), &["top-examples"]),
    ];
    super::refuse_unread(method, &given)?;
    let perplexity = args.perplexity.unwrap_or(30.0);
    let iterations = args.iterations.unwrap_or(1000);
    let init = match args.init.as_deref().unwrap_or("pca") {
        "pca" => Init::Pca,
        "random" => Init::Random(args.seed),
        other => {
            return Err(Error::Invalid(format!(
                "--init '{other}': use pca or random"
            )));
        }
    };
    let tsne_opts = TsneOptions {
        perplexity,
        iterations,
        exaggeration_iterations: 250.min(iterations),
        init,
        ..TsneOptions::default()
    };
    let default_n = match method {
        "pca" | "probe" | "reconstruct" | "attention" => 2000,
        "tsne" => 1000,
        _ => usize::MAX,
    };
    let n_asked = args.n.unwrap_or(default_n);
    if method == "tsne" && n_asked > MAX_POINTS {
        return Err(Error::Invalid(format!(
            "--n {n_asked}: exact t-SNE takes at most {MAX_POINTS} points"
        )));
    }
    if method == "tsne" && (n_asked as f64) <= perplexity {
        return Err(Error::Invalid(format!(
            "--perplexity {perplexity} needs more than that many points; raise --n or lower --perplexity"
        )));
    }
    if matches!(method, "pca" | "tsne") && n_asked < 3 {
        return Err(Error::Invalid(format!(
            "--n {n_asked}: a map needs at least 3 examples"
        )));
    }
    let outputs = Outputs::folder(&args.io.out, args.io.force, "--out")?;
    let bytes = read_bounded(&args.model)?;
    let (model, meta) = model_from_bytes::<f32>(&bytes, &args.model)?;
    let arch = &model.arch;
    let layers: Vec<String> = match (&args.layer, method) {
        (Some(l), _) => l.clone(),
        (None, "top-examples") => vec![match Profile::of(arch).cam_layer(arch) {
            Ok(l) => l,
            Err(_) => {
                let d = default_layers(arch);
                d[d.len().saturating_sub(2)].clone()
            }
        }],
        (None, _) => default_layers(arch),
    };
    check_layers(arch, &layers)?;
    if method == "attention" {
        crate::explain::inside::attention::attention_layers(&model)?;
    }
    if method == "top-examples" && layers.len() != 1 {
        return Err(Error::Invalid(
            "top-examples reads one layer: give a single --layer".into(),
        ));
    }
    let (spec, split) = model_data(&model, &meta, args.io.data.as_deref());
    let data = load(&spec, &args.io.cache, split)?;
    let start = Instant::now();
    let n = n_asked.min(data.test.len());
    if n < n_asked && args.n.is_some() {
        eprintln!(
            "note: --n {n_asked} is more than the {} test examples; using all of them",
            data.test.len()
        );
    }
    let test = data.test.subset(&(0..n).collect::<Vec<_>>())?;
    let name = arch.name.clone();
    let mut page = Report::new(&format!("Inside the network ({name})"));
    let mut tensors: Vec<(String, Tensor<f32>)> = vec![(
        "labels".into(),
        Tensor::new(&[n], test.y.iter().map(|&y| y as f32).collect())?,
    )];
    let csv = match method {
        "pca" | "tsne" => {
            let tsne = (method == "tsne").then_some(&tsne_opts);
            let maps = maps_section(&mut page, &name, &model, &test, &layers, tsne)?;
            for m in &maps {
                tensors.push((
                    format!("pca.{}", m.layer),
                    Tensor::from_f64(&[n, m.pca.k], &m.pca.coords)?,
                ));
                tensors.push((
                    format!("pca.{}.explained_variance_ratio", m.layer),
                    Tensor::from_f64(&[m.pca.k], &m.pca.explained_variance_ratio)?,
                ));
                if let Some(t) = &m.tsne {
                    tensors.push((
                        format!("tsne.{}", m.layer),
                        Tensor::from_f64(&[n, 2], &t.embedding)?,
                    ));
                }
            }
            maps_csv(&maps)
        }
        "probe" => {
            let tn = args.train_n.unwrap_or(5000).min(data.train.len());
            let train = data.train.subset(&(0..tn).collect::<Vec<_>>())?;
            let cfg = ProbeConfig {
                epochs: args.epochs.unwrap_or(20),
                seed: args.seed,
                ..ProbeConfig::default()
            };
            let rows = probe_section(
                &mut page,
                &name,
                &model,
                &train,
                &test,
                &layers,
                &cfg,
                args.control_clusters.unwrap_or(100),
            )?;
            let acc: Vec<f64> = rows.iter().map(|r| r.accuracy).collect();
            tensors.push(("accuracy".into(), Tensor::from_f64(&[acc.len()], &acc)?));
            probes_csv(&rows)
        }
        "attention" => {
            let rep = attention_section(&mut page, &name, &model, &test, args.seed)?;
            tensors.push(("alpha".into(), rep.alpha.clone()));
            tensors.push(("contribution".into(), rep.contributions.clone()));
            tensors.push(("leave_one_out".into(), rep.leave_one_out.clone()));
            tensors.push(("gradient_norm".into(), rep.gradient_norm.clone()));
            attention_csv(&rep, &test.y)
        }
        "reconstruct" => {
            let tn = args.train_n.unwrap_or(5000).min(data.train.len());
            let train = data.train.subset(&(0..tn).collect::<Vec<_>>())?;
            let cfg = DecoderConfig {
                epochs: args.epochs.unwrap_or(10),
                seed: args.seed,
                ..DecoderConfig::default()
            };
            let (recs, baseline) =
                reconstruct_section(&mut page, &name, &model, &train, &test, &layers, &cfg)?;
            for q in &recs {
                tensors.push((format!("reconstruction.{}", q.layer), q.images.clone()));
            }
            reconstruct_csv(&recs, baseline)
        }
        _ => {
            let top = top_section(
                &mut page,
                &name,
                &model,
                &test,
                &layers[0],
                args.top.unwrap_or(8),
                64,
            )?;
            let k = top.index.first().map_or(0, |v| v.len());
            let c = top.index.len();
            tensors.push((
                "index".into(),
                Tensor::new(
                    &[c, k],
                    top.index.iter().flatten().map(|&i| i as f32).collect(),
                )?,
            ));
            tensors.push((
                "value".into(),
                Tensor::new(&[c, k], top.value.iter().flatten().copied().collect())?,
            ));
            tensors.push((
                "region".into(),
                Tensor::new(
                    &[c, k, 4],
                    top.region
                        .iter()
                        .flatten()
                        .flatten()
                        .map(|&v| v as f32)
                        .collect(),
                )?,
            ));
            top_csv(&top)
        }
    };
    let meta = super::results::provenance(
        method,
        &args.model,
        &bytes,
        &name,
        &spec.describe(),
        vec![
            ("layers", layers.join(",")),
            ("n", n.to_string()),
            ("seed", args.seed.to_string()),
        ],
    );
    super::results::write(
        &outputs,
        &args.io.out,
        page,
        csv,
        super::results::Tensors {
            tensors: &tensors,
            meta,
            dtype: FileDtype::F32,
        },
        start,
    )?;
    Ok(())
}
