"""Generates the PyTorch golden files under tests/golden/ (run once; PyTorch is never
needed at test time).

    pip install torch safetensors
    python3 tests/golden/make_golden.py            # writes tests/golden/{ops,models}/
    python3 tests/golden/make_golden.py --only mnist-attn-gru   # one architecture's files
    python3 tests/golden/make_golden.py --check-lamppost target/release/lamppost
        # also: `lamppost init` each architecture and load it into torch with strict=True

Op files are float64; model files hold float32 weights saved the way a PyTorch user
would (state_dict + metadata {"arch": ...}) plus the input, the logits in float32 and
float64, and the gradient of one logit with respect to the input.
"""
import os
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(__file__))
from lamppost_torch import ARCHS  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def save(path, tensors, **meta):
    save_file({k: v.detach().contiguous() for k, v in tensors.items()}, path, metadata={k: str(v) for k, v in meta.items()})


def grads(out, inputs, g):
    return torch.autograd.grad(out, inputs, g)


def ops():
    d = os.path.join(HERE, "ops")
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(0)
    f64 = torch.float64

    x = torch.randn(2, 3, 7, 8, dtype=f64, requires_grad=True)
    w = torch.randn(4, 3, 3, 3, dtype=f64, requires_grad=True)
    b = torch.randn(4, dtype=f64, requires_grad=True)
    y = F.conv2d(x, w, b, stride=2, padding=1)
    g = torch.randn_like(y)
    dx, dw, db = grads(y, (x, w, b), g)
    save(f"{d}/conv2d.safetensors", dict(x=x, w=w, b=b, y=y, g=g, dx=dx, dw=dw, db=db), stride=2, padding=1)

    # small integers: many ties inside the windows, to pin the first-maximum rule
    for name, k, s in [("maxpool_k2s2", 2, 2), ("maxpool_k3s2", 3, 2)]:
        x = torch.randint(0, 3, (2, 3, 7, 7)).to(f64).requires_grad_(True)
        y = F.max_pool2d(x, k, s)
        g = torch.randn_like(y)
        (dx,) = grads(y, (x,), g)
        save(f"{d}/{name}.safetensors", dict(x=x, y=y, g=g, dx=dx), k=k, stride=s)

    gru = torch.nn.GRU(4, 6, batch_first=True).to(f64)
    x = torch.randn(3, 5, 4, dtype=f64, requires_grad=True)
    out, _ = gru(x)
    g = torch.randn_like(out)
    params = [gru.weight_ih_l0, gru.weight_hh_l0, gru.bias_ih_l0, gru.bias_hh_l0]
    gs = grads(out, [x] + params, g)
    t = dict(x=x, out=out, g=g, dx=gs[0])
    for n, p, gp in zip(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"], params, gs[1:]):
        t[n] = p
        t["d_" + n] = gp
    save(f"{d}/gru.safetensors", t)

    logits = (3 * torch.randn(5, 7, dtype=f64)).requires_grad_(True)
    target = torch.tensor([0, 6, 3, 3, 1])
    mean = F.cross_entropy(logits, target)
    (dmean,) = grads(mean, (logits,), None)
    per = F.cross_entropy(logits, target, reduction="none")
    g = torch.randn_like(per)
    (dper,) = grads(per, (logits,), g)
    save(f"{d}/cross_entropy.safetensors", dict(logits=logits, target=target.to(f64), mean=mean, d_mean=dmean, per=per, g=g, d_per=dper))


def models(only=None):
    d = os.path.join(HERE, "models")
    os.makedirs(d, exist_ok=True)
    for i, (arch, (ctor, shape)) in enumerate(ARCHS.items()):
        if only and arch not in only:
            continue
        torch.manual_seed(100 + i)
        m = ctor().eval()
        stem = "seq" if arch.startswith("seq:") else arch
        save_file({k: v.contiguous() for k, v in m.state_dict().items()}, f"{d}/{stem}.safetensors", metadata={"arch": arch, "format": "pt"})
        x = torch.randn(3, *shape)
        logits = m(x)
        m64 = ctor().double()
        m64.load_state_dict({k: v.double() for k, v in m.state_dict().items()}, strict=True)
        x64 = x.double().requires_grad_(True)
        logits64 = m64(x64)
        target = 1
        (dx,) = torch.autograd.grad(logits64[:, target].sum(), x64)
        save(f"{d}/{stem}_io.safetensors", dict(x=x, logits=logits, logits64=logits64, dlogit_dx=dx), target=target)


def check_lamppost(binary):
    """`lamppost init` every architecture and load the file into torch, strict=True."""
    with tempfile.TemporaryDirectory() as tmp:
        for arch, (ctor, shape) in ARCHS.items():
            path = os.path.join(tmp, "m.safetensors")
            subprocess.run([binary, "init", arch, "--seed", "3", "--out", path, "--force"], check=True, capture_output=True)
            m = ctor()
            m.load_state_dict(load_file(path), strict=True)
            out = m(torch.zeros(2, *shape))
            print(f"ok  {arch}: lamppost file loads into torch with strict=True, logits {tuple(out.shape)}")


if __name__ == "__main__":
    if "--check-lamppost" in sys.argv:
        check_lamppost(sys.argv[sys.argv.index("--check-lamppost") + 1])
    elif "--only" in sys.argv:
        # one architecture's files, the others untouched: python3 make_golden.py --only mnist-attn-gru
        models(sys.argv[sys.argv.index("--only") + 1].split(","))
        print("golden files written")
    else:
        ops()
        models()
        print("golden files written")
