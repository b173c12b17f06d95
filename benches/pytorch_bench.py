"""PyTorch CPU side of `cargo bench --bench engine`: same shapes, 2 threads.

    python3 benches/pytorch_bench.py          # a readable list
    python3 benches/pytorch_bench.py --json   # what benches/compare.py reads

Times GEMMs (the machine's peak), conv2d at the reference layers' shapes (forward, and
forward + backward to input and weights), and per reference architecture a training step
(SGD + momentum, batch 64; every timed step starts from the state after one step, see
`from_one_step`) and inference (batch 256, no_grad, on that state). Each entry also carries
its floating-point operation count: 2 per multiply-add of the convolutions, linear
layers and GRU gates (counted with forward hooks), and 3× the forward count for a
training step or a forward + backward (backward computes two products per forward one).
"""
import copy
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "golden"))
from lamppost_torch import ARCHS, MnistLinear, MnistVae  # noqa: E402

torch.set_num_threads(2)

# (name, N, C, H, W, O): 3×3 kernels, padding 1, as every reference convolution
CONVS = [
    ("mnist-cnn.conv2", 64, 8, 14, 14, 16),
    ("mnist-gap.conv2", 64, 16, 14, 14, 32),
    ("mnist-gap.conv3", 64, 32, 7, 7, 64),
    ("pokedigi-gap.conv1", 64, 3, 64, 64, 16),
    ("pokedigi-gap.conv2", 64, 16, 32, 32, 32),
    ("pokedigi-gap.conv4", 64, 64, 8, 8, 64),
]
GEMMS = (128, 512, 1024)


def timeit(fn, min_time=3.0, setup=None):
    """Seconds per call of `fn`; with `setup`, it runs (untimed) before every call."""
    for _ in range(5):
        if setup:
            setup()
        fn()
    if setup is None:
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < min_time:
            fn()
            n += 1
        return (time.perf_counter() - start) / n
    n, spent = 0, 0.0
    while spent < min_time:
        setup()
        start = time.perf_counter()
        fn()
        spent += time.perf_counter() - start
        n += 1
    return spent / n


def from_one_step(m, opt, step):
    """Runs one step, then returns a setup that puts `m` and `opt` back into that state,
    so that every timed step starts from the same weights (as benches/engine.rs does):
    stepping on and on over one batch drives mnist-vae into subnormal momentum values
    that slow both libraries down, each as far as it had run."""
    step()
    weights = copy.deepcopy(m.state_dict())
    state = copy.deepcopy(opt.state_dict())

    def setup():
        m.load_state_dict(weights)
        # the momentum written back in place: load_state_dict(state) keeps the tensors
        # it is given, so the timed steps had updated `state` itself and each started
        # from the momentum the previous one left (mnist-vae's step 2.18–2.22 ms that
        # way, 2.25–2.31 restored, 3-second runs alternated)
        for k, st in opt.state_dict()["state"].items():
            for key, v in st.items():
                if torch.is_tensor(v):
                    v.copy_(state["state"][k][key])

    return setup


def forward_flops(model, x):
    """2 × multiply-adds of the conv, linear and GRU layers for one forward pass."""
    total = [0]

    def hook(mod, inp, out):
        if isinstance(mod, nn.Conv2d):
            k = mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1]
            total[0] += 2 * out.numel() * k
        elif isinstance(mod, nn.Linear):
            total[0] += 2 * out.numel() * mod.in_features
        elif isinstance(mod, nn.GRU):
            seq = out[0]
            n, t = seq.shape[0], seq.shape[1]
            total[0] += 2 * n * t * 3 * mod.hidden_size * (mod.input_size + mod.hidden_size)

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return total[0]


def run():
    """(name, seconds per iteration, flops per iteration) for every benchmark."""
    rows = []
    for n in GEMMS:
        a, b = torch.full((n, n), 0.5), torch.full((n, n), 0.25)
        rows.append((f"gemm/{n}", timeit(lambda: a @ b), 2 * n ** 3))
    for name, n, c, h, w, o in CONVS:
        x = torch.randn(n, c, h, w)
        wt = 0.1 * torch.randn(o, c, 3, 3)
        b = torch.zeros(o)
        flops = 2 * n * o * h * w * c * 9
        rows.append((f"conv2d/{name}/forward", timeit(lambda: F.conv2d(x, wt, b, padding=1)), flops))
        xg, wg, bg = x.clone().requires_grad_(), wt.clone().requires_grad_(), b.clone().requires_grad_()

        def fb():
            F.conv2d(xg, wg, bg, padding=1).sum().backward()

        rows.append((f"conv2d/{name}/forward_backward", timeit(fb), 3 * flops))
    archs = {k: v for k, v in ARCHS.items() if not k.startswith("seq:")}
    archs["mnist-linear"] = (MnistLinear, (1, 28, 28))
    for arch, (ctor, shape) in archs.items():
        torch.manual_seed(0)
        m = ctor()
        opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
        x = torch.randn(64, *shape)
        y = torch.arange(64) % m(x[:1]).shape[1]

        def step():
            opt.zero_grad()
            F.cross_entropy(m(x), y).backward()
            opt.step()

        setup = from_one_step(m, opt, step)
        rows.append((f"{arch}/train_step_b64", timeit(step, setup=setup), 3 * forward_flops(m, x)))
        setup()
        xi = torch.randn(256, *shape)

        def infer():
            with torch.no_grad():
                m(xi)

        rows.append((f"{arch}/inference_b256", timeit(infer), forward_flops(m, xi)))
    rows += vae_rows()
    return rows


def vae_training():
    """mnist-vae, its optimizer and a training step on −ELBO (per-example summed BCE plus
    KL, each a batch mean; SGD + momentum; batch 64 of uniform pictures, fixed noise)."""
    torch.manual_seed(0)
    m = MnistVae()
    opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
    x, eps = torch.rand(64, 784), torch.randn(64, m.latent)

    def step():
        opt.zero_grad()
        logits, mu, logvar = m(x, eps)
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
        kl = -0.5 * (1 + logvar - mu * mu - logvar.exp()).sum() / x.shape[0]
        (recon + kl).backward()
        opt.step()

    return m, opt, step


def vae_rows():
    """mnist-vae as benches/engine.rs times it: a step on −ELBO (per-example summed BCE
    plus KL, each a batch mean; SGD + momentum; batch 64, fixed noise), the same step eight
    times one after the other (time per step), and reconstruction of 256 pictures
    (encoder → μ → decoder → sigmoid)."""
    m, opt, step = vae_training()
    setup = from_one_step(m, opt, step)
    step_time = timeit(step, setup=setup)

    def eight():
        # eight steps one after the other from the same state, as a training loop runs them
        for _ in range(8):
            step()

    eight_time = timeit(eight, setup=setup) / 8
    setup()
    xi = torch.rand(256, 784)

    def infer():
        with torch.no_grad():
            mu = m.encoder.fc2(F.relu(m.encoder.fc1(xi)))[:, : m.latent]
            torch.sigmoid(m.decode(mu))

    flops = lambda n: forward_flops(m, torch.rand(n, 784))  # noqa: E731
    # reconstruction runs the same four linear layers as the forward pass
    return [("mnist-vae/train_step_b64", step_time, 3 * flops(64)),
            ("mnist-vae/train_8_steps_b64", eight_time, 3 * flops(64)),
            ("mnist-vae/inference_b256", timeit(infer), flops(256))]


def main():
    rows = run()
    if "--json" in sys.argv:
        print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                          "benches": {n: {"seconds": t, "flops": f} for n, t, f in rows}}))
        return
    for name, t, f in rows:
        print(f"{name}: {t * 1e3:.3f} ms ({f / t / 1e9:.1f} GFLOP/s)")


if __name__ == "__main__":
    main()
