"""DDPM-style U-Net that predicts the noise of a diffused phantom image (denoising score matching:
score = -eps / sqrt(1 - alpha_bar_t)), sized for 20 x 20 images on 2 CPU cores.

Interface (one tensor in, as the LibTorch bridge passes it):
    forward(x: [B, 2, H, W]) -> eps: [B, 1, H, W]
    channel 0: the diffused image z_t (z = 2 x - 1 of the normalised image x),
    channel 1: the timestep t (0 .. T-1) filled in, read at pixel (0, 0).
H and W must be divisible by 4 (two downsamplings).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, temb: int, dropout: float):
        super().__init__()
        self.norm1 = nn.GroupNorm(8, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(8, cout)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb(F.silu(emb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return self.skip(x) + h


class Attention(nn.Module):
    """Single-head self-attention over the pixels of the coarsest level (5 x 5 for 20 x 20 input)."""

    def __init__(self, c: int):
        super().__init__()
        self.norm = nn.GroupNorm(8, c)
        self.qkv = nn.Conv2d(c, 3 * c, 1)
        self.out = nn.Conv2d(c, c, 1)
        self.scale = c ** -0.5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, c, h * w).unbind(1)
        weights = torch.softmax(torch.einsum("bci,bcj->bij", q, k) * self.scale, dim=-1)
        return x + self.out(torch.einsum("bij,bcj->bci", weights, v).reshape(b, c, h, w))


class ScoreUNet(nn.Module):
    def __init__(self, nf: int = 32, mult=(1, 2, 2), dropout: float = 0.1):
        super().__init__()
        c0, c1, c2 = (nf * m for m in mult)
        temb = 4 * nf
        self.nf = nf
        self.embed = nn.Sequential(nn.Linear(nf, temb), nn.SiLU(), nn.Linear(temb, temb))
        self.conv_in = nn.Conv2d(1, c0, 3, padding=1)
        self.down0 = ResBlock(c0, c0, temb, dropout)
        self.pool0 = nn.Conv2d(c0, c0, 3, stride=2, padding=1)
        self.down1 = ResBlock(c0, c1, temb, dropout)
        self.pool1 = nn.Conv2d(c1, c1, 3, stride=2, padding=1)
        self.down2 = ResBlock(c1, c2, temb, dropout)
        self.attn2 = Attention(c2)
        self.mid1 = ResBlock(c2, c2, temb, dropout)
        self.mid_attn = Attention(c2)
        self.mid2 = ResBlock(c2, c2, temb, dropout)
        self.up2 = ResBlock(c2 + c2, c2, temb, dropout)
        self.up2_attn = Attention(c2)
        self.unpool1 = nn.Conv2d(c2, c2, 3, padding=1)
        self.up1 = ResBlock(c2 + c1, c1, temb, dropout)
        self.unpool0 = nn.Conv2d(c1, c1, 3, padding=1)
        self.up0 = ResBlock(c1 + c0, c0, temb, dropout)
        self.norm_out = nn.GroupNorm(8, c0)
        self.conv_out = nn.Conv2d(c0, 1, 3, padding=1)

    def predict(self, z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        emb = self.embed(timestep_embedding(t, self.nf))
        h0 = self.down0(self.conv_in(z), emb)
        h1 = self.down1(self.pool0(h0), emb)
        h2 = self.attn2(self.down2(self.pool1(h1), emb))
        h = self.mid2(self.mid_attn(self.mid1(h2, emb)), emb)
        h = self.up2_attn(self.up2(torch.cat([h, h2], 1), emb))
        h = self.unpool1(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        h = self.up1(torch.cat([h, h1], 1), emb)
        h = self.unpool0(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        h = self.up0(torch.cat([h, h0], 1), emb)
        return self.conv_out(F.silu(self.norm_out(h)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.predict(x[:, 0:1], x[:, 1, 0, 0])


def pack(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """The forward() input: z_t and its timestep as a second channel."""
    return torch.cat([z, t.float()[:, None, None, None].expand_as(z)], 1)


class Diffusion:
    """The variance-preserving forward process of DDPM (Ho et al. 2020) with a linear beta schedule."""

    def __init__(self, steps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02):
        self.steps, self.beta_start, self.beta_end = steps, beta_start, beta_end
        betas = torch.linspace(beta_start, beta_end, steps, dtype=torch.float64)
        self.alpha_bar = torch.cumprod(1 - betas, 0).float()

    def describe(self) -> dict:
        return {"schedule": "linear", "steps": self.steps, "beta_start": self.beta_start, "beta_end": self.beta_end,
                "parameterisation": "epsilon", "image_map": "z = 2 x - 1"}

    def loss(self, model: ScoreUNet, x: torch.Tensor) -> torch.Tensor:
        """Denoising score matching: the MSE of the predicted noise at a uniformly drawn t."""
        z = 2 * x - 1
        t = torch.randint(0, self.steps, (x.shape[0],))
        a = self.alpha_bar[t][:, None, None, None]
        noise = torch.randn_like(z)
        return F.mse_loss(model(pack(a.sqrt() * z + (1 - a).sqrt() * noise, t)), noise)


if __name__ == "__main__":
    import time
    torch.set_num_threads(2)
    for nf in (32, 48):
        m = ScoreUNet(nf).eval()
        n = sum(p.numel() for p in m.parameters())
        x = torch.randn(1, 2, 20, 20)
        with torch.no_grad():
            for _ in range(5):
                m(x)
            t0 = time.time()
            for _ in range(50):
                m(x)
        print(f"nf {nf}: {n} parameters, {(time.time() - t0) / 50 * 1e3:.2f} ms per call")
