#!/usr/bin/env bash
# The signal denoiser's tables (docs/BENCHMARKS.md): the paper's Table II on the denoise-paper
# scanner (five noise types) and Table III on openmpi-2d, on the test splits of
# models/signal-denoiser/datasets.sh (made if absent), with latency; then on-site fine-tuning on a
# scanner with another noise spectrum (openmpi-2d at SNR 5 dB, no interference).
#   scripts/bench-denoise.sh [DATA_DIR]
source "$(dirname "$0")/prologue.sh"
build_release
data=${1:-/tmp/magpie-denoise}
models/signal-denoiser/datasets.sh "$data"

echo "## Table III: openmpi-2d, SNR 15 dB, SIR 5 dB"
"$magpie" bench denoise --dataset "$data/openmpi2d-snr15-sir5-test.h5" --model signal-denoiser-openmpi2d --model signal-denoiser-n2n-openmpi2d
for noise in snr15 snr10 snr5 snr15-sir15 snr15-sir5; do
  echo "## Table II: denoise-paper, $noise"
  "$magpie" bench denoise --dataset "$data/paper-$noise-test.h5" --model signal-denoiser-paper --model signal-denoiser-n2n-paper
done
for sir in 15 5; do
  echo "## Table II, one model per interference type (the paper's alpha) beside its L1-only ablation: SNR 15 dB, SIR $sir dB"
  "$magpie" bench denoise --dataset "$data/paper1000-snr15-sir$sir-test.h5" --model signal-denoiser-paper-sir$sir \
    --model signal-denoiser-n2n-paper-sir$sir --model signal-denoiser-paper --model signal-denoiser-n2n-paper
  /usr/bin/python3 models/signal-denoiser/spectrum.py "$data/paper1000-snr15-sir$sir-test.h5"
done

echo "## Fine-tuning on openmpi-2d at SNR 5 dB without interference"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
phantoms=(digits shapes vessels dots concentration tumor)
for i in $(seq 0 11); do
  "$magpie" simulate measurement --preset openmpi-2d --phantom "${phantoms[$((i % 6))]}" --frames 100 --background-frames 10 \
    --snr 5 --seed $((500 + i)) -o "$work/lab$i.mdf" 2>/dev/null
done
"$magpie" simulate dataset denoise --preset openmpi-2d --snr 5 --count 200 --seed 3000000 -o "$work/eval.h5" 2>/dev/null
"$magpie" train-denoiser --from "$work"/lab*.mdf --base signal-denoiser-openmpi2d -o "$work/lab/denoiser-lab.pt"
"$magpie" bench denoise --dataset "$work/eval.h5" --model signal-denoiser-openmpi2d
"$magpie" bench denoise --dataset "$work/eval.h5" --manifest "$work/lab/manifest.json" --model denoiser-lab --markdown
