"""Period pairs from `magpie simulate dataset denoise` files: /input and /target (two noisy periods
of one scan, N x C x V volts) and /clean (the noise-free period)."""
import h5py
import numpy as np
import torch


def load(paths):
    """All records of the given files as float32 arrays (input, target, clean), each (N*C, 1, V):
    every receive channel is its own example, as the model denoises one channel's period."""
    parts = {"input": [], "target": [], "clean": []}
    for path in paths:
        with h5py.File(path, "r") as f:
            if f["kind"][()].decode() != "denoise":
                raise ValueError(f"{path}: not a denoise dataset (kind {f['kind'][()]!r})")
            for key in parts:
                a = np.asarray(f[key], dtype=np.float32)
                parts[key].append(a.reshape(-1, 1, a.shape[-1]))
    lengths = {a.shape[-1] for arrays in parts.values() for a in arrays}
    if len(lengths) != 1:
        raise ValueError(f"files mix period lengths {sorted(lengths)}")
    return tuple(torch.from_numpy(np.concatenate(parts[k])) for k in ("input", "target", "clean"))


def snr_db(out, clean):
    """Per period: 20 log10(rms(clean) / rms(out - clean)), the denoising paper's eq. 2 measured."""
    err = (out - clean).pow(2).mean(dim=-1).sqrt().clamp_min(1e-30)
    return 20 * torch.log10(clean.pow(2).mean(dim=-1).sqrt() / err).flatten()


def rmse(out, clean):
    """Per period: rms(out - clean) / max|clean| (signals normalised to a peak of 1)."""
    return ((out - clean).pow(2).mean(dim=-1).sqrt() / clean.abs().amax(dim=-1).clamp_min(1e-30)).flatten()
