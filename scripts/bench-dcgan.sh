#!/usr/bin/env bash
# DC-GAN against deconvolution (docs/BENCHMARKS.md), like the DC-GAN paper's Table 1: PSNR and SSIM
# against the phantom of native, Wiener, Richardson-Lucy and the DC-GAN's generator on the two-tube
# resolution phantoms per gap (noise-free, and 20 draws at 30 dB), then on digits; the classical
# methods' parameters chosen on the validation digits. Intensity profiles across the tubes go to
# docs/figures/dcgan-tube-profiles.png. Data from models/dcgan/datasets.sh (made if absent).
#   scripts/bench-dcgan.sh [DATA_DIR] [MODEL]
source "$(dirname "$0")/prologue.sh"
build_release
data=${1:-/tmp/magpie-dcgan}
model=${2:-dcgan-deblur}
models/dcgan/datasets.sh "$data"
tubes=() noisy=()
for gap in 1.0 1.4 1.8 2.2 2.6 3.0 3.4; do tubes+=("$data/tubes-$gap.h5"); noisy+=("$data/tubes-$gap-30dB.h5"); done
bench() {  # OUTPUTS TEST...
  local outputs=$1
  shift
  "$magpie" bench deblur --preset dcgan-paper-3T --reference phantom --validation "$data/val.h5" \
    --model "$model" --threads 2 --by-set --outputs "$outputs" "${@/#/--test=}"
}
echo "## two-tube phantoms, noise-free"
bench "$data/out-tubes.h5" "${tubes[@]}"
echo "## two-tube phantoms, 30 dB (mean over 20 noise draws)"
bench "$data/out-tubes-30dB.h5" "${noisy[@]}"
echo "## digits"
bench "$data/out-digits.h5" "$data/test-digits.h5" "$data/test-digits-30dB.h5"
/usr/bin/python3 scripts/plot_tube_profiles.py "$data/out-tubes.h5" "$data/out-tubes-30dB.h5" "$model" docs/figures/dcgan-tube-profiles.png
