"""`magpie simulate ... --phantom-file`: phantoms from PNG, NumPy and HDF5 files, read as PIL and
NumPy read them, placed on the scanner's grid; damaged or unsuitable files refused with the reason."""
import os
import shutil
import struct
import tempfile
import unittest
import zlib

import h5py
import numpy as np
from PIL import Image

from support import magpie

PHANTOMS = os.path.abspath("Tests/Fixtures/phantoms")


def luminance(path):
    """The PNG's luminance in [0, 1] times alpha, as Magpie documents it, computed with PIL."""
    image = Image.open(path)
    if image.mode in ("I", "I;16"):
        return np.asarray(image, dtype=np.float64) / 65535
    if image.mode == "L":
        return np.asarray(image, dtype=np.float64) / 255
    rgba = np.asarray(image.convert("RGBA"), dtype=np.float64) / 255
    return (0.2126 * rgba[..., 0] + 0.7152 * rgba[..., 1] + 0.0722 * rgba[..., 2]) * rgba[..., 3]


def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width, height, rows, depth=8, colour=0, interlace=0):
    """A PNG from raw filtered rows (bytes), as an independent writer would make it."""
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def filtered(image):
    """PNG rows of an 8-bit grey image, row r filtered with type r mod 5 (PNG spec 9)."""
    out, previous = b"", np.zeros(image.shape[1], dtype=np.int64)
    for r, row in enumerate(image.astype(np.int64)):
        kind, encoded = r % 5, []
        for i, x in enumerate(row):
            a, b, c = (row[i - 1] if i else 0), previous[i], (previous[i - 1] if i else 0)
            if kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else b if pb <= pc else c
            else:
                predictor = [0, a, b, (a + b) // 2][kind]
            encoded.append((x - predictor) % 256)
        out += bytes([kind]) + bytes(encoded)
        previous = row
    return out


class PhantomFile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="magpie-phantom-file-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def path(self, name):
        return os.path.join(self.dir, name)

    def simulate(self, phantom, *extra, output=None):
        output = output or self.path("m.mdf")
        result = magpie("simulate", "measurement", "--preset", "openmpi-2d", "--frames", "1", "--background-frames", "1",
                        "--phantom-file", phantom, "--concentration", "0.2", "-o", output, "--overwrite", *extra)
        return result, output

    def phantom(self, *args, **kwargs):
        result, output = self.simulate(*args, **kwargs)
        self.assertEqual(result.returncode, 0, result.stderr)
        with h5py.File(output, "r") as f:
            return f["/_magpie/phantom"][()][0], f["/_magpie/phantomKind"][()].decode()

    def refused(self, phantom, says, *extra):
        result, _ = self.simulate(phantom, *extra)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(says, result.stderr)
        self.assertNotIn("Fatal error", result.stderr)

    def test_committed_pngs_read_as_pil_reads_them(self):
        # 128 x 128 over the 64 x 64 grid: each voxel is the mean of a 2 x 2 block (samples fall on
        # the image's pixel centres), the brightest value scaled to --concentration.
        for name in ("letters.png", "rings.png", "vessel-tree.png"):
            values, kind = self.phantom(os.path.join(PHANTOMS, name))
            expected = luminance(os.path.join(PHANTOMS, name)).reshape(64, 2, 64, 2).mean(axis=(1, 3))
            np.testing.assert_allclose(values, expected * 0.2 / luminance(os.path.join(PHANTOMS, name)).max(), atol=1e-9, err_msg=name)
            self.assertEqual(kind, f"file {name}")

    def test_png_flavours_an_independent_writer_makes(self):
        image = np.random.default_rng(3).integers(0, 256, size=(64, 64)).astype(np.uint8)
        cases = {
            # Row r uses filter type r mod 5 (none, sub, up, average, Paeth).
            "gray8-filters.png": (png(64, 64, filtered(image)), image / 255.0),
            "gray1.png": (png(64, 64, b"".join(b"\x00" + np.packbits(r >= 128).tobytes() for r in image), depth=1), (image >= 128) * 1.0),
        }
        for name, (data, expected) in cases.items():
            with open(self.path(name), "wb") as f:
                f.write(data)
            values, _ = self.phantom(self.path(name), "--phantom-scale", "1")
            np.testing.assert_allclose(values, expected, atol=1e-9, err_msg=name)

    def test_numpy_and_hdf5_arrays(self):
        array = np.zeros((64, 64), dtype=np.float32)
        array[10:20, 40:50] = 2.0   # rows are y: a square at x 40-49, y 10-19
        np.save(self.path("square.npy"), array)
        values, _ = self.phantom(self.path("square.npy"), "--phantom-scale", "0.05")
        np.testing.assert_allclose(values, array * 0.05, atol=1e-7)
        # A file magpie simulate wrote brings its own phantom back, with the field of view it records.
        again, _ = self.phantom(self.path("m.mdf"), "--phantom-scale", "1", output=self.path("again.mdf"))
        np.testing.assert_allclose(again, values, atol=1e-7)
        # Half the scanner's field of view: the square lands in the middle half, at half the size.
        values, _ = self.phantom(self.path("square.npy"), "--phantom-fov", "12,12", "--phantom-scale", "1")
        self.assertAlmostEqual(float(values.sum()), float(array.sum()) / 4, delta=1e-3)
        self.assertEqual(values[:16].sum() + values[48:].sum(), 0)
        with h5py.File(self.path("arrays.h5"), "w") as f:
            f["/phantom"] = array.astype(np.float64)
            f["/other"] = np.ones((3, 3, 3))
        values, _ = self.phantom(self.path("arrays.h5"), "--phantom-scale", "1")
        np.testing.assert_allclose(values, array, atol=1e-9)
        self.refused(self.path("arrays.h5"), "the phantom is 3D", "--phantom-dataset", "/other")
        self.refused(self.path("arrays.h5"), "no dataset /missing", "--phantom-dataset", "/missing")

    def test_bad_files_are_refused_with_the_reason(self):
        good = open(os.path.join(PHANTOMS, "letters.png"), "rb").read()
        rows = b"".join(b"\x00" + bytes(8) for _ in range(8))
        bad = {
            "truncated.png": (good[:len(good) // 2], "truncated"),
            "crc.png": (good[:40] + bytes([good[40] ^ 0xFF]) + good[41:], "fails its CRC"),
            "huge.png": (png(1 << 30, 1 << 30, rows), "more than this reader takes"),
            "short.png": (png(64, 64, rows), "do not inflate to 64 x 64"),
            "interlaced.png": (png(8, 8, rows, interlace=1), "interlaced"),
            "depth.png": (png(8, 8, rows, depth=3), "bit depth 3 is not valid"),
            "filter.png": (png(8, 8, b"".join(b"\x07" + bytes(8) for _ in range(8))), "filter type 7"),
            "empty.png": (png(8, 8, rows), "every value is 0"),
            "text.png": (b"hello", "not a PNG file"),
        }
        for name, (data, says) in bad.items():
            with open(self.path(name), "wb") as f:
                f.write(data)
            with self.subTest(name):
                self.refused(self.path(name), says)
        np.save(self.path("negative.npy"), -np.ones((8, 8)))
        self.refused(self.path("negative.npy"), "not negative")
        np.save(self.path("big-endian.npy"), np.ones((8, 8), dtype=">f4"))
        self.refused(self.path("big-endian.npy"), "big-endian")
        np.save(self.path("fortran.npy"), np.asfortranarray(np.ones((8, 9))))
        self.refused(self.path("fortran.npy"), "fortran_order")
        np.save(self.path("volume.npy"), np.ones((4, 8, 8)))
        self.refused(self.path("volume.npy"), "the phantom is 3D")
        with open(self.path("lying.npy"), "wb") as f:
            f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", 70) + b"{'descr': '<f8', 'fortran_order': False, 'shape': (10000, 10000), }".ljust(70))
        self.refused(self.path("lying.npy"), "needs 800000000 bytes of data, the file has 0")
        self.refused(os.path.join(PHANTOMS, "letters.png"), "--phantom-fov takes two or three", "--phantom-fov", "0,12")
        self.refused(os.path.join(PHANTOMS, "letters.png"), "--phantom and --phantom-file are two phantoms", "--phantom", "dots")

    def test_a_dataset_cycles_through_the_files(self):
        output = self.path("deblur.h5")
        files = [os.path.join(PHANTOMS, name) for name in ("letters.png", "rings.png")]
        result = magpie("simulate", "dataset", "deblur", "--count", "3", "--preset", "openmpi-2d", "--label-preset", "openmpi-2d",
                        "--phantom-file", files[0], "--phantom-file", files[1], "-o", output)
        self.assertEqual(result.returncode, 0, result.stderr)
        with h5py.File(output, "r") as f:
            phantoms = f["/phantom"][()]
        for i in range(3):
            expected = luminance(files[i % 2]).reshape(64, 2, 64, 2).mean(axis=(1, 3))
            np.testing.assert_allclose(phantoms[i], expected / luminance(files[i % 2]).max(), atol=1e-6)


if __name__ == "__main__":
    unittest.main()
