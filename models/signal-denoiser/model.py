"""The self-supervised MPI signal denoiser (1D U-Net of the denoising paper, Fig. 2) and its loss.

One receive-channel period in, the same period denoised out, in volts. The module scales each
period by its own RMS, pads it circularly to a multiple of 81 (four stride-3 levels; a period is
periodic, so circular padding and circular convolutions are exact), and undoes both, so callers
pass raw periods of any length.
"""
from typing import List

import torch
from torch import nn
import torch.nn.functional as F

LEVELS = 4
FACTOR = 3


def conv(cin: int, cout: int, k: int = 3) -> nn.Conv1d:
    return nn.Conv1d(cin, cout, k, padding=k // 2, padding_mode="circular")


class ResBlock(nn.Module):
    """F(X) = W_j * PReLU(W_i * X) + X (eq. 10)."""

    def __init__(self, c: int):
        super().__init__()
        self.wi, self.act, self.wj = conv(c, c), nn.PReLU(c), conv(c, c)

    def forward(self, x):
        return self.wj(self.act(self.wi(x))) + x


class EncoderBlock(nn.Module):
    """1x1 convolution with stride 3, dropout, PReLU, three ResBlocks."""

    def __init__(self, c: int, p: float):
        super().__init__()
        self.down = nn.Conv1d(c, c, 1, stride=FACTOR)
        self.drop, self.act = nn.Dropout(p), nn.PReLU(c)
        self.res = nn.Sequential(ResBlock(c), ResBlock(c), ResBlock(c))

    def forward(self, x):
        return self.res(self.act(self.drop(self.down(x))))


class DecoderBlock(nn.Module):
    """Upsampling x3, concatenation with the encoder's features, two convolutions, PReLU."""

    def __init__(self, c: int):
        super().__init__()
        self.conv1, self.conv2, self.act = conv(2 * c, c), conv(c, c), nn.PReLU(c)

    def forward(self, x, skip):
        x = F.interpolate(x, scale_factor=3.0, mode="linear", align_corners=False)  # FACTOR
        return self.act(self.conv2(self.conv1(torch.cat([x, skip], dim=1))))


class Denoiser(nn.Module):
    def __init__(self, channels: int = 16, dropout: float = 0.2, alpha: float = 0.5, beta: float = 0.01):
        super().__init__()
        c = channels
        # The "first three layers": convolution, PReLU, convolution to C x N.
        self.head = nn.Sequential(conv(1, c), nn.PReLU(c), conv(c, c))
        self.encoders = nn.ModuleList([EncoderBlock(c, dropout) for _ in range(LEVELS)])
        self.decoders = nn.ModuleList([DecoderBlock(c) for _ in range(LEVELS)])
        self.tail = nn.Conv1d(c, 1, 1)
        # Loss weights travel with the model so on-site fine-tuning uses the recipe's values.
        self.alpha, self.beta = float(alpha), float(beta)

    def net(self, x):
        features: List[torch.Tensor] = [self.head(x)]
        for encoder in self.encoders:
            features.append(encoder(features[-1]))
        y = features[-1]
        for i, decoder in enumerate(self.decoders):
            y = decoder(y, features[len(features) - 2 - i])
        return self.tail(y)

    def scale(self, x):
        return x.pow(2).mean(dim=2, keepdim=True).sqrt().clamp_min(1e-30)

    def padded(self, x):
        n = x.shape[2]
        block = 81  # FACTOR ** LEVELS
        extra = (block - n % block) % block
        return F.pad(x, [0, extra], mode="circular") if extra > 0 else x

    def normalised_forward(self, x):
        """Denoised x / rms(x) for x (B, 1, V) already divided by its RMS."""
        n = x.shape[2]
        return self.net(self.padded(x))[:, :, :n]

    def forward(self, x):
        s = self.scale(x)
        return self.normalised_forward(x / s) * s

    @torch.jit.export
    def training_loss(self, x, y):
        """L = L1(f(x), y) + alpha L_GD + beta L_TV (eq. 9) on periods scaled by the input's RMS."""
        s = self.scale(x)
        out = self.normalised_forward(x / s)
        return objective(out, y / s, self.alpha, self.beta)


def gradient_difference(out):
    """L_GD (eq. 7): a period driven by cosines is odd about t = T - t, so its forward difference at
    t equals the backward difference at T - t; mean |difference| over the period."""
    forward = torch.roll(out, -1, dims=2) - out
    mirrored = torch.flip(torch.roll(out, -1, dims=2), dims=[2])  # s[(V - 1 - v + 1) mod V] = s[(V - v) mod V]
    backward_at_mirror = mirrored - torch.roll(mirrored, -1, dims=2)
    return (forward - backward_at_mirror).abs().mean()


def total_variation(out):
    """L_TV (eq. 8): mean |s_{t+1} - s_t|."""
    return (out[:, :, 1:] - out[:, :, :-1]).abs().mean()


def objective(out, target, alpha: float, beta: float):
    loss = (out - target).abs().mean()
    if alpha > 0:
        loss = loss + alpha * gradient_difference(out)
    if beta > 0:
        loss = loss + beta * total_variation(out)
    return loss
