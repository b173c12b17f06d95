"""Goldens for the training-data methods: Captum's TracInCP, TracInCPFast and
NaiveInfluenceFunction (full rank, no projection) on a small float64 network.

Writes tests/golden/data/{ckpt1,ckpt2,golden}.safetensors; tests/training_data.rs reads
them. Run from the repository root: python3 tests/golden/make_data_golden.py
(torch 2.15, captum 0.9, safetensors). Not needed at test time.
"""
import os
import tempfile

import torch
from torch import nn
from torch.utils.data import TensorDataset
from safetensors.torch import save_file
from captum.influence import TracInCP, TracInCPFast, NaiveInfluenceFunction

ARCH = "seq:flatten,linear(16,6),relu,linear(6,3)"
OUT = os.path.join(os.path.dirname(__file__), "data")
torch.manual_seed(0)
torch.set_default_dtype(torch.float64)

n, m = 40, 3
x = torch.randn(n, 1, 4, 4)
y = torch.randint(0, 3, (n,))
xt = torch.randn(m, 1, 4, 4)
yt = torch.randint(0, 3, (m,))
model = nn.Sequential(nn.Flatten(), nn.Linear(16, 6), nn.ReLU(), nn.Linear(6, 3))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
lrs = [0.1, 0.05]
ckpts = []
tmp = tempfile.mkdtemp()
for k, lr in enumerate(lrs):
    for g in opt.param_groups:
        g["lr"] = lr
    for _ in range(30):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    path = os.path.join(tmp, f"ckpt{k + 1}.pt")
    torch.save({"state": model.state_dict(), "lr": lr}, path)
    ckpts.append(path)
    save_file(
        {k2: v.contiguous() for k2, v in model.state_dict().items()},
        os.path.join(OUT, f"ckpt{k + 1}.safetensors"),
        metadata={"arch": ARCH, "format": "pt", "checkpoint.lr": repr(lr)},
    )


def load(net, path):
    d = torch.load(path)
    net.load_state_dict(d["state"])
    return d["lr"]


train = TensorDataset(x, y)
tr = TracInCP(model, train, ckpts, checkpoints_load_func=load,
              loss_fn=nn.CrossEntropyLoss(reduction="sum"), batch_size=n,
              sample_wise_grads_per_batch=True)
tracin = tr.influence((xt, yt), show_progress=False)
fast = TracInCPFast(model, model[3], train, ckpts, checkpoints_load_func=load,
                    loss_fn=nn.CrossEntropyLoss(reduction="sum"), batch_size=n)
tracin_fast = fast.influence((xt, yt), show_progress=False)
P = sum(p.numel() for p in model.parameters())
reg = 20.0
naive = NaiveInfluenceFunction(model, train, ckpts[-1], checkpoints_load_func=load,
                               loss_fn=nn.CrossEntropyLoss(reduction="none"), batch_size=n,
                               projection_dim=P, hessian_reg=reg, hessian_inverse_tol=0.0)
assert naive.R.shape[1] == P, f"Captum kept {naive.R.shape[1]} of {P} directions: not full rank"
infl = naive.influence((xt, yt), show_progress=False)
save_file(
    {
        "train_x": x, "train_y": y.double(), "test_x": xt, "test_y": yt.double(),
        "tracincp": tracin, "tracincp_fast": tracin_fast, "naive_influence": infl,
    },
    os.path.join(OUT, "golden.safetensors"),
    metadata={"hessian_reg": repr(reg), "captum": __import__("captum").__version__,
              "torch": torch.__version__, "arch": ARCH},
)
print("tracincp", tracin[0, :4], "\nfast", tracin_fast[0, :4], "\nnaive", infl[0, :4], "P", P)
