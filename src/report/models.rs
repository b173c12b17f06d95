//! The tour's chapter on the models: numbers, confusion matrix, training curves (loss
//! and test error on their own axes), and labelled test examples.

use super::cache::Trained;
use super::local::columns;
use crate::data::Dataset;
use crate::error::Result;
use crate::nn::Model;
use crate::viz::gallery::gallery_svg;
use crate::viz::plot::COLORS;
use crate::viz::report::Report;
use crate::viz::svg::{Chart, Line, charts_svg};

pub fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

/// A model's section: numbers, confusion matrix, training curves.
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
        let line = |label: &str, color, points| Line {
            label: label.into(),
            color,
            points,
            markers: true,
            connect: true,
            dashed: false,
            band: Vec::new(),
        };
        let loss = Chart {
            title: format!("{name}: training loss"),
            x_label: "epoch".into(),
            y_label: "cross-entropy (mean over the epoch)".into(),
            lines: vec![line(
                "train loss",
                COLORS[0],
                t.history.iter().map(|e| (e.epoch as f64, e.loss)).collect(),
            )],
            y_range: None,
            y_percent: false,
            marker_radius: None,
        };
        let err = Chart {
            title: format!("{name}: test error"),
            x_label: "epoch".into(),
            y_label: "test error".into(),
            lines: vec![line(
                "test error",
                COLORS[1],
                t.history
                    .iter()
                    .filter_map(|e| Some((e.epoch as f64, 1.0 - e.test_accuracy?)))
                    .collect(),
            )],
            y_range: None,
            y_percent: true,
            marker_radius: None,
        };
        r.svg_figure(
            &format!("curve-{name}.svg"),
            charts_svg(
                &[loss, err],
                420.0,
                280.0,
                &format!("{name} training curves"),
            ),
            &format!("{name}: training loss (left) and test error (right) after each epoch."),
        );
    }
    Ok(())
}

/// Test examples with their true and predicted class and the confidence, as a figure.
pub fn samples(
    r: &mut Report,
    file: &str,
    data: &Dataset,
    model: &Model<f32>,
    idx: &[usize],
    caption: &str,
) -> Result<()> {
    let (x, y) = data.batch(idx)?;
    let (cols, _) = columns(model, &x, &y, &data.classes)?;
    let (h, w) = (x.shape()[2], x.shape()[3]);
    let tile = if h < 40 { 84.0 } else { 104.0 };
    r.svg_figure(
        file,
        gallery_svg(&cols, &[], h, w, tile, caption)?,
        &format!("{caption}: true and predicted class and the model's confidence above each picture; misclassified pictures are framed in red."),
    );
    Ok(())
}
