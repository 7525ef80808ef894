"""A hostile or buggy scanner against `magpie daemon` (docs/RELIABILITY.md): one test per kind of
bad input. Each feeds the exact input, then a valid scan, and asserts that the daemon stayed
alive, archived and wrote the valid scan, stops on SIGTERM within its stop timeout and restarts
cleanly on the same output directory. Then the kill -9 loop: MAGPIE_KILL_ROUNDS rounds (5 here,
20 on demand), every frame counted as archived before the kill is in the recovered file."""
import glob
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import unittest

import h5py
import zmq
from support import MAGPIE, capture_scan, free_port, peak_rss_kib
from test_daemon import Daemon, DaemonTestCase, missing_count, wait_for

STOP_TIMEOUT = 15   # seconds; systemd/magpie.service allows 90


def altered(message, **changes):
    header = json.loads(message[0])
    header.update(changes)
    return [json.dumps(header).encode()] + message[1:]


def journal_bytes(records):
    """A journal as the daemon writes it: magic, then per record the part count and each part's length and bytes."""
    out = b"MAGPIEJ1"
    for parts in records:
        out += struct.pack("<I", len(parts))
        for part in parts:
            out += struct.pack("<Q", len(part)) + part
    return out


class HostileSender(DaemonTestCase):
    @classmethod
    def setUpClass(cls):
        cls.messages = capture_scan("openmpi-1d", 4)
        cls.sequence = 1000

    def setUp(self):
        super().setUp()
        self.context = zmq.Context.instance()

    def scan(self, scan_id, **start_changes):
        """The captured scan renamed, its sequence numbers above every earlier one."""
        start, frames, end = self.messages[0], self.messages[1:-1], self.messages[-1]
        out = [altered(start, scan_id=scan_id, repeat=0, **start_changes)]
        for frame in frames:
            out.append(altered(frame, scan_id=scan_id, sequence=HostileSender.sequence))
            HostileSender.sequence += 1
        return out + [altered(end, scan_id=scan_id, last_sequence=HostileSender.sequence - 1)]

    def start_daemon(self, input_keys=""):
        return self.daemon(socket_kind="pull", bind=True, input_keys=input_keys)

    def send(self, daemon, messages):
        push = self.context.socket(zmq.PUSH)
        push.connect(daemon.endpoint)
        for message in messages:
            push.send_multipart(message)
        push.close(linger=5000)

    def file_of(self, daemon, scan_id):
        for path in daemon.files():
            with h5py.File(path, "r") as f:
                # C readers of HDF5 strings stop at a NUL: compare up to it.
                if f["/_magpie/stream/scanID"][()].decode(errors="replace").split("\0")[0] == scan_id.split("\0")[0]:
                    return path
        return None

    def survives(self, hostile, input_keys="", fresh_socket=False):
        """Feeds `hostile`, then a valid scan; checks the four promises and returns the daemon (stopped)."""
        daemon = self.start_daemon(input_keys)
        valid_id = f"valid-{HostileSender.sequence}"
        if fresh_socket:   # the hostile peer is disconnected: the valid scan comes from a new one
            self.send(daemon, hostile)
            time.sleep(0.3)
            self.send(daemon, self.scan(valid_id))
        else:   # one connection, so the daemon receives them in this order
            self.send(daemon, hostile + self.scan(valid_id))
        path = wait_for(lambda: self.file_of(daemon, valid_id), 60, "the valid scan's file")
        self.assertIsNone(daemon.process.poll(), "the daemon died")
        with h5py.File(path, "r") as f:
            self.assertEqual(f["/measurement/data"].shape[0], 4, daemon.log())
            self.assertEqual(f["/_magpie/daemon/status"][()].decode(), "complete", daemon.log())
        self.assertEqual(subprocess.run([MAGPIE, "inspect", "--validate", path], capture_output=True).returncode, 0)
        daemon.counters = daemon.metrics()
        began = time.time()
        self.assertEqual(daemon.stop(), 0, daemon.log())
        self.assertLess(time.time() - began, STOP_TIMEOUT)
        restarted = self.start_daemon()
        self.assertEqual(restarted.stop(), 0)
        for words in ("cannot recover", "quarantine"):
            self.assertNotIn(words, restarted.log())
        self.assertEqual(glob.glob(os.path.join(daemon.out, ".*.journal")), [])
        return daemon

    # One message that used to crash the daemon (a trap), and then every restart.

    def test_huge_frame_shapes(self):
        frame = self.messages[1]
        daemon = self.survives([altered(frame, shape=[2**40, 2**40, 2**40], periods=2**40),
                                altered(frame, shape=[2**62, 4, 4], periods=2**62),
                                altered(frame, shape=[1, 2**40, 2**40])])
        self.assertEqual(daemon.counters["rejected"], 3)
        self.assertEqual(daemon.log().count("exceeds 268435456 bytes"), 3)

    def test_huge_scan_sizes_and_dividers(self):
        start = self.messages[0]
        metadata = json.loads(start[0])["metadata"]
        metadata["acquisition"]["drivefield"].update(divider=[[2**40 - 1, 2**40 - 3]], phase=[[[0, 0]]], strength=[[[0.01, 0.01]]],
                                                     waveform=[["sine", "sine"]])
        daemon = self.survives([altered(start, scan_id="p", periods_per_frame=2**62),
                                altered(start, scan_id="s", samples_per_period=2**62),
                                altered(start, scan_id="lcm", metadata=metadata)])
        log = daemon.log()
        self.assertIn("periods_per_frame must be in 1...65536", log)
        self.assertIn("samples_per_period must be in 1...16777216", log)
        self.assertIn("least common multiple of the dividers exceeds", log)

    def test_ragged_metadata_refuses_the_scan_and_rejects_its_frames(self):
        start, frame = self.messages[0], self.messages[1]
        cases = {
            "divider": lambda d: d.update(divider=[[102], [96, 5]]),
            "empty-divider": lambda d: d.update(divider=[]),
            "phase": lambda d: d.update(phase=[[[1.5, 2.5]]]),
            "strength": lambda d: d.update(strength=[[[0.01], [0.01]]]),
            "waveform": lambda d: d.update(waveform=[["sine"], ["sine"]]),
        }
        hostile = []
        for name, change in cases.items():
            metadata = json.loads(start[0])["metadata"]
            change(metadata["acquisition"]["drivefield"])
            hostile += [altered(start, scan_id=name, metadata=metadata), altered(frame, scan_id=name, sequence=1),
                        altered(start, scan_id=name, metadata=metadata, repeat=1)]
        metadata = json.loads(start[0])["metadata"]
        metadata["acquisition"]["gradient"] = [[[[1, 0], [0, 1, 0], [0, 0, 2]]]]
        hostile += [altered(start, scan_id="gradient", metadata=metadata), altered(frame, scan_id="gradient", sequence=1)]
        daemon = self.survives(hostile)
        self.assertEqual(daemon.counters["rejected"], len(hostile))
        self.assertEqual(daemon.counters["received"], 4 + len(cases) + 1)   # the refused scans' frames count as received
        log = daemon.log()
        for name in list(cases) + ["gradient"]:
            self.assertEqual(log.count(f"scan-start of scan {name} refused"), 1, name)
        for field in ("divider must be D x F", "phase must be J x D x F", "strength must be J x D x F", "waveform must be D x F",
                      "gradient must be J x Y x 3 x 3"):
            self.assertIn(field, log)

    def test_a_journal_that_crashed_the_old_daemon_is_quarantined_then_recovered_by_hand(self):
        start, frames = self.messages[0], self.messages[1:-1]
        metadata = json.loads(start[0])["metadata"]
        metadata["acquisition"]["drivefield"]["divider"] = [[102], [96, 5]]
        out = os.path.join(self.dir, "out")
        os.makedirs(out)
        with open(os.path.join(out, ".old-scan.journal"), "wb") as handle:   # as the earlier daemon journalled it before trapping
            handle.write(journal_bytes([altered(start, scan_id="old-scan", metadata=metadata)] + [altered(f, scan_id="old-scan") for f in frames]))
        with open(os.path.join(out, ".repairable.journal"), "wb") as handle:   # metadata not valid MDF: never written before
            bad_uuid = json.loads(start[0])["metadata"]
            bad_uuid["study"]["uuid"] = "x"
            handle.write(journal_bytes([altered(start, scan_id="repairable", metadata=bad_uuid)] + [altered(f, scan_id="repairable") for f in frames]))
        daemon = self.survives([])
        log = daemon.log()
        self.assertIn("moved to", log)
        self.assertIn("recovered scan repairable: 4 archived frames", log)
        quarantined = os.path.join(out, "quarantine", "old-scan.journal")
        self.assertTrue(os.path.exists(quarantined))
        with open(quarantined + ".why.txt") as handle:
            self.assertIn("divider must be D x F", handle.read())
        recovered = os.path.join(self.dir, "recovered.mdf")
        result = subprocess.run([MAGPIE, "recover", quarantined, "-o", recovered], capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("4 frames of scan old-scan", result.stdout)
        self.assertEqual(subprocess.run([MAGPIE, "inspect", "--validate", recovered], capture_output=True).returncode, 0)
        with h5py.File(recovered, "r") as f:
            self.assertEqual(f["/measurement/data"].shape, (4, 1, 1, 102))
            self.assertIn("scan-start", f["/_magpie/recovery/defaults"][0].decode())
        result = subprocess.run([MAGPIE, "recover", os.path.join(self.dir, "absent.journal"), "-o", recovered + "2"], capture_output=True, text=True)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("absent.journal", result.stderr)

    # One message that used to hang the daemon while its memory grew.

    def test_huge_frame_counts_neither_hang_nor_grow(self):
        start, frame, end = self.messages[0], self.messages[1], self.messages[-1]
        daemon = self.survives([altered(frame, frame=2**60),
                                altered(start, scan_id="planned", frames_planned=10**15),
                                altered(start, scan_id="wide", frames_planned=2**32, repeat=0), altered(frame, scan_id="wide", sequence=1),
                                altered(end, scan_id="wide", frames_sent=2**62),
                                altered(start, scan_id="next", frames_planned=3, repeat=0)])   # closes "wide": 2^32 - 1 missing
        self.assertIn("frame must be in 0...4294967295", daemon.log())
        self.assertIn("frames_planned must be in 0...4294967296", daemon.log())
        self.assertIn("frames_sent must be in 0...4294967296", daemon.log())
        with h5py.File(self.file_of(daemon, "wide"), "r") as f:
            self.assertEqual(f["/_magpie/stream/missingFrameRanges"][()].tolist(), [[1, 2**32 - 1]])
            self.assertEqual(missing_count(f), 2**32 - 1)

    def test_metadata_that_is_not_valid_mdf_is_repaired_not_lost(self):
        start = self.messages[0]
        metadata = json.loads(start[0])["metadata"]
        metadata["study"]["uuid"] = "x"
        metadata["scanner"]["name"] = ""
        scan = self.scan("cosmetic", metadata=metadata)
        daemon = self.survives(scan)
        with h5py.File(self.file_of(daemon, "cosmetic"), "r") as f:
            self.assertEqual(f["/measurement/data"].shape[0], 4, daemon.log())
            fields = [v.decode() for v in f["/_magpie/repairs/field"][()]]
            originals = [v.decode() for v in f["/_magpie/repairs/original"][()]]
            self.assertEqual(fields, ["/study/uuid", "/scanner/name"])
            self.assertEqual(originals, ["x", ""])
            self.assertEqual(f["/scanner/name"][()].decode(), "unknown")
        self.assertIn("is repaired in its file", daemon.log())

    def test_scan_ids_never_leave_the_output_directory_or_forge_log_lines(self):
        ids = ["../../escape", "nul\u0000byte", "line\n2026-01-01T00:00:00.000 magpie: forged"]
        hostile = []
        for scan_id in ids:
            hostile += self.scan(scan_id)
        daemon = self.survives(hostile)
        names = [os.path.basename(p) for p in daemon.files()]
        self.assertEqual(len(names), 4)
        for name in names:
            self.assertRegex(name, r"^[0-9T]+-[A-Za-z0-9-]+(-\d+)?\.mdf$")
        self.assertEqual(glob.glob(os.path.join(self.dir, "*.mdf")) + glob.glob(os.path.join(self.dir, "..", "escape*")), [])
        for scan_id in ids:
            self.assertIsNotNone(self.file_of(daemon, scan_id), scan_id)
        lines = daemon.log().splitlines()
        self.assertFalse(any(line.startswith("2026-01-01") for line in lines))
        self.assertTrue(any("line\\n2026-01-01" in line for line in lines))

    # Smaller faults.

    def test_headers_that_are_not_strict_json_are_counted(self):
        frame = altered(self.messages[1], scan_id="held")
        text = frame[0].decode()
        daemon = self.survives([[text[:-1].encode() + b",}", frame[1]], [b"\xef\xbb\xbf" + frame[0], frame[1]],
                                [text.encode("utf-16-le"), frame[1]]])
        self.assertEqual(daemon.counters["rejected"], 3)
        self.assertEqual(daemon.log().count("RFC 8259"), 3)

    def test_unknown_htypes_are_logged_once_with_a_count(self):
        daemon = self.survives([[json.dumps({"htype": "vendor.status/2", "n": i}).encode()] for i in range(25)])
        self.assertEqual(daemon.counters["rejected"], 25)
        self.assertEqual(daemon.log().count("vendor.status/2"), 2)   # the 1st and the 10th
        self.assertIn("10 messages of this htype so far", daemon.log())

    def test_an_oversized_message_is_refused_by_zeromq(self):
        start, frame = self.messages[0], self.messages[1]
        big = altered(frame, scan_id="big", shape=[1, 1, 600_000])
        big[1] = bytes(2_400_000)
        daemon = self.survives([altered(start, scan_id="big"), big], input_keys="max_message_bytes = 1048576", fresh_socket=True)
        self.assertEqual(daemon.counters["received"], 4)

    def test_a_message_over_the_default_limit_costs_no_memory(self):
        daemon = self.start_daemon()   # max_message_bytes at its default, 256 MiB
        before = peak_rss_kib(daemon.process.pid)
        big = altered(self.messages[1], scan_id="huge", shape=[1, 1, 128 << 20])
        push = self.context.socket(zmq.PUSH)
        push.connect(daemon.endpoint)
        push.send_multipart([big[0], bytearray(512 << 20)], copy=False)   # 512 MiB
        time.sleep(2)
        push.close(linger=0)
        growth = (peak_rss_kib(daemon.process.pid) - before) * 1024
        print(f"\npeak RSS growth {growth / 1e6:.1f} MB after a 512 MiB message", flush=True)
        self.assertLess(growth, 32 << 20)
        valid_id = f"valid-{HostileSender.sequence}"
        self.send(daemon, self.scan(valid_id))
        wait_for(lambda: self.file_of(daemon, valid_id), 60, "the valid scan's file")
        self.assertEqual(daemon.metrics()["received"], 4)
        self.assertEqual(daemon.stop(), 0)

    def test_a_scan_whose_end_is_lost_is_closed_after_silence(self):
        scan = self.scan("silent")[:-1]   # no scan-end
        daemon = self.start_daemon(input_keys="scan_timeout = 1")
        self.send(daemon, scan)
        path = wait_for(lambda: self.file_of(daemon, "silent"), 30, "the silent scan's file")
        with h5py.File(path, "r") as f:
            self.assertEqual(f["/measurement/data"].shape[0], 4)
            self.assertIn("no message for 1 s", f["/_magpie/daemon/status"][()].decode())
        self.assertEqual(daemon.stop(), 0)
        self.survives([])

    def test_wild_send_times_do_not_trap_the_latency_figures(self):
        # sent_ns is the sender's clock: the live latency (log, histogram) takes any of it.
        scan = self.scan("clock")
        for i, sent in zip(range(1, 5), (2**64 - 1, 0, 2**63, 2**64 - 1)):
            scan[i] = altered(scan[i], sent_ns=sent)
        daemon = self.survives(scan)
        with h5py.File(self.file_of(daemon, "clock"), "r") as f:
            self.assertEqual(f["/measurement/data"].shape[0], 4)
        self.assertIn("send-to-image latency", daemon.log())

    def test_a_wild_sequence_number_does_not_poison_the_scan(self):
        scan = self.scan("wild")
        scan[2] = altered(scan[2], sequence=2**64 - 1)
        daemon = self.survives(scan)
        with h5py.File(self.file_of(daemon, "wild"), "r") as f:
            self.assertEqual(f["/measurement/data"].shape[0], 4)
        self.assertIn("counting afresh", daemon.log())

    def test_out_of_range_settings_are_refused_with_the_range(self):
        for line, words in (("lambda = inf", "lambda = inf is out of range; allowed: a finite number"),
                            ("iterations = 1000000000", "allowed: 1 to 100000")):
            config = os.path.join(self.dir, "bad.toml")
            with open(config, "w") as handle:
                handle.write(f'[input]\nendpoint = "tcp://127.0.0.1:1"\n[output]\ndirectory = "{self.dir}/out"\n[pipeline]\n{line}\n')
            result = subprocess.run([MAGPIE, "daemon", "--config", config], capture_output=True, text=True, timeout=30)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn(words, result.stderr)


class KillLoop(unittest.TestCase):
    """kill -9 in the middle of a scan, restart, repeat: every frame archived before a kill is in the recovered file."""

    def test_kill_9_loop(self):
        rounds = int(os.environ.get("MAGPIE_KILL_ROUNDS", "5"))
        directory = tempfile.mkdtemp(prefix="magpie-kill-")
        known, archived = set(), None
        try:
            for round_ in range(rounds + 1):
                daemon = Daemon(directory, socket_kind="pull", bind=True).start()
                try:
                    if archived is not None:   # the previous round's scan, recovered at this start
                        self.assertIn("recovered scan", daemon.log())
                        new = set(daemon.files()) - known
                        self.assertEqual(len(new), 1, daemon.log())
                        known |= new
                        with h5py.File(new.pop(), "r") as f:
                            self.assertGreaterEqual(f["/measurement/data"].shape[0], archived)
                            self.assertEqual(f["/_magpie/daemon/complete"][()], 0)
                            sequences = sorted(f["/_magpie/stream/sequence"][()].tolist())
                            self.assertEqual(sequences, list(range(len(sequences))))
                    if round_ == rounds:
                        self.assertEqual(daemon.stop(), 0)
                        break
                    publisher = subprocess.Popen([MAGPIE, "publish", "--socket", "push", "--endpoint", daemon.endpoint, "--connect",
                                                  "--warmup", "0.3", "--preset", "openmpi-1d", "--frames", "100000", "--rate", "1000"],
                                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    try:
                        threshold = 50 + (97 * round_) % 300
                        wait_for(lambda: daemon.metrics().get("archived", 0) >= threshold, 60, f"{threshold} archived frames")
                        archived = daemon.metrics()["archived"]
                        daemon.kill()
                    finally:
                        publisher.kill()
                        publisher.wait()
                finally:
                    if daemon.process.poll() is None:
                        daemon.process.kill()
                        daemon.process.wait()
            self.assertEqual(len(known), rounds)
            self.assertEqual(glob.glob(os.path.join(directory, "out", ".*.journal")), [])
            self.assertFalse(os.path.exists(os.path.join(directory, "out", "quarantine")))
        finally:
            shutil.rmtree(directory)


if __name__ == "__main__":
    unittest.main()
