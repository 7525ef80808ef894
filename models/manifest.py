"""What every exporter does last: save the TorchScript module beside the manifest, write the
model's check data, hash its file and put its entry into a manifest (replacing an entry of the
same name). Paths in the entry are relative to the manifest."""
import hashlib
import json
import os

import h5py
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


# Which physics a kind's input depends on (ScannerFingerprint.Aspect); kinds no stage runs on a
# scan (SM upscalers, trained on many scanners) have none.
ASPECTS = {"signal-denoiser": "signals", "image-deblurrer": "images", "score-prior": "images"}


def recorded_scanner(dataset, key="scanner"):
    """The scanner a `magpie simulate dataset` file was made with (its /scanner JSON; deblur sets
    also record /label_scanner)."""
    with h5py.File(dataset, "r") as f:
        if key not in f:
            raise SystemExit(f"{dataset} records no /{key}: write it again with this magpie's simulate dataset")
        return json.loads(f[key][()])


def grid_text(scanner):
    """"64 x 64 over 24 x 24 mm": the image grid and field of view along the driven axes."""
    fov = fingerprint(scanner, "images")["field_of_view"]
    size = scanner["imageSize"][:len(fov)]
    return " x ".join(map(str, size)) + " over " + " x ".join(f"{v * 1e3:g}" for v in fov) + " mm"


def fingerprint(scanner, aspect):
    """The physics the model's input depends on, as Swift's ScannerFingerprint(scanner, aspect)
    computes it from the same scanner (MPIScanner JSON, SI units); CommittedModelTests compares."""
    drive = [d for d in scanner["drive"] if d["amplitude"] > 0]
    gradient = scanner["gradient"]
    particle = scanner["particle"]
    out = {"aspect": aspect, "drive_axes": [d["axis"] for d in drive],
           "gradient": [abs(gradient[d["axis"]]) if aspect == "images" else gradient[d["axis"]] for d in drive],
           "particle_diameter": particle["coreDiameter"], "temperature": particle["temperature"],
           "saturation_magnetization": particle["saturationMagnetization"]}
    if aspect == "signals":
        out.update(drive_amplitude=[d["amplitude"] for d in drive],
                   drive_frequency=[scanner["baseFrequency"] / d["divider"] for d in drive],
                   drive_phase=[d["phase"] for d in drive], sampling_rate=scanner["samplingRate"],
                   samples_per_period=scanner["samplesPerPeriod"], receive_axes=[c["axis"] for c in scanner["receive"]])
    else:
        out.update(field_of_view=[2 * d["amplitude"] / abs(gradient[d["axis"]]) for d in drive], image_size=scanner["imageSize"])
    return out


def add_entry(manifest_path, entry, check_input, check_output, tolerance=1e-5, scanner=None):
    """`entry` holds everything but sha256, check and fingerprint; its "file" is relative to the
    manifest. `scanner` (a dataset's `recorded_scanner`) gives the fingerprint of kinds in ASPECTS
    (an entry rewritten from the manifest keeps its own) and, where the entry names none, the
    scanner's name."""
    if entry["kind"] in ASPECTS and scanner is not None:
        entry = dict(entry, fingerprint=fingerprint(scanner, ASPECTS[entry["kind"]]), scanner=entry.get("scanner") or scanner["name"])
    elif entry["kind"] in ASPECTS and "fingerprint" not in entry:
        raise SystemExit(f"{entry['name']}: a {entry['kind']} needs the scanner it was trained for (a dataset's /scanner)")
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
