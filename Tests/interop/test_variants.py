"""Measurement variants that MPIFiles writes or reads (docs/MDF.md, "Compatibility"): each is
reconstructed like the plain file it was made from, or refused with the field that stops it."""
import os
import shutil
import tempfile
import unittest

import h5py
import numpy as np

from support import magpie, simulated_pair


def rewrite(path, name, data):
    """Replaces dataset `name` (any shape or type) in the file at `path`."""
    with h5py.File(path, "r+") as f:
        if name in f:
            del f[name]
        f[name] = data


class Variants(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="magpie-variants-")
        cls.sm, cls.m = simulated_pair(cls.dir, seed=4, grid=12, frames=3, background_frames=2)
        cls.expected = {method: cls.reconstruct(cls.m, method) for method in ("xspace", "kaczmarz")}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    @classmethod
    def reconstruct(cls, measurement, method, sm=None, *extra, expect_ok=True):
        out = os.path.join(cls.dir, f"out-{method}-{os.path.basename(measurement)}")
        args = ["reconstruct", measurement, "--method", method, "-o", out, "--overwrite", *extra]
        if method != "xspace":
            args += ["--sm", sm or cls.sm]
        result = magpie(*args)
        if not expect_ok:
            return result
        assert result.returncode == 0, result.stderr
        with h5py.File(out, "r") as f:
            return f["/reconstruction/data"][()]

    def variant(self, name):
        path = os.path.join(self.dir, name)
        shutil.copy(self.m, path)
        return path

    def same_images(self, path, tolerance=1e-4, methods=("xspace", "kaczmarz"), sm=None):
        for method in methods:
            expected = self.expected[method]
            images = self.reconstruct(path, method, sm)
            np.testing.assert_allclose(images, expected, atol=tolerance * np.abs(expected).max(), err_msg=method)

    def refused(self, path, says, method="kaczmarz", sm=None):
        result = self.reconstruct(path, method, sm, expect_ok=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(says, result.stderr)
        self.assertNotIn("Fatal error", result.stderr)

    def replay_refused(self, path, says):
        result = magpie("replay", path, "--endpoint", "tcp://127.0.0.1:9", "--rate", "max")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(says, result.stderr)

    def volts(self):
        with h5py.File(self.m, "r") as f:
            return f["/measurement/data"][()].astype(np.float64)

    def test_a_full_fourier_domain_measurement(self):
        path = self.variant("fourier.mdf")
        rewrite(path, "/measurement/data", np.fft.rfft(self.volts(), axis=-1).astype(np.complex64))
        rewrite(path, "/measurement/isFourierTransformed", np.int8(1))
        self.same_images(path)
        selected = self.variant("selected.mdf")
        spectrum = np.fft.rfft(self.volts(), axis=-1).astype(np.complex64)
        rewrite(selected, "/measurement/data", spectrum[..., 30:200])
        rewrite(selected, "/measurement/isFourierTransformed", np.int8(1))
        rewrite(selected, "/measurement/isFrequencySelection", np.int8(1))
        rewrite(selected, "/measurement/frequencySelection", np.arange(31, 201, dtype=np.int64))
        self.refused(selected, "/measurement/isFrequencySelection = 1")
        self.replay_refused(path, "/measurement/isFourierTransformed = 1: replay sends time-domain frames")

    def test_a_frequency_selected_system_matrix(self):
        selected = os.path.join(self.dir, "sm-selected.mdf")
        shutil.copy(self.sm, selected)
        with h5py.File(self.sm, "r") as f:
            data = f["/measurement/data"][()]
            snr = f["/calibration/snr"][()]
            samples, bandwidth = f["/acquisition/receiver/numSamplingPoints"][()], f["/acquisition/receiver/bandwidth"][()]
        # The bins of 80 kHz and up, as the default band keeps: the same rows, so the same images.
        bins = np.arange(samples // 2 + 1)
        keep = bins[bins * (2 * bandwidth / samples) >= 80e3]
        rewrite(selected, "/measurement/data", data[:, :, keep, :])
        rewrite(selected, "/calibration/snr", snr[:, :, keep])
        rewrite(selected, "/measurement/isFrequencySelection", np.int8(1))
        rewrite(selected, "/measurement/frequencySelection", (keep + 1).astype(np.int64))
        self.same_images(self.m, methods=("kaczmarz",), sm=selected)

    def test_frames_of_several_periods_are_averaged(self):
        volts = self.volts()
        path = self.variant("periods.mdf")
        # Two periods whose mean is the original one: the first alone would image 1.5 x.
        rewrite(path, "/measurement/data", np.concatenate([1.5 * volts, 0.5 * volts], axis=1).astype(np.float32))
        with h5py.File(path, "r+") as f:
            f["/acquisition/numPeriodsPerFrame"][()] = 2
            for name in ("drivefield/strength", "drivefield/phase", "gradient"):
                value = f[f"/acquisition/{name}"][()]
                del f[f"/acquisition/{name}"]
                f[f"/acquisition/{name}"] = np.concatenate([value, value], axis=0)
        self.same_images(path)
        patches = self.variant("patches.mdf")
        shutil.copy(path, patches)
        with h5py.File(patches, "r+") as f:
            strength = f["/acquisition/drivefield/strength"][()]
            strength[1] *= 0.5
            f["/acquisition/drivefield/strength"][...] = strength
        self.refused(patches, "/acquisition/drivefield/strength differs between the 2 periods", method="xspace")

    def test_permuted_frames_are_put_back_in_acquisition_order(self):
        volts = self.volts()
        with h5py.File(self.m, "r") as f:
            background = f["/measurement/isBackgroundFrame"][()]
        order = np.arange(len(volts))[::-1]   # stored frame n was acquired as order[n]
        path = self.variant("permuted.mdf")
        rewrite(path, "/measurement/data", volts[order].astype(np.float32))
        rewrite(path, "/measurement/isBackgroundFrame", background[order])
        rewrite(path, "/measurement/isFramePermutation", np.int8(1))
        rewrite(path, "/measurement/framePermutation", (order + 1).astype(np.int64))
        self.same_images(path, tolerance=0)
        rewrite(path, "/measurement/framePermutation", np.ones(len(volts), dtype=np.int64))
        self.refused(path, "/measurement/framePermutation: expected a permutation of 1...5", method="xspace")
        self.replay_refused(path, "/measurement/framePermutation: expected a permutation of 1...5")

    def transfer_function(self, channels, frequencies):
        k = np.arange(frequencies)
        # Real at DC and Nyquist (an irfft ignores the imaginary parts there), no zeros.
        return np.stack([(2 + 0.5 * c) * np.exp(0.4j * np.sin(np.pi * k / (frequencies - 1))) for c in range(channels)])

    def test_a_receive_transfer_function_is_divided_out(self):
        volts = self.volts()
        channels, samples = volts.shape[2], volts.shape[3]
        tf = self.transfer_function(channels, samples // 2 + 1)
        path = self.variant("tf.mdf")
        recorded = np.fft.irfft(np.fft.rfft(volts, axis=-1) * tf[None, None], n=samples, axis=-1)
        rewrite(path, "/measurement/data", recorded.astype(np.float32))
        rewrite(path, "/acquisition/receiver/transferFunction", tf.astype(np.complex128))
        self.same_images(path, methods=("xspace",), tolerance=1e-3)
        # A system matrix without one: refused with the reason. With the same chain's: the same images.
        self.refused(path, "/acquisition/receiver/transferFunction: the measurement has its receive chain divided out")
        sm = os.path.join(self.dir, "sm-tf.mdf")
        shutil.copy(self.sm, sm)
        with h5py.File(sm, "r+") as f:
            f["/measurement/data"][...] = (f["/measurement/data"][()] * tf[None, :, :, None]).astype(np.complex64)
            f["/acquisition/receiver/transferFunction"] = tf.astype(np.complex128)
        self.same_images(path, methods=("kaczmarz",), sm=sm, tolerance=1e-3)
        self.refused(self.m, "the system matrix has its receive chain divided out", sm=sm)
        self.replay_refused(path, "/acquisition/receiver/transferFunction: the stream carries no transfer function")

    def test_malformed_variants_are_refused_with_the_field(self):
        volts = self.volts()
        channels, samples = volts.shape[2], volts.shape[3]
        cases = {
            "tf-shape.mdf": ("/acquisition/receiver/transferFunction", np.ones((channels, 7), dtype=np.complex128),
                             "/acquisition/receiver/transferFunction has shape [2, 7]"),
            "tf-zero.mdf": ("/acquisition/receiver/transferFunction", np.zeros((channels, samples // 2 + 1), dtype=np.complex128),
                            "is zero or not finite at every frequency of channel 1"),
            "tf-nan.mdf": ("/acquisition/receiver/transferFunction", np.full((channels, samples // 2 + 1), np.nan, dtype=np.complex128),
                           "is zero or not finite at every frequency of channel 1"),
        }
        for name, (field, value, says) in cases.items():
            path = self.variant(name)
            rewrite(path, field, value)
            with self.subTest(name):
                self.refused(path, says, method="xspace")
        ragged = self.variant("fourier-ragged.mdf")
        rewrite(ragged, "/measurement/data", np.fft.rfft(volts, axis=-1)[..., :100].astype(np.complex64))
        rewrite(ragged, "/measurement/isFourierTransformed", np.int8(1))
        self.refused(ragged, "/measurement/data: a Fourier-transformed measurement of 100 frequencies", method="xspace")
        short = self.variant("short-periods.mdf")
        rewrite(short, "/measurement/data", volts[..., :1000].astype(np.float32))
        self.refused(short, "/measurement/data: 1000 samples per period", method="xspace")

    def test_integer_raw_data_with_conversion_offsets(self):
        volts = self.volts()
        channels = volts.shape[2]
        for dtype, counts in ((np.int16, 30000), (np.int32, 2 ** 30)):
            path = self.variant(f"{np.dtype(dtype).name}.mdf")
            offset = np.array([0.3, -0.2])[:channels] * np.abs(volts).max()
            scale = (np.abs(volts).max(axis=(0, 1, 3)) + np.abs(offset)) / counts
            raw = np.round((volts - offset[None, None, :, None]) / scale[None, None, :, None]).astype(dtype)
            rewrite(path, "/measurement/data", raw)
            rewrite(path, "/acquisition/receiver/dataConversionFactor", np.stack([scale, offset], axis=1))
            # Without background subtraction the offset would show: it must have been applied.
            for method in ("xspace", "kaczmarz"):
                plain = self.reconstruct(self.m, method, None, "--background", "off")
                images = self.reconstruct(path, method, None, "--background", "off")
                np.testing.assert_allclose(images, plain, atol=2e-3 * np.abs(plain).max(), err_msg=f"{dtype} {method}")


if __name__ == "__main__":
    unittest.main()
