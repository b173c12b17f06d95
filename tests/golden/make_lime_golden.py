"""Golden numbers for LIME's surrogate from the lime package itself (run once; the
files are committed, Python is never needed at test time).

    pip install lime safetensors numpy
    python3 tests/golden/make_lime_golden.py

For two neighbourhoods (continuous rows as the tabular explainer makes them, binary
superpixel masks as the image explainer makes them) it stores the samples, labels,
distances and the kernel weights lime computes, and what `LimeBase.explain_instance_with_data`
returns for each feature selection: chosen features, ridge coefficients, intercept,
weighted R² (score) and the local prediction.
"""
import numpy as np
import sklearn.metrics
from lime.lime_base import LimeBase
from safetensors.numpy import save_file

OUT = "tests/golden/lime"


def kernel(d, kernel_width):
    # lime_tabular's and lime_image's kernel
    return np.sqrt(np.exp(-(d ** 2) / kernel_width ** 2))


def case(name, x, y, distances, width, settings):
    weights = kernel(distances, width)
    tensors = {"x": x, "y": y, "distances": distances, "weights": weights,
               "width": np.array([width])}
    labels = np.stack([1 - y, y], axis=1)
    for sel, k in settings:
        base = LimeBase(lambda d: kernel(d, width))
        intercept, exp, score, local_pred = base.explain_instance_with_data(
            x, labels, distances, 1, k, feature_selection=sel)
        coef = np.zeros(x.shape[1])
        used = np.zeros(x.shape[1])
        for f, c in exp:
            coef[f] = c
            used[f] = 1
        key = f"{sel}_{k}"
        tensors[f"{key}.coef"] = coef
        tensors[f"{key}.used"] = used
        tensors[f"{key}.intercept"] = np.array([intercept])
        tensors[f"{key}.score"] = np.array([score])
        tensors[f"{key}.local_pred"] = np.array([float(np.ravel(local_pred)[0])])
    save_file({k: np.ascontiguousarray(v, dtype=np.float64) for k, v in tensors.items()},
              f"{OUT}/{name}.safetensors",
              metadata={"settings": ",".join(f"{s}_{k}" for s, k in settings)})


def main():
    rng = np.random.default_rng(7)
    # continuous rows: standardized samples, the first is the explained row
    x = rng.normal(size=(400, 5))
    x[0] = [0.3, -0.8, 1.1, 0.2, -0.4]
    y = 1 / (1 + np.exp(-(1.5 * x[:, 0] - x[:, 1] + 0.5 * x[:, 2] * x[:, 3])))
    d = sklearn.metrics.pairwise_distances(x, x[0].reshape(1, -1), metric="euclidean").ravel()
    sels = [("forward_selection", 3), ("highest_weights", 3), ("none", 3), ("auto", 3),
            ("lasso_path", 3), ("auto", 10)]
    case("tabular", x, y, d, 0.75 * np.sqrt(5), sels)
    # binary masks: the first sample keeps every superpixel
    z = rng.integers(0, 2, size=(300, 12)).astype(np.float64)
    z[0] = 1
    w = rng.normal(size=12)
    y = 1 / (1 + np.exp(-(z @ w - 1.0)))
    d = sklearn.metrics.pairwise_distances(z, z[0].reshape(1, -1), metric="cosine").ravel()
    sels = [("forward_selection", 4), ("highest_weights", 4), ("none", 4), ("auto", 4),
            ("auto", 8), ("lasso_path", 4)]
    case("binary", z, y, d, 0.25, sels)


if __name__ == "__main__":
    main()
