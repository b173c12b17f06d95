"""PyTorch side of the training-memory comparison: the loop `lamppost train mnist-cnn
--epochs 1` runs (full MNIST as float32 tensors, batch 64, Adam 4e-3, shuffled each
epoch, then test accuracy), 2 threads. Compare peak memory with

    /usr/bin/time -v python3 benches/pytorch_train_mnist.py
    /usr/bin/time -v target/release/lamppost train mnist-cnn --epochs 1 --out /tmp/m.safetensors

("Maximum resident set size").
"""
import gzip
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "golden"))
from lamppost_torch import MnistCnn  # noqa: E402

torch.set_num_threads(2)
D = os.path.join(os.path.dirname(__file__), "..", "datasets", "mnist")


def idx(name, offset):
    with gzip.open(os.path.join(D, name + ".gz")) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def images(name):
    x = idx(name, 16).reshape(-1, 1, 28, 28).astype(np.float32) / 255.0
    return torch.from_numpy((x - 0.1307) / 0.3081)


def main():
    xtr, ytr = images("train-images-idx3-ubyte"), torch.from_numpy(idx("train-labels-idx1-ubyte", 8).astype(np.int64))
    xte, yte = images("t10k-images-idx3-ubyte"), torch.from_numpy(idx("t10k-labels-idx1-ubyte", 8).astype(np.int64))
    torch.manual_seed(0)
    m = MnistCnn()
    opt = torch.optim.Adam(m.parameters(), lr=4e-3)
    start = time.perf_counter()
    perm = torch.randperm(len(xtr))
    for i in range(0, len(xtr), 64):
        b = perm[i:i + 64]
        opt.zero_grad()
        F.cross_entropy(m(xtr[b]), ytr[b]).backward()
        opt.step()
    with torch.no_grad():
        acc = sum((m(xte[i:i + 256]).argmax(1) == yte[i:i + 256]).sum().item() for i in range(0, len(xte), 256))
    print(f"1 epoch in {time.perf_counter() - start:.1f} s, test accuracy {acc / len(xte):.2%}")


if __name__ == "__main__":
    main()
