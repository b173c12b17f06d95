"""scikit-learn's PCA and t-SNE, for tests/inside.rs (run once; Python is never needed at
test time).

    pip install torch scikit-learn safetensors numpy
    cargo run --release -- tour          # trains mnist-cnn into .lamppost-cache/models/
    python3 tests/golden/make_inside_golden.py [path/to/mnist-cnn.safetensors]

1. pca.safetensors: two seeded Gaussian data sets with a decaying spectrum, one taller
   than wide (covariance route) and one wider than tall (Gram route), and scikit-learn's
   PCA(n_components=5, svd_solver="full") coordinates, components and ratios (float64).
2. tsne.safetensors: the penultimate-layer features (fc1 after its ReLU) of the first
   2000 MNIST test digits under the tour's mnist-cnn (loaded strictly into the torch.nn
   module of lamppost_torch.py), their labels, and scikit-learn's TSNE(method="exact",
   init="pca", perplexity=30, learning_rate="auto", max_iter=1000) map of their 50
   leading principal components, with its 5-NN accuracy (leave-one-out, as ours).
"""
import glob
import gzip
import os
import sys
import time

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.neighbors import KNeighborsClassifier

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from lamppost_torch import MnistCnn  # noqa: E402


def pca_case(n, d, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)) * (1.0 / (1.0 + np.arange(d))) ** 0.7 @ np.linalg.qr(rng.standard_normal((d, d)))[0]
    x += 3.0
    p = PCA(n_components=5, svd_solver="full").fit(x)
    return {"x": x, "coords": p.transform(x), "components": p.components_,
            "ratio": p.explained_variance_ratio_, "variance": p.explained_variance_}


def knn5(points, labels):
    # leave-one-out: the 6 nearest include the point itself, which is dropped
    clf = KNeighborsClassifier(n_neighbors=6).fit(points, labels)
    idx = clf.kneighbors(points, return_distance=False)
    hits = 0
    for i, row in enumerate(idx):
        row = [j for j in row if j != i][:5]
        votes = np.bincount(labels[row], minlength=10)
        hits += int(np.argmax(votes) == labels[i])
    return hits / len(labels)


def mnist_test(n):
    d = os.path.join(ROOT, "datasets", "mnist")
    with gzip.open(os.path.join(d, "t10k-images-idx3-ubyte.gz")) as f:
        img = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)[:n]
    with gzip.open(os.path.join(d, "t10k-labels-idx1-ubyte.gz")) as f:
        lab = np.frombuffer(f.read(), np.uint8, offset=8)[:n]
    x = (img.astype(np.float32) / 255.0 - 0.1307) / 0.3081
    return torch.from_numpy(x), lab.astype(np.int64)


def main():
    out = os.path.join(HERE, "inside")
    os.makedirs(out, exist_ok=True)
    t = {}
    for name, (n, d, seed) in {"tall": (300, 40, 1), "wide": (60, 150, 2)}.items():
        for k, v in pca_case(n, d, seed).items():
            t[f"{name}.{k}"] = torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64))
    save_file(t, os.path.join(out, "pca.safetensors"), metadata={"sklearn": __import__("sklearn").__version__})

    path = sys.argv[1] if len(sys.argv) > 1 else sorted(glob.glob(os.path.join(ROOT, ".lamppost-cache", "models", "mnist-cnn-d3870bc1dcdefce6.safetensors")))[0]
    m = MnistCnn().eval()
    m.load_state_dict(load_file(path), strict=True)
    x, y = mnist_test(2000)
    with torch.no_grad():
        h = torch.nn.functional.max_pool2d(torch.relu(m.conv1(x)), 2)
        h = torch.nn.functional.max_pool2d(torch.relu(m.conv2(h)), 2)
        feats = torch.relu(m.fc1(h.flatten(1))).numpy().astype(np.float64)
    z = PCA(n_components=50, svd_solver="full").fit_transform(feats)
    start = time.time()
    emb = TSNE(n_components=2, perplexity=30.0, init="pca", method="exact", learning_rate="auto",
               max_iter=1000, random_state=0).fit_transform(z)
    exact_s = time.time() - start
    acc = knn5(emb, y)
    print(f"sklearn exact t-SNE of 2000 points: {exact_s:.1f}s, 5-NN accuracy {acc:.4f}")
    save_file({"features": torch.from_numpy(feats.astype(np.float32)), "labels": torch.from_numpy(y.astype(np.float32)),
               "embedding": torch.from_numpy(emb.astype(np.float64)), "knn5": torch.tensor([acc], dtype=torch.float64)},
              os.path.join(out, "tsne.safetensors"),
              metadata={"sklearn": __import__("sklearn").__version__, "model": os.path.basename(path),
                        "exact_seconds": f"{exact_s:.1f}"})


if __name__ == "__main__":
    main()
