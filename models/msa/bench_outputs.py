"""SSIM per phantom kind, and the output where the label is 0, for every method in a
`magpie bench deblur --outputs` file: where each method gains and loses, Richardson-Lucy included
(diagnose.py runs networks only).

    magpie bench deblur --test test-phantoms.h5 --validation val-digits.h5 --model msa-deblur --limit 300 --outputs out.h5
    /usr/bin/python3 models/msa/bench_outputs.py out.h5 --kinds resolution,vessels,tumor,shapes [--limit 100]
"""
import argparse
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.normpath(os.path.join(os.path.dirname(__file__), "..")))
from image_metrics import ssim  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("outputs", help="the HDF5 file of `magpie bench deblur --outputs`: /SET/reference, /SET/METHOD")
    p.add_argument("--kinds", default="digits", help="the set's phantom kinds in record order (record i is kind i mod n)")
    p.add_argument("--limit", type=int, help="only the first N images")
    a = p.parse_args()
    if a.limit is not None and a.limit < 1:
        p.error("--limit is at least 1")
    kinds = a.kinds.split(",")
    try:
        f = h5py.File(a.outputs, "r")
    except OSError as error:
        p.error(f"{a.outputs}: {error}")
    with f:
        for name, group in f.items():
            if not isinstance(group, h5py.Group) or "reference" not in group:
                p.error(f"{a.outputs}: /{name} is not a set of `magpie bench deblur --outputs` (no /{name}/reference)")
            reference = group["reference"][:a.limit].astype(np.float64)
            zero = reference < 0.001
            print(f"{name}: {len(reference)} images; {zero.mean():.2f} of the pixels have a label below 0.001")
            for method in (m for m in group if m != "reference"):
                out = np.clip(group[method][:a.limit].astype(np.float64), 0, 1)
                per = np.array([ssim(y, o) for y, o in zip(reference, out)])
                by_kind = ", ".join(f"{k} {per[i::len(kinds)].mean():.3f}" for i, k in enumerate(kinds)) if len(kinds) > 1 else ""
                print(f"  {method}: SSIM {per.mean():.4f}{'; by kind: ' + by_kind if by_kind else ''}; "
                      f"output where the label is below 0.001: {out[zero].mean():+.4f}")


if __name__ == "__main__":
    main()
