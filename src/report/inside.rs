//! "Inside the network": layer PCA and t-SNE panels, class separation against depth,
//! the probe table with its controls, and the top-activating examples, for
//! `lamppost inside` and the tour.

use crate::data::Dataset;
use crate::error::Result;
use crate::explain::inside::attention::{AttentionReport, analyze};
use crate::explain::inside::maps::{KNN, LayerMap, layer_maps};
use crate::explain::inside::probe::{ProbeConfig, ProbeRow, control_task, probe_layers};
use crate::explain::inside::reconstruct::{
    DecoderConfig, Reconstruction, mean_image_mse, reconstruct_layers,
};
use crate::explain::inside::top::{TopExamples, top_examples};
use crate::explain::inside::tsne::TsneOptions;
use crate::fit::progress_bar;
use crate::nn::Model;
use crate::profile::Profile;
use crate::tensor::Tensor;
use crate::viz::grid::tensor_to_image;
use crate::viz::plot::{CLASS_COLORS, COLORS};
use crate::viz::report::{Report, esc};
use crate::viz::svg::{Chart, Line, charts_svg};
use crate::viz::tiles::{Tile, TileRow, tiles_svg};

/// Which 2-D map a scatter figure shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapKind {
    Pca,
    Tsne,
}

/// One scatter panel per layer, points coloured by class.
pub fn scatter_svg(
    maps: &[LayerMap],
    labels: &[usize],
    classes: &[String],
    kind: MapKind,
    title: &str,
) -> String {
    let charts: Vec<Chart> = maps
        .iter()
        .map(|m| {
            let (pts, xl, yl) = match (kind, &m.tsne) {
                (MapKind::Tsne, Some(t)) => (
                    t.embedding.clone(),
                    "t-SNE 1".to_string(),
                    "t-SNE 2".to_string(),
                ),
                _ => {
                    let r = &m.pca.explained_variance_ratio;
                    let pts = m.pca.coords_2d();
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
                        band: Vec::new(),
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

/// One value per layer as a line against the layer's position (non-finite values left out).
fn depth_line(label: &str, k: usize, dashed: bool, values: impl Iterator<Item = f64>) -> Line {
    Line {
        label: label.into(),
        color: COLORS[k % COLORS.len()],
        points: values
            .enumerate()
            .map(|(i, v)| (i as f64, v))
            .filter(|p| p.1.is_finite())
            .collect(),
        markers: true,
        connect: true,
        dashed,
        band: Vec::new(),
    }
}

/// Silhouette and 5-NN accuracy in the 2-D maps against depth.
pub fn separation_svg(maps: &[LayerMap], title: &str) -> String {
    let line = |label: &str, k: usize, f: &dyn Fn(&LayerMap) -> f64| {
        depth_line(label, k, false, maps.iter().map(f))
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
    charts_svg(
        &charts,
        520.0,
        360.0,
        &format!("{title} class separation against depth"),
    )
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

/// A table with a first column `#` (the layer's position) and one row per item.
fn numbered_table<T>(
    header: &[&str],
    items: &[T],
    row: impl Fn(&T) -> Vec<String>,
) -> (Vec<String>, Vec<Vec<String>>) {
    let header = std::iter::once("#")
        .chain(header.iter().copied())
        .map(String::from)
        .collect();
    let rows = items
        .iter()
        .enumerate()
        .map(|(i, t)| std::iter::once(i.to_string()).chain(row(t)).collect())
        .collect();
    (header, rows)
}

/// The separation table: one row per layer.
pub fn separation_table(maps: &[LayerMap]) -> (Vec<String>, Vec<Vec<String>>) {
    let header = [
        "layer",
        "features",
        "PC1+PC2 variance",
        "PCA silhouette",
        "PCA 5-NN",
        "t-SNE silhouette",
        "t-SNE 5-NN",
    ];
    numbered_table(&header, maps, |m| {
        vec![
            m.layer.clone(),
            m.features.to_string(),
            pct(m.pca.explained_variance_ratio.iter().sum()),
            num(m.pca_silhouette),
            pct(m.pca_knn),
            num(m.tsne_silhouette),
            pct(m.tsne_knn),
        ]
    })
}

/// The probe table.
pub fn probe_table(rows: &[ProbeRow]) -> (Vec<String>, Vec<Vec<String>>) {
    let header = [
        "layer",
        "features",
        "probe accuracy",
        "untrained network",
        "control task",
        "selectivity",
        "probe train accuracy",
    ];
    numbered_table(&header, rows, |r| {
        vec![
            r.layer.clone(),
            r.features.to_string(),
            pct(r.accuracy),
            pct(r.untrained),
            pct(r.control),
            format!("{:+.1} pts", 100.0 * r.selectivity),
            pct(r.train_accuracy),
        ]
    })
}

/// Probe accuracy against depth, beside the untrained network and the control task.
pub fn probe_svg(rows: &[ProbeRow], title: &str) -> String {
    let line = |label: &str, k: usize, dashed: bool, f: &dyn Fn(&ProbeRow) -> f64| {
        depth_line(label, k, dashed, rows.iter().map(f))
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
    charts_svg(
        &[chart],
        640.0,
        380.0,
        &format!("{title} linear probe accuracy against depth"),
    )
}

/// A row per channel (at most `max_channels`), a column per rank: the input with the
/// receptive field of the strongest position outlined in red and its activation above.
pub fn top_svg(
    top: &TopExamples,
    x: &Tensor<f32>,
    to_unit: fn(f32) -> f32,
    max_channels: usize,
    title: &str,
) -> Result<String> {
    let k = top.index.first().map_or(0, |v| v.len());
    let s = x.shape();
    let (ih, iw) = (s[s.len() - 2], s[s.len() - 1]);
    let mut rows = Vec::new();
    for c in 0..top.index.len().min(max_channels) {
        // a channel that never fires has no top examples, only ties at zero
        let silent = top.value[c].first().is_none_or(|&v| v <= 0.0);
        let tiles = if silent {
            Vec::new()
        } else {
            top.index[c]
                .iter()
                .zip(&top.value[c])
                .zip(&top.region[c])
                .map(|((&i, &v), &b)| {
                    Ok(Tile {
                        image: tensor_to_image(&x.select_rows(&[i])?, to_unit)?,
                        caption: format!("{v:.2}"),
                        outline: (b != [0, 0, ih, iw]).then_some(b),
                    })
                })
                .collect::<Result<Vec<_>>>()?
        };
        rows.push(TileRow {
            label: format!("channel {c}"),
            tiles,
            note: "silent: never above 0 on these examples (a dead unit)".into(),
        });
    }
    let columns: Vec<String> = (1..=k).map(|r| format!("#{r}")).collect();
    tiles_svg(title, &columns, &rows)
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
    let pb = progress_bar(
        (layers.len() * iters.max(1)) as u64,
        &format!("{name} maps"),
    );
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

/// The first test example of each class (in class order), then the next examples, up to `k`.
pub fn one_per_class(test: &Dataset, k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..test.classes.len())
        .filter_map(|c| test.y.iter().position(|&y| y == c))
        .collect();
    let more: Vec<usize> = (0..test.len())
        .filter(|i| !idx.contains(i))
        .take(k.saturating_sub(idx.len()))
        .collect();
    idx.extend(more);
    idx.truncate(k);
    idx
}

/// Decoders from each of `layers` back to the pixels: the MSE table beside the
/// mean-image baseline and the reconstructions of one test example per class.
#[allow(clippy::too_many_arguments)]
pub fn reconstruct_section(
    r: &mut Report,
    name: &str,
    model: &Model<f32>,
    train: &Dataset,
    test: &Dataset,
    layers: &[String],
    cfg: &DecoderConfig,
) -> Result<(Vec<Reconstruction>, f64)> {
    let show = one_per_class(test, 10);
    let pb = progress_bar(layers.len() as u64, &format!("{name} decoders"));
    let recs = reconstruct_layers(model, train, test, layers, cfg, &show, |i| {
        pb.set_position(i as u64)
    })?;
    pb.finish_and_clear();
    let baseline = mean_image_mse(model, train, test)?;
    let (header, body) = numbered_table(
        &[
            "layer",
            "features",
            "test MSE",
            "train MSE",
            "share of the mean image's MSE",
        ],
        &recs,
        |q| {
            vec![
                q.layer.clone(),
                q.features.to_string(),
                format!("{:.4}", q.test_mse),
                format!("{:.4}", q.train_mse),
                pct(q.test_mse / baseline),
            ]
        },
    );
    r.table(&header, &body);
    let (x, _) = test.batch(&show)?;
    let unit = Profile::of(&model.arch).to_unit();
    let identity: fn(f32) -> f32 = |v| v;
    let mut rows = vec![TileRow {
        label: "input".into(),
        tiles: (0..show.len())
            .map(|k| {
                Ok(Tile {
                    image: tensor_to_image(&x.select_rows(&[k])?, unit)?,
                    caption: format!("class {}", test.classes[test.y[show[k]]]),
                    outline: None,
                })
            })
            .collect::<Result<Vec<_>>>()?,
        note: String::new(),
    }];
    for q in &recs {
        rows.push(TileRow {
            label: format!("from {} (MSE {:.3})", q.layer, q.test_mse),
            tiles: (0..show.len())
                .map(|k| {
                    Ok(Tile {
                        image: tensor_to_image(&q.images.select_rows(&[k])?, identity)?,
                        caption: String::new(),
                        outline: None,
                    })
                })
                .collect::<Result<Vec<_>>>()?,
            note: String::new(),
        });
    }
    let columns: Vec<String> = show.iter().map(|i| format!("test {i}")).collect();
    r.svg_figure(
        &format!("inside-reconstruct-{name}.svg"),
        tiles_svg(&format!("{name}: the input resynthesized from each layer"), &columns, &rows)?,
        &format!(
            "Generative probes: a decoder (one hidden layer of {} units, {} epochs of Adam, the same for every layer) trained on \
             {} training examples to redraw the pixels from one layer's frozen activations; the rows show its output for the \
             same test examples. Always answering the mean training image gives an MSE of {baseline:.4}. What survives the \
             depth is the class; the stroke's style (thickness, slant, gaps) fades. A decoder shows what can be recovered, \
             not what the network uses.",
            cfg.hidden,
            cfg.epochs,
            train.len()
        ),
    );
    Ok((recs, baseline))
}

/// Every number of [`reconstruct_section`] as CSV.
pub fn reconstruct_csv(recs: &[Reconstruction], baseline: f64) -> String {
    let mut s = String::from("layer,features,test_mse,train_mse,mean_image_mse\n");
    for q in recs {
        s += &format!(
            "{},{},{},{},{baseline}\n",
            q.layer, q.features, q.test_mse, q.train_mse
        );
    }
    s
}

fn mean_finite(v: &[f64]) -> f64 {
    let f: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    f.iter().sum::<f64>() / f.len().max(1) as f64
}

/// The attention chapter: α, contributions, leave-one-row-out and gradient norms per
/// row for a few test examples, and the faithfulness table over `test`.
pub fn attention_section(
    r: &mut Report,
    name: &str,
    model: &Model<f32>,
    test: &Dataset,
    seed: u64,
) -> Result<AttentionReport> {
    let black = crate::data::mnist::normalize(0);
    let rep = analyze(model, &test.x, &test.y, black, 100, seed)?;
    let n = test.len();
    let med = |v: &[f64]| {
        let mut f: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
        f.sort_by(f64::total_cmp);
        f.get(f.len() / 2).copied().unwrap_or(f64::NAN)
    };
    r.table(
        &["measure".into(), "value".into()],
        &[
            vec!["test accuracy".into(), pct(rep.accuracy)],
            vec![
                format!(
                    "accuracy with α uniform (1/{} per row)",
                    rep.alpha.shape()[1]
                ),
                pct(rep.uniform_accuracy),
            ],
            vec![
                "Kendall τ-b, α vs leave-one-row-out Δlogit (mean)".into(),
                num(mean_finite(&rep.tau_alpha_loo)),
            ],
            vec![
                "Kendall τ-b, α vs gradient norm per row (mean)".into(),
                num(mean_finite(&rep.tau_alpha_gradient)),
            ],
            vec![
                "Kendall τ-b, contribution vs leave-one-row-out (mean)".into(),
                num(mean_finite(&rep.tau_contribution_loo)),
            ],
            vec![
                "Kendall τ-b, contribution vs gradient norm (mean)".into(),
                num(mean_finite(&rep.tau_contribution_gradient)),
            ],
            vec![
                "output change when α is permuted (TVD, median of 100, median over examples)"
                    .into(),
                format!("{:.4}", med(&rep.permutation_tvd)),
            ],
        ],
    );
    let show = one_per_class(test, 8);
    let (t, to_unit) = (rep.alpha.shape()[1], Profile::of(&model.arch).to_unit());
    let w = test.x.shape()[3];
    let rows_map = |m: &Tensor<f32>, e: usize| -> Vec<f32> {
        m.data()[e * t..(e + 1) * t]
            .iter()
            .flat_map(|&v| std::iter::repeat_n(v, w))
            .collect()
    };
    let rows = show
        .iter()
        .map(|&e| {
            let mut tiles = vec![Tile {
                image: tensor_to_image(&test.x.select_rows(&[e])?, to_unit)?,
                caption: format!("class {}", test.y[e]),
                outline: None,
            }];
            for m in [
                &rep.alpha,
                &rep.contributions,
                &rep.leave_one_out,
                &rep.gradient_norm,
            ] {
                tiles.push(Tile {
                    image: crate::viz::heatmap::heatmap(t, w, &rows_map(m, e)),
                    caption: String::new(),
                    outline: None,
                });
            }
            Ok(TileRow {
                label: format!("test {e} (pred {})", rep.predicted[e]),
                tiles,
                note: String::new(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let columns: Vec<String> = [
        "input",
        "α",
        "contribution",
        "leave-one-row-out",
        "gradient norm",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    r.svg_figure(
        &format!("inside-attention-{name}.svg"),
        tiles_svg(&format!("{name}: where the attention looks, row by row"), &columns, &rows)?,
        &format!(
            "Per row of the digit (each map is one value per row, on its own scale: viridis from 0 for α and the gradient \
             norm, blue–white–red for signed values): the attention weight α_t, the row's exact contribution \
             α_t·u_kᵀh_t to the predicted logit (they sum to the logit minus its bias), the drop of that logit when the row \
             is set to black, and the gradient norm of the logit over the row. Table: over {n} test examples. Caveat: the \
             state h_t has read every row up to t, so weight on a late row is weight on a summary of the rows above it \
             (Jain & Wallace 2019; Wiegreffe & Pinter 2019)."
        ),
    );
    Ok(rep)
}

/// Every per-example number of [`attention_section`] as CSV.
pub fn attention_csv(rep: &AttentionReport, labels: &[usize]) -> String {
    let mut s = String::from(
        "example,label,predicted,tau_alpha_loo,tau_alpha_gradient,tau_contribution_loo,tau_contribution_gradient,permutation_tvd_median\n",
    );
    for (e, p) in rep.predicted.iter().enumerate() {
        s += &format!(
            "{e},{},{p},{},{},{},{},{}\n",
            labels[e],
            rep.tau_alpha_loo[e],
            rep.tau_alpha_gradient[e],
            rep.tau_contribution_loo[e],
            rep.tau_contribution_gradient[e],
            rep.permutation_tvd[e]
        );
    }
    s
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
    let mut s =
        String::from("layer,features,accuracy,untrained,control,selectivity,train_accuracy\n");
    for r in rows {
        s += &format!(
            "{},{},{},{},{},{},{}\n",
            r.layer,
            r.features,
            r.accuracy,
            r.untrained,
            r.control,
            r.selectivity,
            r.train_accuracy
        );
    }
    s
}

/// Every number of [`top_section`] as CSV (boxes as top, left, bottom, right; ends exclusive).
pub fn top_csv(top: &TopExamples) -> String {
    let mut s = String::from("layer,channel,rank,example,activation,top,left,bottom,right\n");
    for (c, ((idx, val), reg)) in top
        .index
        .iter()
        .zip(&top.value)
        .zip(&top.region)
        .enumerate()
    {
        for (k, ((i, v), b)) in idx.iter().zip(val).zip(reg).enumerate() {
            s += &format!(
                "{},{c},{},{i},{v},{},{},{},{}\n",
                top.layer,
                k + 1,
                b[0],
                b[1],
                b[2],
                b[3]
            );
        }
    }
    s
}

/// The top-activating examples of one layer, appended to `r`.
pub fn top_section(
    r: &mut Report,
    name: &str,
    model: &Model<f32>,
    test: &Dataset,
    layer: &str,
    k: usize,
    max_channels: usize,
) -> Result<TopExamples> {
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

/// The tour's chapter "Inside the network": maps and separation for the MNIST models
/// (t-SNE for mnist-cnn), probes for each, the GRU's rows story, and top-activating
/// examples for mnist-cnn and the Pokémon/Digimon model. `train` holds the probes'
/// training examples.
pub fn chapter(
    r: &mut Report,
    train: &Dataset,
    test: &Dataset,
    mnist: &[(&str, &Model<f32>)],
    attention: (&str, &Model<f32>),
    poke: (&Dataset, &Model<f32>),
    quick: bool,
) -> Result<()> {
    let start = std::time::Instant::now();
    let (n_maps, n_probe) = if quick { (300, 500) } else { (1000, 2000) };
    let maps_test = test.first(n_maps)?;
    let probe_test = test.first(n_probe)?;
    let tsne = TsneOptions {
        iterations: if quick { 500 } else { 1000 },
        ..TsneOptions::default()
    };
    let cfg = ProbeConfig::default();
    r.paragraph(
        "What does the network know, layer by layer? The same test digits are followed from the pixels to the logits: \
         their principal components and t-SNE maps, how well each layer sorts the classes, how much a linear probe can read \
         from each layer, and which examples excite each filter most.",
    );
    for (i, (name, model)) in mnist.iter().enumerate() {
        let layers = crate::explain::inside::layers::default_layers(&model.arch);
        maps_section(
            r,
            name,
            model,
            &maps_test,
            &layers,
            (i == 0).then_some(&tsne),
        )?;
        probe_section(r, name, model, train, &probe_test, &layers, &cfg, 100)?;
        if i == 0 {
            let dec = DecoderConfig {
                epochs: if quick { 3 } else { 10 },
                ..DecoderConfig::default()
            };
            reconstruct_section(r, name, model, train, &probe_test, &layers, &dec)?;
        }
        if model.arch.name == "mnist-gru" {
            r.paragraph(
                "For the GRU the layers are time: gru.h6 is its state after reading 7 of the 28 rows, gru.h13 after 14, and \
                 so on. How early can the digit be read? The probe says how much of the class the state holds after each \
                 quarter of the image.",
            );
        }
    }
    r.heading("Attention: is it an explanation?");
    r.paragraph(
        "mnist-attn-gru reads the 28 rows with a GRU and pools its states with attention weights α over the rows before \
         its linear head. Are the weights an explanation? The table sets them against two other answers to \"which rows \
         mattered\" and against what happens when they are taken away (uniform) or shuffled.",
    );
    attention_section(r, attention.0, attention.1, &probe_test, 0)?;
    r.heading("Which examples excite each filter?");
    let (_, cnn) = mnist[0];
    for layer in ["conv1.relu", "conv2.relu"] {
        top_section(r, "mnist-cnn", cnn, test, layer, 8, 16)?;
    }
    let (pdata, pmodel) = poke;
    let layer = Profile::of(&pmodel.arch).cam_layer(&pmodel.arch)?;
    top_section(r, "pokedigi-gap", pmodel, pdata, &layer, 8, 12)?;
    r.paragraph(&format!(
        "On the Pokémon/Digimon model, look at where the boxes fall: channels that respond to the black background of the \
         Pokémon PNGs or the white of the Digimon JPEGs have learned the shortcut. Chapter built in {:.1}s.",
        start.elapsed().as_secs_f64()
    ));
    Ok(())
}
