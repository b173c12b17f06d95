"""`lamppost data tracin` as a user runs it, beside Captum's `TracInCP` on the same
checkpoints, training and test digits (issue 15's performance goal).

    pip install torch captum safetensors numpy
    cargo build --release
    python3 benches/compare_tracin.py [--train-n 10000] [--test-n 1000] [--batch 500]

1. Trains mnist-cnn on the first `--train-n` MNIST training digits for 2 epochs with
   `lamppost train --record --checkpoints 2` (in a temporary folder).
2. lamppost: the whole `lamppost data tracin --params all --test-index 0-(N-1)` process
   (start, read the model, record, checkpoints and data, per-example gradients at both
   checkpoints, the `[test, train]` matrix, self-influence, the CSV, safetensors and
   picture), timed by the wall clock.
3. Captum: `TracInCP(model, train, checkpoints, loss_fn=CrossEntropyLoss(reduction="sum"),
   batch_size=--batch, sample_wise_grads_per_batch=True).influence((x, y))` on the same
   checkpoints (each with the learning rate lamppost recorded), model and data already in
   memory, float32 (Captum's and PyTorch's default), 2 threads; then `self_influence()`,
   which lamppost's command also computes.
4. Prints both times, the ratio (Captum / lamppost: above 1 means lamppost is faster) and
   the largest difference between the two matrices relative to its largest entry.
"""
import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from captum.influence import TracInCP
from safetensors import safe_open
from safetensors.torch import load_file
from torch.utils.data import TensorDataset

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "golden"))
from lamppost_torch import MnistCnn  # noqa: E402

torch.set_num_threads(2)
BIN = os.path.join(ROOT, "target", "release", "lamppost")
MNIST = os.path.join(ROOT, "datasets", "mnist")


def idx(name, n, item):
    with gzip.open(os.path.join(MNIST, name)) as f:
        offset = 16 if item > 1 else 8
        return np.frombuffer(f.read(), np.uint8, offset=offset)[: n * item]


def digits(prefix, n):
    """The first n digits of a split, normalized as lamppost does, and their labels."""
    raw = idx(f"{prefix}-images-idx3-ubyte.gz", n, 784)
    x = (raw.astype(np.float32) / np.float32(255.0) - np.float32(0.1307)) / np.float32(0.3081)
    y = idx(f"{prefix}-labels-idx1-ubyte.gz", n, 1).astype(np.int64)
    return torch.from_numpy(x.reshape(n, 1, 28, 28).copy()), torch.from_numpy(y.copy())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-n", type=int, default=10000)
    ap.add_argument("--test-n", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=500)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp()
    model_path = os.path.join(tmp, "net.safetensors")
    subprocess.run([BIN, "train", "mnist-cnn", "--data", MNIST, "--limit", str(a.train_n),
                    "--epochs", "2", "--record", "--checkpoints", "2", "--out", model_path],
                   check=True, capture_output=True)
    out = os.path.join(tmp, "tracin")
    t0 = time.perf_counter()
    subprocess.run([BIN, "data", "tracin", "--model", model_path, "--params", "all",
                    "--test-index", f"0-{a.test_n - 1}", "--out", out],
                   check=True, capture_output=True)
    ours_s = time.perf_counter() - t0
    ours = load_file(os.path.join(out, "results.safetensors"))["scores"].numpy()

    with safe_open(model_path.replace(".safetensors", ".record.safetensors"), "pt") as f:
        ckpts = [c.split(":") for c in f.metadata()["checkpoints"].split(";")]
    paths = [os.path.join(tmp, c[2]) for c in ckpts]
    lrs = {p: float(c[1]) for p, c in zip(paths, ckpts)}

    def load(net, path):
        net.load_state_dict(load_file(path), strict=True)
        return lrs[path]

    x, y = digits("train", a.train_n)
    xt, yt = digits("t10k", a.test_n)
    model = MnistCnn()
    t0 = time.perf_counter()
    tr = TracInCP(model, TensorDataset(x, y), paths, checkpoints_load_func=load,
                  loss_fn=torch.nn.CrossEntropyLoss(reduction="sum"), batch_size=a.batch,
                  sample_wise_grads_per_batch=True)
    theirs = tr.influence((xt, yt), show_progress=False).numpy()
    matrix_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    tr.self_influence(show_progress=False)
    self_s = time.perf_counter() - t0
    rel = np.abs(theirs - ours).max() / np.abs(ours).max()
    print(f"| TracInCP, mnist-cnn, 2 checkpoints, {a.test_n} test × {a.train_n} train "
          f"| Captum {matrix_s:.1f} s (+ self-influence {self_s:.1f} s) "
          f"| `lamppost data tracin` process {ours_s:.1f} s "
          f"| ratio {(matrix_s + self_s) / ours_s:.2f}× (matrix only {matrix_s / ours_s:.2f}×) "
          f"| max |difference| / max |score| {rel:.1e} |")


if __name__ == "__main__":
    main()
