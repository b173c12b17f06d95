//! The tour's chapter on local explanations: each method's card (formula, paper, what to
//! say), then labelled galleries, one row per method and one column per example, for
//! every reference model (the GRU included), and the lessons of the empty maps.

use super::cache::Trained;
use crate::data::Dataset;
use crate::data::source::{DataSpec, Loaded};
use crate::error::Result;
use crate::explain::attribution::{Attribution, Precision};
use crate::explain::batched::probabilities;
use crate::explain::cards::card;
use crate::explain::local::lime::segment_counts;
use crate::explain::registry::{Family, METHODS, MethodOptions, build, names, usable};
use crate::fit::progress_bar;
use crate::nn::Model;
use crate::profile::Profile;
use crate::tensor::Tensor;
use crate::tensor::image::pixel_map;
use crate::viz::gallery::{Column, Row, gallery_svg};
use crate::viz::grid::tensor_to_image;
use crate::viz::report::{Report, esc};

/// A gallery row: a label, a method and its options.
pub struct Spec {
    pub label: String,
    pub method: &'static str,
    pub options: MethodOptions,
}

impl Spec {
    fn plain(method: &'static str) -> Spec {
        Spec {
            label: method.to_string(),
            method,
            options: MethodOptions::default(),
        }
    }
}

/// The gallery's columns: each example's picture, true and predicted class, confidence.
pub fn columns(
    model: &Model<f32>,
    x: &Tensor<f32>,
    y: &[usize],
    classes: &[String],
) -> Result<(Vec<Column>, Vec<usize>)> {
    let to_unit = Profile::of(&model.arch).to_unit();
    let logits = model.predict(x)?;
    let pred = logits.argmax_rows()?;
    let conf = probabilities(&logits, |i| pred[i]);
    let cols = (0..x.shape()[0])
        .map(|i| {
            Ok(Column {
                lines: vec![
                    format!("true {}", classes[y[i]]),
                    format!("pred {}", classes[pred[i]]),
                    format!("{:.1}% sure", 100.0 * conf[i]),
                ],
                wrong: pred[i] != y[i],
                input: tensor_to_image(&x.select_rows(&[i])?, to_unit)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((cols, pred))
}

/// Runs each row's method on the batch (targets: the predicted classes) and returns the
/// labelled gallery as SVG, with the attributions (for captions).
pub fn gallery(
    model: &Model<f32>,
    x: &Tensor<f32>,
    y: &[usize],
    classes: &[String],
    specs: &[Spec],
    what: &str,
) -> Result<(String, Vec<Attribution<f32>>)> {
    let (cols, pred) = columns(model, x, y, classes)?;
    let (h, w) = (x.shape()[2], x.shape()[3]);
    eprintln!(
        "explaining {what}: {} methods × {} examples",
        specs.len(),
        x.shape()[0]
    );
    let pb = progress_bar(specs.len() as u64, "methods");
    let mut rows = Vec::new();
    let mut all = Vec::new();
    for s in specs {
        pb.set_message(s.label.clone());
        let m = build(s.method, &s.options, &model.arch)?;
        let a = f32::run(m.as_ref(), model, x, &pred)?;
        let maps = (0..x.shape()[0])
            .map(|i| pixel_map(&a.map, i, h, w))
            .collect::<Result<Vec<_>>>()?;
        rows.push(Row {
            label: s.label.clone(),
            maps,
        });
        all.push(a);
        pb.inc(1);
    }
    pb.finish_and_clear();
    let tile = if h < 40 { 84.0 } else { 104.0 };
    Ok((gallery_svg(&cols, &rows, h, w, tile, what)?, all))
}

/// The cards of every method: formula, paper, what to say.
fn cards(r: &mut Report) {
    r.heading("The methods");
    let mut html = String::new();
    for m in METHODS {
        if let Some(c) = card(m.name) {
            html += &format!(
                "<div class=\"card\" id=\"m-{n}\"><b>{n}</b> ({fam:?}) — {cap}<br><math display=\"block\">{f}</math><small>{p}</small></div>\n",
                n = esc(m.name),
                fam = m.family,
                cap = esc(c.caption),
                f = c.formula,
                p = esc(c.paper)
            );
        }
    }
    r.html(&html);
}

/// The first `k` test examples of each class in `classes` order.
fn per_class(data: &Loaded, classes: &[usize], k: usize) -> Vec<usize> {
    classes
        .iter()
        .flat_map(|&c| {
            (0..data.test.len())
                .filter(move |&i| data.test.y[i] == c)
                .take(k)
        })
        .collect()
}

/// The chapter "Why this prediction?".
pub fn chapter(
    r: &mut Report,
    mnist_test: &Dataset,
    mnist_models: &[(&str, Trained)],
    poke: &[(DataSpec, Loaded, Trained)],
    quick: bool,
) -> Result<()> {
    cards(r);
    let digits: Vec<usize> = (0..4).collect();
    let (xd, yd) = mnist_test.batch(&digits)?;
    let classes = &mnist_test.classes;

    r.heading("mnist-cnn: every method on four digits");
    let cnn = &mnist_models[0].1.model;
    let specs: Vec<Spec> = usable(&cnn.arch)
        .into_iter()
        .filter(|m| *m != "cam")
        .map(Spec::plain)
        .collect();
    let (svg, atts) = gallery(cnn, &xd, &yd, classes, &specs, "mnist-cnn")?;
    let lime_segments = specs
        .iter()
        .zip(&atts)
        .find(|(s, _)| s.method == "lime")
        .map(|(_, a)| segment_counts(a))
        .unwrap_or_default();
    r.svg_figure(
        "explain-mnist-cnn.svg",
        svg,
        &format!(
            "mnist-cnn on the first four test digits. Rows: methods (target: the predicted class); columns: examples with \
             their true and predicted class and the model's confidence. Each row has its own colour scale (bar on the right, ending at the row's \
             99th percentile of magnitudes; stronger values are shown at full colour): blue–white–red for signed maps (red: evidence for the class, blue: against), viridis for maps that are never negative. \
             LIME cuts each digit into SLIC superpixels ({} per image here; quickshift, lime's default, finds one or two on a \
             28 × 28 digit, so its map would be the whole picture).",
            lime_segments.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ")
        ),
    );

    r.heading("mnist-gap: the CAM family");
    let gap = &mnist_models[1].1.model;
    let cams: Vec<Spec> = METHODS
        .iter()
        .filter(|m| m.family == Family::Cam && m.name != "guided-grad-cam")
        .map(|m| Spec::plain(m.name))
        .collect();
    let (svg, _) = gallery(gap, &xd, &yd, classes, &cams, "mnist-gap CAM variants")?;
    r.svg_figure(
        "explain-mnist-gap.svg",
        svg,
        "mnist-gap: every CAM variant at conv3.relu, the maps its global average pool reads (7 × 7, upsampled). On this \
         head Grad-CAM and HiResCAM equal CAM / (h·w) up to the final ReLU; Eigen-CAM ignores the class.",
    );

    r.heading("mnist-gru: a recurrent model reads the digit row by row");
    let gru = &mnist_models[2].1.model;
    let specs: Vec<Spec> = usable(&gru.arch).into_iter().map(Spec::plain).collect();
    let (svg, _) = gallery(gru, &xd, &yd, classes, &specs, "mnist-gru")?;
    r.svg_figure(
        "explain-mnist-gru.svg",
        svg,
        &format!(
            "mnist-gru: the 28 rows of each digit are its 28 time steps. The methods that apply to a recurrent model ({}); \
             LIME's features are whole rows (time steps), so its map is striped. CAM variants need a convolution and do not apply.",
            specs.iter().map(|s| s.label.as_str()).collect::<Vec<_>>().join(", ")
        ),
    );

    for (spec, data, t) in poke {
        let debiased = spec.describe().contains("debias");
        r.heading(if debiased {
            "pokedigi-gap trained without the shortcut"
        } else {
            "pokedigi-gap: the background shortcut"
        });
        let idx = per_class(data, &[0, 1], 2);
        let (xp, yp) = data.test.batch(&idx)?;
        let mut specs: Vec<Spec> = names().into_iter().map(Spec::plain).collect();
        specs.push(Spec {
            label: "lime, hidden = grey".into(),
            method: "lime",
            options: MethodOptions {
                fill: Some(0.5),
                ..MethodOptions::default()
            },
        });
        for s in &mut specs {
            match s.method {
                // a colour picture is occluded in all three channels at once, 8×8 every 4
                // pixels (225 windows, where the 1×4×4 default slides 2883 per picture)
                "occlusion" => {
                    s.options.window = Some([3, 8, 8]);
                    s.options.stride = Some([3, 4, 4]);
                }
                // the quick tour's perturbation methods sample less
                "rise" if quick => s.options.samples = Some(500),
                "lime" | "normlime" if quick => s.options.samples = Some(300),
                _ => {}
            }
        }
        let what = if debiased {
            "pokedigi-gap debiased"
        } else {
            "pokedigi-gap shortcut"
        };
        let (svg, atts) = gallery(&t.model, &xp, &yp, &data.test.classes, &specs, what)?;
        let largest =
            |a: &Attribution<f32>| a.map.data().iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let lime_mean = largest(&atts[specs.iter().position(|s| s.method == "lime").unwrap_or(0)]);
        let lime_grey = largest(&atts[specs.len() - 1]);
        let file = if debiased {
            "explain-pokedigi-debias.svg"
        } else {
            "explain-pokedigi.svg"
        };
        r.svg_figure(
            file,
            svg,
            &format!(
                "pokedigi-gap ({}), two Pokémon then two Digimon, one row per method (occlusion: 8×8 windows over all three \
                 channels, every 4 pixels{}); the last row is LIME hiding superpixels with grey instead of their mean colour.",
                esc(&spec.describe()),
                if quick {
                    "; quick tour: RISE 500 masks, LIME and NormLIME 300 samples"
                } else {
                    ""
                }
            ),
        );
        if !debiased {
            let seen = if lime_mean == 0.0 {
                "Here every LIME weight is exactly zero: the row is empty.".to_string()
            } else {
                format!(
                    "Here LIME's largest weight is {lime_mean:.3} with mean-colour hiding and {lime_grey:.3} with grey."
                )
            };
            r.html(&format!(
                "<p class=\"lesson\"><b>The baseline decides what a perturbation can see.</b> LIME hides a superpixel by \
                 filling it with its mean colour. A Pokémon's background is black, and black filled with its mean is still \
                 black: hiding the background never changes the picture, so LIME cannot see the shortcut the model uses. \
                 {seen} Hidden with grey (last row), the background superpixels do change, and LIME finds them. Integrated \
                 gradients and occlusion share the blind spot with their black (0) baseline and fill.</p>"
            ));
        }
    }
    Ok(())
}
