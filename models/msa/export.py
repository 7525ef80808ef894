"""Exports a trained deblurring checkpoint (MSA-transformer or compact Restormer) as TorchScript
(scripted) into models/msa/, with check data (the first two test images and the module's output
on them: the Swift/Python parity test) and its entry in a manifest (default models/manifest.json),
including PSNR and SSIM on the test sets (skimage, data range 1, Gaussian-weighted SSIM, outputs
clipped to [0, 1]), computed as `magpie bench deblur` computes them.

    /usr/bin/python3 models/msa/export.py CKPT --name msa-deblur --test digits.h5 phantoms.h5 [--manifest M]
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

from model import build
from train import load

MODELS = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, MODELS)
from image_metrics import mean_psnr_ssim  # noqa: E402
from manifest import add_entry, add_export_arguments, grid_text, recorded_scanner, save_module  # noqa: E402
from training import load_checkpoint  # noqa: E402

DESCRIPTIONS = {"msa": "MSA-transformer (Yang et al.): Strip-SA-LCA x 6 at 1/4, MDTA-LCA x 3 at 1/2 scale",
                "restormer": "compact Restormer (comparison network for the MSA-transformer)"}


def gflops(model, image):
    """Floating-point operations of one forward pass (torch.profiler: convolutions and matrix
    products, a multiply-add counted as 2), in units of 1e9."""
    with torch.no_grad(), torch.profiler.profile(with_flops=True) as profiler:
        model(image)
    return round(sum(event.flops for event in profiler.key_averages()) / 1e9, 2)


def evaluate(module, path):
    native, sharp = load(path)

    def pairs():
        with torch.no_grad():
            for i in range(len(native)):
                out = module(native[i:i + 1]).clamp(0, 1)[0, 0].numpy().astype(np.float64)
                yield sharp[i, 0].numpy().astype(np.float64), out
    return mean_psnr_ssim(pairs())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_export_arguments(p, "msa")
    p.add_argument("--scanner", help="the scanner's name in the manifest (default: the name the test set records)")
    p.add_argument("--test", nargs="+", required=True)
    a = p.parse_args()

    missing = [t for t in a.test if not os.path.isfile(t)]
    if missing:  # before the module is written, so a typo leaves nothing behind
        p.error(f"no such test set: {', '.join(missing)}")
    torch.set_num_threads(2)
    ckpt = load_checkpoint(a.checkpoint)
    recipe = ckpt["recipe"]
    first_phase = None
    if (recipe.get("init") or "").endswith(".ckpt"):  # a second phase of training: keep the first phase's recipe
        if not os.path.exists(recipe["init"]):
            p.error(f"{a.checkpoint} was trained on from {recipe['init']}, which is gone: its recipe belongs in the manifest")
        first_phase = torch.load(recipe["init"])["recipe"]
    scanner, label = recorded_scanner(a.test[0]), recorded_scanner(a.test[0], "label_scanner")
    name = a.scanner or scanner["name"]
    model = build(recipe["arch"], recipe["width"], recipe.get("nonnegative", False))
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    loaded, file = save_module(torch.jit.script(model), a.manifest, "msa", a.name)
    native, _ = load(a.test[0], 2)   # two images: loading in Swift checks the batch path too
    with torch.no_grad():
        check_output = loaded(native)
        worst = (check_output - model(native)).abs().max().item()
    assert worst < 1e-5, f"the scripted module differs from the network by {worst}"
    h, w = native.shape[-2:]
    parameters = sum(q.numel() for q in model.parameters())
    metrics = {os.path.basename(t): evaluate(loaded, t) for t in a.test}
    metrics["definitions"] = "PSNR and SSIM (skimage, data range 1, Gaussian-weighted SSIM as Wang et al.) of the output clipped to [0, 1] against /sharp; " \
                             "the comparison with other methods and latency: docs/BENCHMARKS.md (magpie bench deblur)"
    training = dict(recipe, data=a.data, history=ckpt["history"], parameters=parameters, gflops=gflops(model, native),
                    description=DESCRIPTIONS[recipe["arch"]])
    if first_phase:
        training["init_recipe"] = first_phase
    entry = {"name": a.name, "kind": "image-deblurrer", "file": file, "version": a.version,
             "input": {"shape": [-1, 1, h, w], "unit": "1",
                       "normalisation": f"native x-space image of {name} ({grid_text(scanner)}) scaled to a maximum of 1"},
             "output": {"shape": [-1, 1, h, w], "unit": "1",
                        "normalisation": f"deblurred image on the label's scale (the deconvolved image of {label['name']} scaled to a maximum of 1)"},
             "scanner": name, "training": training, "metrics": metrics}
    add_entry(a.manifest, entry, native, check_output, tolerance=1e-4, scanner=scanner)
    print(json.dumps(metrics, indent=1))


if __name__ == "__main__":
    sys.exit(main())
