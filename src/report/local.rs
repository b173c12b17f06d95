//! The tour's local-explanation galleries: one row per method, one column per example.

use super::cache::Trained;
use crate::data::source::{DataSpec, Loaded};
use crate::error::Result;
use crate::explain::attribution::Precision;
use crate::explain::registry::{Family, METHODS, names};
use crate::explain::registry::{MethodOptions, build};
use crate::nn::Model;
use crate::profile::Profile;
use crate::tensor::Tensor;
use crate::viz::grid::image_grid;
use crate::viz::heatmap::pictures;
use crate::viz::report::Report;

/// One row per method, one column per example: the attribution over the input.
pub fn gallery(
    model: &Model<f32>,
    x: &Tensor<f32>,
    targets: &[usize],
    methods: &[&str],
) -> Result<image::RgbImage> {
    let to_unit = Profile::of(&model.arch).to_unit();
    let (n, h) = (x.shape()[0], x.shape()[2]);
    let mut tiles = Vec::new();
    for name in methods {
        let m = build(name, &MethodOptions::default(), &model.arch)?;
        let a = f32::run(m.as_ref(), model, x, targets)?;
        for i in 0..n {
            tiles.push(pictures(x, &a.map, i, to_unit, 0.6)?.1);
        }
    }
    Ok(image_grid(&tiles, n, if h < 40 { 3 } else { 2 }, 2))
}

/// The section "Why this prediction?": galleries for mnist-cnn, mnist-gap and both
/// Pokémon/Digimon models.
pub fn section(
    r: &mut Report,
    mn: &Loaded,
    mnist_models: &[(&str, Trained)],
    poke: &[(DataSpec, Loaded, Trained)],
) -> Result<()> {
    r.heading("Why this prediction? Local explanations");
    let digits: Vec<usize> = (0..4).collect();
    let (xd, _) = mn.test.batch(&digits)?;
    let cnn = &mnist_models[0].1.model;
    let td = cnn.predict(&xd)?.argmax_rows()?;
    let cnn_methods: Vec<&str> = names().into_iter().filter(|m| *m != "cam").collect();
    r.png(
        "explain-mnist-cnn.png",
        &gallery(cnn, &xd, &td, &cnn_methods)?,
    )?;
    r.figure("explain-mnist-cnn.png", &format!("mnist-cnn on four test digits, one row per method: {}. Red: evidence for the predicted class, blue: against (signed maps); viridis for non-negative maps.", cnn_methods.join(", ")));
    let gap = &mnist_models[1].1.model;
    let tg = gap.predict(&xd)?.argmax_rows()?;
    let cams: Vec<&str> = METHODS
        .iter()
        .filter(|m| m.family == Family::Cam && m.name != "guided-grad-cam")
        .map(|m| m.name)
        .collect();
    r.png("explain-mnist-gap.png", &gallery(gap, &xd, &tg, &cams)?)?;
    r.figure(
        "explain-mnist-gap.png",
        &format!(
            "mnist-gap: every CAM variant at conv3.relu (the maps the global average pool reads), one row each: {}. \
             On this head Grad-CAM and HiResCAM equal CAM / (h·w) (CAM keeps its negative values); Eigen-CAM ignores the class.",
            cams.join(", ")
        ),
    );
    for (spec, data, t) in poke {
        let mut idx: Vec<usize> = (0..data.test.len())
            .filter(|&i| data.test.y[i] == 0)
            .take(2)
            .collect();
        idx.extend(
            (0..data.test.len())
                .filter(|&i| data.test.y[i] == 1)
                .take(2),
        );
        let (xp, _) = data.test.batch(&idx)?;
        let tp = t.model.predict(&xp)?.argmax_rows()?;
        let file = if spec.describe().contains("debias") {
            "explain-pokedigi-debias.png"
        } else {
            "explain-pokedigi.png"
        };
        r.png(file, &gallery(&t.model, &xp, &tp, &names())?)?;
        r.figure(
            file,
            &format!(
                "pokedigi-gap ({}), two Pokémon then two Digimon, one row per method: {}.",
                spec.describe(),
                names().join(", ")
            ),
        );
    }
    Ok(())
}
