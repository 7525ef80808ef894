"""The NumPy row-loop peer of `magpie bench sm`: Tests/interop/kaczmarz_reference.py's Kaczmarz
(a Python loop over rows, NumPy within a row, float64) on the same files; prints the median
seconds of one sweep for one frame, the number `magpie bench sm --peer-sweep` takes."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "interop"))
import kaczmarz_reference as reference  # noqa: E402

sm, measurement = sys.argv[1], sys.argv[2]
matrix, rows, _ = reference.system_matrix(sm)
u = reference.measurement_vector(measurement, rows)
times = []
for _ in range(3):
    start = time.perf_counter()
    reference.kaczmarz(matrix, u, iterations=1)
    times.append(time.perf_counter() - start)
print(sorted(times)[1])
