#!/usr/bin/env bash
# Where the signal denoiser sits relative to block averaging: one noisy openmpi-2d measurement
# reconstructed with x-space averaging 10 frames, without the denoiser, with it on every frame
# before averaging, and with it on each averaged block; each image compared with the same chain
# on the noise-free measurement (same phantom, same background), and the reconstruction timed.
#   scripts/bench-denoise-order.sh [SNR_DB]   (default 10)
source "$(dirname "$0")/prologue.sh"
build_release
snr="${1:-10}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
common=(--preset openmpi-2d --phantom shapes --frames 300 --background-frames 20 --seed 3)
"$magpie" simulate measurement "${common[@]}" --snr "$snr" -o "$work/noisy.mdf" >/dev/null
"$magpie" simulate measurement "${common[@]}" -o "$work/clean.mdf" >/dev/null

chain() {  # $1 name, $2 stages, $3 measurement
  printf 'stages = [%s]\n[stage.average]\nframes = 10\n' "$2" > "$work/$1.toml"
  local start=$EPOCHREALTIME
  "$magpie" reconstruct "$3" --plan "$work/$1.toml" --manifest models/manifest.json -o "$work/$1.mdf" >/dev/null
  echo "$1 $(awk "BEGIN { print $EPOCHREALTIME - $start }")" >> "$work/times"
}
chain reference '"background", "average", "xspace"' "$work/clean.mdf"
chain none '"background", "average", "xspace"' "$work/noisy.mdf"
chain before '"background", "denoise", "average", "xspace"' "$work/noisy.mdf"
chain after '"background", "average", "denoise", "xspace"' "$work/noisy.mdf"
/usr/bin/python3 - "$work" "$snr" <<'PY'
import sys, h5py, numpy as np
work, snr = sys.argv[1], sys.argv[2]
times = dict(line.split() for line in open(f"{work}/times"))
with h5py.File(f"{work}/reference.mdf") as f:
    reference = f["/reconstruction/data"][()][:, :, 0]
print(f"openmpi-2d, shapes phantom, 300 frames at {snr} dB, x-space averaging 10 frames: 30 images,")
print("each against the same chain on the noise-free measurement (nRMSE: ||x - ref|| / ||ref||; PSNR over the reference's range)")
print(f"{'denoiser':<32} {'nRMSE':>7} {'scaled':>7} {'PSNR dB':>8} {'reconstruct s':>14}   (scaled: nRMSE after the least-squares factor onto the reference)")
for name, label in (("none", "none"), ("before", "on each frame, before averaging"), ("after", "on each block, after averaging")):
    with h5py.File(f"{work}/{name}.mdf") as f:
        images = f["/reconstruction/data"][()][:, :, 0]
    nrmse = np.mean([np.linalg.norm(x - r) / np.linalg.norm(r) for x, r in zip(images, reference)])
    scaled = np.mean([np.linalg.norm(x * (x @ r) / (x @ x) - r) / np.linalg.norm(r) for x, r in zip(images, reference)])
    psnr = np.mean([20 * np.log10((r.max() - r.min()) / np.sqrt(np.mean((x - r) ** 2))) for x, r in zip(images, reference)])
    print(f"{label:<32} {nrmse:7.3f} {scaled:7.3f} {psnr:8.2f} {float(times[name]):14.2f}")
PY
