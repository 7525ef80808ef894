"""Draws the image-file phantoms in Tests/Fixtures/phantoms: shapes unlike the built-in phantom
kinds the learned models trained on (letters, rings, a hand-drawn vessel tree), as small PNGs in
different PNG flavours (8-bit grey, 16-bit grey, RGBA with transparency), so that
`magpie simulate --phantom-file` and its PNG reader are exercised on what other tools write.
Deterministic: run it again and the files are the same bytes.

    /usr/bin/python3 scripts/make_test_phantoms.py Tests/Fixtures/phantoms
"""
import os
import sys

import numpy as np
from PIL import Image

SIZE = 128


def strokes(segments, width):
    """Distance-based rasterisation of line segments (x0, y0, x1, y1 in [0, 1]), value 1 inside."""
    ys, xs = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    image = np.zeros((SIZE, SIZE))
    for x0, y0, x1, y1 in segments:
        a = np.array([x0, y0]) * SIZE
        b = np.array([x1, y1]) * SIZE
        d = b - a
        t = np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / max(d @ d, 1e-9), 0, 1)
        distance = np.hypot(xs - (a[0] + t * d[0]), ys - (a[1] + t * d[1]))
        image = np.maximum(image, np.clip(width / 2 + 0.5 - distance, 0, 1))
    return image


def letters():
    """"MPI" in strokes 4 px wide."""
    m = [(0.10, 0.70, 0.10, 0.30), (0.10, 0.30, 0.20, 0.50), (0.20, 0.50, 0.30, 0.30), (0.30, 0.30, 0.30, 0.70)]
    p = [(0.42, 0.70, 0.42, 0.30), (0.42, 0.30, 0.55, 0.30), (0.55, 0.30, 0.60, 0.37), (0.60, 0.37, 0.55, 0.45),
         (0.55, 0.45, 0.42, 0.45)]
    i = [(0.75, 0.30, 0.90, 0.30), (0.825, 0.30, 0.825, 0.70), (0.75, 0.70, 0.90, 0.70)]
    return strokes(m + p + i, 4)


def rings():
    """Three concentric rings of falling brightness and a dot off centre."""
    ys, xs = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    r = np.hypot(xs - SIZE / 2, ys - SIZE / 2) / SIZE
    image = np.zeros((SIZE, SIZE))
    for radius, level in ((0.40, 1.0), (0.27, 0.7), (0.14, 0.45)):
        image = np.maximum(image, level * np.clip(1 - np.abs(r - radius) * SIZE / 2.5, 0, 1))
    dot = np.hypot(xs - 0.8 * SIZE, ys - 0.2 * SIZE) < 0.05 * SIZE
    return np.maximum(image, 0.85 * dot)


def vessel_tree():
    """A trunk that branches three times, each branch thinner, drawn with a wobbling hand."""
    rng = np.random.default_rng(7)
    segments = []

    def branch(x, y, angle, length, width, depth):
        points = [(x, y)]
        for _ in range(6):
            angle += rng.normal(0, 0.12)
            x, y = x + np.cos(angle) * length / 6, y + np.sin(angle) * length / 6
            points.append((x, y))
        segments.append((points, width))
        if depth > 0:
            branch(x, y, angle - 0.5, length * 0.7, width * 0.7, depth - 1)
            branch(x, y, angle + 0.45, length * 0.65, width * 0.7, depth - 1)

    branch(0.5, 0.95, -np.pi / 2, 0.35, 6, 3)
    image = np.zeros((SIZE, SIZE))
    for points, width in segments:
        image = np.maximum(image, strokes([(*a, *b) for a, b in zip(points, points[1:])], width))
    return image


def main(directory):
    os.makedirs(directory, exist_ok=True)
    # 8-bit grey.
    Image.fromarray(np.round(255 * letters()).astype(np.uint8), mode="L").save(os.path.join(directory, "letters.png"), optimize=True)
    # 16-bit grey.
    Image.fromarray(np.round(65535 * rings()).astype(np.uint16)).save(os.path.join(directory, "rings.png"))
    # RGBA: a white vessel tree on a transparent background (luminance x alpha is what Magpie reads).
    tree = vessel_tree()
    rgba = np.zeros((SIZE, SIZE, 4), dtype=np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2] = 255, 255, 255
    rgba[..., 3] = np.round(255 * tree).astype(np.uint8)
    Image.fromarray(rgba, mode="RGBA").save(os.path.join(directory, "vessel-tree.png"), optimize=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "Tests/Fixtures/phantoms")
