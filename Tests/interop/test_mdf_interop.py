"""Magpie's MDF files read by an independent reader, and `magpie inspect` fed bad input.

Reads files the way the MDF reference Python reconstruction does (h5py: /measurement/data
squeezed, /measurement/isBackgroundFrame viewed as bool, /acquisition/receiver/numSamplingPoints,
/acquisition/receiver/bandwidth, /calibration/size, numpy rfft over time). Run by scripts/test.sh
with MAGPIE set to the built executable; needs Debian's python3-h5py and python3-numpy.
"""
import json
import os
import shutil
import tempfile
import unittest

import h5py
import numpy as np
import support
from support import MAGPIE

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "Fixtures")

# The closed-form content of `magpie demo` (Sources/magpie/Demo/DemoFiles.swift).
DIVIDERS = [102, 96]
SAMPLES = 1632
HARMONICS = [1, 3, 5, 7]
FOREGROUND, BACKGROUND = 6, 2
VOLTS_PER_COUNT = 1e-4
GRID = (4, 3, 1)


def magpie(*args):
    return support.magpie(*args, timeout=120)


class DemoFilesReadByReferenceStyleReader(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="magpie-interop-")
        result = magpie("demo", "--output", cls.dir, "--quiet")
        assert result.returncode == 0, result.stderr
        cls.files = {name: os.path.join(cls.dir, name) for name in
                     ("measurement.mdf", "spectrum.mdf", "systemMatrix.mdf", "reconstruction.mdf")}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def expected_voltage(self, frame, channel):
        if frame >= FOREGROUND:
            return np.full(SAMPLES, 0.01)
        phase = 2 * np.pi * (SAMPLES / DIVIDERS[channel]) * np.arange(SAMPLES) / SAMPLES
        return (0.5 + 0.1 * frame) * sum(np.sin(h * phase) / h for h in HARMONICS)

    def test_every_file_passes_magpies_own_validation(self):
        result = magpie("inspect", "--validate", *self.files.values())
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(result.stdout.count("valid MDF 2.1.0"), 4)

    def test_raw_measurement_as_the_reference_reader_sees_it(self):
        with h5py.File(self.files["measurement.mdf"], "r") as f:
            self.assertEqual(f["/version"][()].decode(), "2.1.0")
            raw = f["/measurement/data"]
            self.assertEqual(raw.dtype, np.int16)
            self.assertEqual(raw.shape, (FOREGROUND + BACKGROUND, 1, 2, SAMPLES))  # N x J x C x V
            data = np.squeeze(raw[()])
            background = f["/measurement/isBackgroundFrame"][()].view(bool)
            self.assertEqual(background.tolist(), [False] * FOREGROUND + [True] * BACKGROUND)
            self.assertEqual(f["/acquisition/receiver/numSamplingPoints"][()], SAMPLES)
            self.assertEqual(f["/acquisition/receiver/bandwidth"][()], 1.25e6)
            factor = f["/acquisition/receiver/dataConversionFactor"][()]
            self.assertEqual(factor.shape, (2, 2))
            self.assertEqual(f["/acquisition/drivefield/divider"][()].tolist(), [[102], [96]])
            self.assertAlmostEqual(f["/acquisition/drivefield/cycle"][()], 652.8e-6, places=12)

        volts = data * factor[None, :, 0, None] + factor[None, :, 1, None]
        for frame in range(FOREGROUND + BACKGROUND):
            for channel in range(2):
                np.testing.assert_allclose(volts[frame, channel], self.expected_voltage(frame, channel),
                                           atol=VOLTS_PER_COUNT)
        # Time is the last axis: each channel's first harmonic sits at its number of drive periods.
        spectrum = np.abs(np.fft.rfft(volts[~background] - volts[background].mean(axis=0), axis=-1))
        self.assertEqual(np.argmax(spectrum[0, 0]), SAMPLES // 102)
        self.assertEqual(np.argmax(spectrum[0, 1]), SAMPLES // 96)

    def test_frequency_selected_spectrum_matches_numpy_rfft(self):
        with h5py.File(self.files["measurement.mdf"], "r") as f:
            raw = f["/measurement/data"][()].astype(np.float64)
        with h5py.File(self.files["spectrum.mdf"], "r") as f:
            self.assertEqual(f["/measurement/isFourierTransformed"][()], 1)
            self.assertEqual(f["/measurement/isFrequencySelection"][()], 1)
            spectrum = f["/measurement/data"][()]
            selection = f["/measurement/frequencySelection"][()] - 1  # 1-based in MDF
        self.assertEqual(spectrum.dtype, np.complex64)  # the {r, i} compound read as complex
        self.assertEqual(spectrum.shape, (FOREGROUND, 1, 2, len(selection)))  # N x J x C x K
        expected = np.fft.rfft(raw[:FOREGROUND] * VOLTS_PER_COUNT, axis=-1)[..., selection]
        np.testing.assert_allclose(spectrum, expected, rtol=1e-4, atol=1e-3)

    def test_system_matrix_layout_and_calibration(self):
        with h5py.File(self.files["systemMatrix.mdf"], "r") as f:
            size = f["/calibration/size"][()]
            self.assertEqual(size.tolist(), list(GRID))
            self.assertEqual(f["/measurement/isFastFrameAxis"][()], 1)
            sm = f["/measurement/data"][()]
            background = f["/measurement/isBackgroundFrame"][()].view(bool)
            snr = f["/calibration/snr"][()]
            positions = f["/calibration/positions"][()]
            self.assertAlmostEqual(f["/calibration/fieldOfView"][0], 0.04)
        positions_count = int(np.prod(size))
        frequencies = SAMPLES // 2 + 1
        self.assertEqual(sm.dtype, np.complex64)
        self.assertEqual(sm.shape, (1, 2, frequencies, positions_count + BACKGROUND))  # J x C x K x N
        self.assertEqual(int(background.sum()), BACKGROUND)
        # The reference reconstruction drops background frames and flattens to (K*C) x O.
        foreground = sm[..., ~background]
        k = np.arange(frequencies)[:, None]
        for channel in range(2):
            expected = (k + 1) / np.float32(frequencies) + 1j * (np.arange(positions_count)[None, :] - channel)
            np.testing.assert_allclose(foreground[0, channel], expected.astype(np.complex64), rtol=1e-6)
        self.assertEqual(snr.shape, (1, 2, frequencies))
        self.assertEqual(positions.shape, (positions_count, 3))
        # Order "xyz": x varies fastest.
        self.assertLess(positions[0, 0], positions[1, 0])
        self.assertEqual(positions[0, 1], positions[1, 1])

    def test_reconstruction_is_q_by_p_by_s(self):
        with h5py.File(self.files["reconstruction.mdf"], "r") as f:
            image = f["/reconstruction/data"][()]
            size = f["/reconstruction/size"][()]
            overscan = f["/reconstruction/isOverscanRegion"][()].view(bool)
        self.assertEqual(image.shape, (1, 256, 1))
        picture = image[0, :, 0].reshape(size[::-1])[0]  # z, y, x with x fastest
        y, x = np.mgrid[0:16, 0:16] - 7.5
        np.testing.assert_array_equal(picture, (x * x + y * y <= 25).astype(np.float32))
        self.assertFalse(overscan.any())

    def test_strings_are_utf8_scalars_and_vlen_arrays(self):
        with h5py.File(self.files["measurement.mdf"], "r") as f:
            self.assertEqual(f["/scanner/topology"].shape, ())
            self.assertEqual(f["/scanner/topology"][()].decode("utf-8"), "FFP")
            self.assertEqual(f["/tracer/solute"].shape, (1,))
            self.assertEqual([s.decode() for s in f["/tracer/solute"][()]], ["Fe"])
            self.assertEqual([s.decode() for s in f["/acquisition/drivefield/waveform"][()].ravel()], ["sine", "sine"])


class InspectOnThirdPartyFiles(unittest.TestCase):
    def test_both_fixtures_print_what_they_hold_and_exit_zero(self):
        for name in ("mpimeasurements-example-systemMatrix.mdf", "mpimeasurements-simulated-v2.1-metadata.mdf"):
            result = magpie("inspect", os.path.join(FIXTURES, name))
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("drive field", result.stdout)
            self.assertEqual(result.stderr, "")
        sm = magpie("inspect", os.path.join(FIXTURES, "mpimeasurements-example-systemMatrix.mdf")).stdout
        self.assertIn("system matrix", sm)
        self.assertIn("N x J x C x V = 9 x 1 x 1 x 152", sm)
        self.assertIn("/acquisition/numPeriods: not part of MDF 2.1.0", sm)

    def test_validate_fails_on_the_early_mdf2_file(self):
        result = magpie("inspect", "--validate", os.path.join(FIXTURES, "mpimeasurements-example-systemMatrix.mdf"))
        self.assertEqual(result.returncode, 1)
        self.assertIn("/version", result.stdout)

    def test_json_output(self):
        result = magpie("inspect", "--json", os.path.join(FIXTURES, "mpimeasurements-example-systemMatrix.mdf"))
        self.assertEqual(result.returncode, 0)
        report = json.loads(result.stdout)
        self.assertEqual(report["kind"], "system matrix")
        self.assertEqual(report["calibrationGrid"], [9, 1, 1])
        self.assertEqual([a["letter"] for a in report["measurement"]["axes"]], ["N", "J", "C", "V"])
        self.assertFalse(report["isValid"])


class InspectOnBadInput(unittest.TestCase):
    """Each bad input: exit 1, one line on stderr naming the file, nothing on stdout, no crash."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="magpie-bad-")
        result = magpie("demo", "--output", self.dir, "--quiet")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.measurement = os.path.join(self.dir, "measurement.mdf")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def expect_clear_error(self, path, *words):
        result = magpie("inspect", path)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertEqual(result.stdout, "")
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith("magpie: error: "), lines[0])
        self.assertIn(path, lines[0])
        self.assertNotIn("HDF5-DIAG", result.stderr)
        for word in words:
            self.assertIn(word, lines[0])

    def altered(self, name, change):
        path = os.path.join(self.dir, name)
        shutil.copy(self.measurement, path)
        with h5py.File(path, "r+") as f:
            change(f)
        return path

    def test_not_an_hdf5_file(self):
        path = os.path.join(self.dir, "notes.mdf")
        with open(path, "w") as f:
            f.write("frames: 12\n")
        self.expect_clear_error(path, "not an HDF5 file")

    def test_truncated_mdf(self):
        path = os.path.join(self.dir, "truncated.mdf")
        with open(self.measurement, "rb") as source, open(path, "wb") as target:
            target.write(source.read()[: os.path.getsize(self.measurement) // 2])
        self.expect_clear_error(path)

    def test_required_dataset_of_the_wrong_type(self):
        def change(f):
            del f["/acquisition/numFrames"]
            f["/acquisition/numFrames"] = "eight"
        self.expect_clear_error(self.altered("wrong-type.mdf", change), "/acquisition/numFrames")

    def test_required_dataset_of_the_wrong_shape(self):
        def change(f):
            del f["/measurement/data"]
            f["/measurement/data"] = np.zeros((8, 2, 1632), dtype=np.int16)
        self.expect_clear_error(self.altered("wrong-shape.mdf", change), "/measurement/data")

    def test_background_flags_that_do_not_match_the_frames(self):
        def change(f):
            del f["/measurement/isBackgroundFrame"]
            f["/measurement/isBackgroundFrame"] = np.zeros(3, dtype=np.int8)
        self.expect_clear_error(self.altered("flags.mdf", change), "/measurement/isBackgroundFrame")

    def test_missing_file(self):
        self.expect_clear_error(os.path.join(self.dir, "absent.mdf"), "no such file")

    def test_directory(self):
        self.expect_clear_error(self.dir, "directory")

    def test_validate_lists_the_wrong_type_instead_of_failing(self):
        def change(f):
            del f["/acquisition/numFrames"]
            f["/acquisition/numFrames"] = "eight"
        result = magpie("inspect", "--validate", self.altered("wrong-type.mdf", change))
        self.assertEqual(result.returncode, 1)
        self.assertIn("/acquisition/numFrames: stored as String", result.stdout)

    def test_demo_into_a_path_that_is_a_file(self):
        result = magpie("demo", "--output", self.measurement)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        self.assertIn("cannot create the output directory", result.stderr)

    def test_one_bad_file_does_not_hide_the_good_ones(self):
        result = magpie("inspect", os.path.join(self.dir, "absent.mdf"), self.measurement)
        self.assertEqual(result.returncode, 1)
        self.assertIn("measurement, MDF 2.1.0", result.stdout)


if __name__ == "__main__":
    unittest.main()
