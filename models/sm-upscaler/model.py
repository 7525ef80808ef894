"""SwinIR-style system-matrix super-resolution with the RIM embedding (FSC-loss paper, Fig. 1-3).

One frequency image of a system matrix, sampled at every n-th grid point, in; the image on the
n-times finer grid out. The model takes and gives raw values: [B, 2, h, w] (real, imaginary) ->
[B, 2, n h, n w]. Inside, each image is scaled by its largest magnitude, embedded as real,
imaginary and magnitude (RIM, three channels), and passed through SwinIR's three parts: a shallow
convolution, residual Swin transformer blocks (window attention with a relative position bias,
every second layer shifted by half a window, a convolution closing each block), and a convolution
with a pixel-shuffle upsampler (SwinIR's lightweight one). The output is added to the bicubic interpolation of the input (a
global residual: the network learns what bicubic misses), then scaled back.

TorchScript: scripted, not traced (tracing bakes the batch size into the window reverse); the
image and window sizes are fixed at construction; shapes are computed with reshape, no einops.
"""
import math
from typing import List

import torch
from torch import nn
import torch.nn.functional as F


def keys_cubic(t: float) -> float:
    """Keys' cubic convolution kernel, a = -0.5 (what "bicubic" means in image libraries)."""
    t = abs(t)
    if t <= 1:
        return 1.5 * t ** 3 - 2.5 * t ** 2 + 1
    if t < 2:
        return -0.5 * t ** 3 + 2.5 * t ** 2 - 4 * t + 2
    return 0.0


def bicubic_matrix(coarse: int, factor: int) -> torch.Tensor:
    """[coarse * factor, coarse]: fine point i lies at coarse coordinate i / factor, because the
    coarse calibration measured every factor-th grid point starting at the first. Samples beyond
    the border repeat the edge (clamped indices). Magpie's Swift bicubic uses the same weights."""
    m = torch.zeros(coarse * factor, coarse, dtype=torch.float64)
    for i in range(coarse * factor):
        x = i / factor
        base = math.floor(x)
        for j in range(base - 1, base + 3):
            m[i, min(max(j, 0), coarse - 1)] += keys_cubic(x - j)
    return m.float()


def bicubic(x: torch.Tensor, rows: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
    return torch.matmul(torch.matmul(rows, x), columns.t())


class WindowAttention(nn.Module):
    def __init__(self, dim: int, window: int, heads: int):
        super().__init__()
        self.heads, self.window, self.scale = heads, window, (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        self.bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))
        nn.init.trunc_normal_(self.bias_table, std=0.02)
        coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")).flatten(1)
        relative = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (window - 1)
        self.register_buffer("bias_index", relative[:, :, 0] * (2 * window - 1) + relative[:, :, 1], persistent=False)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        # x: [windows * B, T, C]; mask: [windows, T, T] (zeros when unshifted)
        b, t, c = x.shape
        qkv = self.qkv(x).reshape(b, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * self.scale, qkv[1], qkv[2]
        attention = q @ k.transpose(-2, -1)
        bias = self.bias_table[self.bias_index.reshape(-1)].reshape(t, t, self.heads).permute(2, 0, 1)
        attention = attention + bias.unsqueeze(0)
        windows = mask.shape[0]
        attention = attention.reshape(b // windows, windows, self.heads, t, t) + mask.unsqueeze(1).unsqueeze(0)
        attention = attention.reshape(b, self.heads, t, t).softmax(dim=-1)
        return self.proj((attention @ v).transpose(1, 2).reshape(b, t, c))


class SwinLayer(nn.Module):
    def __init__(self, dim: int, size: int, window: int, heads: int, shift: int):
        super().__init__()
        self.size, self.window, self.shift = size, window, shift
        self.norm1 = nn.LayerNorm(dim)
        self.attention = WindowAttention(dim, window, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
        self.register_buffer("mask", self.shift_mask(size, window, shift), persistent=False)

    @staticmethod
    def shift_mask(size: int, window: int, shift: int) -> torch.Tensor:
        count = (size // window) ** 2
        if shift == 0:
            return torch.zeros(count, window * window, window * window)
        region = torch.zeros(size, size)
        cuts = (slice(0, -window), slice(-window, -shift), slice(-shift, None))
        label = 0
        for h in cuts:
            for w in cuts:
                region[h, w] = label
                label += 1
        windows = region.reshape(size // window, window, size // window, window).permute(0, 2, 1, 3).reshape(count, -1)
        different = windows.unsqueeze(1) != windows.unsqueeze(2)
        return different.float() * -100.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: [B, size * size, C]
        b, t, c = x.shape
        s, w = self.size, self.window
        y = self.norm1(x).reshape(b, s, s, c)
        if self.shift > 0:
            y = torch.roll(y, shifts=(-self.shift, -self.shift), dims=(1, 2))
        y = y.reshape(b, s // w, w, s // w, w, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, w * w, c)
        y = self.attention(y, self.mask)
        y = y.reshape(b, s // w, s // w, w, w, c).permute(0, 1, 3, 2, 4, 5).reshape(b, s, s, c)
        if self.shift > 0:
            y = torch.roll(y, shifts=(self.shift, self.shift), dims=(1, 2))
        x = x + y.reshape(b, t, c)
        return x + self.mlp(self.norm2(x))


class ResidualSwinBlock(nn.Module):
    def __init__(self, dim: int, size: int, window: int, heads: int, depth: int):
        super().__init__()
        self.size = size
        # No shift when one window covers the image (SwinIR does the same).
        shift = window // 2 if size > window else 0
        self.layers = nn.ModuleList([SwinLayer(dim, size, window, heads, shift if i % 2 else 0) for i in range(depth)])
        self.conv = nn.Conv2d(dim, dim, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        y = x
        for layer in self.layers:
            y = layer(y)
        y = self.conv(y.transpose(1, 2).reshape(b, c, self.size, self.size))
        return x + y.flatten(2).transpose(1, 2)


class SMUpscaler(nn.Module):
    def __init__(self, coarse: int = 8, factor: int = 4, dim: int = 48, depths: List[int] = (2, 2, 2, 2),
                 heads: int = 4, window: int = 4):
        super().__init__()
        assert factor in (2, 4, 8) and coarse % min(window, coarse) == 0
        window = min(window, coarse)
        self.coarse, self.factor = coarse, factor
        self.shallow = nn.Conv2d(3, dim, 3, padding=1)
        self.blocks = nn.ModuleList([ResidualSwinBlock(dim, coarse, window, heads, d) for d in depths])
        self.norm = nn.LayerNorm(dim)
        self.after = nn.Conv2d(dim, dim, 3, padding=1)
        # SwinIR's lightweight upsampler: one convolution to factor^2 sub-pixels per output channel.
        self.upsample = nn.Sequential(nn.Conv2d(dim, 2 * factor * factor, 3, padding=1), nn.PixelShuffle(factor))
        # Start as bicubic interpolation: the residual begins at zero.
        nn.init.zeros_(self.upsample[0].weight)
        nn.init.zeros_(self.upsample[0].bias)
        matrix = bicubic_matrix(coarse, factor)
        self.register_buffer("rows", matrix, persistent=False)
        self.register_buffer("columns", matrix.clone(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: [B, 2, coarse, coarse] real and imaginary, any scale.
        scale = torch.sqrt(x[:, 0] ** 2 + x[:, 1] ** 2).amax(dim=(1, 2)).clamp_min(1e-30).reshape(-1, 1, 1, 1)
        x = x / scale
        rim = torch.cat([x, torch.sqrt(x[:, 0:1] ** 2 + x[:, 1:2] ** 2)], dim=1)
        features = self.shallow(rim)
        b, c, h, w = features.shape
        y = features.flatten(2).transpose(1, 2)
        for block in self.blocks:
            y = block(y)
        y = self.norm(y).transpose(1, 2).reshape(b, c, h, w)
        y = self.after(y) + features
        return (self.upsample(y) + bicubic(x, self.rows, self.columns)) * scale


def build(coarse: int, factor: int) -> SMUpscaler:
    return SMUpscaler(coarse=coarse, factor=factor)
