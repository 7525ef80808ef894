"""The archive's promises end to end (docs/RELIABILITY.md): a full disk loses nothing already
archived and counts what it could not archive; a scan several times larger than the daemon's
memory bound is written whole."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import h5py
import zmq
from support import MAGPIE, capture_scan, free_port, peak_rss_kib
from test_daemon import Daemon, wait_for


def frame(template, scan_id, index):
    header = json.loads(template[0])
    header.update(scan_id=scan_id, frame=index, sequence=index)
    return [json.dumps(header).encode(), template[1]]


class Archive(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="magpie-archive-")
        self.daemon = None
        self.mounted = None

    def tearDown(self):
        if self.daemon and self.daemon.process and self.daemon.process.poll() is None:
            self.daemon.process.kill()
            self.daemon.process.wait()
        if self.mounted:
            subprocess.run(["umount", self.mounted])
        shutil.rmtree(self.dir)

    def send(self, push, messages):
        for message in messages:
            push.send_multipart(message)

    def mount_small_disk(self, kind):
        """An 8 MiB file system of `kind` as the output directory: mounting needs root (CI runs as root)."""
        out = os.path.join(self.dir, "out")
        os.makedirs(out)
        if kind == "tmpfs":
            command = ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", out]
        else:   # ext4 on a loop device: the journal's space reservation (fallocate) behaves as on a real disk
            image = os.path.join(self.dir, "disk.img")
            with open(image, "wb") as handle:
                handle.truncate(8 << 20)
            made = subprocess.run(["mkfs.ext4", "-q", "-F", image], capture_output=True, text=True)
            if made.returncode != 0:
                self.skipTest(f"cannot make an ext4 image here ({made.stderr.strip()})")
            command = ["mount", "-o", "loop", image, out]
        mount = subprocess.run(command, capture_output=True, text=True)
        if mount.returncode != 0:
            self.skipTest(f"cannot mount {kind} here ({mount.stderr.strip()}); run as root")
        self.mounted = out
        return out

    def test_a_full_disk_loses_nothing_archived_and_counts_what_it_could_not_archive(self):
        self.fill_the_disk_mid_scan(self.mount_small_disk("tmpfs"))

    def test_a_full_ext4_disk_loses_nothing_archived_and_counts_what_it_could_not_archive(self):
        self.fill_the_disk_mid_scan(self.mount_small_disk("ext4"))

    def fill_the_disk_mid_scan(self, out):
        messages = capture_scan("openmpi-1d", 1)
        start, template = messages[0], messages[1]
        scan = json.loads(start[0])["scan_id"]
        self.daemon = Daemon(self.dir, socket_kind="pull", bind=True).start()
        push = zmq.Context.instance().socket(zmq.PUSH)
        push.connect(self.daemon.endpoint)
        self.send(push, [start] + [frame(template, scan, i) for i in range(300)])
        wait_for(lambda: self.daemon.metrics().get("archived", 0) == 300, 60, "300 archived frames")
        # Fill the disk to the last byte (unbuffered, in ever smaller writes: a 64 KiB write that
        # fails can leave almost 64 KiB free, room for a hundred of these frames).
        filler = os.path.join(out, "filler")
        with open(filler, "wb", buffering=0) as handle:
            for size in (65536, 4096, 64, 1):
                try:
                    while handle.write(bytes(size)):
                        pass
                except OSError:
                    pass
        self.send(push, [frame(template, scan, i) for i in range(300, 500)])
        wait_for(lambda: self.daemon.metrics().get("received", 0) == 500, 60, "500 received frames")
        counters = self.daemon.metrics()
        # The journal's last page may still take a few records after the disk is full.
        full = counters["not_archived"]
        self.assertEqual(counters["archived"] + full, 500)
        self.assertGreater(full, 150)
        self.assertIn("not archived", self.daemon.log())
        os.remove(filler)   # space returns
        end = json.loads(messages[-1][0])
        end.update(scan_id=scan, frames_sent=800, last_sequence=799)
        self.send(push, [frame(template, scan, i) for i in range(500, 800)] + [[json.dumps(end).encode()]])
        path = wait_for(lambda: [p for p in self.daemon.files()], 60, "the scan's file")[0]
        counters = self.daemon.metrics()
        self.assertEqual(self.daemon.stop(), 0, self.daemon.log())
        self.assertEqual((counters["archived"], counters["not_archived"]), (800 - full, full))
        with h5py.File(path, "r") as f:
            indices = sorted(f["/_magpie/stream/frameIndex"][()].tolist())
            self.assertEqual(indices[:300], list(range(300)))           # archived before the disk filled
            self.assertEqual(indices[-300:], list(range(500, 800)))     # archived after space returned
            self.assertEqual(len(indices), 800 - full)
            self.assertEqual(f["/_magpie/daemon/counters/not_archived"][()], full)
            self.assertEqual(f["/_magpie/daemon/counters/archived"][()], 800 - full)
        self.assertEqual(subprocess.run([MAGPIE, "inspect", "--validate", path], capture_output=True).returncode, 0)
        push.close(linger=0)

    def test_a_scan_several_times_larger_than_the_memory_bound_is_written_whole(self):
        messages = capture_scan("openmpi-2d", 1)
        start, template, end = messages[0], messages[1], json.loads(messages[-1][0])
        scan, frames = json.loads(start[0])["scan_id"], 12000
        header = json.loads(start[0])
        header["frames_planned"] = frames
        start = [json.dumps(header).encode()]
        # ZeroMQ's receive queue is bounded in messages, not bytes: keep it small so the sender waits.
        self.daemon = Daemon(self.dir, socket_kind="pull", bind=True, reconstruct="off", input_keys="high_water_mark = 200").start()
        baseline = peak_rss_kib(self.daemon.process.pid)
        push = zmq.Context.instance().socket(zmq.PUSH)
        push.connect(self.daemon.endpoint)
        end.update(scan_id=scan, frames_sent=frames, last_sequence=frames - 1)
        self.send(push, [start] + [frame(template, scan, i) for i in range(frames)] + [[json.dumps(end).encode()]])
        path = wait_for(lambda: [p for p in self.daemon.files()], 300, "the scan's file")[0]
        growth = (peak_rss_kib(self.daemon.process.pid) - baseline) * 1024
        self.assertEqual(self.daemon.stop(), 0, self.daemon.log())
        data_bytes = frames * len(template[1])
        bound = 48 << 20
        self.assertGreater(data_bytes, 3 * bound)
        print(f"\npeak RSS growth {growth / 1e6:.1f} MB for {data_bytes / 1e6:.0f} MB of frames", flush=True)
        self.assertLess(growth, bound, f"peak RSS grew by {growth / 1e6:.0f} MB writing {data_bytes / 1e6:.0f} MB of frames")
        with h5py.File(path, "r") as f:
            self.assertEqual(f["/measurement/data"].shape[0], frames)
            self.assertEqual(f["/measurement/data"][frames - 1].tobytes(), template[1])
        push.close(linger=0)

    def configured(self, output_keys):
        self.daemon = Daemon(self.dir, socket_kind="pull", bind=True, reconstruct="off", output_keys=output_keys).start()
        return self.daemon

    def publish(self, frames=5):
        result = subprocess.run([MAGPIE, "publish", "--socket", "push", "--endpoint", self.daemon.endpoint, "--connect", "--warmup", "0.3",
                                 "--preset", "openmpi-1d", "--frames", str(frames), "--background-frames", "0", "--rate", "max"],
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_a_scan_that_may_not_fit_is_warned_about(self):
        daemon = self.configured("min_free_bytes = 1125899906842624")   # 1 PiB: never free here
        self.publish()
        wait_for(daemon.files, 60, "the scan's file")
        counters = daemon.metrics()
        self.assertEqual(daemon.stop(), 0)
        self.assertEqual(counters["low_space_warnings"], 1)
        self.assertGreater(counters["free_bytes"], 0)
        self.assertIn("warning:", daemon.log())
        self.assertIn("min_free_bytes", daemon.log())

    def test_retention_deletes_the_oldest_files_only(self):
        daemon = self.configured("keep_bytes = 1")   # every finished file but the newest is over the limit
        for expected in (1, 2, 3):
            self.publish()
            wait_for(lambda: daemon.log().count(" -> ") >= expected, 60, f"scan file {expected}")
            self.assertEqual(len(daemon.files()), 1)
        self.assertEqual(daemon.log().count("retention: deleted"), 2)
        self.assertEqual(daemon.stop(), 0)


if __name__ == "__main__":
    unittest.main()
