"""Where a deblurring network gains and loses on a `magpie simulate dataset deblur` set: PSNR per
phantom kind, PSNR on the set flipped or transposed (a network that has learnt the orientation of
its training shapes loses there; the scanner's x and y are alike, so the physics does not), SSIM
split by the label's intensity (where the SSIM deficit lies), and the output where the label is 0
(a pedestal there, before and after the clip at 0, costs SSIM through its luminance term).

    /usr/bin/python3 models/msa/diagnose.py msa-deblur.pt restormer-deblur.pt --set val-digits.h5 test-phantoms.h5 --limit 100
"""
import argparse
import os
import re
import sys

import h5py
import numpy as np
import torch

from train import load, psnrs

sys.path.insert(0, os.path.normpath(os.path.join(os.path.dirname(__file__), "..")))
from image_metrics import ssim  # noqa: E402

TRANSFORMS = {"flip x": lambda t: t.flip(-1), "rotate 180": lambda t: t.flip(-2).flip(-1),
              "transpose": lambda t: t.transpose(-2, -1)}
REGIONS = {"background (< 0.01)": (0, 0.01), "faint (0.01-0.1)": (0.01, 0.1), "middle (0.1-0.5)": (0.1, 0.5),
           "bright (>= 0.5)": (0.5, 1.01)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", help="TorchScript files")
    p.add_argument("--set", nargs="+", required=True)
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    if a.limit < 1 or a.threads < 1:
        p.error("--limit and --threads are at least 1")
    torch.set_num_threads(a.threads)
    modules = {m: torch.jit.load(m) for m in a.models}  # by path: two versions may share a file name
    for path in a.set:
        try:
            f = h5py.File(path, "r")
        except OSError as error:
            p.error(f"{path}: {error}")
        with f:
            if "native" not in f or "sharp" not in f:
                p.error(f"{path}: not a `magpie simulate dataset deblur` file (no /native and /sharp)")
            kinds = re.search(r"--phantom (\S+)", f["recipe"][()].decode()) if "recipe" in f else None
        kinds = kinds.group(1).split(",") if kinds else ["digits"]
        native, sharp = load(path, a.limit)
        for name, module in modules.items():
            def run(x):
                with torch.no_grad():
                    return torch.cat([module(x[i:i + 10]) for i in range(0, len(x), 10)])
            raw = run(native)
            out = raw.clamp(0, 1)
            value = psnrs(out, sharp)
            print(f"{os.path.basename(path)}, {name}: PSNR {value.mean():.2f} dB over {len(native)} images")
            if len(kinds) > 1:  # record i is kind i mod n
                print("  by kind: " + ", ".join(f"{k} {value[i::len(kinds)].mean():.2f}" for i, k in enumerate(kinds)))
            print("  transformed: " + ", ".join(f"{k} {psnrs(run(t(native)), t(sharp)).mean():.2f}" for k, t in TRANSFORMS.items()))
            labels, outputs = sharp[:, 0].double().numpy(), out[:, 0].double().numpy()
            # skimage's mean SSIM leaves out the 5-pixel border its 11 x 11 window cannot cover; so do the regions
            maps = np.stack([ssim(y, o, full=True)[1] for y, o in zip(labels, outputs)])[:, 5:-5, 5:-5]
            labels = labels[:, 5:-5, 5:-5]
            print(f"  SSIM {maps.mean():.4f}; by label intensity (share of pixels, mean SSIM, share of 1 - SSIM):")
            for k, (lo, hi) in REGIONS.items():
                inside = (labels >= lo) & (labels < hi)
                print(f"    {k}: {inside.mean():.2f}, {maps[inside].mean():.3f}, {(1 - maps[inside]).sum() / (1 - maps).sum():.2f}")
            zero = sharp < 0.001
            print(f"  where the label is below 0.001 ({zero.float().mean():.2f} of pixels): output mean {out[zero].mean():+.4f}, "
                  f"before the clip {raw[zero].mean():+.4f} (spread {raw[zero].std():.4f})")


if __name__ == "__main__":
    main()
