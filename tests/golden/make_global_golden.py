"""Goldens for the global chapter, from PyTorch on the same weights:

* mnist-vae (lamppost_torch.MnistVae, seeded init): the two terms of -ELBO
  (sum-over-pixels BCE and KL, each averaged over the batch) for 8 MNIST test digits
  and a given eps;
* FGSM (eps = 0.1, cross-entropy of the true label) against a seeded mnist-cnn on the
  same digits, pixels in [0, 1] read through MNIST's normalization.

Writes tests/golden/global/{vae,cnn,golden}.safetensors; tests/global.rs reads them.
Run from the repository root: python3 tests/golden/make_global_golden.py
(torch 2.15, safetensors, numpy). Not needed at test time.
"""
import gzip
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(__file__))
from lamppost_torch import MnistCnn, MnistVae  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "global")
torch.manual_seed(14)
raw = gzip.open("datasets/mnist/t10k-images-idx3-ubyte.gz").read()
lab = gzip.open("datasets/mnist/t10k-labels-idx1-ubyte.gz").read()
x = torch.tensor(np.frombuffer(raw[16:], dtype=np.uint8).reshape(-1, 1, 28, 28)[:8] / 255.0,
                 dtype=torch.float32)
y = torch.tensor(np.frombuffer(lab[8:], dtype=np.uint8)[:8].astype(np.int64))

vae = MnistVae()
eps = torch.randn(8, 16)
logits, mu, logvar = vae(x, eps=eps)
recon = F.binary_cross_entropy_with_logits(logits, x.flatten(1), reduction="sum") / 8
kl = -0.5 * torch.sum(1 + logvar - mu ** 2 - logvar.exp()) / 8
save_file({k: v.contiguous() for k, v in vae.state_dict().items()},
          os.path.join(OUT, "vae.safetensors"), metadata={"arch": "mnist-vae"})

cnn = MnistCnn()
save_file({k: v.contiguous() for k, v in cnn.state_dict().items()},
          os.path.join(OUT, "cnn.safetensors"), metadata={"arch": "mnist-cnn"})
p = x.clone().requires_grad_(True)
F.cross_entropy(cnn((p - 0.1307) / 0.3081), y).backward()
fgsm = (x + 0.1 * p.grad.sign()).clamp(0, 1)

save_file({
    "x": x, "y": y.float(), "eps": eps,
    "recon": recon.detach().reshape(1), "kl": kl.detach().reshape(1),
    "fgsm": fgsm.detach(),
}, os.path.join(OUT, "golden.safetensors"),
    metadata={"producer": f"torch {torch.__version__}", "script": "tests/golden/make_global_golden.py"})
print("recon", recon.item(), "kl", kl.item())
