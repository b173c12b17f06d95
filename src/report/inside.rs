//! "Inside the network": layer PCA and t-SNE panels, class separation against depth,
//! the probe table with its controls, and the top-activating examples, for
//! `lamppost inside` and the tour.

use crate::data::Dataset;
use crate::error::Result;
use crate::explain::inside::maps::{KNN, LayerMap, layer_maps};
use crate::explain::inside::probe::{ProbeConfig, ProbeRow, control_task, probe_layers};
use crate::explain::inside::top::{TopExamples, top_examples};
use crate::explain::inside::tsne::TsneOptions;
use crate::fit::progress_bar;
use crate::nn::Model;
use crate::profile::Profile;
use crate::tensor::Tensor;
use crate::viz::grid::{tensor_to_image, zoom};
use crate::viz::plot::{CLASS_COLORS, COLORS};
use crate::viz::png_bytes;
use crate::viz::report::{Report, esc};
use crate::viz::svg::{Anchor, Chart, Line, Svg, charts_svg};

/// Which 2-D map a scatter figure shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapKind {
    Pca,
    Tsne,
}

/// One scatter panel per layer, points coloured by class.
pub fn scatter_svg(maps: &[LayerMap], labels: &[usize], classes: &[String], kind: MapKind, title: &str) -> String {
    let charts: Vec<Chart> = maps
        .iter()
        .map(|m| {
            let (pts, xl, yl) = match (kind, &m.tsne) {
                (MapKind::Tsne, Some(t)) => (t.embedding.clone(), "t-SNE 1".to_string(), "t-SNE 2".to_string()),
                _ => {
                    let r = &m.pca.explained_variance_ratio;
                    let pts: Vec<f64> = if m.pca.k == 2 {
                        m.pca.coords.clone()
                    } else {
                        m.pca.coords.iter().flat_map(|&v| [v, 0.0]).collect()
                    };
                    (
                        pts,
                        format!("PC1 ({:.1}% of variance)", 100.0 * r[0]),
                        format!("PC2 ({:.1}%)", 100.0 * r.get(1).copied().unwrap_or(0.0)),
                    )
                }
            };
            Chart {
                title: format!("{} ({} features)", m.layer, m.features),
                x_label: xl,
                y_label: yl,
                lines: (0..classes.len())
                    .map(|c| Line {
                        label: classes[c].clone(),
                        color: CLASS_COLORS[c % CLASS_COLORS.len()],
                        points: labels
                            .iter()
                            .enumerate()
                            .filter(|&(_, &l)| l == c)
                            .map(|(i, _)| (pts[2 * i], pts[2 * i + 1]))
                            .collect(),
                        markers: true,
                        connect: false,
                        dashed: false,
                    })
                    .collect(),
                y_range: None,
                y_percent: false,
                marker_radius: Some(1.7),
            }
        })
        .collect();
    charts_svg(&charts, 400.0, 380.0, title)
}

/// Silhouette and 5-NN accuracy in the 2-D maps against depth.
pub fn separation_svg(maps: &[LayerMap], title: &str) -> String {
    let line = |label: &str, k: usize, f: &dyn Fn(&LayerMap) -> f64| Line {
        label: label.into(),
        color: COLORS[k],
        points: maps
            .iter()
            .enumerate()
            .map(|(i, m)| (i as f64, f(m)))
            .filter(|p| p.1.is_finite())
            .collect(),
        markers: true,
        connect: true,
        dashed: false,
    };
    let charts = vec![
        Chart {
            title: format!("{title}: silhouette by class"),
            x_label: "layer (0 = pixels; order as in the table)".into(),
            y_label: "mean silhouette".into(),
            lines: vec![
                line("PCA", 0, &|m| m.pca_silhouette),
                line("t-SNE", 1, &|m| m.tsne_silhouette),
            ],
            y_range: None,
            y_percent: false,
            marker_radius: None,
        },
        Chart {
            title: format!("{title}: {KNN}-NN accuracy in 2-D"),
            x_label: "layer (0 = pixels; order as in the table)".into(),
            y_label: "leave-one-out accuracy".into(),
            lines: vec![
                line("PCA", 0, &|m| m.pca_knn),
                line("t-SNE", 1, &|m| m.tsne_knn),
            ],
            y_range: Some((0.0, 1.0)),
            y_percent: true,
            marker_radius: None,
        },
    ];
    charts_svg(&charts, 520.0, 360.0, &format!("{title} class separation against depth"))
}

fn pct(v: f64) -> String {
    if v.is_finite() {
        format!("{:.1}%", 100.0 * v)
    } else {
        "–".into()
    }
}

fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.3}")
    } else {
        "–".into()
    }
}

/// The separation table: one row per layer.
pub fn separation_table(maps: &[LayerMap]) -> (Vec<String>, Vec<Vec<String>>) {
    let header = [
        "#",
        "layer",
        "features",
        "PC1+PC2 variance",
        "PCA silhouette",
        "PCA 5-NN",
        "t-SNE silhouette",
        "t-SNE 5-NN",
    ];
    let rows = maps
        .iter()
        .enumerate()
        .map(|(i, m)| {
            vec![
                i.to_string(),
                m.layer.clone(),
                m.features.to_string(),
                pct(m.pca.explained_variance_ratio.iter().sum()),
                num(m.pca_silhouette),
                pct(m.pca_knn),
                num(m.tsne_silhouette),
                pct(m.tsne_knn),
            ]
        })
        .collect();
    (header.iter().map(|s| s.to_string()).collect(), rows)
}

/// The probe table.
pub fn probe_table(rows: &[ProbeRow]) -> (Vec<String>, Vec<Vec<String>>) {
    let header = [
        "#",
        "layer",
        "features",
        "probe accuracy",
        "untrained network",
        "control task",
        "selectivity",
        "probe train accuracy",
    ];
    let body = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            vec![
                i.to_string(),
                r.layer.clone(),
                r.features.to_string(),
                pct(r.accuracy),
                pct(r.untrained),
                pct(r.control),
                format!("{:+.1} pts", 100.0 * r.selectivity),
                pct(r.train_accuracy),
            ]
        })
        .collect();
    (header.iter().map(|s| s.to_string()).collect(), body)
}

/// Probe accuracy against depth, beside the untrained network and the control task.
pub fn probe_svg(rows: &[ProbeRow], title: &str) -> String {
    let line = |label: &str, k: usize, dashed: bool, f: &dyn Fn(&ProbeRow) -> f64| Line {
        label: label.into(),
        color: COLORS[k],
        points: rows.iter().enumerate().map(|(i, r)| (i as f64, f(r))).collect(),
        markers: true,
        connect: true,
        dashed,
    };
    let chart = Chart {
        title: format!("{title}: linear probes"),
        x_label: "layer (0 = pixels; order as in the table)".into(),
        y_label: "test accuracy".into(),
        lines: vec![
            line("trained network", 0, false, &|r| r.accuracy),
            line("untrained network", 1, true, &|r| r.untrained),
            line("control task", 2, true, &|r| r.control),
        ],
        y_range: Some((0.0, 1.0)),
        y_percent: true,
        marker_radius: None,
    };
    charts_svg(&[chart], 640.0, 380.0, &format!("{title} linear probe accuracy against depth"))
}

/// A row per channel (at most `max_channels`), a column per rank: the input with the
/// receptive field of the strongest position outlined in red and its activation above.
pub fn top_svg(top: &TopExamples, x: &Tensor<f32>, to_unit: fn(f32) -> f32, max_channels: usize, title: &str) -> Result<String> {
    let rows = top.index.len().min(max_channels);
    let k = top.index.first().map_or(0, |v| v.len());
    let (ih, iw) = {
        let s = x.shape();
        (s[s.len() - 2] as f64, s[s.len() - 1] as f64)
    };
    let scale = (72.0 / ih.max(iw)).max(1.0).floor();
    let (tw, th) = (iw * scale, ih * scale);
    let (left, top_pad, gap) = (92.0, 58.0, 18.0);
    let mut svg = Svg::new(left + k as f64 * (tw + 8.0) + 10.0, top_pad + rows as f64 * (th + gap) + 10.0);
    svg.text(8.0, 18.0, title, 14.0, Anchor::Start, "#222", 0.0, true);
    for r in 0..k {
        svg.text(left + r as f64 * (tw + 8.0) + tw / 2.0, 42.0, &format!("#{}", r + 1), 11.0, Anchor::Middle, "#444", 0.0, false);
    }
    for c in 0..rows {
        let y = top_pad + c as f64 * (th + gap) + 12.0;
        svg.text(left - 8.0, y + th / 2.0 + 4.0, &format!("channel {c}"), 12.0, Anchor::End, "#222", 0.0, false);
        for (r, (&i, &v)) in top.index[c].iter().zip(&top.value[c]).enumerate() {
            let x0 = left + r as f64 * (tw + 8.0);
            let img = zoom(&tensor_to_image(&x.select_rows(&[i])?, to_unit)?, scale as u32);
            svg.png(x0, y, tw, th, &png_bytes(&img)?, &format!("test example {i}"));
            let [t, l, b, rr] = top.region[c][r];
            if !(t == 0 && l == 0 && b as f64 == ih && rr as f64 == iw) {
                svg.rect(
                    x0 + l as f64 * scale,
                    y + t as f64 * scale,
                    (rr - l) as f64 * scale,
                    (b - t) as f64 * scale,
                    "none",
                    "#e41a1c",
                );
            }
            svg.text(x0 + tw / 2.0, y - 3.0, &format!("{v:.2}"), 10.0, Anchor::Middle, "#444", 0.0, false);
        }
    }
    Ok(svg.finish(title))
}

/// The caption every t-SNE figure carries.
pub const TSNE_CAVEAT: &str = "t-SNE keeps neighbours, not distances: the size of a cluster and the gaps between clusters mean \
     little, and a different perplexity can change the picture (Wattenberg, Viégas & Johnson 2016, \"How to use t-SNE effectively\").";

/// The caption every probe table carries.
pub const PROBE_CAVEAT: &str = "A probe measures what a linear read-out can extract, not what the network uses: a strong enough \
     probe reads the class from raw pixels, and a high accuracy does not mean the model relies on that layer's code. Hence the \
     two controls: the same layer of an untrained network (how much the architecture alone gives) and the control task \
     (random labels for k-means clusters of the pixels; how much the probe can memorize). Selectivity is accuracy minus \
     control accuracy (Hewitt & Liang 2019).";

/// The PCA (and t-SNE) panels of `layers` for the test examples `x`, the separation
/// table and its figure, appended to `r`.
pub fn maps_section(
    r: &mut Report,
    name: &str,
    model: &Model<f32>,
    test: &Dataset,
    layers: &[String],
    tsne: Option<&TsneOptions>,
) -> Result<Vec<LayerMap>> {
    let n = test.len();
    let (x, labels) = (&test.x, &test.y);
    let iters = tsne.map_or(0, |o| o.iterations);
    let pb = progress_bar((layers.len() * iters.max(1)) as u64, &format!("{name} maps"));
    let maps = layer_maps(model, x, labels, layers, tsne, |l, it| {
        pb.set_position((l * iters + it + 1) as u64)
    })?;
    pb.finish_and_clear();
    r.svg_figure(
        &format!("inside-pca-{name}.svg"),
        scatter_svg(&maps, labels, &test.classes, MapKind::Pca, &format!("{name}: PCA of each layer")),
        &format!(
            "The first two principal components of each layer's activations for the same {n} test examples, coloured by true \
             class, from the pixels up to the logits. Axis titles give each component's share of the layer's variance. Classes \
             that mix in the pixels come apart with depth."
        ),
    );
    if let Some(o) = tsne {
        r.svg_figure(
            &format!("inside-tsne-{name}.svg"),
            scatter_svg(&maps, labels, &test.classes, MapKind::Tsne, &format!("{name}: t-SNE of each layer")),
            &format!(
                "t-SNE maps (perplexity {}, {} iterations, PCA to {} dimensions first) of the same examples and layers. {}",
                o.perplexity,
                o.iterations,
                o.pca_dims,
                esc(TSNE_CAVEAT)
            ),
        );
    }
    let (header, rows) = separation_table(&maps);
    r.table(&header, &rows);
    r.svg_figure(
        &format!("inside-separation-{name}.svg"),
        separation_svg(&maps, name),
        &format!(
            "How well each layer's 2-D map sorts the classes: mean silhouette (−1 to 1, by true class, Euclidean) and the \
             leave-one-out {KNN}-nearest-neighbour accuracy, against depth (0 = pixels; layers in the table's order)."
        ),
    );
    Ok(maps)
}

/// Linear probes of `layers` (with the untrained network and the control task), their
/// table and figure, appended to `r`.
#[allow(clippy::too_many_arguments)]
pub fn probe_section(
    r: &mut Report,
    name: &str,
    model: &Model<f32>,
    train: &Dataset,
    test: &Dataset,
    layers: &[String],
    cfg: &ProbeConfig,
    control_k: usize,
) -> Result<Vec<ProbeRow>> {
    let control = control_task(train, test, control_k, model.arch.num_classes(), cfg.seed)?;
    let pb = progress_bar(layers.len() as u64, &format!("{name} probes"));
    let rows = probe_layers(model, train, test, layers, &control, cfg, |i| {
        pb.set_position(i as u64)
    })?;
    pb.finish_and_clear();
    let (header, body) = probe_table(&rows);
    r.table(&header, &body);
    r.paragraph(&format!(
        "Linear probes on {name}: softmax regression on each layer's standardized activations of {} training examples \
         ({} epochs of Adam, batch {}, learning rate {}, no weight decay; the same for every layer), tested on {} test \
         examples; the control task clusters the training pixels into {} groups. {}",
        train.len(),
        cfg.epochs,
        cfg.batch,
        cfg.lr,
        test.len(),
        control.clusters,
        PROBE_CAVEAT
    ));
    r.svg_figure(
        &format!("inside-probes-{name}.svg"),
        probe_svg(&rows, name),
        "Probe test accuracy against depth for the trained network, the same architecture untrained, and the control task.",
    );
    Ok(rows)
}

/// Every number of [`maps_section`] as CSV.
pub fn maps_csv(maps: &[LayerMap]) -> String {
    let mut s = String::from(
        "layer,features,pc1_variance_ratio,pc2_variance_ratio,pca_silhouette,pca_knn5,tsne_silhouette,tsne_knn5,tsne_kl,tsne_iterations\n",
    );
    for m in maps {
        let r = &m.pca.explained_variance_ratio;
        s += &format!(
            "{},{},{},{},{},{},{},{},{},{}\n",
            m.layer,
            m.features,
            r[0],
            r.get(1).copied().unwrap_or(0.0),
            m.pca_silhouette,
            m.pca_knn,
            m.tsne_silhouette,
            m.tsne_knn,
            m.tsne.as_ref().map_or(f64::NAN, |t| t.kl),
            m.tsne.as_ref().map_or(0, |t| t.iterations)
        );
    }
    s
}

/// Every number of [`probe_section`] as CSV.
pub fn probes_csv(rows: &[ProbeRow]) -> String {
    let mut s = String::from("layer,features,accuracy,untrained,control,selectivity,train_accuracy\n");
    for r in rows {
        s += &format!(
            "{},{},{},{},{},{},{}\n",
            r.layer, r.features, r.accuracy, r.untrained, r.control, r.selectivity, r.train_accuracy
        );
    }
    s
}

/// Every number of [`top_section`] as CSV (boxes as top, left, bottom, right; ends exclusive).
pub fn top_csv(top: &TopExamples) -> String {
    let mut s = String::from("layer,channel,rank,example,activation,top,left,bottom,right\n");
    for (c, ((idx, val), reg)) in top.index.iter().zip(&top.value).zip(&top.region).enumerate() {
        for (k, ((i, v), b)) in idx.iter().zip(val).zip(reg).enumerate() {
            s += &format!("{},{c},{},{i},{v},{},{},{},{}\n", top.layer, k + 1, b[0], b[1], b[2], b[3]);
        }
    }
    s
}

/// The top-activating examples of one layer, appended to `r`.
pub fn top_section(r: &mut Report, name: &str, model: &Model<f32>, test: &Dataset, layer: &str, k: usize, max_channels: usize) -> Result<TopExamples> {
    let top = top_examples(model, &test.x, layer, k, |_| {})?;
    let to_unit = Profile::of(&model.arch).to_unit();
    r.svg_figure(
        &format!("inside-top-{name}-{layer}.svg"),
        top_svg(&top, &test.x, to_unit, max_channels, &format!("{name}: test examples that excite each channel of {layer} most"))?,
        &format!(
            "For each channel of {layer} (rows), the {k} of {} test examples with the strongest response anywhere in the map \
             (columns, strongest first; the value above each is that maximum). The red box is the receptive field of the \
             strongest position: the only pixels that can change it. Top examples show what a channel responds to in the data, \
             not everything it responds to.",
            test.len()
        ),
    );
    Ok(top)
}
