"""PyTorch's own latency for a committed denoiser: the peer of `magpie bench denoise` (same model,
same threads), in ms per period and channel, per frame (batch = channels) and in batches of 64.

    /usr/bin/python3 models/signal-denoiser/latency.py models/signal-denoiser/signal-denoiser-openmpi2d.pt 1632 2
"""
import sys
import time

import torch

path, samples, channels = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(2)
model = torch.jit.load(path).eval()
for batch in (channels, 64):
    x = torch.randn(batch, 1, samples)
    with torch.no_grad():
        for _ in range(3):
            model(x)
        times = []
        for _ in range(max(3, 200 // batch)):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    print(f"batch {batch}: {sorted(times)[len(times) // 2] / batch * 1e3:.2f} ms per period and channel")
