"""CURVE authentication end to end on loopback: `magpie keygen` keys, the daemon as CURVE
server, an allowed scanner's scan archived, a foreign key's and a plain sender's refused."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import h5py
import zmq
from support import MAGPIE
from test_daemon import Daemon, wait_for


def key(path):
    with open(path) as handle:
        return next(line.strip() for line in handle if line.strip() and not line.startswith("#")).encode()


class Curve(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="magpie-curve-")
        self.daemon = None

    def tearDown(self):
        if self.daemon and self.daemon.process and self.daemon.process.poll() is None:
            self.daemon.process.kill()
            self.daemon.process.wait()
        shutil.rmtree(self.dir)

    def keygen(self, name):
        base = os.path.join(self.dir, name)
        result = subprocess.run([MAGPIE, "keygen", "-o", base], capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        return base

    def test_only_allowed_scanners_are_heard(self):
        daemon_key, scanner, foreign = self.keygen("daemon"), self.keygen("scanner"), self.keygen("foreign")
        self.assertEqual(oct(os.stat(daemon_key + ".key").st_mode & 0o777), "0o600")
        again = subprocess.run([MAGPIE, "keygen", "-o", daemon_key], capture_output=True, text=True, timeout=30)
        self.assertNotEqual(again.returncode, 0)   # never replaces a key
        allowed = os.path.join(self.dir, "allowed_clients")
        with open(allowed, "w") as handle:
            handle.write(f"# scanner 1\n{key(scanner + '.pub').decode()}  # bore A\n")
        self.daemon = Daemon(self.dir, socket_kind="pull", bind=True,
                             input_keys=f'curve_secret_key_file = "{daemon_key}.key"\ncurve_allowed_clients_file = "{allowed}"').start()
        self.assertIn(key(daemon_key + ".pub").decode(), self.daemon.log())

        # A foreign key and a plain sender: their messages never arrive.
        context = zmq.Context.instance()
        intruder = context.socket(zmq.PUSH)
        intruder.curve_serverkey, intruder.curve_publickey, intruder.curve_secretkey = key(daemon_key + ".pub"), key(foreign + ".pub"), key(foreign + ".key")
        intruder.connect(self.daemon.endpoint)
        plain = context.socket(zmq.PUSH)
        plain.connect(self.daemon.endpoint)
        wait_for(lambda: self.daemon.metrics().get("refused_handshakes", 0) >= 1, 30, "a refused handshake")
        self.assertIn("is not in", self.daemon.log())
        intruder.close(linger=0)
        plain.close(linger=0)

        result = subprocess.run([MAGPIE, "publish", "--socket", "push", "--endpoint", self.daemon.endpoint, "--connect", "--warmup", "0.5",
                                 "--preset", "openmpi-1d", "--frames", "6", "--background-frames", "0", "--rate", "max",
                                 "--curve-server-key", daemon_key + ".pub", "--curve-key", scanner + ".key"],
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        path = wait_for(lambda: self.daemon.files() and self.daemon.files()[0], 60, "the allowed scanner's file")
        counters = self.daemon.metrics()
        self.assertEqual(self.daemon.stop(), 0, self.daemon.log())
        self.assertEqual((counters["received"], counters["rejected"]), (6, 0))
        self.assertGreaterEqual(counters["refused_handshakes"], 1)
        with h5py.File(path, "r") as f:
            self.assertEqual(f["/measurement/data"].shape[0], 6)

    def test_bad_key_files_fail_before_listening(self):
        config = os.path.join(self.dir, "bad.toml")
        bad = os.path.join(self.dir, "bad.key")
        with open(bad, "w") as handle:
            handle.write("not a key\n")
        for extra, words in ((f'curve_secret_key_file = "{bad}"\ncurve_allowed_clients_file = "{bad}"', "holds no secret key"),
                             (f'curve_secret_key_file = "{bad}"', "go together")):
            with open(config, "w") as handle:
                handle.write(f'[input]\nendpoint = "tcp://127.0.0.1:1"\n{extra}\n[output]\ndirectory = "{self.dir}/out"\n')
            result = subprocess.run([MAGPIE, "daemon", "--config", config], capture_output=True, text=True, timeout=30)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn(words, result.stderr)


if __name__ == "__main__":
    unittest.main()
