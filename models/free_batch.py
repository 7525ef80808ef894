"""Frees the batch dimension of a committed model whose manifest fixes it at 1: checks that its
TorchScript module (unchanged, same sha256) gives for a batch of two images what it gives for
each alone, then writes the entry with input and output shape [-1, ...] and check data of two
images (the committed check image and its mirror), so loading verifies the batch path.

    /usr/bin/python3 models/free_batch.py msa-deblur dcgan-deblur restormer-deblur
"""
import argparse
import json
import os

import numpy as np
import torch

from manifest import MODELS, add_entry


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="+")
    parser.add_argument("--manifest", default=os.path.join(MODELS, "manifest.json"))
    args = parser.parse_args()
    folder = os.path.dirname(os.path.abspath(args.manifest))
    torch.set_num_threads(1)
    for name in args.names:
        with open(args.manifest) as f:
            entry = next(m for m in json.load(f)["models"] if m["name"] == name)
        if entry["input"]["shape"][0] == -1:
            print(f"{name}: its batch dimension is free already")
            continue
        module = torch.jit.load(os.path.join(folder, entry["file"]))
        module.eval()
        one = np.fromfile(os.path.join(folder, entry["check"]["input"]), dtype="<f4").reshape(entry["check"]["shape"])
        batch = torch.from_numpy(np.concatenate([one, one[..., ::-1].copy()]))
        with torch.no_grad():
            together = module(batch)
            alone = torch.cat([module(batch[i:i + 1]) for i in range(2)])
        difference = (together - alone).abs().max().item()
        if difference > entry["check"]["tolerance"] * 0.1:
            raise SystemExit(f"{name}: a batch of two differs from one by one by {difference}; re-export it from its checkpoint instead")
        entry = {k: v for k, v in entry.items() if k not in ("sha256", "check")}
        for side in ("input", "output"):
            entry[side] = dict(entry[side], shape=[-1] + entry[side]["shape"][1:])
        add_entry(args.manifest, entry, batch, together, tolerance=1e-4)
        print(f"{name}: batch dimension free (a batch of two against one by one: max difference {difference:.1e})")


if __name__ == "__main__":
    main()
