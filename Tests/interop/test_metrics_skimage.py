"""Magpie's PSNR and SSIM against scikit-image (Debian python3-skimage), to 1e-3."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import h5py
import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from support import MAGPIE



class MetricsAgreeWithScikitImage(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="magpie-metrics-")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def compare(self, image, reference):
        path = os.path.join(self.dir, "images.h5")
        with h5py.File(path, "w") as f:
            f["image"] = image
            f["reference"] = reference
        result = subprocess.run([MAGPIE, "compare", f"{path}:/image", f"{path}:/reference", "--json"],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)

    def test_random_smooth_and_blocky_images(self):
        rng = np.random.default_rng(5)
        y, x = np.mgrid[0:48, 0:61]
        cases = [
            (rng.random((40, 40)), rng.random((40, 40))),
            (np.sin(x / 5.0) * np.cos(y / 7.0), np.sin(x / 5.0) * np.cos(y / 7.0) + 0.1 * rng.standard_normal((48, 61))),
            ((x > 30).astype(float) + 0.05 * rng.standard_normal((48, 61)), (x > 30).astype(float)),
        ]
        for image, reference in cases:
            ours = self.compare(image, reference)
            data_range = reference.max() - reference.min()
            ssim = structural_similarity(image, reference, gaussian_weights=True, sigma=1.5,
                                         use_sample_covariance=False, data_range=data_range)
            psnr = peak_signal_noise_ratio(reference, image, data_range=data_range)
            self.assertAlmostEqual(ours["ssim"], ssim, delta=1e-3)
            self.assertAlmostEqual(ours["psnr"], psnr, delta=1e-3)
            nrmse = np.linalg.norm(image - reference) / np.linalg.norm(reference)
            self.assertAlmostEqual(ours["nrmse"], nrmse, delta=1e-9)

    def test_bad_images_are_one_line_errors(self):
        path = os.path.join(self.dir, "bad.h5")
        with h5py.File(path, "w") as f:
            f["a"] = np.zeros((4, 4))
            f["b"] = np.zeros((5, 4))
        result = subprocess.run([MAGPIE, "compare", f"{path}:/a", f"{path}:/b"], capture_output=True, text=True)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("need two 2D images of one size", result.stderr)
        result = subprocess.run([MAGPIE, "compare", f"{path}:/missing", f"{path}:/b"], capture_output=True, text=True)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)


if __name__ == "__main__":
    unittest.main()
