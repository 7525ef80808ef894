"""Phantom images from `magpie simulate dataset score` files (/phantom, N x H x W), zero-padded at
the bottom and right to a multiple of 4 and normalised to a maximum of 1 per image."""
import h5py
import torch


def padded_size(n: int) -> int:
    return (n + 3) // 4 * 4


def load(paths):
    images = []
    for path in paths:
        with h5py.File(path, "r") as f:
            images.append(torch.from_numpy(f["phantom"][:]).float())
    x = torch.cat(images)
    n, h, w = x.shape
    out = torch.zeros(n, 1, padded_size(h), padded_size(w))
    top = x.flatten(1).amax(1).clamp_min(1e-6)
    out[:, 0, :h, :w] = x / top[:, None, None]
    return out, (h, w)


def augment(x: torch.Tensor, size, low: float, high: float) -> torch.Tensor:
    """The eight flips and transpositions of the unpadded image, and an intensity scale in [low, high]."""
    h, w = size
    core = x[:, :, :h, :w]
    if torch.rand(()) < 0.5:
        core = core.flip(-1)
    if torch.rand(()) < 0.5:
        core = core.flip(-2)
    if h == w and torch.rand(()) < 0.5:
        core = core.transpose(-1, -2)
    out = torch.zeros_like(x)
    out[:, :, :h, :w] = core * torch.empty(x.shape[0], 1, 1, 1).uniform_(low, high)
    return out
