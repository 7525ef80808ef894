"""How much a period-local linear filter can do on a denoise dataset: the DFT bins that hold 99 %
of the clean signal's energy, and the SNR of a Wiener filter built from the true mean per-bin
signal and noise spectra (an oracle no real filter has), against the noisy SNR; then, per receive
channel, the bins where harmonic interference stands above the Gaussian floor and its strength.

    /usr/bin/python3 models/signal-denoiser/spectrum.py /tmp/magpie-denoise/openmpi2d-snr15-sir5-test.h5
"""
import sys

import h5py
import numpy as np
import torch

from data import load, snr_db

x, _, clean = load(sys.argv[1:])
X, C = np.fft.rfft(x.numpy(), axis=-1), np.fft.rfft(clean.numpy(), axis=-1)
signal = (abs(C) ** 2).mean(axis=(0, 1))
noise = (abs(X - C) ** 2).mean(axis=(0, 1))
energy = np.cumsum(np.sort(signal)[::-1]) / signal.sum()
wiener = np.fft.irfft(X * signal / (signal + noise), n=x.shape[-1], axis=-1)
print(f"{int((energy < 0.99).sum()) + 1} of {len(signal)} bins hold 99 % of the clean energy; "
      f"noisy SNR {snr_db(x, clean).mean().item():.2f} dB, oracle Wiener {snr_db(torch.from_numpy(wiener), clean).mean().item():.2f} dB")

# Harmonic interference: the bins whose noise stands above the flat Gaussian floor (4 x its median),
# its power against the signal's, and the share of the signal's energy on those bins. The paper's
# Noisy rows (SNR 15 dB and SIR 15 / 5 dB: 12.66 / 6.20 dB) put its interference 16.5 / 6.8 dB below
# the signal: 10 log10 of 1 / (10^(-Noisy/10) - 10^(-15/10)).
with h5py.File(sys.argv[1], "r") as f:
    channels = f["input"].shape[1]
for c in range(channels):
    signal_c = (abs(C[c::channels]) ** 2).mean(axis=(0, 1))
    noise_c = (abs(X[c::channels] - C[c::channels]) ** 2).mean(axis=(0, 1))
    floor = np.median(noise_c)
    hit = noise_c > 4 * floor
    if hit.any():
        power = (noise_c[hit] - floor).sum() / signal_c.sum()
        print(f"channel {c}: interference on {int(hit.sum())} bins ({', '.join(map(str, np.flatnonzero(hit)))}), "
              f"{-10 * np.log10(power):.1f} dB below the signal; those bins hold "
              f"{100 * signal_c[hit].sum() / signal_c.sum():.1f} % of the signal's energy")
