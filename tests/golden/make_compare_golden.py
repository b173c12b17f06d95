"""Captum outputs with a known convention difference planted, for tests/compare.rs (run
once; Python is never needed at test time).

    pip install torch captum safetensors
    python3 tests/golden/make_compare_golden.py

Same fixed weights, inputs and targets as make_captum_golden.py. The file holds
LayerGradCam at the *pre-ReLU* convolution output of mnist-gap (`conv3`, where lamppost's
default is `conv3.relu`) with relu_attributions=True, and Captum's occlusion computed in
float32; the other planted differences use
the committed Captum and pytorch-grad-cam goldens (IG's riemann_trapezoid rule, Grad-CAM
with its ReLU off, Saliency's abs=True, float32 rounding done in the test).
"""
import os

import torch
from captum.attr import LayerGradCam, Occlusion
from safetensors.torch import save_file

from make_captum_golden import HERE, MnistGapR, load_reference


def main():
    out = os.path.join(HERE, "compare")
    os.makedirs(out, exist_ok=True)
    m, x = load_reference("mnist-gap", MnistGapR)
    target = torch.tensor([1, 3, 7])
    t = {"grad_cam_conv3_pre_relu": LayerGradCam(m, m.conv3).attribute(x, target=target, relu_attributions=True)}
    # the same occlusion as the Captum golden, computed in float32
    m32, x32 = load_reference("mnist-gap", MnistGapR, torch.float32)
    t["occlusion_float32"] = Occlusion(m32).attribute(x32, sliding_window_shapes=(1, 4, 4), strides=(1, 2, 2),
                                                      baselines=0.0, target=target)
    save_file({k: v.detach().contiguous().double() for k, v in t.items()}, os.path.join(out, "mnist-gap.safetensors"),
              metadata={"planted": "grad_cam_conv3_pre_relu: LayerGradCam at conv3 (pre-ReLU), relu_attributions=True; "
                                   "occlusion_float32: Occlusion (1,4,4)/(1,2,2) in float32"})
    print("compare golden file written")


if __name__ == "__main__":
    main()
