"""`magpie upscale-sm`: the issue's acceptance (8 x 8 smsr-paper SM -> 32 x 32 SM that validates
and reconstructs), agreement with the TorchScript network and bicubic weights computed in Python,
and clear errors."""
import os
import shutil
import sys
import tempfile
import unittest

import h5py
import numpy as np
import torch

from support import MANIFEST, magpie

sys.path.insert(0, os.path.join(os.path.dirname(MANIFEST), "sm-upscaler"))
from model import bicubic_matrix  # noqa: E402


class UpscaleSM(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="magpie-upscale-")
        cls.coarse = os.path.join(cls.dir, "sm8.mdf")
        cls.fine = os.path.join(cls.dir, "sm32.mdf")
        result = magpie("simulate", "sm", "--preset", "smsr-paper", "--grid", "8", "--snr", "20", "--seed", "5", "-o", cls.coarse)
        assert result.returncode == 0, result.stderr
        result = magpie("upscale-sm", cls.coarse, "-o", cls.fine, "--factor", "4", "--manifest", MANIFEST)
        assert result.returncode == 0, result.stderr
        cls.stderr = result.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def path(self, name):
        return os.path.join(self.dir, name)

    def fails(self, *args, says):
        out = self.path("refused.mdf")
        result = magpie("upscale-sm", *args, "-o", out, "--manifest", MANIFEST)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(says, result.stderr)
        self.assertFalse(os.path.exists(out))

    def test_acceptance_validates_and_reconstructs(self):
        result = magpie("inspect", "--validate", self.fine)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("upscaling frequency images [", self.stderr)
        with h5py.File(self.fine, "r") as f:
            self.assertEqual(list(f["/calibration/size"][:]), [32, 32, 1])
            self.assertEqual(f["/measurement/data"].shape[-1], 32 * 32 + 10)
            learned = f["/_magpie/upscale/learned"][:]
            self.assertGreater(learned.sum(), 0)
            self.assertLess(learned.sum(), learned.size)
        m = self.path("m.mdf")
        result = magpie("simulate", "measurement", "--preset", "smsr-paper", "--phantom", "shapes", "--snr", "30", "-o", m)
        self.assertEqual(result.returncode, 0, result.stderr)
        image = self.path("recon.mdf")
        result = magpie("reconstruct", m, "--sm", self.fine, "-o", image)
        self.assertEqual(result.returncode, 0, result.stderr)
        with h5py.File(image, "r") as f:
            self.assertEqual(list(f["/reconstruction/size"][:]), [32, 32, 1])
            self.assertTrue(np.isfinite(f["/reconstruction/data"][:]).all())

    def test_matches_the_network_and_bicubic_in_python(self):
        with h5py.File(self.coarse, "r") as f:
            coarse = f["/measurement/data"][0]  # C x K x N, frame-fastest
        with h5py.File(self.fine, "r") as f:
            fine = f["/measurement/data"][0]
            learned = f["/_magpie/upscale/learned"][:]
        background = coarse[..., 64:].mean(axis=-1, keepdims=True)
        images = (coarse[..., :64] - background).reshape(*coarse.shape[:2], 8, 8)
        network = torch.jit.load(os.path.join(os.path.dirname(MANIFEST), "sm-upscaler", "sm-upscaler-x4.pt"))
        m = bicubic_matrix(8, 4).double().numpy()
        channels, frequencies = np.nonzero(learned)
        for c, k in list(zip(channels, frequencies))[:: max(1, len(channels) // 20)]:
            x = torch.from_numpy(np.stack([images[c, k].real, images[c, k].imag])[None].astype(np.float32))
            with torch.no_grad():
                y = network(x)[0].numpy()
            want = (y[0] + 1j * y[1]).reshape(-1) + background[c, k, 0]
            got = fine[c, k, :1024]
            self.assertLess(np.abs(got - want).max() / np.abs(want).max(), 1e-4, f"channel {c} frequency {k}")
        for c, k in [(0, 0), (1, 3)] + list(zip(*np.nonzero(learned == 0)))[:: 500]:
            want = (m @ images[c, k] @ m.T).reshape(-1) + background[c, k, 0]
            got = fine[c, k, :1024]
            self.assertLess(np.abs(got - want).max() / max(np.abs(want).max(), 1e-30), 1e-4, f"bicubic channel {c} frequency {k}")
        # Background frames carried over as they were.
        np.testing.assert_allclose(fine[..., 1024:], coarse[..., 64:], rtol=1e-6)

    def test_refusals(self):
        m = self.path("measurement.mdf")
        result = magpie("simulate", "measurement", "--preset", "smsr-paper", "-o", m)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.fails(m, "--factor", "4", says="not a system matrix")
        self.fails(self.coarse, "--factor", "3", says="--factor must be 2, 4 or 8")
        self.fails(self.coarse, "--factor", "2", says="takes a 16 x 16 grid")
        self.fails(self.coarse, "--factor", "2", "--model", "sm-upscaler-x4", says="upscales 4x; 2x was asked for")
        self.fails(self.coarse, "--factor", "4", "--model", "msa-deblur", says="not a sm-upscaler")
        garbage = self.path("garbage.mdf")
        with open(garbage, "wb") as f:
            f.write(b"not hdf5")
        self.fails(garbage, "--factor", "4", says="garbage.mdf")


if __name__ == "__main__":
    unittest.main()
