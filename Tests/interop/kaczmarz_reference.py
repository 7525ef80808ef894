"""MPIReco's system-matrix reconstruction in NumPy, written from the conventions in
shared/REFERENCE.md for checking Magpie (and as the benchmark's row-loop peer): the SM read
with h5py, its background frames' mean subtracted, rows chosen by band and SNR, the measurement
converted, background subtracted, averaged and rfft'ed, then regularised Kaczmarz in float64."""
import h5py
import numpy as np


def system_matrix(path, min_freq=80e3, max_freq=None, snr_threshold=2.0):
    """Rows (M x N complex128), their (channel, bin) pairs, and the delta-sample concentration."""
    with h5py.File(path, "r") as f:
        data = f["/measurement/data"][()][0].astype(np.complex128)  # C x K x N (isFastFrameAxis)
        background = f["/measurement/isBackgroundFrame"][()].astype(bool)
        snr = f["/calibration/snr"][()][0]
        samples = int(f["/acquisition/receiver/numSamplingPoints"][()])
        rate = 2 * float(f["/acquisition/receiver/bandwidth"][()])
        concentration = float(f["/tracer/concentration"][()][0])
    channels, frequencies, _ = data.shape
    foreground = data[:, :, ~background] - data[:, :, background].mean(axis=2, keepdims=True)
    hz = np.arange(frequencies) * rate / samples
    top = max_freq if max_freq is not None else np.inf
    rows = [(c, k) for c in range(channels) for k in range(frequencies)
            if min_freq <= hz[k] <= top and snr[c, k] >= snr_threshold]
    matrix = np.stack([foreground[c, k] for c, k in rows])
    return matrix, rows, concentration


def measurement_vector(path, rows, frames=None):
    """The mean of the chosen foreground frames minus the mean background frame, rfft'ed, at `rows`."""
    with h5py.File(path, "r") as f:
        data = f["/measurement/data"][()][:, 0].astype(np.float64)  # N x C x V
        background = f["/measurement/isBackgroundFrame"][()].astype(bool)
        if "/acquisition/receiver/dataConversionFactor" in f:
            factor = f["/acquisition/receiver/dataConversionFactor"][()]
            data = data * factor[None, :, 0, None] + factor[None, :, 1, None]
    chosen = np.flatnonzero(~background) if frames is None else np.asarray(frames)
    period = data[chosen].mean(axis=0) - data[background].mean(axis=0)
    spectrum = np.fft.rfft(period, axis=1)
    return np.array([spectrum[c, k] for c, k in rows])


def kaczmarz(matrix, u, lam=1e-2, iterations=1):
    """For each row i: tau = s_i . x; alpha = (u_i - tau - sqrt(l) v_i) / (|s_i|^2 + l);
    x += alpha conj(s_i); v_i += alpha sqrt(l); after each sweep x = max(Re x, 0).
    l = lam * ||S||_F^2 / N."""
    m, n = matrix.shape
    l = lam * np.sum(np.abs(matrix) ** 2) / n
    root = np.sqrt(l)
    energy = np.sum(np.abs(matrix) ** 2, axis=1)
    x = np.zeros(n, dtype=np.complex128)
    v = np.zeros(m, dtype=np.complex128)
    for _ in range(iterations):
        for i in range(m):
            tau = matrix[i] @ x
            alpha = (u[i] - tau - root * v[i]) / (energy[i] + l)
            x += alpha * np.conj(matrix[i])
            v[i] += alpha * root
        x = np.maximum(x.real, 0).astype(np.complex128)
    return x.real
