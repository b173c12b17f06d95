"""Why benches/pytorch_bench.py and benches/engine.rs time every training step from the
state after one step: stepping mnist-vae over one batch again and again (as a timing loop
does) leaves subnormal momentum values in PyTorch too, and its step slows down.

    python3 benches/vae_subnormals.py

Prints, every 500 steps, the time of that step, the number of subnormal momentum values
and the number of parameters whose gradient is exactly zero (dead units).
"""

import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from pytorch_bench import vae_training  # noqa: E402

TINY = torch.finfo(torch.float32).tiny


def subnormal(t):
    return int(((t != 0) & (t.abs() < TINY)).sum())


def main():
    torch.set_num_threads(2)
    m, opt, step = vae_training()
    for it in range(3000):
        start = time.perf_counter()
        step()
        took = time.perf_counter() - start
        if it % 500 == 0 or it == 2999:
            bufs = [opt.state[p]["momentum_buffer"] for p in m.parameters()]
            zeros = sum(int((p.grad == 0).sum()) for p in m.parameters())
            print(f"step {it}: {took * 1e3:.2f} ms, {sum(subnormal(b) for b in bufs)} "
                  f"subnormal momentum values, {zeros} zero gradients")


if __name__ == "__main__":
    main()
