"""`magpie reconstruct`: agreement with a NumPy Kaczmarz, files other tools read, clear errors."""
import os
import shutil
import struct
import tempfile
import unittest
import zlib

import h5py
import numpy as np

import kaczmarz_reference as reference
from support import magpie, simulated_pair



class Reconstruct(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="magpie-reconstruct-")
        cls.sm, cls.m = simulated_pair(cls.dir, seed=3, grid=16, frames=6, background_frames=4)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def path(self, name):
        return os.path.join(self.dir, name)

    def run_ok(self, *args):
        result = magpie("reconstruct", *args)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result

    def fails(self, *args, says):
        result = magpie("reconstruct", *args)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(says, result.stderr)
        self.assertNotIn("Fatal error", result.stderr)

    def test_kaczmarz_agrees_with_numpy(self):
        out = self.path("k.mdf")
        self.run_ok(self.m, "--sm", self.sm, "--iterations", "3", "--lambda", "0.01", "--frames", "2-5", "--average", "4", "-o", out)
        matrix, rows, concentration = reference.system_matrix(self.sm)
        u = reference.measurement_vector(self.m, rows, frames=[1, 2, 3, 4])
        expected = reference.kaczmarz(matrix, u, lam=0.01, iterations=3) * concentration
        with h5py.File(out, "r") as f:
            image = f["/reconstruction/data"][()]
            stored_rows = f["/_magpie/reconstruction/rows"][()]
            self.assertEqual(f["/_magpie/reconstruction/unit"][()].decode(), "mol/L")
        self.assertEqual(image.shape, (1, 256, 1))
        np.testing.assert_array_equal(stored_rows, np.array([(c + 1, k) for c, k in rows]))
        difference = np.linalg.norm(image[0, :, 0] - expected) / np.linalg.norm(expected)
        self.assertLess(difference, 1e-4)

    def test_output_is_valid_mdf_with_measurement_metadata(self):
        out, png = self.path("c.mdf"), self.path("c.png")
        self.run_ok(self.m, "--sm", self.sm, "--method", "cgnr", "--average", "3", "-o", out, "--png", png)
        self.assertEqual(magpie("inspect", "--validate", out).returncode, 0)
        with h5py.File(out, "r") as f, h5py.File(self.m, "r") as m:
            self.assertEqual(f["/reconstruction/data"].shape, (2, 256, 1))
            self.assertEqual(f["/reconstruction/size"][()].tolist(), [16, 16, 1])
            self.assertEqual(f["/reconstruction/positions"].shape, (256, 3))
            self.assertEqual(f["/experiment/name"][()], m["/experiment/name"][()])
            self.assertEqual(f["/acquisition/receiver/numSamplingPoints"][()], 1632)
            self.assertNotIn("/measurement", f)
            self.assertEqual(f["/_magpie/reconstruction/residuals"].shape, (2, 100))
            self.assertEqual(f["/_magpie/reconstruction/method"][()].decode(), "cgnr")
        # The preview: the 16 x 16 grid sized up 16 times (nearest), viridis over the last image's
        # range, a colour bar at the right; zlib (stored blocks) reads it as any PNG reader does.
        with open(png, "rb") as handle:
            data = handle.read()
        self.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n")
        width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
        self.assertEqual((height, depth, colour), (256, 8, 2))
        self.assertGreater(width, 256)   # the bar
        chunks, offset = {}, 8
        while offset < len(data):
            length, kind = struct.unpack(">I4s", data[offset:offset + 8])
            chunks.setdefault(kind, b"")
            chunks[kind] += data[offset + 8:offset + 8 + length]
            offset += 12 + length
        rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, 1 + 3 * width)[:, 1:].reshape(height, width, 3)
        with h5py.File(out, "r") as f:
            last = f["/reconstruction/data"][-1, :, 0].reshape(16, 16)
        pixels = rows[::16, :256:16]   # one pixel a voxel
        self.assertEqual(pixels[np.unravel_index(last.argmax(), last.shape)].tolist(), [0xFD, 0xE7, 0x25])   # viridis' top
        self.assertEqual(pixels[np.unravel_index(last.argmin(), last.shape)].tolist(), [0x44, 0x01, 0x54])   # and bottom
        self.assertTrue((rows[16:32, 0:16] == rows[16, 0]).all())   # each voxel a 16 x 16 square
        self.assertIn(b"viridis", chunks[b"tEXt"])

    def test_xspace_needs_no_system_matrix(self):
        out = self.path("x.mdf")
        self.run_ok(self.m, "--method", "xspace", "-o", out)
        with h5py.File(out, "r") as f:
            self.assertEqual(f["/reconstruction/data"].shape, (6, 64 * 64, 1))

    def test_xspace_polarity_auto_undoes_an_inverted_receive_chain(self):
        flipped = self.path("flipped.mdf")
        shutil.copy(self.m, flipped)
        with h5py.File(flipped, "r+") as f:
            f["/measurement/data"][...] = -f["/measurement/data"][...]
        plain, auto, fixed = self.path("plain.mdf"), self.path("auto.mdf"), self.path("fixed.mdf")
        self.run_ok(self.m, "--method", "xspace", "-o", plain)
        said = self.run_ok(flipped, "--method", "xspace", "-o", auto).stderr
        self.assertIn("x-space polarity auto: -1 (decided from frame", said)
        self.run_ok(flipped, "--method", "xspace", "--polarity", "-1", "-o", fixed)
        with h5py.File(plain, "r") as a, h5py.File(auto, "r") as b, h5py.File(fixed, "r") as c:
            expected = a["/reconstruction/data"][...]
            np.testing.assert_allclose(b["/reconstruction/data"][...], expected, atol=1e-5 * np.abs(expected).max())
            np.testing.assert_array_equal(c["/reconstruction/data"][...], b["/reconstruction/data"][...])
            self.assertEqual(a["/_magpie/reconstruction/polarity"][()], 1)
            self.assertEqual(b["/_magpie/reconstruction/polarity"][()], -1)
            self.assertIn('"polarity":"auto"', b["/_magpie/reconstruction/plan"][()].decode())
            self.assertIn('"polarity":"-1"', c["/_magpie/reconstruction/plan"][()].decode())
            self.assertNotIn("polarityDecidedAtFrame", c["/_magpie/reconstruction"])
        self.fails(self.m, "--method", "xspace", "--polarity", "down", "-o", fixed, says="polarity")
        self.fails(self.m, "--sm", self.sm, "--polarity", "-1", "-o", fixed, says="--polarity is x-space's")

    def test_mismatched_system_matrix(self):
        sm1d = self.path("sm1d.mdf")
        self.assertEqual(magpie("simulate", "sm", "--preset", "openmpi-1d", "--grid", "8", "-o", sm1d).returncode, 0)
        self.fails(self.m, "--sm", sm1d, "-o", self.path("mismatch.mdf"), says="samples per period 102 vs 1632")
        self.fails(self.m, "--sm", sm1d, "-o", self.path("mismatch.mdf"), says="receive channels 1 vs 2")
        smsr = self.path("smsr.mdf")
        self.assertEqual(magpie("simulate", "sm", "--preset", "smsr-paper", "--grid", "4", "-o", smsr).returncode, 0)
        self.fails(self.m, "--sm", smsr, "-o", self.path("mismatch.mdf"), says="receive bandwidth")
        self.assertFalse(os.path.exists(self.path("mismatch.mdf")))

    def test_a_compressed_system_matrix_file_as_other_readers_see_it(self):
        """`compress-sm` writes MDF v2.1's compressed layout; Kaczmarz with it equals compression at load."""
        compressed = self.path("sm-c.mdf")
        result = magpie("compress-sm", self.sm, "-o", compressed, "--keep", "0.1")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("25 coefficients each (of 256)", result.stdout)
        with h5py.File(compressed, "r") as f, h5py.File(self.sm, "r") as dense:
            data, indices = f["/measurement/data"][()], f["/measurement/subsamplingIndices"][()]
            self.assertEqual(f["/measurement/isSparsityTransformed"][()], 1)
            self.assertEqual(f["/measurement/sparsityTransformation"][()].decode(), "DCT-IV")
            bins = f["/measurement/frequencySelection"][()]
            self.assertEqual(data.dtype, np.complex64)
            self.assertEqual(data.shape, (1, 2, len(bins), 25))
            self.assertEqual(indices.shape, data.shape)
            self.assertTrue(((indices >= 1) & (indices <= 256)).all())
            self.assertTrue((np.diff(indices, axis=-1) > 0).all())
            # One row, rebuilt as the spec says (zeros elsewhere, the orthonormal DCT-IV is its own
            # inverse), against the dense row minus its background mean: the largest 10 % keep most of it.
            c, k = 0, int(np.argmax(np.abs(data[0, 0]).sum(axis=-1)))
            coefficients = np.zeros(256, np.complex128)
            coefficients[indices[0, c, k] - 1] = data[0, c, k]
            from scipy.fft import dctn
            row = dctn(coefficients.reshape(16, 16), type=4, norm="ortho").reshape(-1)
            raw = dense["/measurement/data"][0, c, bins[k] - 1, :]
            background = dense["/measurement/isBackgroundFrame"][()].astype(bool)
            truth = raw[~background] - raw[background].mean()
            self.assertLess(np.linalg.norm(row - truth) / np.linalg.norm(truth), 0.35)
        a, b = self.path("from-file.mdf"), self.path("at-load.mdf")
        self.run_ok(self.m, "--sm", compressed, "-o", a)
        self.run_ok(self.m, "--sm", self.sm, "--compression-keep", "0.1", "-o", b)
        with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
            np.testing.assert_array_equal(fa["/reconstruction/data"][()], fb["/reconstruction/data"][()])
            self.assertEqual(fa["/_magpie/reconstruction/compressionKept"][()], 25)
        self.fails(self.m, "--sm", compressed, "--method", "cgnr", "-o", self.path("c.mdf"), says="compressed system matrix")
        self.fails(self.m, "--sm", self.sm, "--compression-keep", "0", "-o", self.path("c.mdf"), says="compression keep = 0.0 is out of range")
        bad = magpie("compress-sm", self.m, "-o", self.path("x.mdf"), "--keep", "0.1")
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("no /calibration", bad.stderr)
        self.assertNotEqual(magpie("compress-sm", self.sm, "-o", self.path("y.mdf"), "--keep", "2").returncode, 0)

    def test_a_calibration_simulated_at_selected_frequencies(self):
        """`simulate sm --frequencies N` stores the N strongest bins at or above 80 kHz, each equal
        to the full calibration's there (same seed), as MDF's frequencySelection; it reconstructs."""
        selected = self.path("sm-selected.mdf")
        result = magpie("simulate", "sm", "--preset", "openmpi-2d", "--seed", "3", "--grid", "16", "--snr", "50",
                        "--frequencies", "120", "-o", selected)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("120 frequencies (selected)", result.stdout)
        self.assertEqual(magpie("inspect", "--validate", selected).returncode, 0)
        with h5py.File(selected, "r") as f, h5py.File(self.sm, "r") as full:
            self.assertEqual(f["/measurement/isFrequencySelection"][()], 1)
            bins = f["/measurement/frequencySelection"][()]
            data = f["/measurement/data"][()]
            self.assertEqual(data.shape, (1, 2, 120, full["/measurement/data"].shape[-1]))
            self.assertTrue((np.diff(bins) > 0).all())
            period = full["/acquisition/drivefield/cycle"][()]
            self.assertTrue(((bins - 1) / period >= 80e3).all())
            np.testing.assert_array_equal(data, full["/measurement/data"][:, :, bins - 1, :])
            self.assertEqual(f["/calibration/snr"].shape, (1, 2, 120))
        a, b = self.path("selected.mdf"), self.path("full.mdf")
        self.run_ok(self.m, "--sm", selected, "--average", "6", "-o", a)
        self.run_ok(self.m, "--sm", self.sm, "--average", "6", "-o", b)
        with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
            x, y = fa["/reconstruction/data"][()].ravel(), fb["/reconstruction/data"][()].ravel()
            self.assertGreater(np.corrcoef(x, y)[0, 1], 0.8)
        bad = magpie("simulate", "sm", "--preset", "openmpi-2d", "--grid", "4", "--frequencies", "0", "-o", self.path("bad.mdf"))
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("--frequencies must be at least 1", bad.stderr)
        huge = magpie("simulate", "sm", "--preset", "openmpi-3d", "--grid", "37", "-o", self.path("huge.mdf"))
        self.assertNotEqual(huge.returncode, 0)
        self.assertIn("store fewer frequencies with --frequencies", huge.stderr)
        self.assertFalse(os.path.exists(self.path("huge.mdf")))

    def test_bad_inputs(self):
        out = self.path("mismatch.mdf")
        self.fails(self.m, "--sm", self.m, "-o", out, says="no /calibration (no calibration grid)")
        self.fails(self.m, "-o", out, says="needs --sm")
        self.fails(self.m, "--sm", self.sm, "--frames", "9", "-o", out, says="frame 9 is a background frame")
        self.fails(self.m, "--sm", self.sm, "--frames", "99", "-o", out, says="frame 99 does not exist")
        self.fails(self.m, "--sm", self.sm, "--frames", "two", "-o", out, says="not a number or range")
        self.fails(self.m, "--sm", self.sm, "--channels", "3", "-o", out, says="channel 3 does not exist")
        self.fails(self.m, "--sm", self.sm, "--min-freq", "1.3e6", "-o", out, says="frequency selection")
        self.fails(self.path("missing.mdf"), "--sm", self.sm, "-o", out, says="missing.mdf")
        background_only = self.path("bg.mdf")
        self.assertEqual(magpie("simulate", "measurement", "--frames", "0", "--background-frames", "2", "-o", background_only).returncode, 0)
        self.fails(background_only, "--sm", self.sm, "-o", out, says="no foreground frames")
        self.assertFalse(os.path.exists(out))

    def test_score_method_images_consistent_with_the_signals(self):
        sm19, out, kaczmarz = self.path("sm19.mdf"), self.path("score.mdf"), self.path("k19.mdf")
        result = magpie("simulate", "sm", "--preset", "openmpi-2d", "--grid", "19", "--snr", "40", "--seed", "3", "-o", sm19)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.run_ok(self.m, "--sm", sm19, "--method", "score", "--iterations", "20", "--average", "6", "-o", out)
        self.run_ok(self.m, "--sm", sm19, "--snr-threshold", "5", "--average", "6", "--iterations", "3", "-o", kaczmarz)
        self.assertEqual(magpie("inspect", "--validate", out).returncode, 0)
        with h5py.File(out, "r") as f, h5py.File(kaczmarz, "r") as k:
            image = f["/reconstruction/data"][()]
            self.assertEqual(image.shape, (1, 361, 1))
            self.assertEqual(f["/reconstruction/size"][()].tolist(), [19, 19, 1])
            self.assertGreaterEqual(image.min(), 0)
            self.assertEqual(f["/_magpie/reconstruction/method"][()].decode(), "score")
            self.assertTrue(f["/_magpie/reconstruction/model"][()].decode().startswith("score-openmpi2d sha256 "))
            self.assertEqual(f["/_magpie/reconstruction/iterations"][()], 20)
            self.assertLess(f["/_magpie/reconstruction/residuals"][0, 0], 0.5)
            reference_image = k["/reconstruction/data"][0, :, 0]
        # The same phantom as Kaczmarz sees it, though not the same image.
        self.assertGreater(np.corrcoef(image[0, :, 0], reference_image)[0, 1], 0.7)

    def test_score_method_refuses_what_it_cannot_use(self):
        out = self.path("score-bad.mdf")
        self.fails(self.m, "--sm", self.sm, "--method", "score", "--model", "nonexistent", "-o", out, says="nonexistent")
        sm32 = self.path("sm32.mdf")
        self.assertEqual(magpie("simulate", "sm", "--preset", "openmpi-2d", "--grid", "32", "-o", sm32).returncode, 0)
        self.fails(self.m, "--sm", sm32, "--method", "score", "-o", out, says="larger than the model's 20 x 20")
        self.fails(self.m, "--sm", self.sm, "--method", "score", "--iterations", "0", "-o", out, says="--iterations must be at least 1")
        # The prior learnt 19 x 19 images: a 16 x 16 SM's grid is another scanner's, run only when allowed.
        self.fails(self.m, "--sm", self.sm, "--method", "score", "-o", out, says="image grid 16 x 16 x 1, the model's 19 x 19 x 1")
        self.assertFalse(os.path.exists(out))
        self.run_ok(self.m, "--sm", self.sm, "--method", "score", "--iterations", "2", "--allow-other-scanner", "-o", out)
        with h5py.File(out, "r") as f:
            self.assertIn("image grid 16 x 16 x 1", f["/_magpie/reconstruction/scoreScannerMismatch"][()].decode())

    def test_deblur_sharpens_the_xspace_image_and_records_how(self):
        native, outputs = self.path("native.mdf"), {}
        self.run_ok(self.m, "--method", "xspace", "--average", "6", "-o", native)
        for method in ("msa", "dcgan", "rl", "wiener"):
            outputs[method] = self.path(f"deblur-{method}.mdf")
            self.run_ok(self.m, "--method", "xspace", "--average", "6", "--deblur", method, "-o", outputs[method])
            self.assertEqual(magpie("inspect", "--validate", outputs[method]).returncode, 0)
        with h5py.File(native, "r") as f:
            blurred = f["/reconstruction/data"][0, :, 0].reshape(64, 64)
        for method, path in outputs.items():
            with h5py.File(path, "r") as f:
                image = f["/reconstruction/data"][0, :, 0].reshape(64, 64)
                recorded = f["/_magpie/reconstruction/deblur"][()].decode()
            self.assertTrue(np.isfinite(image).all(), method)
            # Sharper: the intensity more concentrated (N sum x^2 / (sum x)^2 of the positive part) than natively.
            def concentration(x):
                x = np.clip(x, 0, None)
                return x.size * (x ** 2).sum() / x.sum() ** 2
            self.assertGreater(concentration(image), 1.1 * concentration(blurred), method)
            self.assertGreater(np.corrcoef(image.ravel(), blurred.ravel())[0, 1], 0.5, method)
        self.assertTrue(recorded.startswith("Wiener"))
        for method in ("msa", "dcgan"):
            with h5py.File(outputs[method], "r") as f:
                self.assertTrue(f["/_magpie/reconstruction/deblur"][()].decode().startswith(f"{method}-deblur-openmpi2d sha256 "))

    def test_deblur_refuses_what_it_cannot_use(self):
        out = self.path("deblur-bad.mdf")
        self.fails(self.m, "--sm", self.sm, "--deblur", "rl", "-o", out, says="needs --method xspace")
        self.fails(self.m, "--method", "xspace", "--deblur", "gan", "-o", out, says="gan")
        self.fails(self.m, "--method", "xspace", "--deblur", "msa", "--model", "nonexistent", "-o", out, says="nonexistent")
        self.fails(self.m, "--method", "xspace", "--deblur", "dcgan", "--model", "score-openmpi2d", "-o", out, says="score-openmpi2d")
        self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    unittest.main()
