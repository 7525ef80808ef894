"""The MSA-transformer paper's objective, eq. 4: Charbonnier + 0.05 edge + 0.0005 contrastive.

Deviation: the paper's contrastive loss (eq. 3) compares VGG-19 features; no pretrained network
can be obtained here, so psi is a fixed filter bank the project defines: Gaussian-derivative
filters (smoothing, first and second derivatives, Laplacian of Gaussian) at sigma 1, 2 and 4 px,
rectified (absolute responses): 21 feature maps that see edges and blobs at three scales.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

EPSILON = 1e-3  # the paper prints 10^3; 1e-3 is the Charbonnier constant of Stripformer and MPRNet


def charbonnier(a, b):
    return torch.sqrt((a - b) ** 2 + EPSILON ** 2).mean()


LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).reshape(1, 1, 3, 3)


def laplacian(x):
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), LAPLACIAN.to(x))


def edge(a, b):
    return charbonnier(laplacian(a), laplacian(b))


class FixedFeatures(nn.Module):
    """psi: |Gaussian-derivative responses| at three scales, no trainable parameters."""

    def __init__(self, sigmas=(1.0, 2.0, 4.0)):
        super().__init__()
        self.radius = int(math.ceil(3 * max(sigmas)))
        r = self.radius
        y, x = torch.meshgrid(torch.arange(-r, r + 1.0), torch.arange(-r, r + 1.0), indexing="ij")
        bank = []
        for s in sigmas:
            g = torch.exp(-(x * x + y * y) / (2 * s * s))
            g = g / g.sum()
            gx, gy = -x / s ** 2 * g, -y / s ** 2 * g
            gxx, gyy, gxy = (x * x / s ** 4 - 1 / s ** 2) * g, (y * y / s ** 4 - 1 / s ** 2) * g, x * y / s ** 4 * g
            for f in (g, s * gx, s * gy, s * s * gxx, s * s * gyy, s * s * gxy, s * s * (gxx + gyy)):
                bank.append(f)
        self.register_buffer("bank", torch.stack(bank).unsqueeze(1))

    def forward(self, x):
        r = self.radius
        return F.conv2d(F.pad(x, (r, r, r, r), mode="replicate"), self.bank).abs()


class DeblurLoss(nn.Module):
    def __init__(self, edge_weight=0.05, contrastive_weight=0.0005):
        super().__init__()
        self.edge_weight, self.contrastive_weight = edge_weight, contrastive_weight
        self.psi = FixedFeatures()

    def contrastive(self, output, label, blurred):
        f = self.psi(output)
        return (f - self.psi(label)).abs().mean() / ((f - self.psi(blurred)).abs().mean() + 1e-7)

    def forward(self, output, label, blurred):
        return (charbonnier(output, label) + self.edge_weight * edge(output, label)
                + self.contrastive_weight * self.contrastive(output, label, blurred))
