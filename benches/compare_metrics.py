"""Evaluation metrics beside Quantus and Captum on the same work (issue 16's timing goal).

    pip install torch captum quantus safetensors numpy
    cargo build --release --examples
    python3 benches/compare_metrics.py [--n 100] [--repeats 3]

1. Trains mnist-cnn on the first 5000 MNIST training digits for one epoch with
   `lamppost train` (in a temporary folder), and saves the first `--n` test digits with
   the model's classes as targets.
2. lamppost: `examples/metrics_compute` on those weights and digits, in memory (no
   process start or files): Quantus' PixelFlipping and MPRT work, and Captum's
   infidelity and sensitivity_max work (see that file for the settings).
3. Python, same weights (`tests/golden/lamppost_torch.py::MnistCnn`, float32, 2 threads),
   same digits and saliency maps, in memory:
   - `quantus.PixelFlipping(features_in_step=28, perturb_baseline=0.0, normalise=False,
     abs=False)`, softmax, the whole batch at once;
   - `quantus.MPRT(layer_order="top_down")` with Captum's `Saliency` as `explain_func`,
     the whole batch at once;
   - `captum.metrics.infidelity` with 10 Gaussian perturbations (σ 0.1) per digit;
   - `captum.metrics.sensitivity_max` with `Saliency`, radius 0.02, 10 draws.
4. Prints a Markdown table: best of `--repeats` per side, ratio = theirs / ours (above 1:
   lamppost is faster).
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import torch
from captum.attr import Saliency
from captum.metrics import infidelity, sensitivity_max
from safetensors.torch import load_file, save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "golden"))
from lamppost_torch import MnistCnn  # noqa: E402

torch.set_num_threads(2)
BIN = os.path.join(ROOT, "target", "release", "lamppost")
EXAMPLE = os.path.join(ROOT, "target", "release", "examples", "metrics_compute")
MNIST = os.path.join(ROOT, "datasets", "mnist")


def test_digits(n):
    """The first n test digits, normalized as lamppost does."""
    with gzip.open(os.path.join(MNIST, "t10k-images-idx3-ubyte.gz")) as f:
        raw = np.frombuffer(f.read(), np.uint8, offset=16)[: n * 784]
    x = (raw.astype(np.float32) / np.float32(255.0) - np.float32(0.1307)) / np.float32(0.3081)
    return torch.from_numpy(x.reshape(n, 1, 28, 28).copy())


def best(repeats, f):
    f()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1e3)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    import quantus

    with tempfile.TemporaryDirectory() as tmp:
        model_path = os.path.join(tmp, "m.safetensors")
        subprocess.run([BIN, "train", "mnist-cnn", "--limit", "5000", "--epochs", "1", "--out", model_path],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        model = MnistCnn().eval()
        model.load_state_dict(load_file(model_path), strict=True)
        x = test_digits(args.n)
        with torch.no_grad():
            target = model(x).argmax(1)
        x_path = os.path.join(tmp, "x.safetensors")
        save_file({"x": x, "target": target.float()}, x_path)
        ours = json.loads(subprocess.run([EXAMPLE, model_path, x_path, str(args.repeats)], check=True,
                                         capture_output=True, text=True).stdout)

    a = Saliency(model).attribute(x, target=target, abs=False).detach()
    xn, yn, an = x.numpy(), target.numpy(), a.numpy()

    def explain(model, inputs, targets, **kwargs):
        t = torch.as_tensor(targets)
        return Saliency(model).attribute(torch.as_tensor(inputs), target=t, abs=False).detach().numpy()

    def pixel_flipping():
        quantus.PixelFlipping(features_in_step=28, perturb_baseline=0.0, normalise=False, abs=False,
                              disable_warnings=True)(model=model, x_batch=xn, y_batch=yn, a_batch=an, softmax=True,
                                                     device="cpu", batch_size=args.n)

    def mprt():
        quantus.MPRT(layer_order="top_down", disable_warnings=True)(
            model=model, x_batch=xn, y_batch=yn, a_batch=an, explain_func=explain, device="cpu",
            batch_size=args.n)

    def perturb(inputs):
        noise = 0.1 * torch.randn_like(inputs)
        return noise, inputs - noise

    def infid():
        infidelity(model, perturb, x, a, target=target, n_perturb_samples=10)

    def sens():
        sensitivity_max(lambda inputs, target=None: Saliency(model).attribute(inputs, target=target, abs=False),
                        x, target=target, perturb_radius=0.02, n_perturb_samples=10)

    rows = [
        ("PixelFlipping (28 pixels a step)", "Quantus 0.6", best(args.repeats, pixel_flipping), ours["pixel_flipping"]),
        ("MPRT (4 layers, saliency)", "Quantus 0.6", best(args.repeats, mprt), ours["mprt"]),
        ("infidelity (10 perturbations)", f"Captum {__import__('captum').__version__}", best(args.repeats, infid),
         ours["infidelity"]),
        ("sensitivity_max (10 draws, saliency)", f"Captum {__import__('captum').__version__}",
         best(args.repeats, sens), ours["sensitivity"]),
    ]
    print(f"| metric ({args.n} digits, mnist-cnn) | anchor | anchor time | lamppost time | ratio |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name, anchor, theirs, mine in rows:
        print(f"| {name} | {anchor} | {theirs:.1f} ms | {mine:.1f} ms | {theirs / mine:.2f}× |")


if __name__ == "__main__":
    main()
