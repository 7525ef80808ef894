"""One reconstruction plan, live and offline: a measurement written by `magpie simulate` and
replayed through the daemon gives, frame for frame, the same images and units in the daemon's
file as `magpie reconstruct --plan-from` that file, for every method and chain."""
import os
import shutil
import subprocess
import tempfile
import unittest

import h5py
import numpy as np
from support import MAGPIE, MANIFEST
from test_daemon import Daemon, wait_for


def run(*args, timeout=300):
    result = subprocess.run([MAGPIE, *args], capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"magpie {' '.join(args)}: {result.stderr}"
    return result


class LiveEqualsOffline(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="magpie-plan-")
        cls.files = {}
        for preset, frames in (("openmpi-1d", 12), ("openmpi-2d", 6), ("openmpi-2d-3ch", 6)):
            path = os.path.join(cls.dir, f"{preset}.mdf")
            run("simulate", "measurement", "--preset", preset, "--frames", str(frames), "--background-frames", "4", "--snr", "30", "-o", path)
            cls.files[preset] = path
        # The 2D scan with two periods a frame whose mean is the original (1.5 x and 0.5 x it).
        periods = os.path.join(cls.dir, "openmpi-2d-periods.mdf")
        shutil.copy(cls.files["openmpi-2d"], periods)
        with h5py.File(periods, "r+") as f:
            data = f["/measurement/data"][()]
            del f["/measurement/data"]
            f["/measurement/data"] = np.concatenate([1.5 * data, 0.5 * data], axis=1).astype(np.float32)
            f["/acquisition/numPeriodsPerFrame"][()] = 2
            for name in ("drivefield/strength", "drivefield/phase", "gradient"):
                value = f[f"/acquisition/{name}"][()]
                del f[f"/acquisition/{name}"]
                f[f"/acquisition/{name}"] = np.concatenate([value, value], axis=0)
        cls.files["openmpi-2d-periods"] = periods
        cls.sm1 = os.path.join(cls.dir, "sm1.mdf")
        run("simulate", "sm", "--preset", "openmpi-1d", "--grid", "32", "--snr", "60", "-o", cls.sm1)
        cls.sm19 = os.path.join(cls.dir, "sm19.mdf")
        run("simulate", "sm", "--preset", "openmpi-2d", "--grid", "19", "--snr", "40", "-o", cls.sm19)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def check(self, name, preset, stages, tables="", tolerance=1e-5):
        directory = tempfile.mkdtemp(prefix=f"{name}-", dir=self.dir)
        plan = (f'[pipeline]\nstages = [{", ".join(f"{chr(34)}{s}{chr(34)}" for s in stages)}]\nmodels = "{MANIFEST}"\n' + tables)
        daemon = Daemon(directory, socket_kind="pull", bind=True, plan=plan).start()
        try:
            run("replay", self.files[preset], "--socket", "push", "--connect", "--endpoint", daemon.endpoint, "--warmup", "0.3", "--rate", "max")
            live = wait_for(lambda: daemon.files() and daemon.files()[0], 300, "the scan's file")
            self.live = live
        finally:
            self.assertEqual(daemon.stop(), 0, daemon.log())
            self.log = daemon.log()
        offline = os.path.join(directory, "offline.mdf")
        run("reconstruct", live, "--plan-from", live, "--manifest", MANIFEST, "-o", offline)
        with h5py.File(live, "r") as a, h5py.File(offline, "r") as b:
            plan_live = a["/_magpie/reconstruction/plan"][()].decode()
            self.assertEqual(plan_live, b["/_magpie/reconstruction/plan"][()].decode())
            unit = a["/_magpie/reconstruction/unit"][()].decode()
            self.assertEqual(unit, b["/_magpie/reconstruction/unit"][()].decode())
            frames_live = a["/_magpie/reconstruction/imageFrames"][()].tolist()
            frames_offline = b["/_magpie/reconstruction/imageFrames"][()].tolist()
            images_live, images_offline = a["/reconstruction/data"][()], b["/reconstruction/data"][()]
        self.assertGreater(len(frames_live), 0, name)
        by_frame = {f: i for i, f in enumerate(frames_offline)}
        for i, frame in enumerate(frames_live):   # frame for frame: every image the daemon made
            x, y = images_live[i, :, 0], images_offline[by_frame[frame], :, 0]
            scale = max(np.abs(y).max(), 1e-30)
            self.assertLess(np.abs(x - y).max() / scale, tolerance, f"{name}: frame {frame}")
        return plan_live, unit

    def test_xspace(self):
        plan, unit = self.check("xspace", "openmpi-2d", ["background", "xspace"])
        self.assertIn('"mode":"preceding"', plan)
        self.assertIn('"polarity":"auto"', plan)
        self.assertEqual(unit, "n m beta per voxel (x-space, native)")
        # auto's decision: logged once for the scan, recorded in the file.
        self.assertEqual(self.log.count("x-space polarity auto: +1 (decided from frame"), 1, self.log)
        with h5py.File(self.live, "r") as f:
            self.assertEqual(f["/_magpie/reconstruction/polarity"][()], 1)

    def test_xspace_of_a_sequence_with_a_drive_channel_that_is_off(self):
        # The 2D sequence as a 3-channel scanner sends it: the third channel off (strength 0, divider 99).
        self.check("xspace-3ch", "openmpi-2d-3ch", ["background", "xspace"])
        with h5py.File(self.live, "r") as f:
            self.assertEqual(f["/acquisition/drivefield/divider"][()].ravel().tolist(), [102, 96, 99])
            self.assertEqual(f["/acquisition/drivefield/strength"][()][0, 2, 0], 0)
            self.assertAlmostEqual(f["/acquisition/drivefield/cycle"][()], 652.8e-6, places=12)
            self.assertEqual(f["/reconstruction/data"].shape[1], 64 * 64)

    def test_xspace_of_frames_of_two_periods(self):
        # The daemon averages a streamed frame's periods, as reconstruct does a file's: the first
        # period alone would image 1.5 x the offline images.
        self.check("xspace-periods", "openmpi-2d-periods", ["background", "xspace"])
        with h5py.File(self.live, "r") as f:
            self.assertEqual(f["/acquisition/numPeriodsPerFrame"][()], 2)

    def test_kaczmarz_in_mol_per_litre(self):
        _, unit = self.check("kaczmarz", "openmpi-1d", ["background", "kaczmarz"], f'[stage.kaczmarz]\nsystem_matrix = "{self.sm1}"\n')
        self.assertEqual(unit, "mol/L")

    def test_cgnr_averaging_four_frames(self):
        self.check("cgnr", "openmpi-1d", ["background", "average", "cgnr"],
                   f'[stage.average]\nframes = 4\n[stage.cgnr]\nsystem_matrix = "{self.sm1}"\niterations = 20\n')

    def test_3d_kaczmarz_live_on_a_compressed_system_matrix(self):
        """openmpi-3d streamed through the daemon with a DCT-IV compressed 4^3 SM written by
        compress-sm (loaded as it is): every image as offline, a volume of 64 voxels. (Small,
        as the debug build simulates a 3D calibration at 0.6 s a position; the 19^3 figures are
        in docs/BENCHMARKS.md.)"""
        sm = os.path.join(self.dir, "sm3d.mdf")
        run("simulate", "sm", "--preset", "openmpi-3d", "--grid", "4", "--snr", "40", "--background-frames", "4", "-o", sm)
        compressed = os.path.join(self.dir, "sm3d-c.mdf")
        run("compress-sm", sm, "-o", compressed, "--keep", "0.25", "--max-freq", "300e3")
        self.files["openmpi-3d"] = os.path.join(self.dir, "openmpi-3d.mdf")
        run("simulate", "measurement", "--preset", "openmpi-3d", "--phantom", "dots", "--frames", "3", "--background-frames", "2",
            "--snr", "30", "-o", self.files["openmpi-3d"])
        plan, unit = self.check("kaczmarz-3d", "openmpi-3d", ["background", "kaczmarz"], f'[stage.kaczmarz]\nsystem_matrix = "{compressed}"\n')
        self.assertEqual(unit, "mol/L")
        with h5py.File(self.live, "r") as f:
            self.assertEqual(f["/reconstruction/data"].shape, (3, 64, 1))
            self.assertEqual(list(f["/reconstruction/size"][()]), [4, 4, 4])
            self.assertEqual(f["/_magpie/reconstruction/compression"][()].decode(), "DCT-IV")
            self.assertEqual(f["/_magpie/reconstruction/compressionKept"][()], 16)

    def test_several_system_matrices_each_scan_on_the_one_that_fits(self):
        directory = tempfile.mkdtemp(prefix="two-sms-", dir=self.dir)
        plan = (f'[pipeline]\nstages = ["background", "kaczmarz"]\nmodels = "{MANIFEST}"\n'
                f'[stage.kaczmarz]\nsystem_matrix = ["{self.sm19}", "{self.sm1}"]\n')
        daemon = Daemon(directory, socket_kind="pull", bind=True, plan=plan).start()
        try:
            for count, preset in enumerate(("openmpi-1d", "openmpi-2d", "openmpi-1d"), start=1):
                run("replay", self.files[preset], "--socket", "push", "--connect", "--endpoint", daemon.endpoint, "--warmup", "0.3", "--rate", "max")
                wait_for(lambda: len(daemon.files()) == count, 300, f"scan file {count}")
        finally:
            self.assertEqual(daemon.stop(), 0, daemon.log())
        files = sorted(daemon.files(), key=os.path.getmtime)
        for path, sm, pixels in zip(files, (self.sm1, self.sm19, self.sm1), (32, 19 * 19, 32)):
            with h5py.File(path, "r") as f:
                self.assertEqual(f["/_magpie/reconstruction/systemMatrix"][()].decode(), sm)
                self.assertEqual(f["/reconstruction/data"].shape[1], pixels)
            offline = path + ".offline.mdf"
            run("reconstruct", path, "--plan-from", path, "--manifest", MANIFEST, "-o", offline)
            with h5py.File(path, "r") as a, h5py.File(offline, "r") as b:
                x, y = a["/reconstruction/data"][()], b["/reconstruction/data"][()]
                self.assertEqual(x.shape, y.shape)
                self.assertLess(np.abs(x - y).max() / np.abs(y).max(), 1e-5)

    def test_score_with_a_fixed_seed(self):
        # Stated tolerance: the sampler's noise is drawn per image from its seed and first frame, and
        # both paths run the network on the same batch; 1e-4 leaves room for LibTorch's threading.
        self.check("score", "openmpi-2d", ["background", "score"], f'[stage.score]\nsystem_matrix = "{self.sm19}"\niterations = 10\nseed = 7\n',
                   tolerance=1e-4)

    def test_denoise_then_xspace(self):
        self.check("denoise", "openmpi-2d", ["background", "denoise", "xspace"])

    def test_xspace_then_each_deblurring(self):
        for method in ("wiener", "rl", "msa", "dcgan"):
            with self.subTest(method=method):
                self.check(method, "openmpi-2d", ["background", "xspace", "deblur"], f'[stage.deblur]\nmethod = "{method}"\n')

    def test_a_saved_plan_file_runs_offline(self):
        plan = os.path.join(self.dir, "plan.toml")
        with open(plan, "w") as handle:
            handle.write(f'stages = ["background", "average", "kaczmarz"]\n[stage.background]\nmode = "interpolated"\n'
                         f'[stage.average]\nframes = 3\n[stage.kaczmarz]\nsystem_matrix = "{self.sm1}"\nlambda = 0.05\n')
        out = os.path.join(self.dir, "from-plan.mdf")
        run("reconstruct", self.files["openmpi-1d"], "--plan", plan, "-o", out)
        with h5py.File(out, "r") as f:
            self.assertEqual(f["/reconstruction/data"].shape[0], 4)   # 12 foreground frames in blocks of 3
            recorded = f["/_magpie/reconstruction/plan"][()].decode()
            self.assertEqual(f["/_magpie/reconstruction/lambda"][()], 0.05)
        self.assertIn('"mode":"interpolated"', recorded)
        self.assertIn('"frames":3', recorded)
        bad = os.path.join(self.dir, "bad-plan.toml")
        with open(bad, "w") as handle:
            handle.write('stages = ["xspace", "denoise"]\n')
        result = subprocess.run([MAGPIE, "reconstruct", self.files["openmpi-1d"], "--plan", bad, "-o", out + "2"], capture_output=True, text=True)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("denoise works on signals", result.stderr)

    def test_bad_chains_fail_before_the_daemon_listens(self):
        config = os.path.join(self.dir, "bad.toml")
        for pipeline, words in (('stages = ["background", "xspase"]', 'unknown stage "xspase"; known: background, average'),
                                ('stages = ["kaczmarz"]\n[stage.kaczmarz]\nsystem_matrx = "sm.mdf"', "unknown key system_matrx in [stage.kaczmarz]; known: system_matrix"),
                                ('stages = ["kaczmarz"]\n[stage.kaczmarz]\nsystem_matrix = 3', "[stage.kaczmarz] system_matrix"),
                                ('stages = ["xspace", "denoise"]', "denoise works on signals; it must come before the reconstruction xspace"),
                                ('stages = ["xspace", "cgnr"]', "cgnr works on signals"),
                                ('stages = ["deblur"]\n[stage.deblur]\nmethod = "rl"', "deblur works on images; put it after a reconstruction")):
            with open(config, "w") as handle:
                handle.write(f'[input]\nendpoint = "tcp://127.0.0.1:1"\n[output]\ndirectory = "{self.dir}/out"\n[pipeline]\n{pipeline}\n')
            result = subprocess.run([MAGPIE, "daemon", "--config", config], capture_output=True, text=True, timeout=60)
            self.assertNotEqual(result.returncode, 0, pipeline)
            self.assertNotIn("listening on", result.stderr)
            self.assertIn(words, result.stderr)
            self.assertEqual(len([line for line in result.stderr.splitlines() if "error" in line]), 1, result.stderr)


class CatchUp(unittest.TestCase):
    """A scan whose live path skipped frames (a queue of four frames, a denoiser on every frame,
    frames sent as fast as they are taken) ends with an image of every foreground frame, equal to
    `magpie reconstruct --plan-from`; with too small a budget, with the live images and a note."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="magpie-catch-up-")
        cls.measurement = os.path.join(cls.dir, "m.mdf")
        run("simulate", "measurement", "--preset", "openmpi-2d", "--frames", "150", "--background-frames", "4", "--snr", "30", "-o", cls.measurement)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def scan(self, catch_up):
        """The daemon's file of the second of two scans (the first builds the x-space plan, which
        takes the whole of a scan's 0.4 s in a debug build; from the second scan on it is cached)."""
        directory = tempfile.mkdtemp(dir=self.dir)
        plan = (f'[pipeline]\nstages = ["background", "denoise", "xspace"]\nmodels = "{MANIFEST}"\nqueue = 4\n'
                f'catch_up_seconds = {catch_up}\n')
        daemon = Daemon(directory, socket_kind="pull", bind=True, plan=plan).start()
        try:
            for count in (1, 2):
                run("replay", self.measurement, "--socket", "push", "--connect", "--endpoint", daemon.endpoint, "--warmup", "0.3", "--rate", "max")
                wait_for(lambda: len(daemon.files()) == count, 300, f"scan file {count}")
            second = max(daemon.files(), key=os.path.getmtime)
        finally:
            self.assertEqual(daemon.stop(), 0, daemon.log())
        with h5py.File(second, "r") as f:
            self.assertGreater(f["/_magpie/daemon/counters/skipped"][()], 0, "the live path skipped no frame: the test needs it to")
            self.assertGreater(f["/_magpie/daemon/counters/processed"][()], 4, "the live path imaged no frame: the test needs it to")
        return second, daemon.log()

    def test_every_foreground_frame_is_imaged_as_offline(self):
        live, log = self.scan(300)
        self.assertIn("caught up in", log)
        offline = os.path.join(self.dir, "offline.mdf")
        run("reconstruct", live, "--plan-from", live, "--manifest", MANIFEST, "-o", offline)
        with h5py.File(live, "r") as a, h5py.File(offline, "r") as b:
            self.assertEqual(a["/reconstruction/data"].shape[0], 150)
            self.assertEqual(a["/_magpie/reconstruction/imageFrames"][()].tolist(), b["/_magpie/reconstruction/imageFrames"][()].tolist())
            x, y = a["/reconstruction/data"][()], b["/reconstruction/data"][()]
            self.assertLess(np.abs(x - y).max() / np.abs(y).max(), 1e-5)
            made_live = a["/_magpie/reconstruction/imageLive"][()]
            self.assertEqual(len(made_live), 150)
            self.assertGreater(made_live.sum(), 0)
            self.assertLess(made_live.sum(), 150)
            self.assertTrue(a["/_magpie/reconstruction/catchUp"][()].decode().startswith("complete"))

    def test_a_budget_too_small_keeps_the_live_images_and_says_so(self):
        live, log = self.scan(0.1)
        self.assertIn("catch-up stopped", log)
        with h5py.File(live, "r") as f:
            images = f["/reconstruction/data"].shape[0]
            self.assertTrue(0 < images < 150, images)   # the live images, and those made before the budget ran out
            made_live = f["/_magpie/reconstruction/imageLive"][()]
            self.assertEqual(len(made_live), images)
            self.assertGreater(made_live.sum(), 0)
            self.assertTrue(f["/_magpie/reconstruction/catchUp"][()].decode().startswith("stopped"))
            # The blocks left without an image are listed by their first frame: the rest of the 150.
            missing = f["/_magpie/reconstruction/notImagedBlocks"][()].tolist()
            self.assertEqual(len(missing), 150 - images)
            self.assertFalse(set(missing) & set(f["/_magpie/reconstruction/imageFrames"][()].tolist()))
            self.assertIn("budget (catch_up_seconds) ran out", f["/_magpie/reconstruction/catchUp"][()].decode())


if __name__ == "__main__":
    unittest.main()
