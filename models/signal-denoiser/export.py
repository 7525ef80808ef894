"""Exports a trained denoiser checkpoint as TorchScript into models/, with its check data
(a test-split input and the scripted module's output) and its entry in models/manifest.json,
including the signal metrics measured on the test split (never used for model selection).

    /usr/bin/python3 models/signal-denoiser/export.py CKPT --name signal-denoiser-openmpi2d --scanner openmpi-2d \
        --test test.h5 [--data "how the training data was made"]
"""
import argparse
import json
import os
import sys

import torch

from data import load, rmse, snr_db
from model import Denoiser

MODELS = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, MODELS)
from manifest import add_entry, add_export_arguments, recorded_scanner, save_module  # noqa: E402
from training import load_checkpoint  # noqa: E402


def evaluate(model, x, y, clean):
    with torch.no_grad():
        out = torch.cat([model(x[i:i + 64]) for i in range(0, len(x), 64)])
    rows = {"noisy": x, "two-period average": (x + y) / 2, "model": out}
    return {k: {"snr_db": round(snr_db(v, clean).mean().item(), 3), "rmse": round(rmse(v, clean).mean().item(), 6)}
            for k, v in rows.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_export_arguments(p, "signal-denoiser")
    p.add_argument("--scanner", help="the scanner's name in the manifest (default: the name the test set records)")
    p.add_argument("--test", nargs="+", required=True)
    a = p.parse_args()

    ckpt = load_checkpoint(a.checkpoint)
    recipe = ckpt["recipe"]
    model = Denoiser(recipe["features"], recipe["dropout"], recipe["alpha"], recipe["beta"])
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    loaded, file = save_module(torch.jit.script(model), a.manifest, "signal-denoiser", a.name)

    x, y, clean = load(a.test)
    samples = x.shape[-1]
    metrics = {"test_split": [os.path.basename(t) for t in a.test], "periods": len(x),
               "definitions": "snr_db: 20 log10(rms(clean) / rms(out - clean)); rmse: rms(out - clean) / max abs(clean); per period, averaged"}
    metrics.update(evaluate(loaded, x, y, clean))

    check_input = x[:4].contiguous()
    with torch.no_grad():
        check_output = loaded(check_input)
    training = dict(recipe)
    training["data"] = a.data
    training["loss"] = "L1 + alpha L_GD + beta L_TV on periods scaled by the input's RMS (models/signal-denoiser/model.py)"
    training["history"] = ckpt["history"]
    spec = {"shape": [-1, 1, samples], "unit": "V",
            "normalisation": "none by the caller: the module divides each period by its RMS and multiplies the output back"}
    entry = {"name": a.name, "kind": "signal-denoiser", "file": file, "version": a.version,
             "input": spec, "output": spec, "scanner": a.scanner, "training": training, "metrics": metrics}
    add_entry(a.manifest, entry, check_input, check_output, scanner=recorded_scanner(a.test[0]))
    print(json.dumps(metrics, indent=1))


if __name__ == "__main__":
    sys.exit(main())
