"""scikit-learn's side of benches/inside.rs: PCA of 10 000 × 784 MNIST training pixels
(n_components=2, svd_solver="full") and t-SNE of the 2000 features of
tests/golden/inside/tsne.safetensors (PCA to 50 first, as lamppost; method exact and
barnes_hut), with 2 threads.

    OMP_NUM_THREADS=2 python3 benches/sklearn_bench.py [--skip-exact]
"""
import gzip
import os
import statistics
import sys
import time

import numpy as np
from safetensors.numpy import load_file
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from threadpoolctl import threadpool_limits

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(f, repeats):
    t = []
    for _ in range(repeats):
        s = time.perf_counter()
        f()
        t.append(time.perf_counter() - s)
    return statistics.median(t)


def main():
    with gzip.open(os.path.join(ROOT, "datasets", "mnist", "train-images-idx3-ubyte.gz")) as f:
        img = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)[:10000]
    x = ((img.astype(np.float32) / 255.0 - 0.1307) / 0.3081).astype(np.float64)
    feats = load_file(os.path.join(ROOT, "tests", "golden", "inside", "tsne.safetensors"))["features"].astype(np.float64)
    with threadpool_limits(2):
        pca_s = timed(lambda: PCA(n_components=2, svd_solver="full").fit_transform(x), 5)
        print(f"pca_10000x784: {pca_s * 1e3:.0f} ms")

        def tsne(method):
            z = PCA(n_components=50, svd_solver="full").fit_transform(feats)
            TSNE(n_components=2, perplexity=30.0, init="pca", method=method, learning_rate="auto",
                 max_iter=1000, random_state=0).fit_transform(z)

        print(f"tsne_barnes_hut_2000: {timed(lambda: tsne('barnes_hut'), 3):.2f} s")
        if "--skip-exact" not in sys.argv:
            print(f"tsne_exact_2000: {timed(lambda: tsne('exact'), 1):.2f} s")


if __name__ == "__main__":
    main()
