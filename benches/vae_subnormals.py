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
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "golden"))
from lamppost_torch import MnistVae  # noqa: E402

TINY = torch.finfo(torch.float32).tiny


def subnormal(t):
    return int(((t != 0) & (t.abs() < TINY)).sum())


def main():
    torch.set_num_threads(2)
    torch.manual_seed(0)
    m = MnistVae()
    opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
    x, eps = torch.rand(64, 784), torch.randn(64, m.latent)
    for it in range(3000):
        start = time.perf_counter()
        opt.zero_grad()
        logits, mu, logvar = m(x, eps)
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
        kl = -0.5 * (1 + logvar - mu * mu - logvar.exp()).sum() / x.shape[0]
        (recon + kl).backward()
        opt.step()
        took = time.perf_counter() - start
        if it % 500 == 0 or it == 2999:
            bufs = [opt.state[p]["momentum_buffer"] for p in m.parameters()]
            zeros = sum(int((p.grad == 0).sum()) for p in m.parameters())
            print(f"step {it}: {took * 1e3:.2f} ms, {sum(subnormal(b) for b in bufs)} "
                  f"subnormal momentum values, {zeros} zero gradients")


if __name__ == "__main__":
    main()
