"""`magpie simulate`: files other tools can read, deterministic for a seed, clear errors."""
import os
import shutil
import tempfile
import unittest

import h5py
import numpy as np
from support import magpie



class Simulate(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="magpie-simulate-")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def path(self, name):
        return os.path.join(self.dir, name)

    def test_measurement_is_valid_mdf_with_its_phantom(self):
        out = self.path("m.mdf")
        result = magpie("simulate", "measurement", "--preset", "openmpi-2d", "--phantom", "resolution", "--frames", "4", "-o", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(magpie("inspect", "--validate", out).returncode, 0)
        with h5py.File(out, "r") as f:
            self.assertEqual(f["/acquisition/receiver/numSamplingPoints"][()], 1632)
            self.assertEqual(f["/acquisition/receiver/bandwidth"][()], 1.25e6)
            data = f["/measurement/data"][()]
            self.assertEqual(data.shape, (6, 1, 2, 1632))
            self.assertEqual(f["/measurement/isBackgroundFrame"][()].view(bool).tolist(), [False] * 4 + [True] * 2)
            self.assertEqual(f["/_magpie/phantom"].shape, (1, 64, 64))
        # The particle signal is in the foreground frames only: they differ from the background.
        foreground = data[:4, 0].mean(axis=0)
        background = data[4:, 0].mean(axis=0)
        self.assertGreater(np.abs(foreground - background).max(), 10 * np.abs(data[4, 0] - data[5, 0]).max())

    def test_same_seed_same_file_contents(self):
        for name in ("a.mdf", "b.mdf"):
            self.assertEqual(magpie("simulate", "measurement", "--preset", "openmpi-1d", "--snr", "20", "--seed", "9",
                                    "-o", self.path(name)).returncode, 0)
        with h5py.File(self.path("a.mdf"), "r") as a, h5py.File(self.path("b.mdf"), "r") as b:
            np.testing.assert_array_equal(a["/measurement/data"][()], b["/measurement/data"][()])

    def test_datasets_regenerate_exactly(self):
        for name in ("d1.h5", "d2.h5"):
            result = magpie("simulate", "dataset", "denoise", "--preset", "openmpi-1d", "--phantom", "dots", "--count", "3",
                            "--snr", "10", "--seed", "4", "-o", self.path(name))
            self.assertEqual(result.returncode, 0, result.stderr)
        with h5py.File(self.path("d1.h5"), "r") as a, h5py.File(self.path("d2.h5"), "r") as b:
            self.assertEqual(a["/input"].shape, (3, 1, 102))
            np.testing.assert_array_equal(a["/input"][()], b["/input"][()])
            # Input and target are two noisy periods of the same clean signal.
            self.assertFalse(np.array_equal(a["/input"][()], a["/target"][()]))
            noise = a["/input"][()] - a["/clean"][()]
            self.assertLess(np.abs(noise.mean()), 0.5 * noise.std())
        result = magpie("simulate", "dataset", "score", "--count", "2", "--grid", "19", "-o", self.path("s.h5"))
        self.assertEqual(result.returncode, 0, result.stderr)
        with h5py.File(self.path("s.h5"), "r") as f:
            self.assertEqual(f["/phantom"].shape, (2, 19, 19))
            self.assertEqual(f["/signal"].shape, (2, 2, 1632))

    def test_deblur_dataset_draws_snr_and_cycles_phantom_kinds(self):
        # openmpi-2d for both images keeps it quick in a debug build; the papers' presets are 120 x 120.
        result = magpie("simulate", "dataset", "deblur", "--preset", "openmpi-2d", "--label-preset", "openmpi-2d",
                        "--phantom", "resolution,vessels", "--snr", "20...30", "--count", "3", "--seed", "5", "-o", self.path("deblur.h5"))
        self.assertEqual(result.returncode, 0, result.stderr)
        with h5py.File(self.path("deblur.h5"), "r") as f:
            self.assertEqual(f["/native"].shape, (3, 64, 64))
            snr = f["/snr"][:, 0]
            self.assertTrue(((snr >= 20) & (snr <= 30)).all() and len(set(snr.tolist())) == 3)
            for name in ("native", "sharp"):
                np.testing.assert_allclose(f[name][()].max(axis=(1, 2)), 1, rtol=1e-6)
            phantom = f["/phantom"][()]
            # Records 0 and 2 are resolution phantoms (two straight bars: every row within them alike), 1 a vessel.
            rows = phantom[:, 24:40]
            self.assertTrue(np.allclose(rows[0], rows[0][0]) and np.allclose(rows[2], rows[2][0]))
            self.assertFalse(np.allclose(rows[1], rows[1][0]))
        # The bench reads these files; a file of another kind is refused with what it lacks.
        result = magpie("bench", "deblur", "--test", self.path("deblur.h5"), "--validation", self.path("deblur.h5"),
                        "--tune-count", "1", "--timing-count", "1", "--markdown")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len(result.stdout.strip().splitlines()), 3)  # native, Wiener, Richardson-Lucy
        self.assertEqual(magpie("simulate", "dataset", "score", "--count", "1", "-o", self.path("score1.h5")).returncode, 0)
        result = magpie("bench", "deblur", "--test", self.path("score1.h5"), "--validation", self.path("deblur.h5"))
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("/native", result.stderr)
        for bad, says in ((["--snr", "30...20"], "--snr"), (["--phantom", "digits,teapot"], "teapot")):
            result = magpie("simulate", "dataset", "deblur", "--preset", "openmpi-2d", "--label-preset", "openmpi-2d", "--count", "1",
                            *bad, "-o", self.path("bad.h5"))
            self.assertNotEqual(result.returncode, 0)
            self.assertIn(says, result.stderr)

    def test_unpaired_deblur_dataset_and_fixed_gap_tubes(self):
        common = ("simulate", "dataset", "deblur", "--preset", "openmpi-2d", "--label-preset", "openmpi-2d", "--label-iterations", "5")
        for name, extra in (("paired", ()), ("unpaired", ("--unpaired",))):
            result = magpie(*common, "--count", "2", *extra, "-o", self.path(f"{name}.h5"))
            self.assertEqual(result.returncode, 0, result.stderr)
        with h5py.File(self.path("paired.h5"), "r") as p, h5py.File(self.path("unpaired.h5"), "r") as u:
            np.testing.assert_array_equal(p["/native"][()], u["/native"][()])
            np.testing.assert_array_equal(p["/phantom"][()], u["/phantom"][()])
            for i in range(2):  # the label comes from another digit
                self.assertLess(np.corrcoef(p["/sharp"][i].ravel(), u["/sharp"][i].ravel())[0, 1], 0.99)
        # --image-snr adds white noise to the native image only: 30 dB is an RMS ratio of 10^-1.5.
        result = magpie(*common, "--count", "2", "--image-snr", "30", "-o", self.path("noisy.h5"))
        self.assertEqual(result.returncode, 0, result.stderr)
        with h5py.File(self.path("paired.h5"), "r") as p, h5py.File(self.path("noisy.h5"), "r") as n:
            self.assertEqual(n["/image_snr"][:, 0].tolist(), [30, 30])
            self.assertTrue(np.isinf(p["/image_snr"][()]).all())
            np.testing.assert_array_equal(p["/sharp"][()], n["/sharp"][()])
            clean, noisy = p["/native"][0], n["/native"][0]
            ratio = (noisy - clean).std() / np.sqrt((clean ** 2).mean())
            self.assertTrue(0.02 < ratio < 0.045, ratio)
        result = magpie(*common, "--phantom", "resolution", "--gap", "3.0", "--count", "2", "-o", self.path("tubes.h5"))
        self.assertEqual(result.returncode, 0, result.stderr)
        with h5py.File(self.path("tubes.h5"), "r") as f:
            phantom = f["/phantom"][()]
        np.testing.assert_array_equal(phantom[0], phantom[1])
        # openmpi-2d: 24 mm over 64 pixels; the centre row crosses both bars with 3.0 mm = 8 pixels between them.
        row = phantom[0, 32]
        inside = np.flatnonzero(row > 0.5)
        gap = np.diff(inside).max() - 1
        self.assertTrue(7 <= gap <= 9, row)
        # Compared with the phantom, one row per set, every method's images written out.
        result = magpie("bench", "deblur", "--test", self.path("tubes.h5"), "--test", self.path("paired.h5"), "--validation",
                        self.path("paired.h5"), "--preset", "openmpi-2d", "--reference", "phantom", "--by-set", "--markdown",
                        "--tune-count", "1", "--outputs", self.path("outputs.h5"))
        self.assertEqual(result.returncode, 0, result.stderr)
        rows = result.stdout.strip().splitlines()
        self.assertEqual([r.split("|")[1].strip() for r in rows], ["tubes", "paired"])
        with h5py.File(self.path("outputs.h5"), "r") as f:
            self.assertEqual(sorted(f["tubes"].keys()), ["native", "reference", "rl", "wiener"])
            np.testing.assert_allclose(f["/tubes/reference"][()], phantom)
            native = f["/tubes/native"][()]
            self.assertEqual(native.shape, (2, 64, 64))
            self.assertAlmostEqual(float(native.max()), 1.0, places=5)
        result = magpie("bench", "deblur", "--test", self.path("tubes.h5"), "--validation", self.path("paired.h5"),
                        "--outputs", self.path("no-such-dir/outputs.h5"))
        self.assertEqual(result.returncode, 1)
        self.assertIn("no-such-dir/outputs.h5", result.stderr)
        self.assertEqual(result.stdout, "")  # refused before any work
        for bad, says in ((["--gap", "-1"], "--gap"), (["--label-iterations", "-1"], "--label-iterations"), (["--image-snr", "x"], "--image-snr")):
            result = magpie(*common, "--count", "1", *bad, "-o", self.path("bad.h5"))
            self.assertNotEqual(result.returncode, 0)
            self.assertIn(says, result.stderr)

    def test_bad_options_are_refused(self):
        self.assertNotEqual(magpie("simulate", "dataset", "upscale-sm", "--factor", "3", "-o", self.path("x.h5")).returncode, 0)
        self.assertNotEqual(magpie("simulate", "measurement", "--preset", "no-such-scanner", "-o", self.path("x.mdf")).returncode, 0)
        result = magpie("simulate", "measurement", "--phantom", "resolution", "--gap", "40", "-o", self.path("x.mdf"))
        self.assertEqual(result.returncode, 1)
        self.assertIn("do not fit", result.stderr)
        self.assertFalse(os.path.exists(self.path("x.mdf")))
        out = self.path("exists.mdf")
        open(out, "w").close()
        result = magpie("simulate", "measurement", "-o", out)
        self.assertEqual(result.returncode, 1)
        self.assertIn("already exists", result.stderr)


if __name__ == "__main__":
    unittest.main()
