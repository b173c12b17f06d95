"""PyTorch CPU side of `cargo bench --bench engine`: same shapes, 2 threads.

    python3 benches/pytorch_bench.py

Prints images per second (training step with SGD+momentum at batch 64, inference at
batch 256) for each reference architecture, plus GEMM and conv2d timings.
"""
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "golden"))
from lamppost_torch import ARCHS  # noqa: E402

torch.set_num_threads(2)


def timeit(fn, min_time=3.0):
    for _ in range(5):
        fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < min_time:
        fn()
        n += 1
    return (time.perf_counter() - start) / n


def main():
    for n in (128, 512):
        a, b = torch.full((n, n), 0.5), torch.full((n, n), 0.25)
        t = timeit(lambda: a @ b)
        print(f"gemm/{n}: {t * 1e6:.1f} us ({2 * n ** 3 / t / 1e9:.2f} GFLOP/s)")
    x = torch.randn(64, 8, 14, 14)
    w = (0.1 * torch.randn(16, 8, 3, 3))
    b = torch.zeros(16)
    print(f"conv2d_64x8x14x14_to_16/forward: {timeit(lambda: F.conv2d(x, w, b, padding=1)) * 1e6:.1f} us")
    xg, wg, bg = x.clone().requires_grad_(), w.clone().requires_grad_(), b.clone().requires_grad_()

    def fb():
        F.conv2d(xg, wg, bg, padding=1).sum().backward()

    print(f"conv2d_64x8x14x14_to_16/forward_backward: {timeit(fb) * 1e6:.1f} us")
    for arch, (ctor, shape) in ARCHS.items():
        if arch.startswith("seq:"):
            continue
        torch.manual_seed(0)
        m = ctor()
        opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
        x = torch.randn(64, *shape)
        y = torch.arange(64) % m(x[:1]).shape[1]

        def step():
            opt.zero_grad()
            F.cross_entropy(m(x), y).backward()
            opt.step()

        t = timeit(step)
        xi = torch.randn(256, *shape)

        def infer():
            with torch.no_grad():
                m(xi)

        ti = timeit(infer)
        print(f"{arch}: train_step_b64 {64 / t:.0f} img/s ({t * 1e3:.2f} ms), inference_b256 {256 / ti:.0f} img/s ({ti * 1e3:.2f} ms)")


if __name__ == "__main__":
    main()
