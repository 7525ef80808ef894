"""Exports a trained score-network checkpoint as TorchScript (by tracing, exact for this network:
no data-dependent control flow or batch-sized reshapes) into models/score/, with its check data
and its entry in a manifest (default models/manifest.json). The entry records the diffusion the
network was trained for under training.diffusion (the Swift sampler reads it) and the denoising
loss on the test phantoms; reconstruction figures are measured by `magpie bench score`.

    /usr/bin/python3 models/score/export.py CKPT --name score-openmpi2d --test test.h5 [--manifest M]
"""
import argparse
import json
import os
import sys

import torch

from data import load
from model import Diffusion, ScoreUNet

MODELS = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, MODELS)
from manifest import add_entry, add_export_arguments, recorded_scanner, save_module  # noqa: E402
from training import load_checkpoint  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_export_arguments(p, "score")
    p.add_argument("--scanner", help="the scanner's name in the manifest (default: the name the test set records)")
    p.add_argument("--test", nargs="+", required=True)
    a = p.parse_args()

    torch.manual_seed(0)
    ckpt = load_checkpoint(a.checkpoint)
    recipe = ckpt["recipe"]
    model = ScoreUNet(recipe["features"], dropout=recipe["dropout"])
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    x, size = load(a.test)
    h, w = x.shape[-2:]
    example = torch.cat([torch.randn(4, 1, h, w), torch.tensor([999.0, 500.0, 100.0, 0.0])[:, None, None, None].expand(4, 1, h, w)], 1)
    with torch.no_grad():
        traced = torch.jit.trace(model, example[:1])
    loaded, file = save_module(traced, a.manifest, "score", a.name)
    with torch.no_grad():
        check_output = loaded(example)
        eager = model(example)
    worst = (check_output - eager).abs().max().item()
    assert worst < 1e-4, f"the traced module differs from the network by {worst} for a batch of 4"

    diffusion = Diffusion(**{k: recipe["diffusion"][k] for k in ("steps", "beta_start", "beta_end")})
    torch.manual_seed(1234)
    with torch.no_grad():
        test_loss = sum(diffusion.loss(loaded, x[i:i + 256]).item() * len(x[i:i + 256]) for i in range(0, len(x), 256)) / len(x)
    metrics = {"test_split": [os.path.basename(t) for t in a.test], "images": len(x),
               "denoising_loss": round(test_loss, 5),
               "definitions": "denoising_loss: epsilon MSE at uniform t (seed 1234) on the test phantoms; "
                              "reconstruction quality: docs/BENCHMARKS.md (magpie bench score)"}

    training = dict(recipe)
    training["data"] = a.data
    training["history"] = ckpt["history"]
    entry = {"name": a.name, "kind": "score-prior", "file": file, "version": a.version,
             "input": {"shape": [-1, 2, h, w], "unit": "1",
                       "normalisation": f"channel 0: z_t of z = 2 x - 1, x the image scaled to a peak near 1 on a {size[1]} x {size[0]} "
                                        f"grid zero-padded to {w} x {h}; channel 1: the timestep t (0 .. {diffusion.steps - 1})"},
             "output": {"shape": [-1, 1, h, w], "unit": "1", "normalisation": "the predicted noise epsilon of z_t"},
             "scanner": a.scanner, "training": training, "metrics": metrics}
    add_entry(a.manifest, entry, example, check_output, scanner=recorded_scanner(a.test[0]))
    print(json.dumps(metrics, indent=1))


if __name__ == "__main__":
    sys.exit(main())
