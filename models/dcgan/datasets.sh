#!/usr/bin/env bash
# Writes the DC-GAN deblurring sets with `magpie simulate dataset deblur` into DIR (default
# /tmp/magpie-dcgan), 101 x 101 over 20 x 20 mm as in the paper. Training is unpaired: domain X
# holds native x-space images at 3 T/m (noise drawn from 30-50 dB), domain Y the Richardson-Lucy
# deconvolved (100 iterations) noise-free 6 T/m images of *other* digits (--unpaired). Seeds keep the splits
# disjoint: train from 0 (2000; the paper used 1600 digits), validation from 1 000 000 (200), digit
# test from 2 000 000 (200, noise-free and with white noise at 30 dB added to the native image, as
# the paper's noisy test). The two-tube resolution phantoms (tube 1.2 mm, gaps 1.0 to 3.4 mm, never
# used for training or selection): one noise-free image per gap, and 20 noise draws at 30 dB per gap.
# (Training adds image noise itself, train.py --image-snr.) Other arguments replace the scanner
# pair (`--preset dcgan-paper-3T --label-preset dcgan-paper-6T`) for another scanner, whose
# deconvolved domain is then its sharper twin (gradient and drive amplitudes x 2):
#   models/dcgan/datasets.sh /tmp/magpie-dcgan-openmpi2d --preset openmpi-2d
#   models/dcgan/datasets.sh [DIR [SCANNER ARGUMENTS...]]
set -euo pipefail
source "$(dirname "$0")/../../scripts/prologue.sh"
build_release
dir=${1:-/tmp/magpie-dcgan}
shift $(( $# > 0 ? 1 : 0 ))
scanner=("$@")
(( ${#scanner[@]} )) || scanner=(--preset dcgan-paper-3T --label-preset dcgan-paper-6T)
mkdir -p "$dir"

make() {  # NAME COUNT SEED [ARGS...]
  local out="$dir/$1.h5" count=$2 seed=$3
  shift 3
  [[ -f $out ]] && return
  echo "== $out" >&2
  "$magpie" simulate dataset deblur "${scanner[@]}" --label-iterations 100 \
    --count "$count" --seed "$seed" "$@" -o "$out.part" --overwrite 2>/dev/null
  mv "$out.part" "$out"
}

make train 2000 0 --unpaired --snr 30...50
make val 200 1000000 --snr 30...50
make test-digits 200 2000000
make test-digits-30dB 200 2000000 --image-snr 30
for gap in 1.0 1.4 1.8 2.2 2.6 3.0 3.4; do
  make "tubes-$gap" 1 3000000 --phantom resolution --gap "$gap"
  make "tubes-$gap-30dB" 20 3000000 --phantom resolution --gap "$gap" --image-snr 30
done
echo "datasets in $dir" >&2
