"""End-to-end tests of `magpie daemon` on loopback, each bounded in time and cleaning up its
processes: lossless PULL, lossy SUB, bad messages, kill -9 recovery, replay bit for bit."""
import glob
import re
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

import h5py
import numpy as np
import zmq
from prometheus_client.parser import text_string_to_metric_families
from support import MAGPIE, MANIFEST, free_port



def missing_count(f):
    """Frames a scan's file lists as missing (/_magpie/stream/missingFrameRanges: first, last per row)."""
    ranges = f["/_magpie/stream/missingFrameRanges"][()]
    return int((ranges[:, 1] - ranges[:, 0] + 1).sum()) if len(ranges) else 0


def wait_for(condition, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Daemon:
    """A daemon in a temporary directory, stopped (and killed if need be) on exit."""

    def __init__(self, directory, socket_kind="pull", bind=False, reconstruct="xspace", system_matrix=None, pipeline="", plan=None,
                 input_keys="", output_keys="", console_host="127.0.0.1", console_keys=""):
        """`input_keys`, `output_keys`, `console_keys`: more lines for [input], [output] and [console]."""
        self.directory = directory
        self.port, self.console_port = free_port(), free_port()
        self.endpoint = f"tcp://127.0.0.1:{self.port}"
        self.out = os.path.join(directory, "out")
        self.config = os.path.join(directory, "magpie.toml")
        with open(self.config, "w") as handle:
            handle.write(f'[input]\nendpoint = "{self.endpoint}"\nsocket = "{socket_kind}"\nbind = {str(bind).lower()}\n{input_keys}\n'
                         f'[output]\ndirectory = "{self.out}"\n{output_keys}\n'
                         # `plan`: a [pipeline] section with stages and its [stage.NAME] tables, verbatim.
                         + (plan if plan is not None else f'[pipeline]\nreconstruct = "{reconstruct}"\n'
                            + (f'system_matrix = "{system_matrix}"\n' if system_matrix else "") + pipeline)
                         + f'[console]\nlisten = "{console_host}:{self.console_port}"\n{console_keys}\n')
        self.log_path = os.path.join(directory, f"daemon-{time.time()}.log")
        self.process = None

    def start(self):
        self.log_file = open(self.log_path, "w")
        self.process = subprocess.Popen([MAGPIE, "daemon", "--config", self.config], stderr=self.log_file, stdout=self.log_file)
        try:
            # Intake and the console start side by side: both say when they listen.
            wait_for(lambda: ("listening on" in self.log() and "console on" in self.log()) or self.process.poll() is not None, 60,
                     "the daemon to listen")
        except AssertionError as error:
            raise AssertionError(f"{error}; its log:\n{self.log()}") from None
        if "listening on" not in self.log():
            raise AssertionError(f"the daemon exited ({self.process.returncode}) before listening; its log:\n{self.log()}")
        return self

    def log(self):
        with open(self.log_path) as handle:
            return handle.read()

    def metric_families(self):
        """/metrics as Prometheus reads it (prometheus_client's text-format parser): {name: family}."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.console_port}/metrics", timeout=5) as response:
            text = response.read().decode()
        return {family.name: family for family in text_string_to_metric_families(text)}

    def metrics(self):
        """The counters and gauges by short name: magpie_frames_archived_total -> archived."""
        return {re.sub(r"^magpie_(frames|output|stream)_", "", name): int(family.samples[0].value)
                for name, family in self.metric_families().items() if family.type in ("counter", "gauge")}

    def files(self):
        return sorted(glob.glob(os.path.join(self.out, "*.mdf")))

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self.log_file.close()
        return self.process.returncode if self.process else None

    def kill(self):
        self.process.kill()
        self.process.wait()
        self.log_file.close()


def publish(endpoint, *args, socket_kind="push", connect=True):
    mode = ["--connect"] if connect else []
    return subprocess.run([MAGPIE, "publish", "--socket", socket_kind, "--endpoint", endpoint, *mode, "--warmup", "0.5", *args],
                          capture_output=True, text=True, timeout=300)


class DaemonTestCase(unittest.TestCase):
    """Daemons in a temporary directory, killed if a test leaves them running."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="magpie-daemon-")
        self.daemons = []

    def tearDown(self):
        for daemon in self.daemons:
            if daemon.process and daemon.process.poll() is None:
                daemon.process.kill()
                daemon.process.wait()
        shutil.rmtree(self.dir)

    def daemon(self, **options):
        daemon = Daemon(self.dir, **options)
        self.daemons.append(daemon)
        return daemon.start()


class DaemonEndToEnd(DaemonTestCase):

    def refused(self, config_text, *expected):
        """Starts the daemon on `config_text`; it must exit non-zero before listening, saying each of `expected`."""
        config = os.path.join(self.dir, "refused.toml")
        with open(config, "w") as handle:
            handle.write(config_text)
        result = subprocess.run([MAGPIE, "daemon", "--config", config], capture_output=True, text=True, timeout=30)
        self.assertNotEqual(result.returncode, 0)
        for text in expected:
            self.assertIn(text, result.stderr)

    def test_pull_archives_every_frame(self):
        daemon = self.daemon(socket_kind="pull", bind=True)
        result = publish(daemon.endpoint, "--preset", "openmpi-2d", "--frames", "990", "--background-frames", "10", "--rate", "max", "--snr", "30")
        self.assertEqual(result.returncode, 0, result.stderr)
        wait_for(daemon.files, 120, "the scan's file")
        counters = daemon.metrics()
        families = daemon.metric_families()
        self.assertEqual(daemon.stop(), 0, daemon.log())
        self.assertEqual(families["magpie_frames_archived"].type, "counter")
        # Every processed frame is timed: the histogram's count equals the counter.
        timing = families["magpie_frame_processing_seconds"]
        self.assertEqual(timing.type, "histogram")
        self.assertEqual(next(s.value for s in timing.samples if s.name.endswith("_count")), counters["processed"])
        self.assertEqual(counters["received"], 1000)
        self.assertEqual(counters["archived"], 1000)
        self.assertEqual(counters["lost"], 0)
        self.assertEqual(counters["rejected"], 0)
        self.assertEqual(counters["processed"] + counters["skipped"], 1000)
        path = daemon.files()[0]
        self.assertEqual(subprocess.run([MAGPIE, "inspect", "--validate", path]).returncode, 0)
        with h5py.File(path, "r") as f:
            self.assertEqual(f["/measurement/data"].shape, (1000, 1, 2, 1632))
            self.assertEqual(sorted(f["/_magpie/stream/sequence"][()].tolist()), list(range(1000)))
            self.assertEqual(f["/_magpie/stream/missingFrameRanges"].shape, (0, 2))
            self.assertGreater(f["/reconstruction/data"].shape[0], 0)
            self.assertEqual(f["/_magpie/daemon/counters/archived"][()], 1000)
            self.assertEqual(f["/_magpie/daemon/complete"][()], 1)
        self.assertTrue(os.path.exists(os.path.join(daemon.out, "latest.png")))

    def test_sub_counts_what_it_loses(self):
        daemon = self.daemon(socket_kind="sub")
        result = publish(daemon.endpoint, "--preset", "openmpi-2d", "--frames", "990", "--background-frames", "10", "--rate", "max",
                         socket_kind="pub", connect=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        files = wait_for(daemon.files, 120, "the scan's file")
        counters = daemon.metrics()
        self.assertEqual(daemon.stop(), 0)
        with h5py.File(files[0], "r") as f:
            archived = f["/measurement/data"].shape[0]
            missing = missing_count(f)
        self.assertEqual(counters["archived"], archived)
        self.assertEqual(counters["lost"], missing)
        self.assertEqual(archived + missing, 1000)

    def test_bad_messages_are_rejected_and_good_frames_kept(self):
        capture = os.path.join(self.dir, "capture")
        # A small valid scan, captured from `magpie publish` by an independent peer.
        port = free_port()
        context = zmq.Context.instance()
        pull = context.socket(zmq.PULL)
        pull.bind(f"tcp://127.0.0.1:{port}")
        result = publish(f"tcp://127.0.0.1:{port}", "--preset", "openmpi-1d", "--frames", "6", "--background-frames", "0", "--rate", "max")
        self.assertEqual(result.returncode, 0, result.stderr)
        messages = []
        while not messages or json.loads(messages[-1][0])["htype"] != "magpie.scan-end/1":
            messages.append(pull.recv_multipart())
        pull.close(linger=0)
        start, frames, end = messages[0], messages[1:-1], messages[-1]

        daemon = self.daemon(socket_kind="pull", bind=True)
        push = context.socket(zmq.PUSH)
        push.connect(daemon.endpoint)

        def altered(message, **changes):
            header = json.loads(message[0])
            header.update(changes)
            return [json.dumps(header).encode()] + message[1:]

        nan_payload = np.frombuffer(frames[1][1], dtype="<f4").copy()
        nan_payload[3] = np.nan
        sequence = [
            frames[0],                                                  # before its scan-start: held, then archived
            start,
            [b"{not json"],                                             # invalid JSON
            [json.dumps({"htype": "magpie.frame/7"}).encode()],         # unknown htype
            [frames[1][0], frames[1][1][:-4]],                          # payload size mismatch
            [frames[1][0], nan_payload.tobytes()],                      # NaN in a float payload
            frames[1], frames[2],
            frames[2],                                                  # duplicate
            frames[4], frames[3],                                       # out of order: 3 after 4
            frames[5], end,
            altered(start, scan_id="second", repeat=0),                 # a second scan ...
            altered(frames[0], scan_id="second", sequence=100),
            altered(start, scan_id="third", repeat=0),                  # ... closed by a third scan-start without scan-end
            altered(frames[0], scan_id="third", sequence=200), altered(end, scan_id="third", frames_sent=1, last_sequence=200),
        ]
        for message in sequence:
            push.send_multipart(message)
        push.close(linger=2000)
        wait_for(lambda: len(daemon.files()) == 3, 60, "three scan files")
        counters = daemon.metrics()
        self.assertEqual(daemon.stop(), 0)
        log = daemon.log()
        self.assertEqual(counters["rejected"], 6, log)
        for words in ("RFC 8259", "magpie.frame/7", "payload has", "not finite", "duplicate or out of order"):
            self.assertTrue(words in log, words)
        by_scan = {}
        for path in daemon.files():
            with h5py.File(path, "r") as f:
                by_scan[f["/_magpie/stream/scanID"][()].decode()] = (sorted(f["/_magpie/stream/frameIndex"][()].tolist()),
                                                                      f["/_magpie/daemon/status"][()].decode(),
                                                                      f["/_magpie/stream/missingFrameRanges"][()].tolist())
        first_id = json.loads(start[0])["scan_id"]
        self.assertEqual(by_scan[first_id][0], [0, 1, 2, 4, 5])   # frame 3 came after 4: rejected, listed missing
        self.assertEqual(by_scan[first_id][2], [[3, 3]])
        self.assertIn("incomplete", by_scan["second"][1])
        self.assertEqual(by_scan["third"][1], "complete")

    def test_kill_9_then_restart_recovers_every_archived_frame(self):
        daemon = self.daemon(socket_kind="pull", bind=True)
        publisher = subprocess.Popen([MAGPIE, "publish", "--socket", "push", "--endpoint", daemon.endpoint, "--connect", "--warmup", "0.3",
                                      "--preset", "openmpi-1d", "--frames", "5000", "--rate", "500"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: daemon.metrics().get("archived", 0) >= 200, 60, "200 archived frames")
            archived = daemon.metrics()["archived"]
            daemon.kill()
        finally:
            publisher.kill()
            publisher.wait()
        self.assertEqual(daemon.files(), [])
        restarted = self.daemon(socket_kind="pull", bind=True)
        self.assertIn("recovered scan", restarted.log())
        self.assertEqual(restarted.stop(), 0)
        files = restarted.files()
        self.assertEqual(len(files), 1)
        with h5py.File(files[0], "r") as f:
            sequences = sorted(f["/_magpie/stream/sequence"][()].tolist())
            self.assertEqual(f["/_magpie/daemon/complete"][()], 0)
        self.assertGreaterEqual(len(sequences), archived)
        self.assertEqual(sequences, list(range(len(sequences))))
        self.assertEqual(glob.glob(os.path.join(restarted.out, ".*.journal")), [])

    def test_replay_through_the_daemon_is_bit_for_bit(self):
        source = os.path.join(self.dir, "m.mdf")
        result = subprocess.run([MAGPIE, "simulate", "measurement", "--preset", "openmpi-2d", "--frames", "20", "--background-frames", "4",
                                 "--snr", "20", "-o", source], capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        daemon = self.daemon(socket_kind="pull", bind=True)
        result = subprocess.run([MAGPIE, "replay", source, "--socket", "push", "--connect", "--endpoint", daemon.endpoint, "--warmup", "0.3",
                                 "--rate", "max"], capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        files = wait_for(daemon.files, 60, "the scan's file")
        self.assertEqual(daemon.stop(), 0)
        with h5py.File(source, "r") as a, h5py.File(files[0], "r") as b:
            np.testing.assert_array_equal(a["/measurement/data"][()], b["/measurement/data"][()])
            np.testing.assert_array_equal(a["/measurement/isBackgroundFrame"][()], b["/measurement/isBackgroundFrame"][()])
            self.assertEqual(a["/acquisition/receiver/numSamplingPoints"][()], b["/acquisition/receiver/numSamplingPoints"][()])

    def test_system_matrix_reconstruction_and_a_mismatched_scan(self):
        sm = os.path.join(self.dir, "sm.mdf")
        result = subprocess.run([MAGPIE, "simulate", "sm", "--preset", "openmpi-1d", "--grid", "32", "--snr", "60", "-o", sm],
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        daemon = self.daemon(socket_kind="pull", bind=True, reconstruct="kaczmarz", system_matrix=sm)
        for preset in ("openmpi-1d", "openmpi-2d"):
            result = publish(daemon.endpoint, "--preset", preset, "--frames", "40", "--background-frames", "4", "--rate", "500")
            self.assertEqual(result.returncode, 0, result.stderr)
        files = wait_for(lambda: len(daemon.files()) == 2 and daemon.files(), 60, "two scan files")
        self.assertEqual(daemon.stop(), 0)
        by_samples = {}
        for path in files:   # file names order scans by start second, then scan id: find each by its receiver
            with h5py.File(path, "r") as f:
                by_samples[int(f["/acquisition/receiver/numSamplingPoints"][()])] = path
        with h5py.File(by_samples[102], "r") as f:
            self.assertEqual(f["/reconstruction/size"][()].tolist(), [32, 1, 1])
            self.assertGreater(f["/reconstruction/data"].shape[0], 0)
        with h5py.File(by_samples[1632], "r") as f:
            self.assertNotIn("/reconstruction", f)
            self.assertEqual(f["/measurement/data"].shape[0], 44)
        self.assertIn("samples per period 102 vs 1632", daemon.log())
        self.assertIn("archived without processing", daemon.log())

    def test_denoised_reconstruction_and_a_scan_the_denoiser_does_not_fit(self):
        daemon = self.daemon(socket_kind="pull", bind=True, pipeline=f'denoise = "ssd"\nmodels = "{MANIFEST}"\n')
        # One scan after the other's file: a debug build on a busy machine images only part of the
        # first live, and catch-up gives way to a next scan's work as soon as it arrives.
        for count, preset in enumerate(("openmpi-2d", "openmpi-1d"), start=1):
            result = publish(daemon.endpoint, "--preset", preset, "--frames", "20", "--background-frames", "4", "--rate", "500", "--snr", "15")
            self.assertEqual(result.returncode, 0, result.stderr)
            wait_for(lambda: len(daemon.files()) == count, 120, f"scan file {count}")
        files = daemon.files()
        counters = daemon.metrics()
        self.assertEqual(daemon.stop(), 0, daemon.log())
        self.assertEqual(counters["archived"], 48)
        by_samples = {}
        for path in files:
            with h5py.File(path, "r") as f:
                by_samples[int(f["/acquisition/receiver/numSamplingPoints"][()])] = path
        with h5py.File(by_samples[1632], "r") as f:
            self.assertEqual(f["/reconstruction/data"].shape[0], 20)
            self.assertTrue(f["/_magpie/reconstruction/denoiser"][()].decode().startswith("signal-denoiser-openmpi2d sha256 "))
        with h5py.File(by_samples[102], "r") as f:
            self.assertNotIn("/reconstruction", f)
            self.assertEqual(f["/measurement/data"].shape[0], 24)  # archived all the same
        self.assertIn("takes periods of 1632 samples (openmpi-2d); scan", daemon.log())
        self.assertIn("has 102", daemon.log())

    def test_score_reconstruction_records_its_model(self):
        sm = os.path.join(self.dir, "sm19.mdf")
        result = subprocess.run([MAGPIE, "simulate", "sm", "--preset", "openmpi-2d", "--grid", "19", "--snr", "40", "-o", sm],
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        daemon = self.daemon(socket_kind="pull", bind=True, reconstruct="score", system_matrix=sm,
                             pipeline=f'models = "{MANIFEST}"\niterations = 10\n')
        result = publish(daemon.endpoint, "--preset", "openmpi-2d", "--frames", "8", "--background-frames", "4", "--rate", "500")
        self.assertEqual(result.returncode, 0, result.stderr)
        path = wait_for(lambda: daemon.files() and daemon.files()[0], 60, "the scan's file")
        self.assertEqual(daemon.stop(), 0, daemon.log())
        with h5py.File(path, "r") as f:
            self.assertEqual(f["/reconstruction/size"][()].tolist(), [19, 19, 1])
            self.assertEqual(f["/reconstruction/data"].shape[1:], (361, 1))
            self.assertGreater(f["/reconstruction/data"].shape[0], 0)
            self.assertEqual(f["/_magpie/reconstruction/method"][()].decode(), "score")
            self.assertTrue(f["/_magpie/reconstruction/model"][()].decode().startswith("score-openmpi2d sha256 "))
        self.refused(f'[input]\nendpoint = "tcp://127.0.0.1:1"\n[output]\ndirectory = "{self.dir}/out"\n'
                     f'[pipeline]\nreconstruct = "score"\nsystem_matrix = "{sm}"\nmodels = "{MANIFEST}"\nscore_model = "nonexistent"\n',
                     '[stage.score]', "nonexistent")

    def test_deblurring_records_its_model(self):
        daemon = self.daemon(socket_kind="pull", bind=True, pipeline=f'models = "{MANIFEST}"\ndeblur = "msa"\n')
        result = publish(daemon.endpoint, "--preset", "openmpi-2d", "--frames", "6", "--background-frames", "4", "--rate", "500")
        self.assertEqual(result.returncode, 0, result.stderr)
        path = wait_for(lambda: daemon.files() and daemon.files()[0], 60, "the scan's file")
        self.assertEqual(daemon.stop(), 0, daemon.log())
        with h5py.File(path, "r") as f:
            self.assertEqual(f["/reconstruction/size"][()].tolist(), [64, 64, 1])
            images = f["/reconstruction/data"][()]
            self.assertGreater(images.shape[0], 0)
            self.assertTrue(np.isfinite(images).all() and images.max() > 0)
            self.assertTrue(f["/_magpie/reconstruction/deblur"][()].decode().startswith("msa-deblur-openmpi2d sha256 "))
        self.refused(f'[input]\nendpoint = "tcp://127.0.0.1:1"\n[output]\ndirectory = "{self.dir}/out"\n'
                     f'[pipeline]\nmodels = "{MANIFEST}"\ndeblur = "msa"\ndeblur_model = "nonexistent"\n',
                     '[stage.deblur]', "nonexistent")

    def test_a_model_for_another_scanner_is_refused_unless_allowed(self):
        """The papers' MSA-transformer (deblur-paper-3T) on an openmpi-2d stream: the scan is archived
        without processing and the log says what differs; allowed, it runs and the file records it."""
        for allowed in (False, True):
            plan = (f'[pipeline]\nmodels = "{MANIFEST}"\nstages = ["background", "xspace", "deblur"]\n'
                    f'[stage.deblur]\nmethod = "msa"\nmodel = "msa-deblur"\n' + ("allow_other_scanner = true\n" if allowed else ""))
            daemon = self.daemon(socket_kind="pull", bind=True, plan=plan)
            result = publish(daemon.endpoint, "--preset", "openmpi-2d", "--frames", "6", "--background-frames", "4", "--rate", "500")
            self.assertEqual(result.returncode, 0, result.stderr)
            path = wait_for(lambda: daemon.files() and daemon.files()[0], 60, "the scan's file")
            self.assertEqual(daemon.stop(), 0, daemon.log())
            with h5py.File(path, "r") as f:
                self.assertEqual(f["/measurement/data"].shape[0], 10)   # archived either way
                if allowed:
                    self.assertGreater(f["/reconstruction/data"].shape[0], 0)
                    mismatch = f["/_magpie/reconstruction/deblurScannerMismatch"][()].decode()
                    self.assertTrue(mismatch.startswith("trained for deblur-paper-3T; this scan's gradient 1, 1 T/m, the model's 3, 3 T/m"), mismatch)
                    self.assertIn("allow_other_scanner: a model runs on a scanner it was not trained for", daemon.log())
                else:
                    self.assertNotIn("/reconstruction", f)
                    self.assertIn("model msa-deblur does not fit scan", daemon.log())
                    self.assertIn("image grid 64 x 64 x 1, the model's 120 x 120 x 1", daemon.log())
            os.remove(path)

    def test_a_bad_denoiser_model_fails_before_listening(self):
        folder = os.path.join(self.dir, "models")
        shutil.copytree(os.path.dirname(MANIFEST), folder)
        with open(os.path.join(folder, "signal-denoiser", "signal-denoiser-openmpi2d.pt"), "r+b") as handle:
            handle.seek(100)
            handle.write(b"damaged")
        for models, message in ((os.path.join(folder, "manifest.json"), "differs from the manifest"),
                                (os.path.join(self.dir, "absent.json"), "absent.json: cannot be read")):
            self.refused(f'[input]\nendpoint = "tcp://127.0.0.1:1"\n[output]\ndirectory = "{self.dir}/out"\n'
                         f'[pipeline]\ndenoise = "ssd"\nmodels = "{models}"\n', '[stage.denoise]', message)

    def test_publisher_restart_is_followed(self):
        daemon = self.daemon(socket_kind="sub")   # connects; each publisher binds anew
        for _ in range(2):
            result = publish(daemon.endpoint, "--preset", "openmpi-1d", "--frames", "50", "--rate", "2000",
                             socket_kind="pub", connect=False)
            self.assertEqual(result.returncode, 0, result.stderr)
        files = wait_for(lambda: len(daemon.files()) == 2 and daemon.files(), 60, "two scan files")
        self.assertEqual(daemon.stop(), 0)
        for path in files:
            with h5py.File(path, "r") as f:
                self.assertEqual(f["/_magpie/daemon/status"][()].decode(), "complete")
                self.assertEqual(f["/measurement/data"].shape[0] + missing_count(f), 60)

    def test_sighup_reloads_the_plan_between_scans(self):
        daemon = self.daemon(socket_kind="pull", bind=True)
        with open(daemon.config) as handle:
            original = handle.read()

        def reload(config_text, expected):
            with open(daemon.config, "w") as handle:
                handle.write(config_text)
            before = daemon.log().count("SIGHUP")
            daemon.process.send_signal(signal.SIGHUP)
            wait_for(lambda: daemon.log().count("SIGHUP") > before and expected in daemon.log().split("SIGHUP")[-1], 60, expected)

        def scan(count):
            result = publish(daemon.endpoint, "--preset", "openmpi-1d", "--frames", "8", "--background-frames", "4", "--rate", "max")
            self.assertEqual(result.returncode, 0, result.stderr)
            wait_for(lambda: len(daemon.files()) == count, 120, f"scan file {count}")
            with h5py.File(max(daemon.files(), key=os.path.getmtime), "r") as f:
                return f["/_magpie/reconstruction/plan"][()].decode(), f["/_magpie/daemon/config"][()].decode()

        averaging = original.replace('[pipeline]\nreconstruct = "xspace"\n',
                                     '[pipeline]\nstages = ["background", "average", "xspace"]\n[stage.average]\nframes = 2\n')
        self.assertNotEqual(averaging, original)
        reload(averaging, "reloaded: stages background, average, xspace")
        plan, config = scan(1)
        self.assertIn('"frames":2', plan)
        self.assertIn("frames = 2", config)
        # A plan that cannot be built is refused; the daemon goes on with the one it runs.
        reload(averaging.replace('stages = ["background", "average", "xspace"]', 'stages = ["xspace", "denoise"]'), "reload refused")
        # Settings outside the plan are said to need a restart.
        reload(averaging.replace("[output]\n", '[output]\npreview = ""\n'), "[output] changed")
        plan, _ = scan(2)
        self.assertIn('"frames":2', plan)
        self.assertEqual(daemon.stop(), 0, daemon.log())

    def test_systemd_notifications(self):
        path = os.path.join(self.dir, "notify.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.bind(path)
        listener.settimeout(30)
        daemon = Daemon(self.dir, socket_kind="pull", bind=True)
        self.daemons.append(daemon)
        environment = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="400000")
        daemon.log_file = open(daemon.log_path, "w")
        daemon.process = subprocess.Popen([MAGPIE, "daemon", "--config", daemon.config], stderr=daemon.log_file, env=environment)
        messages = [listener.recv(256).decode() for _ in range(3)]
        self.assertTrue(messages[0].startswith("READY=1"), messages)
        self.assertIn("WATCHDOG=1", messages[1:])
        self.assertEqual(daemon.stop(), 0)
        rest = []
        listener.settimeout(1)
        try:
            while True:
                rest.append(listener.recv(256).decode())
        except socket.timeout:
            pass
        self.assertEqual(rest[-1], "STOPPING=1")
        listener.close()

    def test_a_damaged_journal_is_reported_and_quarantined(self):
        os.makedirs(os.path.join(self.dir, "out"))
        damaged = os.path.join(self.dir, "out", ".damaged.journal")
        with open(damaged, "wb") as handle:
            handle.write(b"not a journal")
        daemon = self.daemon(socket_kind="pull", bind=True)
        self.assertIn("cannot recover", daemon.log())
        self.assertIn("is not a Magpie journal", daemon.log())
        self.assertEqual(daemon.stop(), 0)
        self.assertFalse(os.path.exists(damaged))   # quarantined: the next start does not try again
        self.assertTrue(os.path.exists(os.path.join(self.dir, "out", "quarantine", "damaged.journal")))

    def test_bad_config_fails_before_listening(self):
        self.refused('[input]\nendpoint = "tcp://127.0.0.1:1"\n[output]\ndirectory = "/proc/magpie-cannot"\n', "/proc/magpie-cannot")


if __name__ == "__main__":
    unittest.main()
