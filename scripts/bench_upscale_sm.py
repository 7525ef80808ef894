"""SM super-resolution benchmark (docs/BENCHMARKS.md), like the FSC-loss paper's Tables II, III and VI.

1. nRMSE (%) per frequency image on the test SMs of models/sm-upscaler/datasets.sh at 2x, 4x and 8x,
   noise-free and 20 dB input, for bicubic interpolation, the network trained with the FSC loss
   and the one trained with plain l1 (the paper's ablation; chosen on validation as Magpie's
   default), all against the noise-free fine image.
2. Through the product: a fine 32 x 32 smsr-paper SM (noise-free and 20 dB), its every n-th
   point written as a coarse SM MDF, `magpie upscale-sm` with each method, and the pSNR of
   phantoms reconstructed (`magpie reconstruct`, Kaczmarz) with the upscaled SM against the same
   phantoms reconstructed with the fine SM; and the seconds `upscale-sm` took.

    /usr/bin/python3 scripts/bench_upscale_sm.py MAGPIE DATA_DIR WORK_DIR
"""
import os
import subprocess
import sys
import time

import h5py
import numpy as np
import torch

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "models", "sm-upscaler"))
from model import bicubic, bicubic_matrix  # noqa: E402
from train import evaluate, load  # noqa: E402

FACTORS = (2, 4, 8)
METHODS = (("bicubic", None), ("network, FSC loss (sm-upscaler-x{f}-fsc)", "sm-upscaler-x{f}-fsc"),
           ("network, l1 loss (sm-upscaler-x{f}, Magpie's default)", "sm-upscaler-x{f}"))
PHANTOMS = ("resolution", "vessels", "shapes")


def frequency_tables(data):
    clean, noisy = load(os.path.join(data, "test.h5"))
    results = {}
    for f in FACTORS:
        m = bicubic_matrix(clean.shape[-1] // f, f)
        for name, model in METHODS:
            if model is None:
                upscale = lambda x, m=m: bicubic(x, m, m)  # noqa: E731
            else:
                upscale = torch.jit.load(os.path.join(ROOT, "models", "sm-upscaler", model.format(f=f) + ".pt"))
            results[name, f] = evaluate(upscale, clean, noisy, f)
    print(f"\n### nRMSE (%) per frequency image, {len(clean)} test images (5 SMs), against the noise-free fine image\n")
    for condition, index in (("noise-free", 0), ("20 dB", 1)):
        print(f"| {condition} input | " + " | ".join(f"{f}x" for f in FACTORS) + " |")
        print("|---|" + "---|" * len(FACTORS))
        for name, _ in METHODS:
            print(f"| {name} | " + " | ".join(f"{100 * results[name, f][index]:.2f}" for f in FACTORS) + " |")
        print()


def coarse_copy(fine, out, factor):
    """Every factor-th grid point of a fine SM MDF (frame-fastest), as a coarse SM MDF."""
    with h5py.File(fine, "r") as src, h5py.File(out, "w") as dst:
        for key in src:
            src.copy(key, dst)
        for key, value in src.attrs.items():
            dst.attrs[key] = value
        size = src["/calibration/size"][:]
        flags = src["/measurement/isBackgroundFrame"][:]
        grid = int(np.prod(size))
        nx, ny = int(size[0]), int(size[1])
        keep = [y * nx + x for y in range(0, ny, factor) for x in range(0, nx, factor)] + list(range(grid, len(flags)))
        data = src["/measurement/data"][..., keep]
        positions = src["/calibration/positions"][:][keep[:grid // factor ** 2]]
        for path in ("/measurement/data", "/measurement/isBackgroundFrame", "/calibration/size", "/calibration/positions",
                     "/calibration/fieldOfViewCenter", "/acquisition/numFrames"):
            del dst[path]
        dst["/measurement/data"] = data
        dst["/measurement/isBackgroundFrame"] = flags[keep]
        coarse_size = size.copy()
        coarse_size[:2] //= factor
        dst["/calibration/size"] = coarse_size
        dst["/calibration/positions"] = positions
        fov = src["/calibration/fieldOfView"][:]
        center = src["/calibration/fieldOfViewCenter"][:].astype(np.float64)
        # The coarse points' own cell-centred grid: its first point is half a coarse pitch inside the field of view.
        center[:2] = positions[0, :2] + fov[:2] / 2 - fov[:2] / coarse_size[:2] / 2
        dst["/calibration/fieldOfViewCenter"] = center
        dst["/acquisition/numFrames"] = np.int64(len(keep))


def run(*args):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(map(str, args))} failed:\n{result.stderr}")


def images(path):
    with h5py.File(path, "r") as f:
        return f["/reconstruction/data"][:].astype(np.float64)


def psnr(image, reference):
    rmse = np.sqrt(np.mean((image - reference) ** 2))
    return 20 * np.log10(np.abs(reference).max() / rmse)


def product_tables(magpie, work):
    os.makedirs(work, exist_ok=True)
    rows, seconds = {}, {}
    for condition, snr in (("noise-free", []), ("20 dB", ["--snr", "20"])):
        fine = os.path.join(work, f"fine-{condition}.mdf")
        run(magpie, "simulate", "sm", "--preset", "smsr-paper", "--grid", 32, "--seed", 7, *snr, "-o", fine, "--overwrite")
        references = {}
        for phantom in PHANTOMS:
            m = os.path.join(work, f"{phantom}.mdf")
            if not os.path.exists(m):
                run(magpie, "simulate", "measurement", "--preset", "smsr-paper", "--phantom", phantom, "--snr", 30, "--seed", 3, "-o", m)
            ref = os.path.join(work, f"{phantom}-{condition}-fine.mdf")
            run(magpie, "reconstruct", m, "--sm", fine, "-o", ref, "--overwrite")
            references[phantom] = images(ref)
        for f in FACTORS:
            coarse = os.path.join(work, f"coarse-{condition}-{f}.mdf")
            coarse_copy(fine, coarse, f)
            for name, model in METHODS:
                up = os.path.join(work, f"up-{condition}-{f}.mdf")
                method = ["--method", "bicubic"] if model is None else ["--model", model.format(f=f)]
                start = time.time()
                run(magpie, "upscale-sm", coarse, "-o", up, "--factor", f, *method, "--overwrite")
                seconds[name, condition, f] = time.time() - start
                scores = []
                for phantom in PHANTOMS:
                    out = os.path.join(work, f"{phantom}-up.mdf")
                    run(magpie, "reconstruct", os.path.join(work, f"{phantom}.mdf"), "--sm", up, "-o", out, "--overwrite")
                    scores.append(psnr(images(out), references[phantom]))
                rows[name, condition, f] = float(np.mean(scores))
    print(f"\n### pSNR (dB) of Kaczmarz reconstructions with the upscaled SM against the fine SM's, mean of {', '.join(PHANTOMS)}\n")
    print("| method | " + " | ".join(f"{f}x {c}" for c in ("noise-free", "20 dB") for f in FACTORS) + " |")
    print("|---|" + "---|" * 2 * len(FACTORS))
    for name, _ in METHODS:
        print(f"| {name} | " + " | ".join(f"{rows[name, c, f]:.2f}" for c in ("noise-free", "20 dB") for f in FACTORS) + " |")
    print("\n### `magpie upscale-sm` wall time (s), whole process, 20 dB coarse SM\n")
    print("| method | " + " | ".join(f"{f}x" for f in FACTORS) + " |")
    print("|---|" + "---|" * len(FACTORS))
    for name, _ in METHODS:
        print(f"| {name} | " + " | ".join(f"{seconds[name, '20 dB', f]:.2f}" for f in FACTORS) + " |")


def main():
    magpie, data, work = sys.argv[1:4]
    torch.set_num_threads(2)
    frequency_tables(data)
    product_tables(magpie, work)


if __name__ == "__main__":
    main()
