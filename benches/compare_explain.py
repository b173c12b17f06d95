"""`lamppost explain` as a user runs it, beside Captum on the same weights and digits.

    pip install torch captum safetensors numpy
    cargo build --release
    python3 benches/compare_explain.py [--batches 1,64] [--repeats 5] [--pictures grid]

For each method and batch size (the first N MNIST test digits, mnist-cnn's golden weights):
- Captum: the attribution call on the whole batch in one go (`internal_batch_size` and
  `nt_samples_batch_size` left at None, i.e. every row in one pass; occlusion with
  `perturbations_per_eval=1`, Captum's default), model already in memory, best of
  `--repeats` after one warm-up call;
- lamppost: the whole `lamppost explain` process (start, read the model and inputs,
  explain, write the safetensors and the pictures), best of `--repeats` runs after one
  warm-up run (best-of on both sides: this machine's noise only ever adds time).
The ratio is Captum's time over lamppost's: above 1 means lamppost is faster.
Both sides use 2 threads. Prints a Markdown table (the README quotes it).
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
from captum.attr import (Deconvolution, GuidedBackprop, GuidedGradCam, InputXGradient,
                         IntegratedGradients, LayerGradCam, NoiseTunnel, Occlusion, Saliency)
from safetensors.torch import load_file, save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "golden"))
from lamppost_torch import MnistCnn  # noqa: E402

torch.set_num_threads(2)
MODEL = os.path.join(ROOT, "tests", "golden", "models", "mnist-cnn.safetensors")
BIN = os.path.join(ROOT, "target", "release", "lamppost")


def digits(n):
    """The first n MNIST test digits, normalized as lamppost does."""
    with gzip.open(os.path.join(ROOT, "datasets", "mnist", "t10k-images-idx3-ubyte.gz")) as f:
        raw = np.frombuffer(f.read(), np.uint8, offset=16)[: n * 784]
    x = (raw.astype(np.float32) / np.float32(255.0) - np.float32(0.1307)) / np.float32(0.3081)
    return torch.from_numpy(x.reshape(n, 1, 28, 28).copy())


def captum_calls(m, x, target):
    sigma = float(0.15 * (x.max() - x.min()))
    return {
        "saliency": lambda: Saliency(m).attribute(x, target=target, abs=False),
        "grad-x-input": lambda: InputXGradient(m).attribute(x, target=target),
        "integrated-gradients": lambda: IntegratedGradients(m).attribute(
            x, target=target, n_steps=50, method="gausslegendre"),
        "smoothgrad": lambda: NoiseTunnel(Saliency(m)).attribute(
            x, nt_type="smoothgrad", nt_samples=50, stdevs=sigma, target=target, abs=False),
        "guided-backprop": lambda: GuidedBackprop(m).attribute(x, target=target),
        "deconvnet": lambda: Deconvolution(m).attribute(x, target=target),
        "occlusion": lambda: Occlusion(m).attribute(
            x, sliding_window_shapes=(1, 4, 4), strides=(1, 2, 2), target=target),
        "grad-cam": lambda: LayerGradCam(m, m.conv2).attribute(x, target=target),
        "guided-grad-cam": lambda: GuidedGradCam(m, m.conv2).attribute(x, target=target),
    }


# lamppost's options for the same work (its defaults already match: 50 Gauss–Legendre
# steps, 50 noisy copies at σ = 0.15 of the range, a 4×4 window with stride 2).
OPTIONS = {
    "integrated-gradients": ["--steps", "50", "--rule", "gauss-legendre"],
    "smoothgrad": ["--samples", "50", "--sigma", "0.15"],
    "occlusion": ["--window", "4", "--stride", "2"],
}


def best_of(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def lamppost_process(method, inputs, out, repeats, pictures):
    cmd = [BIN, "explain", method, "--model", MODEL, "--input", inputs, "--out", out,
           "--force", "--target", "1"] + OPTIONS.get(method, [])
    if pictures:
        cmd += ["--pictures", pictures]
    env = dict(os.environ, RAYON_NUM_THREADS="2")
    times = []
    for _ in range(repeats + 1):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return min(times[1:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", default="1,64")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--methods", default=None, help="comma-separated subset")
    ap.add_argument("--pictures", default=None,
                    help="passed to lamppost explain --pictures (default: its own default)")
    args = ap.parse_args()
    m = MnistCnn().eval()
    m.load_state_dict(load_file(MODEL))
    batches = [int(b) for b in args.batches.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in batches:
            x = digits(n)
            inputs = os.path.join(tmp, f"x{n}.safetensors")
            save_file({"x": x.contiguous()}, inputs)
            calls = captum_calls(m, x, 1)
            methods = args.methods.split(",") if args.methods else list(calls)
            for method in methods:
                c = best_of(calls[method], args.repeats)
                ours = lamppost_process(method, inputs, os.path.join(tmp, "out"), args.repeats, args.pictures)
                rows.append((method, n, c, ours))
                print(f"{method:22} batch {n:3}: captum {c * 1e3:8.1f} ms   lamppost {ours * 1e3:8.1f} ms   "
                      f"{c / ours:5.2f}x", file=sys.stderr, flush=True)
    print("| method | batch | Captum call | `lamppost explain` process | ratio | lamppost per digit |")
    print("|---|---:|---:|---:|---:|---:|")
    for method, n, c, ours in rows:
        print(f"| {method} | {n} | {c * 1e3:.1f} ms | {ours * 1e3:.1f} ms | {c / ours:.2f}× | {ours * 1e3 / n:.2f} ms |")


if __name__ == "__main__":
    main()
