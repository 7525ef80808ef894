"""`magpie train-denoiser`: fine-tuning writes a model PyTorch loads, with a manifest entry whose
sha256 and check data hold; bad inputs are refused with the reason and leave nothing behind."""
import hashlib
import json
import os
import shutil
import tempfile
import unittest

import numpy as np
import torch

from support import MANIFEST, magpie


class TrainDenoiser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="magpie-train-denoiser-")
        cls.scans = []
        for seed in (1, 2):
            path = os.path.join(cls.dir, f"scan{seed}.mdf")
            result = magpie("simulate", "measurement", "--preset", "openmpi-2d", "--phantom", "shapes", "--frames", "40",
                            "--background-frames", "4", "--snr", "5", "--seed", str(seed), "-o", path)
            assert result.returncode == 0, result.stderr
            cls.scans.append(path)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def test_fine_tuning_writes_a_model_pytorch_loads_with_its_entry(self):
        out = os.path.join(self.dir, "lab", "denoiser-lab.pt")
        result = magpie("train-denoiser", "--from", *self.scans, "--manifest", MANIFEST, "--steps", "3", "--batch", "4", "-o", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("self-supervised loss before: held out", result.stdout)
        self.assertIn("self-supervised loss after:  held out", result.stdout)
        with open(os.path.join(self.dir, "lab", "manifest.json")) as f:
            entry = json.load(f)["models"][0]
        self.assertEqual(entry["name"], "denoiser-lab")
        self.assertEqual(entry["kind"], "signal-denoiser")
        self.assertEqual(entry["input"]["shape"], [-1, 1, 1632])
        with open(out, "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), entry["sha256"])
        self.assertTrue(entry["training"]["fine_tuned_from"].startswith("signal-denoiser-openmpi2d sha256 "))
        self.assertEqual(entry["training"]["files"][0]["frame_pairs"], 20)
        # PyTorch reproduces the check output Magpie recorded through LibTorch.
        shape = entry["check"]["shape"]
        x = np.fromfile(os.path.join(self.dir, "lab", entry["check"]["input"]), dtype="<f4").reshape(shape)
        y = np.fromfile(os.path.join(self.dir, "lab", entry["check"]["output"]), dtype="<f4").reshape(shape)
        model = torch.jit.load(out).eval()
        with torch.no_grad():
            z = model(torch.from_numpy(x)).numpy()
        self.assertLess(np.abs(z - y).max() / np.abs(y).max(), 1e-5)
        # The parameters moved away from the base model's.
        base = torch.jit.load(os.path.join(os.path.dirname(MANIFEST), "signal-denoiser", "signal-denoiser-openmpi2d.pt"))
        moved = sum((a - b).abs().sum().item() for a, b in zip(model.parameters(), base.parameters()))
        self.assertGreater(moved, 0)
        # A second run without --overwrite refuses to replace it.
        again = magpie("train-denoiser", "--from", *self.scans, "--manifest", MANIFEST, "--steps", "1", "-o", out)
        self.assertNotEqual(again.returncode, 0)
        self.assertIn("exists; --overwrite replaces it", again.stderr)

    def test_bad_inputs_are_refused_with_the_reason(self):
        one_d = os.path.join(self.dir, "one-d.mdf")
        self.assertEqual(magpie("simulate", "measurement", "--preset", "openmpi-1d", "--frames", "40", "-o", one_d).returncode, 0)
        not_mdf = os.path.join(self.dir, "not.mdf")
        with open(not_mdf, "w") as f:
            f.write("not an HDF5 file")
        out = os.path.join(self.dir, "bad", "x.pt")
        cases = [
            (["--from", one_d], "has periods of 102 samples; signal-denoiser-openmpi2d takes 1632"),
            (["--from", not_mdf], "not.mdf"),
            (["--from", self.scans[0], "--base", "no-such-model"], "no model named no-such-model"),
            (["--from", self.scans[0], "--manifest", not_mdf], "not valid JSON"),
            (["--from", self.scans[0], "-o", os.path.join(self.dir, "bad", "x.onnx")], "must name a .pt file"),
        ]
        for args, message in cases:
            arguments = ["train-denoiser", "--steps", "1"] + (["--manifest", MANIFEST] if "--manifest" not in args else []) + args
            if "-o" not in args:
                arguments += ["-o", out]
            result = magpie(*arguments)
            self.assertNotEqual(result.returncode, 0, args)
            self.assertIn(message, result.stderr, args)
            self.assertFalse(os.path.exists(out), args)


if __name__ == "__main__":
    unittest.main()
