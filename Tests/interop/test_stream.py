"""magpie-stream v1 as an independent peer sees it: pyzmq receives what `magpie publish` sends,
checks every header against protocols/schemas, and the payloads against the spec."""
import json
import os
import shutil
import tempfile
import subprocess
import unittest

import h5py
import jsonschema
import numpy as np
import zmq
from support import MAGPIE, free_port

SCHEMAS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "protocols", "schemas")


def schema(name):
    with open(os.path.join(SCHEMAS, name)) as handle:
        return json.load(handle)


class Stream(unittest.TestCase):
    schemas = {"magpie.scan-start/1": schema("scan-start-1.schema.json"), "magpie.frame/1": schema("frame-1.schema.json"),
               "magpie.scan-end/1": schema("scan-end-1.schema.json")}

    def receive_scan(self, *args, command="publish"):
        """Runs `magpie publish --socket push` (or replay) with `args` and pulls every message until scan-end."""
        endpoint = f"tcp://127.0.0.1:{free_port()}"
        context = zmq.Context.instance()
        pull = context.socket(zmq.PULL)
        pull.setsockopt(zmq.RCVTIMEO, 20000)
        pull.connect(endpoint)
        publisher = subprocess.Popen([MAGPIE, command, "--socket", "push", "--endpoint", endpoint, "--warmup", "0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        messages = []
        try:
            while True:
                parts = pull.recv_multipart()
                header = json.loads(parts[0])
                messages.append((header, parts[1:]))
                if header["htype"] == "magpie.scan-end/1":
                    break
            out, err = publisher.communicate(timeout=30)
            self.assertEqual(publisher.returncode, 0, err)
        finally:
            publisher.kill()
            pull.close(linger=0)
        return messages

    def test_published_scan_follows_the_spec(self):
        messages = self.receive_scan("--preset", "openmpi-1d", "--phantom", "dots", "--frames", "30", "--background-frames", "6",
                                     "--rate", "max", "--snr", "30")
        for header, parts in messages:
            jsonschema.validate(header, self.schemas[header["htype"]])
        starts = [h for h, _ in messages if h["htype"] == "magpie.scan-start/1"]
        frames = [(h, p) for h, p in messages if h["htype"] == "magpie.frame/1"]
        end = messages[-1][0]
        self.assertEqual(messages[0][0]["htype"], "magpie.scan-start/1")
        start = starts[0]
        self.assertEqual(start["metadata"]["acquisition"]["receiver"]["numSamplingPoints"], 102)
        self.assertEqual(len(frames), 36)
        self.assertEqual([h["sequence"] for h, _ in frames], list(range(36)))
        self.assertEqual([h["frame"] for h, _ in frames], list(range(36)))
        self.assertEqual([h["flags"]["background"] for h, _ in frames], [True] * 3 + [False] * 30 + [True] * 3)
        for header, parts in frames:
            self.assertEqual(len(parts), 1)
            values = np.frombuffer(parts[0], dtype="<f4").reshape(header["shape"])
            self.assertTrue(np.isfinite(values).all())
        self.assertEqual(end["frames_sent"], 36)
        self.assertEqual(end["last_sequence"], 35)
        # The phantom's frames carry the particle signal; background frames do not.
        signal = np.frombuffer(frames[10][1][0], dtype="<f4")
        empty = np.frombuffer(frames[0][1][0], dtype="<f4")
        self.assertGreater(np.abs(signal).max(), 5 * np.abs(empty).max())

    def test_int16_payloads_carry_the_conversion_factor_and_scan_start_repeats(self):
        messages = self.receive_scan("--preset", "openmpi-1d", "--frames", "200", "--background-frames", "2",
                                     "--rate", "2000", "--repeat-interval", "0.02", "--sample-type", "int16")
        starts = [h for h, _ in messages if h["htype"] == "magpie.scan-start/1"]
        self.assertGreater(len(starts), 2)
        self.assertEqual([s["repeat"] for s in starts], list(range(len(starts))))
        self.assertEqual(len({s["scan_id"] for s in starts}), 1)
        factor = starts[0]["metadata"]["acquisition"]["receiver"]["dataConversionFactor"]
        self.assertGreater(factor[0][0], 0)
        frame = next(p for h, p in messages if h["htype"] == "magpie.frame/1" and not h["flags"]["background"])
        counts = np.frombuffer(frame[0], dtype="<i2")
        self.assertGreater(np.abs(counts).max(), 1000)

    def test_replay_sends_the_file_bit_for_bit(self):
        directory = tempfile.mkdtemp(prefix="magpie-replay-")
        try:
            source = os.path.join(directory, "m.mdf")
            result = subprocess.run([MAGPIE, "simulate", "measurement", "--preset", "openmpi-2d", "--frames", "5", "--background-frames", "3",
                                     "--snr", "20", "-o", source], capture_output=True, text=True, timeout=120)
            self.assertEqual(result.returncode, 0, result.stderr)
            demo = os.path.join(directory, "demo")
            self.assertEqual(subprocess.run([MAGPIE, "demo", "--output", demo], capture_output=True, timeout=120).returncode, 0)
            for path, dtype in ((source, "<f4"), (os.path.join(demo, "measurement.mdf"), "<i2")):
                messages = self.receive_scan(path, "--rate", "max", command="replay")
                with h5py.File(path, "r") as f:
                    data = f["/measurement/data"][()]
                    background = f["/measurement/isBackgroundFrame"][()].astype(bool)
                    factor = f["/acquisition/receiver/dataConversionFactor"][()] if "/acquisition/receiver/dataConversionFactor" in f else None
                for header, _ in messages:
                    jsonschema.validate(header, self.schemas[header["htype"]])
                frames = [(h, p) for h, p in messages if h["htype"] == "magpie.frame/1"]
                self.assertEqual(len(frames), data.shape[0])
                for n, (header, parts) in enumerate(frames):
                    self.assertEqual(header["flags"]["background"], bool(background[n]))
                    received = np.frombuffer(parts[0], dtype=dtype).reshape(data.shape[1:])
                    np.testing.assert_array_equal(received, data[n])
                if factor is not None:
                    start = messages[0][0]
                    np.testing.assert_array_equal(start["metadata"]["acquisition"]["receiver"]["dataConversionFactor"], factor)
        finally:
            shutil.rmtree(directory)

    def test_bad_options_fail_clearly(self):
        result = subprocess.run([MAGPIE, "publish", "--socket", "pull"], capture_output=True, text=True, timeout=30)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("--socket must be pub or push", result.stderr)
        result = subprocess.run([MAGPIE, "publish", "--endpoint", "nonsense://x", "--warmup", "0"], capture_output=True, text=True, timeout=30)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("nonsense://x", result.stderr)

    def test_replay_refuses_what_it_cannot_stream(self):
        directory = tempfile.mkdtemp(prefix="magpie-replay-")
        try:
            sm = os.path.join(directory, "sm.mdf")
            self.assertEqual(subprocess.run([MAGPIE, "simulate", "sm", "--preset", "openmpi-1d", "--grid", "4", "-o", sm],
                                            capture_output=True, timeout=120).returncode, 0)
            for path, words in ((sm, "/measurement/isFourierTransformed = 1: replay sends time-domain frames"), (os.path.join(directory, "missing.mdf"), "missing.mdf")):
                result = subprocess.run([MAGPIE, "replay", path, "--warmup", "0", "--endpoint", f"tcp://127.0.0.1:{free_port()}"],
                                        capture_output=True, text=True, timeout=30)
                self.assertNotEqual(result.returncode, 0)
                self.assertIn(words, result.stderr)
        finally:
            shutil.rmtree(directory)


if __name__ == "__main__":
    unittest.main()
