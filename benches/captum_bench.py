"""Captum and lime side of `cargo bench --bench explain` (2 threads, same models).

    pip install torch captum lime scikit-image safetensors
    python3 benches/captum_bench.py
"""
import os
import sys
import time

import numpy as np
import torch
from captum.attr import IntegratedGradients, LayerGradCam, NoiseTunnel, Occlusion, Saliency
from safetensors.torch import load_file

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "golden"))
from lamppost_torch import MnistCnn, PokedigiGap  # noqa: E402

torch.set_num_threads(2)
G = os.path.join(os.path.dirname(__file__), "..", "tests", "golden", "models")


def timeit(fn, min_time=2.0):
    fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < min_time:
        fn()
        n += 1
    return (time.perf_counter() - start) / n


def main():
    m = MnistCnn().eval()
    m.load_state_dict(load_file(f"{G}/mnist-cnn.safetensors"))
    x = load_file(f"{G}/mnist-cnn_io.safetensors")["x"][:1]
    res = {
        "integrated-gradients (50, gausslegendre)": lambda: IntegratedGradients(m).attribute(x, target=1, n_steps=50, method="gausslegendre"),
        "smoothgrad (50, sigma 0.15 of range)": lambda: NoiseTunnel(Saliency(m)).attribute(
            x, nt_type="smoothgrad", nt_samples=50, stdevs=float(0.15 * (x.max() - x.min())), target=1, abs=False),
        "occlusion (4x4, stride 2)": lambda: Occlusion(m).attribute(x, sliding_window_shapes=(1, 4, 4), strides=(1, 2, 2), target=1),
        "grad-cam (conv2)": lambda: LayerGradCam(m, m.conv2).attribute(x, target=1),
    }
    for name, fn in res.items():
        print(f"captum {name}: {timeit(fn) * 1e3:.2f} ms/image")
    from lime import lime_image
    from skimage.segmentation import quickshift, slic
    p = PokedigiGap().eval()
    p.load_state_dict(load_file(f"{G}/pokedigi-gap.safetensors"))
    # a smooth test picture: red/green gradients and a blue disc (same formula as the Rust side)
    img = np.array([[[xx / 64.0, y / 64.0, 0.9 if ((y - 32) ** 2 + (xx - 32) ** 2) ** 0.5 < 15 else 0.2]
                     for xx in range(64)] for y in range(64)])

    def classifier(batch):
        with torch.no_grad():
            t = torch.tensor(batch, dtype=torch.float32).permute(0, 3, 1, 2)
            return torch.softmax(p(t), 1).numpy()

    print(f"skimage slic (100): {timeit(lambda: slic(img, n_segments=100, compactness=10, start_label=0)) * 1e3:.2f} ms")
    print(f"skimage quickshift (4, 200, 0.2): {timeit(lambda: quickshift(img, kernel_size=4, max_dist=200, ratio=0.2)) * 1e3:.2f} ms")
    exp = lime_image.LimeImageExplainer(random_state=0)
    t = timeit(lambda: exp.explain_instance(img, classifier, labels=(0,), top_labels=None, num_samples=1000), 4.0)
    print(f"lime explain_instance (1000 samples, quickshift): {t * 1e3:.1f} ms")
    # LIME's own work with a model whose forward pass costs nothing (as on the Rust side)
    tiny = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(3, 2)).eval()

    def tiny_classifier(batch):
        with torch.no_grad():
            t = torch.tensor(batch, dtype=torch.float32).permute(0, 3, 1, 2)
            return torch.softmax(tiny(t), 1).numpy()

    t = timeit(lambda: exp.explain_instance(img, tiny_classifier, labels=(0,), top_labels=None, num_samples=1000), 4.0)
    print(f"lime explain_instance (1000 samples, quickshift, tiny model): {t * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
