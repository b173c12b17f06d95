//! Inside the network: "what does the network know, layer by layer?" Layer PCA and
//! t-SNE maps ([`pca`], [`tsne`]), how well each layer separates the classes
//! ([`separation`]), probing classifiers ([`probe`], with a k-means control task from
//! [`kmeans`]), decoders that resynthesize the input from a layer ([`reconstruct`]) and
//! the examples that excite each filter most ([`top`]). Every method reads
//! named activations through [`layers::activations`].

pub mod attention;
pub mod kmeans;
pub mod layers;
pub mod maps;
pub mod pca;
pub mod probe;
pub mod reconstruct;
pub mod separation;
pub mod top;
pub mod tsne;
