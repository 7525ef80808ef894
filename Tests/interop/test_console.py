"""The daemon's console over HTTP, as clients use it: the JSON API, downloads, images, the live
and event streams, /metrics as Prometheus parses it, bad requests, idle and slow clients, and
the token off loopback. (The page in a browser: test_console_browser.py.)"""
import base64
import hashlib
import http.client
import json
import os
import re
import socket
import struct
import threading
import time
import urllib.error
import urllib.request

import h5py
from prometheus_client.parser import text_string_to_metric_families
from test_daemon import DaemonTestCase, publish, wait_for


def get(daemon, path, headers=None, timeout=10):
    """(status, headers, body) of a GET on the daemon's console."""
    request = urllib.request.Request(f"http://127.0.0.1:{daemon.console_port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def raw(daemon, request_line, timeout=10):
    """A request sent byte for byte (no client-side path clean-up); the status code."""
    with socket.create_connection(("127.0.0.1", daemon.console_port), timeout=timeout) as s:
        s.sendall(f"{request_line}\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1]), answer


class SSE(threading.Thread):
    """Reads a Server-Sent-Events stream in the background: events as (name, id, data)."""

    def __init__(self, daemon, path):
        super().__init__(daemon=True)
        self.connection = http.client.HTTPConnection("127.0.0.1", daemon.console_port, timeout=60)
        self.connection.request("GET", path)
        self.response = self.connection.getresponse()
        self.events = []
        self.start()

    def run(self):
        name, ident, data = "message", None, []
        try:
            for line in self.response:
                line = line.decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("id: "):
                    ident = int(line[4:])
                elif line.startswith("data: "):
                    data.append(line[6:])
                elif line == "":
                    if data:
                        self.events.append((name, ident, json.loads("\n".join(data))))
                    name, ident, data = "message", None, []
        except Exception:
            pass

    def named(self, name):
        return [data for event, _, data in list(self.events) if event == name]

    def close(self):
        self.connection.close()


def floats(text):
    data = base64.b64decode(text)
    return struct.unpack(f"<{len(data) // 4}f", data)


class ConsoleAPI(DaemonTestCase):

    def test_api_serves_scans_images_files_and_streams(self):
        daemon = self.daemon(socket_kind="pull", bind=True)
        status, _, body = get(daemon, "/")
        self.assertEqual(status, 200)
        self.assertIn(b"<canvas", body)
        self.assertNotIn(b"http://", body.replace(b"http://www.w3.org", b""))   # nothing fetched from elsewhere
        self.assertNotIn(b"https://", body)
        events = SSE(daemon, "/api/events")
        live = SSE(daemon, "/api/live")
        result = publish(daemon.endpoint, "--preset", "openmpi-2d", "--phantom", "shapes", "--frames", "280", "--background-frames", "20",
                         "--rate", "300", "--snr", "30")
        self.assertEqual(result.returncode, 0, result.stderr)
        wait_for(daemon.files, 120, "the scan's file")
        wait_for(lambda: any(e["kind"] == "written" for e in events.named("scan")), 30, "the written event")

        kinds = [e["kind"] for e in events.named("scan")]
        self.assertEqual(kinds, ["started", "ended", "written"])
        written = events.named("scan")[-1]
        name = os.path.basename(daemon.files()[0])
        self.assertEqual(written["file"], name)
        self.assertTrue(written["complete"])

        # The live stream: images with their geometry, signals with spectra, status, scan events.
        images, signals = live.named("image"), live.named("signal")
        self.assertGreater(len(images), 0)
        image = images[-1]
        nx, ny, nz = image["size"]
        self.assertEqual(len(image["planes"]), 1)
        plane = image["planes"][0]
        self.assertEqual(len(floats(plane["values"])), nx * ny)
        self.assertAlmostEqual(max(floats(plane["values"])), image["high"], places=3)
        self.assertEqual(len(plane["extentMm"]), 2)
        signal = signals[-1]
        self.assertEqual(len(signal["signals"]), signal["channels"])
        self.assertEqual(len(floats(signal["signals"][0])), signal["samples"])
        self.assertEqual(len(floats(signal["spectraDecibels"][0])), signal["samples"] // 2 + 1)
        self.assertEqual(len(signal["driveFrequencies"]), 2)
        self.assertGreater(len(live.named("status")), 0)
        live.close()
        events.close()

        status, _, body = get(daemon, "/api/status")
        self.assertEqual(status, 200)
        state = json.loads(body)
        self.assertEqual([s["stage"] for s in state["chain"]], ["background", "xspace"])
        self.assertEqual(state["counters"]["archived"], 300)
        self.assertEqual(state["lastScan"]["file"], name)

        status, _, body = get(daemon, "/api/scans")
        page = json.loads(body)
        self.assertEqual((page["total"], page["scans"][0]["name"], page["scans"][0]["status"]), (1, name, "complete"))
        self.assertEqual(page["scans"][0]["summary"]["frames"], 300)
        self.assertEqual(json.loads(get(daemon, f"/api/scans/{name}")[2])["name"], name)
        self.assertEqual(json.loads(get(daemon, "/api/scans?offset=1")[2])["scans"], [])

        # The file downloads byte for byte; its images come as PNGs of the file's own /reconstruction.
        status, headers, body = get(daemon, f"/api/scans/{name}/file")
        self.assertEqual(status, 200)
        with open(daemon.files()[0], "rb") as handle:
            self.assertEqual(hashlib.sha256(body).hexdigest(), hashlib.sha256(handle.read()).hexdigest())
        self.assertIn("attachment", headers["Content-Disposition"])
        with h5py.File(daemon.files()[0], "r") as f:
            count = f["/reconstruction/data"].shape[0]
        for index in (0, count - 1, -1):
            status, headers, body = get(daemon, f"/api/scans/{name}/image/{index}.png")
            self.assertEqual((status, headers["Content-Type"], body[:8]), (200, "image/png", b"\x89PNG\r\n\x1a\n"))
            width, height = struct.unpack(">II", body[16:24])
            self.assertGreaterEqual(min(width, height), 256)

    def test_bad_requests_get_clear_4xx_and_nothing_outside_the_directory(self):
        daemon = self.daemon(socket_kind="pull", bind=True)
        self.assertEqual(publish(daemon.endpoint, "--preset", "openmpi-2d", "--frames", "50", "--background-frames", "0", "--rate", "max").returncode, 0)
        wait_for(daemon.files, 60, "the scan's file")
        name = os.path.basename(daemon.files()[0])
        # A file beside the output directory, and a link to it inside: neither can be named.
        secret = os.path.join(self.dir, "secret.mdf")
        with open(secret, "wb") as handle:
            handle.write(b"not for the console")
        os.symlink(secret, os.path.join(daemon.out, "link.mdf"))
        for path, expected in [
            ("/api/scans/nope.mdf", 404),
            ("/api/scans/link.mdf", 404),
            ("/api/scans/link.mdf/file", 404),
            ("/api/scans/..%2Fsecret.mdf/file", 400),
            ("/api/scans/%2E%2E/file", 400),
            ("/api/scans/.hidden.mdf", 400),
            ("/api/scans/a%00b.mdf", 400),
            (f"/api/scans/{name}/image/99999999.png", 404),
            (f"/api/scans/{name}/image/1e9.png", 400),
            (f"/api/scans/{name}/image/0.jpg", 400),
            (f"/api/scans/{name}/image/0.png?size=100000000000000000000000", 400),
            ("/api/scans?limit=100000000000000000000000000000", 400),
            ("/api/scans?limit=0", 400),
            ("/api/scans?offset=-5", 400),
            ("/api/events?after=abc", 400),
            ("/api/nothing", 404),
        ]:
            status, _, body = get(daemon, path)
            self.assertEqual(status, expected, f"{path}: {body[:200]}")
            if status == 400:
                self.assertIn("message", json.loads(body)["error"], path)
        # Paths the client does not clean up: never a 200, never the secret.
        for line in ["GET /api/scans/../../secret.mdf/file HTTP/1.1", "GET /api/scans/..%2F..%2Fsecret.mdf/file HTTP/1.1",
                     f"GET /api/scans/{name}/../../../secret.mdf HTTP/1.1", "GET /../secret.mdf HTTP/1.1", "POST /api/scans HTTP/1.1",
                     "DELETE /api/scans/" + name + " HTTP/1.1"]:
            status, answer = raw(daemon, line)
            self.assertGreaterEqual(status, 400, line)
            self.assertLess(status, 500, line)
            self.assertNotIn(b"not for the console", answer)
        self.assertTrue(os.path.exists(daemon.files()[0]))   # DELETE did nothing
        # A header far too long is refused, and the server goes on.
        status, _ = raw(daemon, "GET /api/status HTTP/1.1\r\nX-Big: " + "a" * 200_000)
        self.assertGreaterEqual(status, 400)
        self.assertEqual(get(daemon, "/api/status")[0], 200)

    def test_metrics_parse_as_prometheus_with_histograms(self):
        daemon = self.daemon(socket_kind="pull", bind=True)
        self.assertEqual(publish(daemon.endpoint, "--preset", "openmpi-2d", "--frames", "190", "--background-frames", "10",
                                 "--rate", "max").returncode, 0)
        wait_for(daemon.files, 120, "the scan's file")
        scans_written = lambda: {s.labels["complete"]: s.value for s in daemon.metric_families()["magpie_scans_written"].samples
                                 if s.name.endswith("_total")}
        wait_for(lambda: scans_written()["true"] == 1, 30, "the file to be counted")   # the file shows a moment before
        families = daemon.metric_families()
        for histogram in ("magpie_stage_processing_seconds", "magpie_live_latency_seconds", "magpie_frame_processing_seconds"):
            self.assertEqual(families[histogram].type, "histogram", histogram)
        stages = {s.labels["stage"] for s in families["magpie_stage_processing_seconds"].samples}
        self.assertEqual(stages, {"background", "xspace"})
        counts = {s.labels["stage"]: s.value for s in families["magpie_stage_processing_seconds"].samples if s.name.endswith("_count")}
        processed = families["magpie_frames_processed"].samples[0].value
        self.assertEqual(counts["background"], processed)   # every frame goes through the first stage
        self.assertEqual(scans_written(), {"true": 1, "false": 0})
        with h5py.File(daemon.files()[0], "r") as f:
            payload = f["/measurement/data"][0].nbytes
        self.assertEqual(families["magpie_archived_bytes"].samples[0].value, 200 * payload)
        self.assertLess(abs(families["magpie_last_scan_written_timestamp_seconds"].samples[0].value - time.time()), 120)
        self.assertEqual(families["magpie_queue_frames"].type, "gauge")

    def test_idle_and_slow_clients_delay_neither_others_nor_the_pipeline(self):
        daemon = self.daemon(socket_kind="pull", bind=True, pipeline='catch_up_seconds = "off"\n')
        scan = ["--preset", "openmpi-2d", "--phantom", "shapes", "--frames", "780", "--background-frames", "20", "--rate", "max", "--snr", "30"]
        # The same scan first with no client at all: the pipeline's own pace on this machine now.
        self.assertEqual(publish(daemon.endpoint, *scan).returncode, 0)
        wait_for(daemon.files, 120, "the first scan's file")
        # Clients that connect and send nothing, one that sends half a request, and live streams nobody reads.
        idle = [socket.create_connection(("127.0.0.1", daemon.console_port)) for _ in range(4)]
        half = socket.create_connection(("127.0.0.1", daemon.console_port))
        half.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        stalled = []
        for _ in range(3):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(("127.0.0.1", daemon.console_port))
            s.sendall(b"GET /api/live HTTP/1.1\r\nHost: x\r\n\r\n")
            stalled.append(s)
        timings = []
        done = threading.Event()

        def poll():
            while not done.is_set():
                began = time.monotonic()
                status, _, _ = get(daemon, "/metrics", timeout=10)
                timings.append((time.monotonic() - began, status))
                time.sleep(0.05)
        poller = threading.Thread(target=poll)
        poller.start()
        result = publish(daemon.endpoint, *scan)
        self.assertEqual(result.returncode, 0, result.stderr)
        wait_for(lambda: len(daemon.files()) == 2, 120, "the second scan's file")
        done.set()
        poller.join()
        counters = daemon.metrics()
        self.assertEqual((counters["received"], counters["archived"]), (1600, 1600))
        worst = max(t for t, _ in timings)
        # Intake's rate (its log line per scan) without and with the clients.
        alone, crowded = [float(r) for r in re.findall(r"archived 800 frames in [0-9.]+ s \(([0-9]+) frames/s", daemon.log())]
        print(f"\n  /metrics while 4 idle, 1 half-request and 3 unread live clients were connected: {len(timings)} requests, "
              f"median {sorted(t for t, _ in timings)[len(timings) // 2] * 1000:.1f} ms, worst {worst * 1000:.1f} ms; "
              f"intake {alone:.0f} frames/s with no client, {crowded:.0f} with them ({crowded / alone:.2f} x)")
        self.assertTrue(all(status == 200 for _, status in timings))
        self.assertLess(worst, 2.0)
        # A generous bound (a shared 2-core machine, one scan each): a pipeline that waited on the console would be far below.
        self.assertGreater(crowded / alone, 0.5)
        # The idle ones are closed by the server (idle timeout 10 s), not kept for ever.
        for s in idle + [half]:
            s.settimeout(20)
            try:
                self.assertEqual(s.recv(1024)[:0], b"")
            except ConnectionResetError:
                pass
            s.close()
        for s in stalled:
            s.close()
        self.assertEqual(daemon.stop(), 0, daemon.log())

    def test_token_guards_every_request_off_loopback(self):
        config = os.path.join(self.dir, "refused.toml")
        with open(config, "w") as handle:
            handle.write('[input]\nendpoint = "tcp://127.0.0.1:1"\n[output]\ndirectory = "out"\n[console]\nlisten = "0.0.0.0:9"\n')
        result = self.run_magpie("daemon", "--config", config)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("token_file", result.stderr)

        token = "s3cret-token-" + "x" * 12
        token_file = os.path.join(self.dir, "token")
        with open(token_file, "w") as handle:
            handle.write(token + "\n")
        daemon = self.daemon(socket_kind="pull", bind=True, console_host="0.0.0.0", console_keys=f'token_file = "{token_file}"')
        self.assertEqual(get(daemon, "/")[0], 200)   # the page itself asks for the token
        for path in ("/api/status", "/api/scans", "/metrics", "/api/live", "/api/events"):
            self.assertEqual(get(daemon, path)[0], 401, path)
            self.assertEqual(get(daemon, path, {"Authorization": "Bearer wrong-token-0123456789"})[0], 403, path)
        self.assertEqual(get(daemon, "/api/status", {"Authorization": f"Bearer {token}"})[0], 200)
        self.assertEqual(get(daemon, "/api/status", {"X-Magpie-Token": token})[0], 200)
        self.assertEqual(get(daemon, "/metrics", {"Cookie": f"magpie_token={token}"})[0], 200)

        with open(token_file, "w") as handle:
            handle.write("short\n")
        result = self.run_magpie("daemon", "--config", daemon.config)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("16 or more", result.stderr)

    def test_metrics_listen_is_read_as_the_old_name_of_console_listen(self):
        daemon = self.daemon(socket_kind="pull", bind=True)
        with open(daemon.config) as handle:
            text = handle.read()
        daemon.stop()
        with open(daemon.config, "w") as handle:
            handle.write(text.replace("[console]", "[metrics]"))
        daemon.start()
        self.assertIn("[metrics] listen is read as [console] listen", daemon.log())
        self.assertEqual(get(daemon, "/metrics")[0], 200)
        daemon.stop()
        with open(daemon.config, "w") as handle:
            handle.write(text + f'[metrics]\nlisten = "127.0.0.1:{daemon.console_port}"\n')
        result = self.run_magpie("daemon", "--config", daemon.config)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("give only [console] listen", result.stderr)

    def run_magpie(self, *args):
        from support import magpie
        return magpie(*args, timeout=30)
