"""scripts/bench-console.sh: intake with the console's page open in Chromium, and without; then
a flood of idle connections against one request."""
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tests", "interop"))
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from support import MAGPIE, free_port  # noqa: E402

rounds, frames = int(sys.argv[1]), int(sys.argv[2])
work = tempfile.mkdtemp(prefix="magpie-bench-console-")
measurement = os.path.join(work, "m.mdf")
subprocess.run([MAGPIE, "simulate", "measurement", "--preset", "openmpi-2d", "--phantom", "shapes", "--frames", str(frames),
                "--background-frames", "20", "--snr", "30", "-o", measurement], check=True, capture_output=True)


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1100"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def cpu_seconds(pids):
    """User + system CPU time of these processes so far (/proc/PID/stat)."""
    total = 0.0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError):
            pass
    return total


def chromium_pids():
    return [int(p) for p in subprocess.run(["pgrep", "-f", "chromium"], capture_output=True, text=True).stdout.split()]


def start_daemon(port, console, out):
    config = os.path.join(work, "m.toml")
    with open(config, "w") as handle:
        handle.write(f'[input]\nendpoint = "tcp://127.0.0.1:{port}"\nsocket = "pull"\nbind = true\n[output]\ndirectory = "{out}"\n'
                     f'[pipeline]\ncatch_up_seconds = "off"\n[console]\nlisten = "127.0.0.1:{console}"\n')
    log_path = os.path.join(work, "log")
    with open(log_path, "w") as log:
        daemon = subprocess.Popen([MAGPIE, "daemon", "--config", config], stderr=log)
    while "console on" not in open(log_path).read():
        time.sleep(0.05)
    return daemon, log_path


def run(rate, page):
    out = os.path.join(work, "out")
    shutil.rmtree(out, ignore_errors=True)
    port, console = free_port(), free_port()
    daemon, log_path = start_daemon(port, console, out)
    driver = None
    if page:
        driver = browser()
        driver.get(f"http://127.0.0.1:{console}/")
        while driver.find_element("id", "conn").text != "live":
            time.sleep(0.05)
        shown = driver.execute_script("return window.magpie.imagesShown")
    cpu_before = (cpu_seconds([daemon.pid]), cpu_seconds(chromium_pids()))
    subprocess.run([MAGPIE, "replay", measurement, "--socket", "push", "--connect", "--endpoint", f"tcp://127.0.0.1:{port}",
                    "--warmup", "0.2", "--rate", rate], check=True, capture_output=True)
    drawn = driver.execute_script("return window.magpie.imagesShown") - shown if driver else None
    cpu = (cpu_seconds([daemon.pid]) - cpu_before[0], cpu_seconds(chromium_pids()) - cpu_before[1] if driver else 0.0)
    while not (os.path.isdir(out) and any(n.endswith(".mdf") for n in os.listdir(out))):
        time.sleep(0.1)
    with urllib.request.urlopen(f"http://127.0.0.1:{console}/metrics") as response:
        metrics = response.read().decode()
    if driver:
        driver.quit()
    daemon.terminate()
    daemon.wait()
    text = open(log_path).read()
    seconds, intake = map(float, re.search(r"archived \d+ frames in ([0-9.]+) s \(([0-9]+) frames/s", text).groups())
    drawn = drawn / seconds if driver else None   # images drawn a second while the scan streamed
    processed = int(float(re.search(r"^magpie_frames_processed_total (\S+)", metrics, re.M).group(1)))
    return intake, processed, drawn, cpu


print(f"# {frames + 20} frames of openmpi-2d (2 x 1632 float32), background + x-space, {rounds} rounds; "
      f"{os.cpu_count()} cores; magpie {subprocess.run([MAGPIE, '--version'], capture_output=True, text=True).stdout.strip()}")
results = {}
for rate in ("realtime", "max"):
    for r in range(rounds):
        for page in (False, True):
            intake, processed, drawn, cpu = run(rate, page)
            results.setdefault((rate, page), []).append((intake, processed, drawn, cpu[1]))
            print(f"{rate:8s} round {r + 1} {'page open' if page else 'no client'}: intake {intake:8.0f} frames/s, "
                  f"{processed:5d} processed live, CPU s during the replay: daemon {cpu[0]:.1f}, Chromium {cpu[1]:.1f}"
                  + (f", page drew {drawn:.1f} images/s" if drawn is not None else ""), flush=True)
for rate in ("realtime", "max"):
    quiet = [statistics.median(v[i] for v in results[(rate, False)]) for i in (0, 1)]
    busy = [statistics.median(v[i] for v in results[(rate, True)]) for i in (0, 1)]
    drawn = statistics.median(v[2] for v in results[(rate, True)])
    chromium = statistics.median(v[3] for v in results[(rate, True)])
    print(f"median {rate}: intake {quiet[0]:.0f} -> {busy[0]:.0f} frames/s with the page ({busy[0] / quiet[0]:.3f} x); "
          f"processed live {quiet[1]:.0f} -> {busy[1]:.0f}; the page drew {drawn:.1f} images/s; Chromium {chromium:.1f} CPU s a replay")

# 200 connections that send nothing, then one request behind them; the daemon's open descriptors.
console = free_port()
daemon, _ = start_daemon(free_port(), console, os.path.join(work, "flood"))
idle = [socket.create_connection(("127.0.0.1", console)) for _ in range(200)]
began = time.monotonic()
urllib.request.urlopen(f"http://127.0.0.1:{console}/api/status", timeout=120).read()
print(f"flood: a request behind 200 idle connections answered after {time.monotonic() - began:.1f} s; "
      f"the daemon held {len(os.listdir(f'/proc/{daemon.pid}/fd'))} file descriptors")
for connection in idle:
    connection.close()
daemon.terminate()
daemon.wait()
shutil.rmtree(work)
