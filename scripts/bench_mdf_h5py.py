"""The peer for `magpie bench mdf`: h5py writing and reading the same complex64 system matrix."""
import os
import statistics
import sys
import tempfile
import time

import h5py
import numpy as np

megabytes, repeats = int(sys.argv[1]), int(sys.argv[2])
frequencies, channels = 817, 2
frames = max(megabytes * 1_000_000 // (frequencies * channels * 8), 3)
index = np.arange(channels * frequencies * frames)
data = ((index % 1013) * 1e-3 - 1j * (index % 997) * 1e-3).astype(np.complex64).reshape(1, channels, frequencies, frames)
path = os.path.join(tempfile.gettempdir(), f"h5py-bench-{os.getpid()}.mdf")
writes, reads = [], []
try:
    for r in range(repeats):
        start = time.perf_counter()
        with h5py.File(path, "w") as f:
            f["/measurement/data"] = data
            f["/measurement/isBackgroundFrame"] = np.zeros(frames, dtype=np.int8)
        written = time.perf_counter()
        with h5py.File(path, "r") as f:
            back = f["/measurement/data"][()]
        done = time.perf_counter()
        assert np.array_equal(back, data)
        writes.append(written - start)
        reads.append(done - written)
        os.remove(path)  # outside the timing: each repeat writes a new file, as magpie bench mdf does
finally:
    if os.path.exists(path):
        os.remove(path)
size = data.nbytes / 1e6
w, r = statistics.median(writes), statistics.median(reads)
print(f"h5py mdf: {size:.1f} MB write {w:.3f} s ({size / w:.0f} MB/s), read {r:.3f} s ({size / r:.0f} MB/s)")
