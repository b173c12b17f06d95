"""Captum's infidelity and sensitivity_max and Quantus' PixelFlipping on the reference
weights, for tests/metrics.rs (run once; Python is never needed at test time).

    pip install torch captum quantus safetensors scikit-image scipy
    python3 tests/golden/make_metrics_golden.py            # metrics/{stem}.safetensors
    python3 tests/golden/make_metrics_golden.py --quantus  # metrics/{stem}_quantus.safetensors
    python3 tests/golden/make_metrics_golden.py --yeh      # metrics/{stem}_yeh.safetensors

`--quantus` writes Quantus 0.6's MPRT (cascading, top-down, Spearman of |maps| and of
signed maps) with every stage's randomized weights, so lamppost recomputes the maps on the
very same models (Quantus re-initializes with torch's generator, which lamppost does not
reproduce), and RegionPerturbation (4×4 patches, most relevant first, baseline 0).

`--yeh` writes the infidelity of Yeh et al.'s official MNIST protocol (their
`infid_sen_utils.py`, pert="Square", exp="Grad"), written out here from its description
(the repository is not a package): every square of side 1..10 at every position is set
to 0; the explanation of a square is the sum of gradient × input over it; the score
change is the target logit's drop; the explanation is rescaled by the optimal β before
the mean squared difference.

Perturbations are drawn here and saved, so both sides use the same ones: Captum's
perturbation functions below ignore their input's randomness and return the saved
tensors (Captum expands the inputs example-major, `repeat_interleave`, as lamppost does).
Also prints scikit-image's SSIM and SciPy's Spearman for the unit tests' hand cases.
"""
import os

import numpy as np
import torch
from captum.attr import Saliency
from captum.metrics import infidelity, sensitivity_max
from safetensors.torch import save_file

from make_captum_golden import REFERENCE, load_reference

HERE = os.path.dirname(os.path.abspath(__file__))
N_PERTURB = 6


def reference_batch(stem, ctor, n):
    """The reference model, its first n golden inputs, their predicted classes and signed
    saliency maps."""
    model, x = load_reference(stem, ctor)
    x = x[:n]
    with torch.no_grad():
        target = model(x).argmax(1)
    return model, x, target, Saliency(model).attribute(x, target=target, abs=False)


def main():
    torch.manual_seed(0)
    for stem, ctor, _ in REFERENCE:
        model, x, target, attr = reference_batch(stem, ctor, 4)
        noise = 0.1 * torch.randn((x.shape[0] * N_PERTURB,) + tuple(x.shape[1:]), dtype=x.dtype)
        delta = (torch.rand_like(noise) * 2 - 1) * 0.02

        def perturb(inputs):
            return noise, inputs - noise

        out = {"x": x, "target": target.double(), "saliency": attr, "noise": noise, "delta": delta}
        for normalize in (False, True):
            out[f"infidelity_normalize_{int(normalize)}"] = infidelity(
                model, perturb, x, attr, target=target, n_perturb_samples=N_PERTURB, normalize=normalize)

        def explain(inputs, target=None):
            return Saliency(model).attribute(inputs, target=target, abs=False)

        out["sensitivity_max"] = sensitivity_max(
            explain, x, perturb_func=lambda inputs, r: inputs + delta, target=target,
            n_perturb_samples=N_PERTURB)

        # Quantus 0.6 PixelFlipping: 28 values a step replaced by 0, softmax of the target, no
        # normalisation or abs (so the order is the map's); the map has no ties, so NumPy's
        # unstable argsort gives the same order as lamppost's stable one.
        import quantus
        a = attr.detach().numpy()
        assert all(len(np.unique(r)) == r.size for r in a.reshape(len(a), -1)), "ties in the map"
        pf = quantus.PixelFlipping(features_in_step=28, perturb_baseline=0.0, normalise=False, abs=False,
                                   disable_warnings=True)
        curves = pf(model=model.float(), x_batch=x.float().numpy(), y_batch=target.numpy(), a_batch=a.astype(np.float32),
                    softmax=True, device="cpu")
        model.double()
        out["quantus_pixel_flipping"] = torch.tensor(np.array(curves), dtype=torch.float64)
        save_file({k: v.contiguous() for k, v in out.items()}, os.path.join(HERE, "metrics", f"{stem}.safetensors"),
                  metadata={"captum": __import__("captum").__version__, "quantus": quantus.__version__,
                            "torch": torch.__version__, "n_perturb_samples": str(N_PERTURB)})
        print(stem, {k: tuple(v.shape) for k, v in out.items()})

    from skimage.metrics import structural_similarity
    from scipy.stats import spearmanr
    h, w = 8, 9
    a = np.array([((p * 37) % 17) / 16 for p in range(h * w)]).reshape(h, w)
    b = np.array([((p * 11 + 3) % 13) / 12 for p in range(h * w)]).reshape(h, w)
    print("ssim", repr(structural_similarity(a, b, data_range=1)))
    print("spearman", repr(spearmanr([1, 2, 2, 3], [10, 20, 30, 40]).statistic))


def quantus_goldens():
    """MPRT and RegionPerturbation from Quantus, on the same inputs and saliency maps."""
    import quantus
    from quantus.helpers.model.pytorch_model import PyTorchModel

    def explain(model, inputs, targets, **kwargs):
        x = torch.as_tensor(inputs, dtype=torch.float64)
        t = torch.as_tensor(targets)
        return Saliency(model).attribute(x, target=t, abs=False).detach().numpy()

    for stem, ctor, _ in REFERENCE:
        model, x, target, attr = reference_batch(stem, ctor, 4)
        a = attr.detach().numpy()
        out = {"x": x, "target": target.double(), "saliency": torch.from_numpy(a)}
        # the stages' weights, as Quantus' generator makes them (it seeds torch before
        # each layer's reset_parameters, so a second pass gives the same models)
        stages = []
        wrapped = PyTorchModel(model, channel_first=True, softmax=False, device="cpu")
        for name, m in wrapped.get_random_layer_generator(order="top_down", seed=42):
            stages.append(name)
            for k, v in m.state_dict().items():
                out[f"stage{len(stages)}.{k}"] = v.detach().clone()
        for abs_ in (True, False):
            mprt = quantus.MPRT(layer_order="top_down", seed=42, abs=abs_, normalise=True, disable_warnings=True)
            scores = mprt(model=model, x_batch=x.numpy(), y_batch=target.numpy(), a_batch=a,
                          explain_func=explain, device="cpu", batch_size=64)
            assert list(scores) == ["original"] + stages, list(scores)
            out[f"mprt_abs_{int(abs_)}"] = torch.tensor([scores[k] for k in ["original"] + stages],
                                                        dtype=torch.float64)
        # RegionPerturbation: 4×4 patches tile 28×28 (no padding), 49 regions
        rp = quantus.RegionPerturbation(patch_size=4, order="morf", regions_evaluation=49, perturb_baseline=0.0,
                                        normalise=False, abs=False, disable_warnings=True)
        curves = rp(model=model.float(), x_batch=x.float().numpy(), y_batch=target.numpy(),
                    a_batch=a.astype(np.float32), softmax=True, device="cpu")
        model.double()
        out["quantus_region_perturbation"] = torch.tensor(np.array(curves), dtype=torch.float64)
        save_file({k: v.contiguous() for k, v in out.items()},
                  os.path.join(HERE, "metrics", f"{stem}_quantus.safetensors"),
                  metadata={"quantus": quantus.__version__, "torch": torch.__version__,
                            "stages": ",".join(stages)})
        print(stem, stages, {k: tuple(v.shape) for k, v in out.items() if not k.startswith("stage")})
        print(" mprt |a|", out["mprt_abs_1"].tolist())


def yeh_goldens():
    """Yeh et al.'s optimally rescaled infidelity, every square of side 1..10."""
    for stem, ctor, _ in REFERENCE:
        model, x, target, grad = reference_batch(stem, ctor, 3)
        scores = []
        _, c, h, w = x.shape
        for i in range(len(x)):
            exp = (grad[i] * x[i]).reshape(-1)
            images, sums = [], []
            for k in range(1, 11):
                for top in range(h - k + 1):
                    for left in range(w - k + 1):
                        mask = torch.zeros(c, h, w, dtype=torch.bool)
                        mask[:, top:top + k, left:left + k] = True
                        images.append(torch.where(mask, torch.zeros_like(x[i]), x[i]))
                        sums.append(exp[mask.reshape(-1)].sum())
            with torch.no_grad():
                drop = model(x[i:i + 1])[0, target[i]] - model(torch.stack(images))[:, target[i]]
            sums = torch.stack(sums)
            beta = (drop * sums).mean() / (sums * sums).mean()
            scores.append(((drop - beta * sums) ** 2).mean())
            print(stem, i, len(images), "perturbations, infidelity", scores[-1].item())
        out = {"x": x, "target": target.double(), "saliency": grad,
               "yeh_square_infidelity": torch.stack(scores)}
        save_file({k: v.contiguous() for k, v in out.items()}, os.path.join(HERE, "metrics", f"{stem}_yeh.safetensors"),
                  metadata={"torch": torch.__version__, "protocol": "squares of side 1..10, every position"})


if __name__ == "__main__":
    import sys
    if "--yeh" in sys.argv:
        yeh_goldens()
    elif "--quantus" in sys.argv:
        quantus_goldens()
    else:
        main()
