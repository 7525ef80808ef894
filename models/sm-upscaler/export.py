"""Exports a trained SM super-resolution checkpoint as TorchScript (scripted, whole 32 x 32 grid)
into models/sm-upscaler/, with check data (a validation frequency image scaled to a largest magnitude of
1, and the module's output on it: the Swift/Python parity test) and its manifest entry, including
nRMSE on the test SMs for noise-free and 20 dB input, next to bicubic interpolation's.

    /usr/bin/python3 models/sm-upscaler/export.py CKPT --name sm-upscaler-x4 --val val.h5 --test test.h5 [--manifest M]
"""
import argparse
import json
import os
import sys

import torch

from losses import nrmse
from model import SMUpscaler, bicubic
from train import coarse, evaluate, load

MODELS = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, MODELS)
from manifest import add_entry, add_export_arguments, save_module  # noqa: E402
from training import load_checkpoint  # noqa: E402

LOSSES = {"fsc": "FSC loss (SSIM_AD x l1, eq. 9-13)", "l1": "plain l1 (the ablation)"}
STRUCTURES = {"covariance": "S_AD as eq. 10 writes it", "contrast": "S_AD from SSIM's contrast-structure term (losses.py)"}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_export_arguments(p, "sm-upscaler")
    p.add_argument("--val", required=True, help="the check image comes from here")
    p.add_argument("--test", required=True)
    a = p.parse_args()

    torch.set_num_threads(2)
    ckpt = load_checkpoint(a.checkpoint)
    recipe = ckpt["recipe"]
    factor = recipe["factor"]
    test_clean, test_noisy = load(a.test)
    size = test_clean.shape[-1]
    model = SMUpscaler(coarse=size // factor, factor=factor)
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    loaded, file = save_module(torch.jit.script(model), a.manifest, "sm-upscaler", a.name)
    val_clean, val_noisy = load(a.val)
    check_input = coarse(val_noisy[len(val_noisy) // 2:len(val_noisy) // 2 + 1], factor)
    check_input = check_input / torch.sqrt(check_input[:, 0] ** 2 + check_input[:, 1] ** 2).max()
    with torch.no_grad():
        check_output = loaded(check_input)
        worst = (check_output - model(check_input)).abs().max().item()
        # Scripted, not traced: other batch sizes give the same images.
        batch = coarse(val_noisy[:5], factor)
        spread = (loaded(batch)[2:3] - loaded(batch[2:3])).abs().max().item() / loaded(batch[2:3]).abs().max().item()
    assert worst < 1e-5 and spread < 1e-5, f"scripted module differs: {worst} from the network, {spread} across batch sizes"
    network = evaluate(loaded, test_clean, test_noisy, factor)
    baseline = evaluate(lambda x: bicubic(x, model.rows, model.columns), test_clean, test_noisy, factor)
    metrics = {"test.h5": {"images": len(test_clean), "nrmse_noise_free": round(network[0], 4), "nrmse_20db": round(network[1], 4),
                           "bicubic_nrmse_noise_free": round(baseline[0], 4), "bicubic_nrmse_20db": round(baseline[1], 4)},
               "definitions": "mean over frequency images of ||A^ - A||_F / ||A||_F against the noise-free fine image, input every "
                              f"{factor}th point of the noise-free or the 20 dB SM; tables: docs/BENCHMARKS.md"}
    parameters = sum(q.numel() for q in model.parameters())
    training = dict(recipe, data=a.data, history=ckpt["history"], parameters=parameters,
                    description=f"SwinIR-style SM super-resolution {factor}x with RIM embedding, {LOSSES[recipe['loss']]}"
                    + (f", {STRUCTURES[recipe.get('structure', 'covariance')]}" if recipe["loss"] == "fsc" else ""))
    h = size // factor
    entry = {"name": a.name, "kind": "sm-upscaler", "file": file, "version": a.version,
             "input": {"shape": [-1, 2, h, h], "unit": "SM",
                       "normalisation": f"real and imaginary part of one frequency image on every {factor}th point of a {size} x {size} grid, any scale"},
             "output": {"shape": [-1, 2, size, size], "unit": "SM", "normalisation": "the same frequency image on the fine grid, the input's scale"},
             "scanner": "smsr-paper", "training": training, "metrics": metrics}
    add_entry(a.manifest, entry, check_input, check_output, tolerance=1e-4)
    print(json.dumps(metrics, indent=1))


if __name__ == "__main__":
    sys.exit(main())
