"""What the interop tests share: the magpie executable under test and how they run it."""
import os
import socket
import subprocess

MAGPIE = os.environ.get("MAGPIE", ".build/debug/magpie")
# The committed model manifest (tests run from the repository root).
MANIFEST = os.path.abspath("models/manifest.json")


def magpie(*args, timeout=300):
    """Runs `magpie args...` and returns the completed process (text output captured)."""
    return subprocess.run([MAGPIE, *args], capture_output=True, text=True, timeout=timeout)


def simulated_pair(directory, seed, grid, frames, background_frames):
    """An openmpi-2d system matrix (`grid`^2, 50 dB) and a shapes measurement (30 dB) simulated into
    `directory`: the paths (sm.mdf, m.mdf)."""
    sm, m = os.path.join(directory, "sm.mdf"), os.path.join(directory, "m.mdf")
    for args in (("sm", "--grid", str(grid), "--snr", "50", "-o", sm),
                 ("measurement", "--phantom", "shapes", "--frames", str(frames), "--background-frames", str(background_frames),
                  "--snr", "30", "-o", m)):
        result = magpie("simulate", *args[:1], "--preset", "openmpi-2d", "--seed", str(seed), *args[1:])
        assert result.returncode == 0, result.stderr
    return sm, m


def lab_scan(path, *simulate_args):
    """A "lab" file at `path`: openmpi-2d's sequence at 1.5 T/m and 18 mT, written without Magpie's
    own scanner record, as another scanner's software would write it (`simulate_args`: more
    options of `magpie simulate measurement`)."""
    import h5py
    result = magpie("simulate", "measurement", "--preset", "openmpi-2d", *simulate_args, "-o", path)
    assert result.returncode == 0, result.stderr
    with h5py.File(path, "r+") as f:
        del f["/_magpie"]
        f["/acquisition/gradient"][...] = f["/acquisition/gradient"][()] * 1.5
        f["/acquisition/drivefield/strength"][...] = f["/acquisition/drivefield/strength"][()] * 1.5
    return path


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def capture_scan(preset="openmpi-1d", frames=4):
    """The messages of a real `magpie publish` scan (scan-start, `frames` frames, scan-end), as an
    independent peer receives them."""
    import json
    import zmq
    port = free_port()
    pull = zmq.Context.instance().socket(zmq.PULL)
    pull.bind(f"tcp://127.0.0.1:{port}")
    result = subprocess.run([MAGPIE, "publish", "--socket", "push", "--endpoint", f"tcp://127.0.0.1:{port}", "--connect", "--warmup", "0.3",
                             "--preset", preset, "--frames", str(frames), "--background-frames", "0", "--rate", "max"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    messages = []
    while not messages or json.loads(messages[-1][0])["htype"] != "magpie.scan-end/1":
        messages.append(pull.recv_multipart())
    pull.close(linger=0)
    return messages


def peak_rss_kib(pid):
    """A process's peak resident memory so far (VmHWM), KiB."""
    with open(f"/proc/{pid}/status") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("VmHWM:"))
