"""Captum's attributions on the reference models, for tests/captum.rs (run once;
Python is never needed at test time).

    pip install torch captum safetensors
    python3 tests/golden/make_captum_golden.py

Uses the fixed weights and inputs of tests/golden/models/, in float64. Guided backprop and
deconvolution in Captum only replace the backward of nn.ReLU modules, so the models
are rebuilt here with ReLU modules (same parameter names, same functions).
"""
import os

import torch
import torch.nn as nn
from captum.attr import (Deconvolution, GuidedBackprop, GuidedGradCam, InputXGradient, IntegratedGradients,
                         LayerGradCam, Occlusion, Saliency)
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))


class MnistCnnR(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 8, 3, padding=1), nn.Conv2d(8, 16, 3, padding=1)
        self.fc1, self.fc2 = nn.Linear(784, 64), nn.Linear(64, 10)
        self.r1, self.r2, self.r3 = nn.ReLU(), nn.ReLU(), nn.ReLU()
        self.p1, self.p2 = nn.MaxPool2d(2), nn.MaxPool2d(2)

    def forward(self, x):
        x = self.p1(self.r1(self.conv1(x)))
        x = self.p2(self.r2(self.conv2(x)))
        return self.fc2(self.r3(self.fc1(x.flatten(1))))


class MnistGapR(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2, self.conv3 = nn.Conv2d(1, 16, 3, padding=1), nn.Conv2d(16, 32, 3, padding=1), nn.Conv2d(32, 64, 3, padding=1)
        self.fc = nn.Linear(64, 10)
        self.r1, self.r2, self.r3 = nn.ReLU(), nn.ReLU(), nn.ReLU()
        self.p1, self.p2 = nn.MaxPool2d(2), nn.MaxPool2d(2)

    def forward(self, x):
        x = self.p1(self.r1(self.conv1(x)))
        x = self.p2(self.r2(self.conv2(x)))
        return self.fc(self.r3(self.conv3(x)).mean((2, 3)))


REFERENCE = [("mnist-cnn", MnistCnnR, "r2"), ("mnist-gap", MnistGapR, "r3")]


def load_reference(stem, ctor, dtype=torch.float64):
    """The fixed weights of tests/golden/models/ in a ReLU-module model, and the inputs."""
    m = ctor().eval().to(dtype)
    weights = load_file(os.path.join(HERE, "models", f"{stem}.safetensors"))
    m.load_state_dict({k: v.to(dtype) for k, v in weights.items()}, strict=True)
    x = load_file(os.path.join(HERE, "models", f"{stem}_io.safetensors"))["x"].to(dtype)
    return m, x


def main():
    out = os.path.join(HERE, "captum")
    os.makedirs(out, exist_ok=True)
    for stem, ctor, layer in REFERENCE:
        # float64 throughout, so the comparison tests the methods, not float32 rounding
        m, x = load_reference(stem, ctor)
        target = torch.tensor([1, 3, 7])
        t = {"x": x, "target": target.float()}
        t["saliency_abs"] = Saliency(m).attribute(x, target=target, abs=True)
        t["saliency_signed"] = Saliency(m).attribute(x, target=target, abs=False)
        t["input_x_gradient"] = InputXGradient(m).attribute(x, target=target)
        for method in ["riemann_trapezoid", "gausslegendre"]:
            a, d = IntegratedGradients(m).attribute(x, baselines=0.0, target=target, n_steps=50, method=method,
                                                    return_convergence_delta=True)
            t[f"ig_{method}"], t[f"ig_{method}_delta"] = a, d
        t["occlusion"] = Occlusion(m).attribute(x, sliding_window_shapes=(1, 4, 4), strides=(1, 2, 2), baselines=0.0, target=target)
        t["guided_backprop"] = GuidedBackprop(m).attribute(x, target=target)
        t["deconvolution"] = Deconvolution(m).attribute(x, target=target)
        t["layer_grad_cam"] = LayerGradCam(m, getattr(m, layer)).attribute(x, target=target)
        t["guided_grad_cam"] = GuidedGradCam(m, getattr(m, layer)).attribute(x, target=target)
        save_file({k: v.detach().contiguous().double() for k, v in t.items()}, os.path.join(out, f"{stem}.safetensors"),
                  metadata={"layer": {"r2": "conv2.relu", "r3": "conv3.relu"}[layer], "n_steps": "50",
                            "occlusion": "window (1,4,4) strides (1,2,2) baseline 0"})
    print("captum golden files written")


if __name__ == "__main__":
    main()
