"""The NumPy row-loop peer of `magpie bench sm` where the MDF repository's kaczmarzReg is not at
hand: Tests/interop/kaczmarz_reference.py's Kaczmarz (a Python loop over rows, NumPy within a row,
float64) on exactly the rows `magpie bench sm --export-rows FILE` wrote. Usage:
`bench_kaczmarz_numpy.py --rows FILE`. Prints the median seconds of one sweep for one frame, the
number `magpie bench sm --peer-sweep` takes."""
import os
import sys
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "interop"))
import kaczmarz_reference as reference  # noqa: E402

if len(sys.argv) != 3 or sys.argv[1] != "--rows":
    sys.exit("usage: bench_kaczmarz_numpy.py --rows FILE (from magpie bench sm --export-rows)")
with h5py.File(sys.argv[2], "r") as f:
    matrix = f["/matrix"][()].astype(np.complex128)
    u = f["/u"][()].astype(np.complex128)
times = []
for _ in range(3):
    start = time.perf_counter()
    reference.kaczmarz(matrix, u, iterations=1)
    times.append(time.perf_counter() - start)
print(sorted(times)[1])
