#!/usr/bin/env bash
# Writes the deblurring sets with `magpie simulate dataset deblur` into DIR (default
# /tmp/magpie-deblur). By default the MSA-transformer paper's setup: native x-space images at
# 3 T/m (deblur-paper-3T) with noise at 20-30 dB as input, the Richardson-Lucy deconvolved
# noise-free 6 T/m images as labels, 120 x 120 over 30 x 30 mm. Other arguments replace the
# scanner and noise (`--snr 20...30`) for another scanner, whose label is then its sharper twin
# (gradient and drive amplitudes x 2):
#   models/msa/datasets.sh /tmp/magpie-deblur-openmpi2d --preset openmpi-2d --snr 25...45
#   models/msa/datasets.sh /tmp/lab-deblur --scanner-from scan.mdf --snr 25...45
# Seeds keep the splits disjoint: digits train from 0 (8000), validation from 1 000 000 (1000),
# test from 2 000 000 (1000); the phantom test set (resolution, vessels with stenoses, tumours,
# shape combinations; 1000) from 3 000 000, never used for training or selection. Shared by
# every model trained on these pairs (MSA-transformer, compact Restormer).
#   models/msa/datasets.sh [DIR [SCANNER AND NOISE ARGUMENTS...]]
set -euo pipefail
source "$(dirname "$0")/../../scripts/prologue.sh"
build_release
dir=${1:-/tmp/magpie-deblur}
shift $(( $# > 0 ? 1 : 0 ))
scanner=("$@")
(( ${#scanner[@]} )) || scanner=(--snr 20...30)
mkdir -p "$dir"

make() {  # NAME PHANTOMS COUNT SEED
  local out="$dir/$1.h5"
  [[ -f $out ]] && return
  echo "== $out" >&2
  "$magpie" simulate dataset deblur "${scanner[@]}" --phantom "$2" --count "$3" --seed "$4" -o "$out.part" --overwrite 2>/dev/null
  mv "$out.part" "$out"
}

make train-digits digits 8000 0
make val-digits digits 1000 1000000
make test-digits digits 1000 2000000
make test-phantoms resolution,vessels,tumor,shapes 1000 3000000
echo "datasets in $dir" >&2
