//! Layer maps: the PCA and t-SNE pictures of several layers for the same examples, and
//! how well each separates the classes (silhouette and 5-NN accuracy in 2-D, see
//! [`super::separation`]). One entry point, [`layer_maps`], used by `lamppost inside
//! pca|tsne` and the tour.

use super::layers::{activations, rows_f64};
use super::pca::{Pca, pca};
use super::separation::{knn_accuracy, silhouette};
use super::tsne::{Tsne, TsneOptions, tsne};
use crate::error::Result;
use crate::nn::Model;
use crate::tensor::Tensor;

/// Neighbours in the k-NN separation score.
pub const KNN: usize = 5;

/// One layer's 2-D maps and their class separation.
#[derive(Clone, Debug)]
pub struct LayerMap {
    pub layer: String,
    pub features: usize,
    pub pca: Pca,
    pub pca_silhouette: f64,
    pub pca_knn: f64,
    pub tsne: Option<Tsne>,
    pub tsne_silhouette: f64,
    pub tsne_knn: f64,
}

/// Silhouette and 5-NN accuracy of 2-D points.
pub fn separation_2d(points: &[f64], labels: &[usize]) -> (f64, f64) {
    (
        silhouette(points, 2, labels),
        knn_accuracy(points, 2, labels, KNN),
    )
}

/// PCA (and, with `tsne_opts`, t-SNE) of each of `layers` for the examples `x` with
/// classes `labels`. `tick(layer, iteration)` reports t-SNE progress.
pub fn layer_maps(
    model: &Model<f32>,
    x: &Tensor<f32>,
    labels: &[usize],
    layers: &[String],
    tsne_opts: Option<&TsneOptions>,
    mut tick: impl FnMut(usize, usize),
) -> Result<Vec<LayerMap>> {
    let acts = activations(model, x, layers, |_| {})?;
    let mut out = Vec::new();
    for (li, (layer, a)) in layers.iter().zip(acts).enumerate() {
        let (rows, n, d) = rows_f64(&a);
        drop(a);
        let p = pca(&rows, n, d, 2.min(d))?;
        let coords2 = p.coords_2d();
        let (ps, pk) = separation_2d(&coords2, labels);
        let (t, ts, tk) = match tsne_opts {
            Some(o) => {
                let t = tsne(&rows, n, d, o, |it| tick(li, it))?;
                let (s, k) = separation_2d(&t.embedding, labels);
                (Some(t), s, k)
            }
            None => (None, f64::NAN, f64::NAN),
        };
        out.push(LayerMap {
            layer: layer.clone(),
            features: d,
            pca: p,
            pca_silhouette: ps,
            pca_knn: pk,
            tsne: t,
            tsne_silhouette: ts,
            tsne_knn: tk,
        });
    }
    Ok(out)
}
