"""The peer for `magpie bench xspace`: the same x-space fit written straightforwardly in NumPy
(per frame: splat each sample's equations into its neighbourhood, then solve every pixel's 3 x 3
system), for 2D scans written by `magpie simulate measurement`. Checks that its first image
matches Magpie's (--reference first.h5 from `magpie bench xspace --output`).
Usage: bench_xspace_numpy.py MEASUREMENT.mdf [--frames N] [--reference first.h5]
"""
import argparse
import json
import time

import h5py
import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("measurement")
parser.add_argument("--frames", type=int, default=100)
parser.add_argument("--reference")
args = parser.parse_args()

with h5py.File(args.measurement, "r") as f:
    data = f["/measurement/data"][()][:, 0].astype(np.float64)          # N x C x V
    background = f["/measurement/isBackgroundFrame"][()].view(bool)
    base = f["/acquisition/drivefield/baseFrequency"][()]
    dividers = f["/acquisition/drivefield/divider"][()][:, 0]
    amplitude = f["/acquisition/drivefield/strength"][()][0, :, 0]
    phase = f["/acquisition/drivefield/phase"][()][0, :, 0]
    rate = 2 * f["/acquisition/receiver/bandwidth"][()]
    gradient = np.diag(f["/acquisition/gradient"][()][0, 0])[:2]
    scanner = json.loads(f["/_magpie/scanner"][()].decode())
size = np.array(scanner["imageSize"][:2])
sensitivity = np.array([coil["sensitivity"] for coil in scanner["receive"]])
samples = data.shape[2]

# Trajectory (depends on the scanner only).
t = np.arange(samples) / rate
omega = 2 * np.pi * base / dividers
field = amplitude[:, None] * np.sin(omega[:, None] * t + phase[:, None])                 # 2 x V
field_rate = amplitude[:, None] * omega[:, None] * np.cos(omega[:, None] * t + phase[:, None])
position, velocity = -field / gradient[:, None], -field_rate / gradient[:, None]
speed = np.hypot(*velocity)
used = speed > 0.1 * speed.max()
fov = 2 * amplitude / np.abs(gradient)
pixel = ((position + fov[:, None] / 2) / fov[:, None] * size[:, None] - 0.5)[:, used]    # 2 x S
z = gradient[:, None] * velocity[:, used]
inverse_rate = 1 / np.hypot(*z)
direction = z * inverse_rate
count = used.sum()
sigma0 = max(0.7, np.sqrt(size.prod() / count))
# Equation rows per sample: unknowns (Mxx, Mxy, Myy); y_x = Mxx dx + Mxy dy, y_y = Mxy dx + Myy dy.
rows = np.zeros((count, 2, 3))
rows[:, 0, 0], rows[:, 0, 1] = direction[0], direction[1]
rows[:, 1, 1], rows[:, 1, 2] = direction[0], direction[1]


def splat(measured, sigma):
    radius = int(np.ceil(3 * sigma))
    offsets = np.arange(-radius, radius + 1)
    normal = np.zeros((size[1], size[0], 3, 3))
    right = np.zeros((size[1], size[0], 3))
    weight = np.zeros((size[1], size[0]))
    cx, cy = np.rint(pixel[0]).astype(int), np.rint(pixel[1]).astype(int)
    outer = np.einsum("sai,saj->sij", rows, rows)
    inner = np.einsum("sai,sa->si", rows, measured)
    for dy in offsets:
        for dx in offsets:
            x, y = cx + dx, cy + dy
            ok = (x >= 0) & (x < size[0]) & (y >= 0) & (y < size[1])
            w = np.exp(-((x - pixel[0]) ** 2 + (y - pixel[1]) ** 2) / (2 * sigma * sigma))[ok]
            np.add.at(normal, (y[ok], x[ok]), w[:, None, None] * outer[ok])
            np.add.at(right, (y[ok], x[ok]), w[:, None] * inner[ok])
            np.add.at(weight, (y[ok], x[ok]), w)
    return normal, right, weight


def reconstruct(period):
    measured = (period[:, used] / sensitivity[:, None] * inverse_rate).T                   # S x 2
    sigma = sigma0
    normal, right, weight = splat(measured, sigma)
    floor = 1e-2 * weight.max()
    while (weight < floor).any() and sigma < 16:
        sigma *= 1.5
        wide = splat(measured, sigma)
        low = weight < floor
        normal[low], right[low], weight[low] = wide[0][low], wide[1][low], wide[2][low]
    scale = 1e-3 * np.trace(normal, axis1=2, axis2=3) / 3
    penalty = np.array([[1, 0, -1], [0, 4, 0], [-1, 0, 1]], dtype=float)
    m = np.linalg.solve(normal + scale[..., None, None] * penalty, right[..., None])[..., 0]
    return (m[..., 0] + m[..., 2]) / 2


mean_background = data[background].mean(axis=0)
frames = np.flatnonzero(~background)[: args.frames]
start = time.perf_counter()
images = [reconstruct(data[f] - mean_background) for f in frames]
seconds = time.perf_counter() - start
print(f"numpy xspace: {len(frames)} frames in {seconds:.3f} s = {len(frames) / seconds:.1f} frames/s")
if args.reference:
    with h5py.File(args.reference, "r") as f:
        reference = f["/image"][()][0]
    difference = np.abs(images[0] - reference).max() / np.abs(reference).max()
    print(f"numpy xspace: first image differs from magpie's by {difference:.2e} (max, relative)")
