"""`magpie simulate ... --scanner-from FILE`: a lab's scanner (drive field, receiver, gradient from
its MDF file) instead of a preset, for measurements and training sets; bad files refused."""
import json
import os
import shutil
import tempfile
import unittest

import h5py
import numpy as np

from support import lab_scan, magpie


class ScannerFrom(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="magpie-scanner-from-")
        cls.lab = lab_scan(os.path.join(cls.dir, "lab.mdf"), "--frames", "1", "--background-frames", "1")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def path(self, name):
        return os.path.join(self.dir, name)

    def test_a_training_set_for_a_scanner_that_is_not_a_preset(self):
        out = self.path("deblur.h5")
        result = magpie("simulate", "dataset", "deblur", "--scanner-from", self.lab, "--image-size", "32,32", "--count", "2",
                        "--label-iterations", "5", "-o", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        with h5py.File(out, "r") as f:
            scanner = json.loads(f["/scanner"][()])
            label = json.loads(f["/label_scanner"][()])
            native, sharp = f["/native"][()], f["/sharp"][()]
        np.testing.assert_allclose(scanner["gradient"], [-1.5, -1.5, 3.0], rtol=1e-12)
        np.testing.assert_allclose([d["amplitude"] for d in scanner["drive"]], [0.018, 0.018], rtol=1e-12)
        self.assertEqual(scanner["imageSize"], [32, 32, 1])
        self.assertAlmostEqual(scanner["particle"]["coreDiameter"], 25e-9)   # openmpi's, the file records none
        self.assertEqual(scanner["name"], "from lab.mdf")
        np.testing.assert_allclose(label["gradient"], [-3.0, -3.0, 6.0], rtol=1e-12)   # the sharper twin, same field of view
        self.assertEqual(native.shape, (2, 32, 32))
        self.assertTrue(np.all(np.isfinite(sharp)) and sharp.max() > 0)

    def test_a_measurement_with_another_particle(self):
        out = self.path("m.mdf")
        result = magpie("simulate", "measurement", "--scanner-from", self.lab, "--particle-diameter", "30", "--temperature", "310",
                        "--frames", "1", "--background-frames", "1", "-o", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        with h5py.File(out, "r") as f:
            scanner = json.loads(f["/_magpie/scanner"][()])
            self.assertAlmostEqual(f["/acquisition/gradient"][0, 0, 0, 0], -1.5)
        self.assertAlmostEqual(scanner["particle"]["coreDiameter"], 30e-9)
        self.assertEqual(scanner["particle"]["temperature"], 310)
        self.assertEqual(magpie("reconstruct", out, "--method", "xspace", "-o", self.path("x.mdf")).returncode, 0)

    def test_what_cannot_describe_a_scanner_is_refused(self):
        broken = self.path("no-gradient.mdf")
        shutil.copy(self.lab, broken)
        with h5py.File(broken, "r+") as f:
            del f["/acquisition/gradient"]
        for args, says in ((["measurement", "--scanner-from", broken], "no /acquisition/gradient"),
                           (["measurement", "--scanner-from", self.path("missing.mdf")], "missing.mdf"),
                           (["measurement", "--particle-diameter", "30"], "describe a --scanner-from scanner"),
                           (["measurement", "--scanner-from", self.lab, "--image-size", "0,4"], "--image-size takes"),
                           (["dataset", "deblur", "--scanner-from", self.lab, "--preset", "openmpi-2d"], "two scanners")):
            result = magpie("simulate", *args, "-o", self.path("out.h5"))
            self.assertNotEqual(result.returncode, 0, args)
            self.assertIn(says, result.stderr)
            self.assertNotIn("Fatal error", result.stderr)


if __name__ == "__main__":
    unittest.main()
