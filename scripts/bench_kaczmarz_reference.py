"""The MDF repository's reference Kaczmarz (python/kaczmarzReg.py, a Python loop over rows with
NumPy inside each row) on exactly the rows `magpie bench sm --export-rows FILE` wrote. Run from a
copy outside the project: `bench_kaczmarz_reference.py PATH/kaczmarzReg.py FILE`. Prints the
median seconds of one sweep of one frame (the number `magpie bench sm --peer-sweep` takes) and,
on stderr, how far its image is from Magpie's one-sweep image of the same rows."""
import importlib.util
import sys
import time

import h5py
import numpy as np

spec = importlib.util.spec_from_file_location("kaczmarzReg", sys.argv[1])
reference = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reference)

with h5py.File(sys.argv[2], "r") as f:
    matrix = f["/matrix"][()]          # complex64, as Magpie sweeps it
    u = f["/u"][()]
    lam = float(f["/lambda"][()])
    magpie_image = f["/image"][()]

times, image = [], None
for _ in range(3):
    start = time.perf_counter()
    image = reference.kaczmarzReg(matrix, u, iterations=1, lambd=lam, enforceReal=True, enforcePositive=True)
    times.append(time.perf_counter() - start)
difference = np.linalg.norm(image.real - magpie_image) / max(np.linalg.norm(image.real), 1e-30)
print(f"kaczmarzReg on {matrix.shape[0]} x {matrix.shape[1]} rows: its image against Magpie's, relative difference {difference:.2e}",
      file=sys.stderr)
print(sorted(times)[1])
