"""What every exporter does last: save the TorchScript module beside the manifest, write the
model's check data, hash its file and put its entry into a manifest (replacing an entry of the
same name). Paths in the entry are relative to the manifest."""
import hashlib
import json
import os

import torch

MODELS = os.path.dirname(os.path.abspath(__file__))


def add_export_arguments(parser, folder):
    """What every exporter takes: the checkpoint, --name, --data (the commands that wrote the
    training data), --manifest and --version."""
    parser.add_argument("checkpoint", help="from the kind's train.py")
    parser.add_argument("--name", required=True, help="the model's name in the manifest")
    parser.add_argument("--data", default=f"models/{folder}/datasets.sh", help="the commands that wrote the training data")
    parser.add_argument("--manifest", default=os.path.join(MODELS, "manifest.json"))
    parser.add_argument("--version", type=int, default=1)


def save_module(module, manifest_path, folder, name):
    """Saves a scripted or traced module as FOLDER/NAME.pt beside the manifest; returns the module
    as LibTorch loads it back and the path the manifest entry names."""
    relative = f"{folder}/{name}.pt"
    path = os.path.join(os.path.dirname(os.path.abspath(manifest_path)), relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    module.save(path)
    return torch.jit.load(path), relative


def add_entry(manifest_path, entry, check_input, check_output, tolerance=1e-5):
    """`entry` holds everything but sha256 and check; its "file" is relative to the manifest."""
    folder = os.path.dirname(os.path.abspath(manifest_path))
    stem = os.path.splitext(entry["file"])[0]
    check = {"input": f"{stem}.check-input.f32", "output": f"{stem}.check-output.f32",
             "shape": list(check_input.shape), "tolerance": tolerance}
    if check_output.shape != check_input.shape:
        check["output_shape"] = list(check_output.shape)
    check_input.numpy().astype("<f4").tofile(os.path.join(folder, check["input"]))
    check_output.numpy().astype("<f4").tofile(os.path.join(folder, check["output"]))
    with open(os.path.join(folder, entry["file"]), "rb") as f:
        entry = dict(entry, sha256=hashlib.sha256(f.read()).hexdigest(), check=check)
    manifest = {"format": 1, "models": []}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f)
    manifest["models"] = [m for m in manifest["models"] if m["name"] != entry["name"]] + [entry]
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
