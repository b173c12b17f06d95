//! Inside the network: "what does the network know, layer by layer?" The home of layer
//! PCA and t-SNE, probing classifiers, attention and top-activating examples. Methods
//! read named activations through [`super::batched::layer_pass`]; the symmetric
//! eigen-decomposition they need is [`crate::tensor::linalg::symmetric_eigen`].
