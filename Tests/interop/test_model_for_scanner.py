"""The whole path to a learned model for a scanner that is not a preset, at toy size (models/README.md,
"A model for your own scanner"): training sets from a lab's file (--scanner-from), the committed
recipe's train.py for a few seconds, export.py into a manifest of its own (with the scanner's
fingerprint), and the reconstruction that runs it on that scanner's scans and refuses it on another
scanner's unless allowed, the file then recording the mismatch."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import h5py

from support import lab_scan, magpie

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PYTHON = "/usr/bin/python3"


class ModelForScanner(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="magpie-model-for-scanner-")
        cls.lab = lab_scan(cls.path("lab.mdf"), "--phantom", "shapes", "--frames", "2", "--background-frames", "2")
        cls.other = cls.path("openmpi2d.mdf")
        cls.ok(magpie("simulate", "measurement", "--preset", "openmpi-2d", "--phantom", "shapes", "--frames", "2",
                      "--background-frames", "2", "-o", cls.other))
        # Data, training, export: the recipe's commands at toy size.
        for name, count, seed in (("train", 8, 0), ("val", 4, 1000000), ("test", 4, 2000000)):
            cls.ok(magpie("simulate", "dataset", "deblur", "--scanner-from", cls.lab, "--phantom", "digits", "--snr", "25...45",
                          "--label-iterations", "5", "--count", str(count), "--seed", str(seed), "-o", cls.path(f"{name}.h5")))
        cls.ok(subprocess.run([PYTHON, "models/msa/train.py", "--arch", "msa", "--train", cls.path("train.h5"), "--val", cls.path("val.h5"),
                               "--val-count", "4", "--crop", "64", "--nonnegative", "--minutes", "0.03", "--eval-every", "1",
                               "-o", cls.path("lab.ckpt")], cwd=ROOT, capture_output=True, text=True))
        cls.manifest = cls.path("manifest.json")
        cls.ok(subprocess.run([PYTHON, "models/msa/export.py", cls.path("lab.ckpt"), "--name", "lab-msa", "--manifest", cls.manifest,
                               "--test", cls.path("test.h5")], cwd=ROOT, capture_output=True, text=True))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    @classmethod
    def path(cls, name):
        return os.path.join(cls.dir, name)

    @staticmethod
    def ok(result):
        assert result.returncode == 0, f"{result.args}: {result.stderr[-2000:]}"
        return result

    def reconstruct(self, scan, out, *more):
        return magpie("reconstruct", scan, "--method", "xspace", "--deblur", "msa", "--model", "lab-msa", "--manifest", self.manifest,
                      "-o", self.path(out), *more)

    def test_the_manifest_states_the_lab_scanner(self):
        with open(self.manifest) as f:
            entry = json.load(f)["models"][0]
        self.assertEqual(entry["scanner"], "from lab.mdf")
        fingerprint = entry["fingerprint"]
        self.assertEqual(fingerprint["aspect"], "images")
        self.assertEqual(fingerprint["gradient"], [1.5, 1.5])
        self.assertEqual(fingerprint["image_size"], [64, 64, 1])
        for value, expected in zip(fingerprint["field_of_view"], [0.024, 0.024]):
            self.assertAlmostEqual(value, expected, places=12)
        self.assertIn("64 x 64 over 24 x 24 mm", entry["input"]["normalisation"])

    def test_the_model_runs_on_its_scanner(self):
        result = self.reconstruct(self.lab, "lab-reco.mdf")
        self.assertEqual(result.returncode, 0, result.stderr)
        with h5py.File(self.path("lab-reco.mdf"), "r") as f:
            self.assertTrue(f["/_magpie/reconstruction/deblur"][()].decode().startswith("lab-msa sha256 "))
            self.assertNotIn("deblurScannerMismatch", f["/_magpie/reconstruction"])
            self.assertEqual(f["/reconstruction/data"].shape[-1], 1)

    def test_another_scanner_is_refused_with_what_differs_unless_allowed(self):
        result = self.reconstruct(self.other, "refused.mdf")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("lab-msa does not fit", result.stderr)
        self.assertIn("gradient 1, 1 T/m, the model's 1.5, 1.5 T/m", result.stderr)
        self.assertIn("allow_other_scanner = true", result.stderr)
        self.assertFalse(os.path.exists(self.path("refused.mdf")))

        result = self.reconstruct(self.other, "allowed.mdf", "--allow-other-scanner")
        self.assertEqual(result.returncode, 0, result.stderr)
        with h5py.File(self.path("allowed.mdf"), "r") as f:
            mismatch = f["/_magpie/reconstruction/deblurScannerMismatch"][()].decode()
            plan = f["/_magpie/reconstruction/plan"][()].decode()
        self.assertTrue(mismatch.startswith("trained for from lab.mdf; this scan's gradient 1, 1 T/m"), mismatch)
        self.assertIn("allow_other_scanner", plan)

        # A plan file says the same in its stage table.
        plan = self.path("plan.toml")
        with open(plan, "w") as f:
            f.write('stages = ["background", "xspace", "deblur"]\n'
                    '[stage.deblur]\nmethod = "msa"\nmodel = "lab-msa"\nallow_other_scanner = true\n')
        result = magpie("reconstruct", self.other, "--plan", plan, "--manifest", self.manifest, "-o", self.path("plan.mdf"))
        self.assertEqual(result.returncode, 0, result.stderr)
        with h5py.File(self.path("plan.mdf"), "r") as f:
            self.assertIn("deblurScannerMismatch", f["/_magpie/reconstruction"])

    def test_the_flag_is_refused_where_no_model_runs(self):
        result = magpie("reconstruct", self.lab, "--method", "xspace", "--allow-other-scanner", "-o", self.path("x.mdf"))
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("--allow-other-scanner applies to learned models", result.stderr)


if __name__ == "__main__":
    unittest.main()
