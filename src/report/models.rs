//! The tour's per-model sections: numbers, confusion matrix, training curve, samples.

use super::cache::Trained;
use crate::data::Dataset;
use crate::error::Result;
use crate::nn::Model;
use crate::profile::Profile;
use crate::viz::grid::{image_grid, tensor_to_image};
use crate::viz::plot::{COLORS, Series, line_plot};
use crate::viz::report::Report;

pub fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

/// Writes a model's section: numbers, confusion matrix, training curve.
pub fn model_section(r: &mut Report, name: &str, t: &Trained, classes: &[String]) -> Result<()> {
    r.heading(name);
    r.paragraph(&format!(
        "{} parameters; test accuracy {} ({}); {:.1}s.",
        t.model.num_params(),
        pct(t.eval.accuracy),
        if t.cached {
            "loaded from the cache"
        } else {
            "trained now"
        },
        t.seconds
    ));
    let mut header = vec!["true \\ predicted".to_string()];
    header.extend(classes.iter().cloned());
    header.push("accuracy".into());
    let rows: Vec<Vec<String>> = t
        .eval
        .confusion
        .iter()
        .enumerate()
        .map(|(c, row)| {
            let mut v = vec![classes[c].clone()];
            v.extend(row.iter().map(|n| n.to_string()));
            v.push(pct(t.eval.per_class[c]));
            v
        })
        .collect();
    r.table(&header, &rows);
    if !t.history.is_empty() {
        let loss = Series {
            points: t.history.iter().map(|e| (e.epoch as f64, e.loss)).collect(),
            color: COLORS[0],
        };
        let acc = Series {
            points: t
                .history
                .iter()
                .filter_map(|e| Some((e.epoch as f64, 1.0 - e.test_accuracy?)))
                .collect(),
            color: COLORS[1],
        };
        let file = format!("curve-{name}.png");
        let top = loss
            .points
            .iter()
            .chain(&acc.points)
            .fold(0.0f64, |m, p| m.max(p.1));
        r.png(&file, &line_plot(&[loss, acc], 480, 240, Some((0.0, top))))?;
        r.figure(
            &file,
            "Training loss (blue) and test error (orange) per epoch.",
        );
    }
    Ok(())
}

/// A grid of test examples with their true and predicted class, as HTML captions.
pub fn samples(
    r: &mut Report,
    file: &str,
    data: &Dataset,
    model: &Model<f32>,
    idx: &[usize],
    caption: &str,
) -> Result<()> {
    let to_unit = Profile::of(&model.arch).to_unit();
    let (x, y) = data.batch(idx)?;
    let pred = model.predict(&x)?.argmax_rows()?;
    let imgs = idx
        .iter()
        .map(|&i| tensor_to_image(&data.x.select_rows(&[i])?, to_unit))
        .collect::<Result<Vec<_>>>()?;
    let scale = if imgs[0].width() < 40 { 3 } else { 2 };
    r.png(file, &image_grid(&imgs, 8, scale, 2))?;
    let labels: Vec<String> = y
        .iter()
        .zip(&pred)
        .map(|(&t, &p)| format!("{}→{}", data.classes[t], data.classes[p]))
        .collect();
    r.figure(
        file,
        &format!(
            "{caption} (true→predicted, row by row: {})",
            labels.join(", ")
        ),
    );
    Ok(())
}
