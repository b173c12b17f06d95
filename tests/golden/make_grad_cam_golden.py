"""pytorch-grad-cam's raw CAM maps on the reference models, for tests/grad_cam_package.rs
(run once; Python is never needed at test time).

    pip install torch grad-cam safetensors
    python3 tests/golden/make_grad_cam_golden.py

Same fixed weights and inputs as the Captum goldens (tests/golden/models/), float64, the
target layer the last convolution's ReLU module (MnistCnnR.r2, MnistGapR.r3; lamppost's
`conv2.relu`, `conv3.relu`) and targets [1, 3, 7] as ClassifierOutputTarget (logits).
For each variant we store the raw map before pytorch-grad-cam's ReLU and scaling
(`get_cam_image`), the map after its ReLU, and its final output (ReLU, min-max scaled,
resized to the input), computed by the package's own BaseCAM.forward.
"""
import os

import numpy as np
import torch
from pytorch_grad_cam import AblationCAM, EigenCAM, GradCAM, GradCAMPlusPlus, HiResCAM, LayerCAM, XGradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from safetensors.torch import save_file

from make_captum_golden import HERE, REFERENCE, load_reference

VARIANTS = {
    "grad-cam": GradCAM,
    "grad-cam++": GradCAMPlusPlus,
    "xgrad-cam": XGradCAM,
    "hires-cam": HiResCAM,
    "layer-cam": LayerCAM,
    "eigen-cam": EigenCAM,
    "ablation-cam": AblationCAM,
}


def raw_maps(cam, x, targets):
    """get_cam_image on the package's own activations and gradients (before ReLU)."""
    outputs = cam.activations_and_grads(x)
    if cam.uses_gradients:
        cam.model.zero_grad()
        loss = sum([t(o) for t, o in zip(targets, outputs)])
        loss.backward(retain_graph=True)
    acts = cam.activations_and_grads.activations[0].cpu().data.numpy()
    grads = cam.activations_and_grads.gradients[0].cpu().data.numpy() if cam.uses_gradients else None
    return cam.get_cam_image(x, cam.target_layers[0], targets, acts, grads, False)


def main():
    out = os.path.join(HERE, "grad_cam")
    os.makedirs(out, exist_ok=True)
    for stem, ctor, layer in REFERENCE:
        m, x = load_reference(stem, ctor)
        targets = [ClassifierOutputTarget(c) for c in [1, 3, 7]]
        t = {"x": x, "target": torch.tensor([1.0, 3.0, 7.0])}
        for name, ctor_cam in VARIANTS.items():
            with ctor_cam(model=m, target_layers=[getattr(m, layer)]) as cam:
                raw = np.asarray(raw_maps(cam, x, targets), dtype=np.float64)
                final = cam(input_tensor=x, targets=targets)
            t[f"{name}/raw"] = torch.from_numpy(raw)
            t[f"{name}/relu"] = torch.from_numpy(np.maximum(raw, 0))
            t[f"{name}/output"] = torch.from_numpy(np.asarray(final, dtype=np.float64))
        save_file({k: v.detach().contiguous().double() for k, v in t.items()}, os.path.join(out, f"{stem}.safetensors"),
                  metadata={"layer": {"r2": "conv2.relu", "r3": "conv3.relu"}[layer], "package": "grad-cam 1.5.7",
                            "targets": "[1, 3, 7] ClassifierOutputTarget (logits)"})
    print("grad-cam golden files written")


if __name__ == "__main__":
    main()
