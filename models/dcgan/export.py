"""Exports the DC-GAN's generator G (native -> deblurred) from a training checkpoint as TorchScript
into models/dcgan/, with check data (the first two images of the first test set and G's output on them:
the Swift/Python parity test) and its manifest entry, including PSNR and SSIM against the phantom
on the test sets (skimage, data range 1, Gaussian-weighted SSIM, outputs scaled to a maximum of 1 like
every method compared with the phantom), as
`magpie bench deblur --reference phantom` computes them.

    /usr/bin/python3 models/dcgan/export.py CKPT --name dcgan-deblur [--weights last|best] [--tile N] --test test-digits.h5 test-digits-30dB.h5 [--manifest M]
"""
import argparse
import os
import sys

import torch

from model import Generator, Tiled
from train import compare, load

MODELS = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, MODELS)
from manifest import add_entry, add_export_arguments, grid_text, recorded_scanner, save_module  # noqa: E402
from training import load_checkpoint  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_export_arguments(p, "dcgan")
    p.add_argument("--scanner", help="the scanner's name in the manifest (default: the name the test set records)")
    p.add_argument("--weights", choices=["last", "best"], default="last",
                   help="G's last weights or those with the best validation SSIM")
    p.add_argument("--tile", type=int, help="run G on tiles of this many pixels (default: the training crop; 0: whole images)")
    p.add_argument("--test", nargs="+", required=True)
    a = p.parse_args()

    torch.set_num_threads(2)
    ckpt = load_checkpoint(a.checkpoint)
    recipe = ckpt["recipe"]
    if a.weights == "best" and "best_state_dict" not in ckpt:
        p.error(f"{a.checkpoint} holds no best-validation weights (written before train.py kept them): use --weights last")
    scanner, label = recorded_scanner(a.test[0]), recorded_scanner(a.test[0], "label_scanner")
    name = a.scanner or scanner["name"]
    tile = recipe["crop"] if a.tile is None else a.tile
    if tile < 0:
        p.error(f"--tile {tile}: a tile has 0 (whole images) or more pixels")
    generator = Generator(recipe["width"], recipe["blocks"], recipe.get("nonnegative", False))
    generator.load_state_dict(ckpt["best_state_dict" if a.weights == "best" else "state_dict"])
    model = (Tiled(generator, tile) if tile else generator).eval()
    loaded, file = save_module(torch.jit.script(model), a.manifest, "dcgan", a.name)
    native = load(a.test[:1], "native", 2)   # two images: loading in Swift checks the batch path too
    with torch.no_grad():
        check_output = loaded(native)
        worst = (check_output - model(native)).abs().max().item()
    assert worst < 1e-5, f"the scripted module differs from the network by {worst}"
    h, w = native.shape[-2:]
    metrics = {os.path.basename(t): compare(loaded, load([t], "native"), load([t], "phantom")) for t in a.test}
    metrics["definitions"] = "PSNR and SSIM (skimage, data range 1, Gaussian-weighted SSIM as Wang et al.) of the output scaled to a maximum of 1 " \
                             "against the phantom (/phantom, maximum 1); background: the mean over images of the scaled output's median where the phantom is 0; " \
                             "per-gap tube phantoms, deconvolution and latency: docs/BENCHMARKS.md"
    weights = f"best validation SSIM (step {ckpt['best_step']})" if a.weights == "best" else "last"
    training = dict(recipe, data=a.data, weights=weights, inference=f"tiles of {tile} pixels, tent-weighted" if tile else "whole image", history=ckpt["history"], parameters=sum(q.numel() for q in model.parameters()),
                    description="DC-GAN generator G (Zhang et al.): ResNet encoder-decoder with a global residual, trained unpaired "
                                "with LSGAN + dual PatchNCE + identity losses against a second generator F and two PatchGAN discriminators")
    entry = {"name": a.name, "kind": "image-deblurrer", "file": file, "version": a.version,
             "input": {"shape": [-1, 1, h, w], "unit": "1",
                       "normalisation": f"native x-space image of {name} ({grid_text(scanner)}) scaled to a maximum of 1"},
             "output": {"shape": [-1, 1, h, w], "unit": "1",
                        "normalisation": f"deblurred image in the style of the deconvolved domain of {label['name']} (maximum about 1)"},
             "scanner": name, "training": training, "metrics": metrics}
    add_entry(a.manifest, entry, native, check_output, tolerance=1e-4, scanner=scanner)
    print(f"wrote {file} and its entry in {a.manifest}: {metrics}")


if __name__ == "__main__":
    main()
