"""Deblurring networks for native x-space images, 1 x H x W in, 1 x H x W out (H, W multiples of 4).

MSATransformer: the MSA-transformer of Yang et al. (multi-scale adaptive transformer): an
encoder-decoder with a global residual connection; shallow features from a convolution and
residual convolution blocks with strided-convolution downsampling (H -> H/2 -> H/4); MSAT blocks
on the two smallest scales, Strip-SA-LCA x 6 at H/4 and MDTA-LCA x 3 at H/2. An MSAT block is
    x = x + Mix(SelfAttention(LN x), LCA(LN x));  x = x + MSFN(LN x)
with SelfAttention intra-strip attention (Stripformer: attention within each row and each column,
half of the channels each) or multi-Dconv head transposed attention (Restormer: attention across
channels), LCA a local channel attention block (convolutions and squeeze-excitation channel
attention), Mix a channel-wise adaptive mix-up (a learnt per-channel weight w = sigmoid(p),
w a + (1 - w) b), MSFN a multi-scale feed-forward network (1x1 expansion, 3x3 and 5x5 depth-wise
convolutions on two halves, GELU, 1x1 projection). Upsampling by transpose convolutions, fused
with the encoder's features of the same scale by adaptive mix-up; residual blocks and a final
convolution added to the input. Initialised as PyTorch does by default, as the Restormer: with
the paper's Xavier initialisation the same network trained far slower here (models/README.md).

CompactRestormer: the comparison network, Restormer (MDTA + gated-Dconv feed-forward) at the same
three scales and a similar parameter count, trained with the same data, loss and budget.

Both are TorchScript-safe: no einops; reshapes and permutes only.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def nonnegative(image, enabled: bool):
    """The output layer's optional ReLU. A concentration image is nonnegative, and its outputs are
    clipped at 0 anyway; without the ReLU in training, the background's residual error is symmetric
    about 0 and the clip turns it into a positive pedestal (sigma / sqrt(2 pi) for Gaussian error),
    which SSIM weighs heavily where the label is 0. With it, the loss sees the clipped output and
    the network learns to keep the background below 0."""
    return F.relu(image) if enabled else image


class LayerNorm2d(nn.Module):
    """Layer normalisation over channels at each pixel (Restormer's WithBias_LayerNorm)."""

    def __init__(self, dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1, dim, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, dim, 1, 1))

    def forward(self, x):
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        return (x - mean) / torch.sqrt(var + 1e-5) * self.weight + self.bias


class Mix(nn.Module):
    """Channel-wise adaptive mix-up: w a + (1 - w) b with w = sigmoid(p) learnt per channel."""

    def __init__(self, dim: int):
        super().__init__()
        self.p = nn.Parameter(torch.zeros(1, dim, 1, 1))

    def forward(self, a, b):
        w = torch.sigmoid(self.p)
        return w * a + (1 - w) * b


class MDTA(nn.Module):
    """Multi-Dconv head transposed attention: attention maps C/h x C/h per head, across channels."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.temperature = nn.Parameter(torch.ones(1, heads, 1, 1))
        self.qkv = nn.Conv2d(dim, 3 * dim, 1)
        self.dw = nn.Conv2d(3 * dim, 3 * dim, 3, padding=1, groups=3 * dim)
        self.project = nn.Conv2d(dim, dim, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = self.dw(self.qkv(x)).chunk(3, dim=1)
        q = F.normalize(q.reshape(b, self.heads, c // self.heads, h * w), dim=-1)
        k = F.normalize(k.reshape(b, self.heads, c // self.heads, h * w), dim=-1)
        v = v.reshape(b, self.heads, c // self.heads, h * w)
        attention = torch.softmax(q @ k.transpose(-2, -1) * self.temperature, dim=-1)
        return self.project((attention @ v).reshape(b, c, h, w))


class StripAttention(nn.Module):
    """Intra-strip attention (Stripformer): half of the channels attend along each row, the other
    half along each column; multi-head scaled dot-product attention within a strip."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Conv2d(dim, 3 * dim, 1)
        self.project = nn.Conv2d(dim, dim, 1)

    def attend(self, q, k, v):
        # q, k, v: strips x tokens x channels, split into heads.
        s, n, c = q.shape
        d = c // self.heads
        q = q.reshape(s, n, self.heads, d).transpose(1, 2)
        k = k.reshape(s, n, self.heads, d).transpose(1, 2)
        v = v.reshape(s, n, self.heads, d).transpose(1, 2)
        attention = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d), dim=-1)
        return (attention @ v).transpose(1, 2).reshape(s, n, c)

    def forward(self, x):
        b, c, h, w = x.shape
        half = c // 2
        q, k, v = self.qkv(x).chunk(3, dim=1)
        # Rows: b*h strips of w tokens with the first half of the channels.
        rows = [t[:, :half].permute(0, 2, 3, 1).reshape(b * h, w, half) for t in (q, k, v)]
        r = self.attend(rows[0], rows[1], rows[2]).reshape(b, h, w, half).permute(0, 3, 1, 2)
        # Columns: b*w strips of h tokens with the second half.
        columns = [t[:, half:].permute(0, 3, 2, 1).reshape(b * w, h, c - half) for t in (q, k, v)]
        col = self.attend(columns[0], columns[1], columns[2]).reshape(b, w, h, c - half).permute(0, 3, 2, 1)
        return self.project(torch.cat([r, col], dim=1))


class LCA(nn.Module):
    """Local channel attention: 1x1, 3x3 depth-wise, GELU, 1x1, then squeeze-excitation weights."""

    def __init__(self, dim: int, reduction: int = 4):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(dim, dim, 1), nn.Conv2d(dim, dim, 3, padding=1, groups=dim), nn.GELU(),
                                  nn.Conv2d(dim, dim, 1))
        self.excite = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(dim, dim // reduction, 1), nn.ReLU(),
                                    nn.Conv2d(dim // reduction, dim, 1), nn.Sigmoid())

    def forward(self, x):
        y = self.body(x)
        return y * self.excite(y)


class MSFN(nn.Module):
    """Multi-scale feed-forward: 1x1 expansion, 3x3 and 5x5 depth-wise on two halves, GELU, 1x1."""

    def __init__(self, dim: int, expansion: float = 2.0):
        super().__init__()
        hidden = int(dim * expansion)
        self.expand = nn.Conv2d(dim, 2 * hidden, 1)
        self.dw3 = nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden)
        self.dw5 = nn.Conv2d(hidden, hidden, 5, padding=2, groups=hidden)
        self.project = nn.Conv2d(2 * hidden, dim, 1)

    def forward(self, x):
        a, b = self.expand(x).chunk(2, dim=1)
        return self.project(torch.cat([F.gelu(self.dw3(a)), F.gelu(self.dw5(b))], dim=1))


class MSATBlock(nn.Module):
    def __init__(self, dim: int, heads: int, strip: bool):
        super().__init__()
        self.norm1 = LayerNorm2d(dim)
        self.attention = StripAttention(dim, heads) if strip else MDTA(dim, heads)
        self.local = LCA(dim)
        self.mix = Mix(dim)
        self.norm2 = LayerNorm2d(dim)
        self.ffn = MSFN(dim)

    def forward(self, x):
        y = self.norm1(x)
        x = x + self.mix(self.attention(y), self.local(y))
        return x + self.ffn(self.norm2(x))


class Upsample(nn.Module):
    """Transpose convolution with kernel = stride = 2, computed as the same linear map: a 1x1
    convolution to 4 x out channels and a pixel shuffle (PyTorch's CPU transpose convolution,
    slow_conv_transpose2d, took 363 ms of a 2.4 s training step in the profiler)."""

    def __init__(self, dim_in: int, dim_out: int):
        super().__init__()
        self.conv = nn.Conv2d(dim_in, 4 * dim_out, 1)
        self.shuffle = nn.PixelShuffle(2)

    def forward(self, x):
        return self.shuffle(self.conv(x))


class ResBlock(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(dim, dim, 3, padding=1), nn.GELU(), nn.Conv2d(dim, dim, 3, padding=1))

    def forward(self, x):
        return x + self.body(x)


class MSATransformer(nn.Module):
    def __init__(self, width: int = 16, strip_blocks: int = 6, mdta_blocks: int = 3, heads: int = 2,
                 nonnegative: bool = False):
        super().__init__()
        c = width
        self.nonnegative = nonnegative
        self.shallow = nn.Sequential(nn.Conv2d(1, c, 3, padding=1), ResBlock(c))
        self.down1 = nn.Sequential(nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), ResBlock(2 * c))
        self.down2 = nn.Conv2d(2 * c, 4 * c, 3, stride=2, padding=1)
        self.smallest = nn.Sequential(*[MSATBlock(4 * c, heads, strip=True) for _ in range(strip_blocks)])
        self.up2 = Upsample(4 * c, 2 * c)
        self.fuse2 = Mix(2 * c)
        self.second = nn.Sequential(*[MSATBlock(2 * c, heads, strip=False) for _ in range(mdta_blocks)])
        self.up1 = Upsample(2 * c, c)
        self.fuse1 = Mix(c)
        self.refine = nn.Sequential(ResBlock(c), ResBlock(c))
        self.out = nn.Conv2d(c, 1, 3, padding=1)

    def forward(self, x):
        e1 = self.shallow(x)
        e2 = self.down1(e1)
        s = self.smallest(self.down2(e2))
        d2 = self.second(self.fuse2(self.up2(s), e2))
        d1 = self.refine(self.fuse1(self.up1(d2), e1))
        return nonnegative(x + self.out(d1), self.nonnegative)


class GDFN(nn.Module):
    """Restormer's gated-Dconv feed-forward network."""

    def __init__(self, dim: int, expansion: float = 2.66):
        super().__init__()
        hidden = int(dim * expansion)
        self.expand = nn.Conv2d(dim, 2 * hidden, 1)
        self.dw = nn.Conv2d(2 * hidden, 2 * hidden, 3, padding=1, groups=2 * hidden)
        self.project = nn.Conv2d(hidden, dim, 1)

    def forward(self, x):
        a, b = self.dw(self.expand(x)).chunk(2, dim=1)
        return self.project(F.gelu(a) * b)


class RestormerBlock(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.norm1 = LayerNorm2d(dim)
        self.attention = MDTA(dim, heads)
        self.norm2 = LayerNorm2d(dim)
        self.ffn = GDFN(dim)

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.ffn(self.norm2(x))


class CompactRestormer(nn.Module):
    """Restormer at three scales: blocks (2, 3, 4) in the encoder and bottleneck, (3, 2) in the
    decoder, concatenation + 1x1 reduction for the skips (as Restormer), a global residual."""

    def __init__(self, width: int = 16, heads: int = 2, nonnegative: bool = False):
        super().__init__()
        c = width
        self.nonnegative = nonnegative
        self.embed = nn.Conv2d(1, c, 3, padding=1)
        self.enc1 = nn.Sequential(*[RestormerBlock(c, heads) for _ in range(2)])
        self.down1 = nn.Conv2d(c, 2 * c, 3, stride=2, padding=1)
        self.enc2 = nn.Sequential(*[RestormerBlock(2 * c, heads) for _ in range(3)])
        self.down2 = nn.Conv2d(2 * c, 4 * c, 3, stride=2, padding=1)
        self.bottleneck = nn.Sequential(*[RestormerBlock(4 * c, heads) for _ in range(4)])
        self.up2 = Upsample(4 * c, 2 * c)
        self.reduce2 = nn.Conv2d(4 * c, 2 * c, 1)
        self.dec2 = nn.Sequential(*[RestormerBlock(2 * c, heads) for _ in range(3)])
        self.up1 = Upsample(2 * c, c)
        self.reduce1 = nn.Conv2d(2 * c, c, 1)
        self.dec1 = nn.Sequential(*[RestormerBlock(c, heads) for _ in range(2)])
        self.out = nn.Conv2d(c, 1, 3, padding=1)

    def forward(self, x):
        e1 = self.enc1(self.embed(x))
        e2 = self.enc2(self.down1(e1))
        s = self.bottleneck(self.down2(e2))
        d2 = self.dec2(self.reduce2(torch.cat([self.up2(s), e2], dim=1)))
        d1 = self.dec1(self.reduce1(torch.cat([self.up1(d2), e1], dim=1)))
        return nonnegative(x + self.out(d1), self.nonnegative)


ARCHITECTURES = {"msa": MSATransformer, "restormer": CompactRestormer}


def build(architecture: str, width: int, nonnegative: bool = False) -> nn.Module:
    return ARCHITECTURES[architecture](width=width, nonnegative=nonnegative)
