"""How much a period-local linear filter can do on a denoise dataset: the DFT bins that hold 99 %
of the clean signal's energy, and the SNR of a Wiener filter built from the true mean per-bin
signal and noise spectra (an oracle no real filter has), against the noisy SNR.

    /usr/bin/python3 models/signal-denoiser/spectrum.py /tmp/magpie-denoise/openmpi2d-snr15-sir5-test.h5
"""
import sys

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
