"""DC-GAN (Zhang et al., dual contrastive learning with an adversarial framework, IWMPI 2023):
two ResNet generators G: native -> deblurred and F: deblurred -> native, two PatchGAN
discriminators, and the dual patch-wise contrastive loss (DCLGAN / CUT style) that replaces
cycle consistency: each generator's encoder embeds its own domain, and a patch of the output,
embedded by the other domain's encoder, must match the input patch at the same place and no other.

Only G is exported (TorchScript), by default inside `Tiled` (G on tiles of its training crop);
it takes [N, 1, H, W] images of any size (padded to a multiple of 4 inside, cropped back) scaled
to a maximum of 1, and adds its output to the input (global residual), so an untrained G is the
identity. A nonnegative generator ends in a ReLU: concentrations are never negative, and the
deconvolved domain is exactly 0 wherever there are no particles, which a linear output can only
approach by cancelling the native image's haze to the last percent.
"""
from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as nnf


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.body = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c), nn.ReLU(True),
                                  nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c))

    def forward(self, x):
        return x + self.body(x)


class Generator(nn.Module):
    """c7s1-w, two stride-2 downsamplings to 4w, `blocks` residual blocks, two x2 upsamplings
    (nearest + conv: no checkerboard), c7s1-1; the output is added to the input."""

    def __init__(self, width: int = 16, blocks: int = 6, nonnegative: bool = False):
        super().__init__()
        w = width
        self.nonnegative = nonnegative
        self.layers = nn.ModuleList([
            nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(1, w, 7), nn.InstanceNorm2d(w), nn.ReLU(True)),
            nn.Sequential(nn.Conv2d(w, 2 * w, 3, stride=2, padding=1), nn.InstanceNorm2d(2 * w), nn.ReLU(True)),
            nn.Sequential(nn.Conv2d(2 * w, 4 * w, 3, stride=2, padding=1), nn.InstanceNorm2d(4 * w), nn.ReLU(True)),
        ] + [ResBlock(4 * w) for _ in range(blocks)])
        self.decoder = nn.Sequential(
            nn.Upsample(scale_factor=2.0, mode="nearest"), nn.Conv2d(4 * w, 2 * w, 3, padding=1), nn.InstanceNorm2d(2 * w), nn.ReLU(True),
            nn.Upsample(scale_factor=2.0, mode="nearest"), nn.Conv2d(2 * w, w, 3, padding=1), nn.InstanceNorm2d(w), nn.ReLU(True),
            nn.ReflectionPad2d(3), nn.Conv2d(w, 1, 7))
        # Zero last layer: training starts from the identity, which already is a plausible image.
        nn.init.zeros_(self.decoder[-1].weight)
        nn.init.zeros_(self.decoder[-1].bias)
        # Layers whose outputs the contrastive loss compares: the input itself, the first conv,
        # both downsamplings and the middle of the residual stack (CUT's choice).
        self.nce_layers: List[int] = [0, 1, 2, 3 + blocks // 2]

    def forward(self, x):
        h, w = x.shape[-2], x.shape[-1]
        ph, pw = (4 - h % 4) % 4, (4 - w % 4) % 4
        z = nnf.pad(x, [0, pw, 0, ph], mode="reflect")
        f = z
        for layer in self.layers:
            f = layer(f)
        out = z[:, :, :h, :w] + self.decoder(f)[:, :, :h, :w]
        return torch.relu(out) if self.nonnegative else out

    @torch.jit.unused
    def encode(self, x) -> List[torch.Tensor]:
        """Features of the contrastive layers (index 0 is the padded input)."""
        h, w = x.shape[-2], x.shape[-1]
        f = nnf.pad(x, [0, (4 - w % 4) % 4, 0, (4 - h % 4) % 4], mode="reflect")
        features = [f] if 0 in self.nce_layers else []
        for i, layer in enumerate(self.layers):
            f = layer(f)
            if i + 1 in self.nce_layers:
                features.append(f)
        return features


class Tiled(nn.Module):
    """G applied to overlapping `size`-pixel tiles, blended with a tent-shaped weight (no seams).

    G normalises every layer over the image it is given (instance norm) and learnt those statistics
    on `size`-pixel training crops. On a whole 101-pixel image of a sparse phantom, mostly empty,
    the statistics differ and G leaves a halo of a few percent of the peak around the objects;
    on tiles of the training size it does not (docs/BENCHMARKS.md). Tiles start every
    3/4 `size` and the last one ends at the border; an image no larger than a tile goes to G whole."""

    def __init__(self, generator: Generator, size: int):
        super().__init__()
        self.generator = generator
        self.size = size
        ramp = torch.minimum(torch.arange(size) + 1.0, size - torch.arange(size) + 0.0) / (size / 2)
        self.register_buffer("weight", ramp[:, None] * ramp[None, :])

    def starts(self, n: int) -> List[int]:
        if n <= self.size:
            return [0]
        out = list(range(0, n - self.size, 3 * self.size // 4))
        out.append(n - self.size)
        return out

    def forward(self, x):
        h, w = x.shape[-2], x.shape[-1]
        if h <= self.size and w <= self.size:
            return self.generator(x)
        s = self.size
        out = torch.zeros_like(x)
        total = torch.zeros_like(x)
        for top in self.starts(h):
            for left in self.starts(w):
                tile = x[:, :, top:top + s, left:left + s]
                weight = self.weight[:tile.shape[-2], :tile.shape[-1]]
                out[:, :, top:top + s, left:left + s] += self.generator(tile) * weight
                total[:, :, top:top + s, left:left + s] += weight
        return out / total


class Discriminator(nn.Module):
    """PatchGAN: a real/fake score per overlapping patch (receptive field 34 px, about 7 mm).

    norm "instance" (CycleGAN's and CUT's choice, the default) removes the per-channel means of a
    crop, so a discriminator looking at a mostly empty crop may barely see a faint constant background
    that the generator adds; "spectral" bounds each layer's Lipschitz constant instead of normalising
    activations (models/README.md has what each did here)."""

    def __init__(self, width: int = 32, norm: str = "instance"):
        super().__init__()
        if norm not in ("spectral", "instance", "none"):
            raise ValueError(f"unknown discriminator norm {norm!r}: spectral, instance or none")
        w = width

        def conv(c_in, c_out, stride):
            layer = nn.Conv2d(c_in, c_out, 4, stride=stride, padding=1)
            return nn.utils.spectral_norm(layer) if norm == "spectral" else layer

        def normed(c):
            return [nn.InstanceNorm2d(c)] if norm == "instance" else []
        self.net = nn.Sequential(
            conv(1, w, 2), nn.LeakyReLU(0.2, True),
            conv(w, 2 * w, 2), *normed(2 * w), nn.LeakyReLU(0.2, True),
            conv(2 * w, 4 * w, 1), *normed(4 * w), nn.LeakyReLU(0.2, True),
            conv(4 * w, 1, 1))

    def forward(self, x):
        return self.net(x)


class PatchHeads(nn.Module):
    """One two-layer MLP per contrastive layer, projecting features to unit-length embeddings."""

    def __init__(self, channels: List[int], dim: int = 128):
        super().__init__()
        self.heads = nn.ModuleList([nn.Sequential(nn.Linear(c, dim), nn.ReLU(True), nn.Linear(dim, dim)) for c in channels])

    def forward(self, features, patches: int, ids=None):
        """Embeds `patches` random locations per layer (the same `ids` for query and key)."""
        out, chosen = [], []
        for k, (f, head) in enumerate(zip(features, self.heads)):
            flat = f.flatten(2).permute(0, 2, 1)  # N, HW, C
            idx = ids[k] if ids is not None else torch.randperm(flat.shape[1])[:patches]
            out.append(nnf.normalize(head(flat[:, idx]), dim=-1))
            chosen.append(idx)
        return out, chosen


def patch_nce(query, key, temperature: float = 0.07):
    """InfoNCE per patch: the key at the same location is the positive, the other sampled
    locations of the same image the negatives. query, key: [N, P, D]."""
    logits = torch.bmm(query, key.transpose(1, 2)) / temperature  # N, P, P
    target = torch.arange(logits.shape[1]).expand(logits.shape[0], -1)
    return nnf.cross_entropy(logits.flatten(0, 1), target.flatten())


class DCGAN(nn.Module):
    def __init__(self, width: int = 16, blocks: int = 6, disc_width: int = 32, disc_norm: str = "instance",
                 nonnegative: bool = False):
        super().__init__()
        self.G, self.F = Generator(width, blocks, nonnegative), Generator(width, blocks, nonnegative)
        self.D_X, self.D_Y = Discriminator(disc_width, disc_norm), Discriminator(disc_width, disc_norm)
        channels = [1, width, 2 * width, 4 * width]
        self.H_X, self.H_Y = PatchHeads(channels), PatchHeads(channels)

    def nce(self, source, output, source_encoder, output_encoder, source_heads, output_heads, patches: int):
        """Contrastive loss of one direction: the source embedded in its own domain (keys), the
        output embedded in the other domain (queries)."""
        keys, ids = source_heads(source_encoder.encode(source), patches)
        queries, _ = output_heads(output_encoder.encode(output), patches, ids)
        return sum(patch_nce(q, k.detach()) for q, k in zip(queries, keys)) / len(keys)
