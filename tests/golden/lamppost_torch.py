"""The lamppost reference architectures as torch.nn modules.

The tensor names of these modules are exactly those of lamppost's model files, so
    model.load_state_dict(safetensors.torch.load_file("model.safetensors"), strict=True)
loads a file written by `lamppost init` or `lamppost train`, and
    safetensors.torch.save_file(model.state_dict(), path, metadata={"arch": "mnist-cnn"})
writes one that lamppost loads.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class MnistCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc1 = nn.Linear(784, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


class MnistGap(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.conv3(x))
        return self.fc(x.mean((2, 3)))


class MnistGru(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(28, 64, batch_first=True)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        out, _ = self.gru(x.reshape(x.shape[0], 28, 28))
        return self.fc(out[:, -1])


class PokedigiGap(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1)
        self.conv4 = nn.Conv2d(64, 64, 3, padding=1)
        self.fc = nn.Linear(64, 2)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.max_pool2d(F.relu(self.conv3(x)), 2)
        x = F.relu(self.conv4(x))
        return self.fc(x.mean((2, 3)))


SEQ_ARCH = "seq:conv2d(1,8,3,stride=1,padding=1),relu,maxpool2d(2),flatten,linear(1568,10)"


def seq_model():
    return nn.Sequential(nn.Conv2d(1, 8, 3, stride=1, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1568, 10))


class Attention(nn.Module):
    """e_t = vᵀ tanh(W h_t + b), α = softmax(e), output Σ_t α_t h_t (and α)."""

    def __init__(self, hidden=64, dim=32):
        super().__init__()
        self.proj = nn.Linear(hidden, dim)
        self.v = nn.Linear(dim, 1, bias=False)

    def forward(self, h):
        alpha = torch.softmax(self.v(torch.tanh(self.proj(h))).squeeze(-1), dim=1)
        return (alpha.unsqueeze(-1) * h).sum(1), alpha


class MnistAttnGru(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(28, 64, batch_first=True)
        self.attn = Attention(64, 32)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        h, _ = self.gru(x.reshape(x.shape[0], 28, 28))
        c, _ = self.attn(h)
        return self.fc(c)


class MnistLinear(nn.Module):
    """Softmax regression on the pixels: the lecture's interpretable baseline."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        return self.fc(x.flatten(1))


class MnistVae(nn.Module):
    """lamppost's mnist-vae: an MLP VAE, 784 -> 400 -> 2*16 and 16 -> 400 -> 784.
    forward(x) returns (pixel logits, mu, logvar) with z = mu + exp(logvar/2) * eps."""

    def __init__(self, hidden=400, latent=16):
        super().__init__()
        self.latent = latent
        self.encoder = nn.Module()
        self.encoder.fc1 = nn.Linear(784, hidden)
        self.encoder.fc2 = nn.Linear(hidden, 2 * latent)
        self.decoder = nn.Module()
        self.decoder.fc1 = nn.Linear(latent, hidden)
        self.decoder.fc2 = nn.Linear(hidden, 784)

    def decode(self, z):
        return self.decoder.fc2(F.relu(self.decoder.fc1(z)))

    def forward(self, x, eps=None):
        s = self.encoder.fc2(F.relu(self.encoder.fc1(x.flatten(1))))
        mu, logvar = s[:, : self.latent], s[:, self.latent :]
        if eps is None:
            eps = torch.randn_like(mu)
        return self.decode(mu + torch.exp(0.5 * logvar) * eps), mu, logvar


ARCHS = {
    "mnist-cnn": (MnistCnn, (1, 28, 28)),
    "mnist-gap": (MnistGap, (1, 28, 28)),
    "mnist-gru": (MnistGru, (1, 28, 28)),
    "pokedigi-gap": (PokedigiGap, (3, 64, 64)),
    SEQ_ARCH: (seq_model, (1, 28, 28)),
    # last, so the seeds of the files above (100 + position) did not change when it came
    "mnist-attn-gru": (MnistAttnGru, (1, 28, 28)),
}

