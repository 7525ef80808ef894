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


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
