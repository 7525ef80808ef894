#!/usr/bin/env bash
# Writes the deblurring sets with `magpie simulate dataset deblur` into DIR (default
# /tmp/magpie-deblur): native x-space images at 3 T/m with noise at 20-30 dB as input, the
# Richardson-Lucy deconvolved noise-free 6 T/m images as labels, 120 x 120 over 30 x 30 mm (the
# MSA-transformer paper's setup). Seeds keep the splits disjoint: digits train from 0 (8000),
# validation from 1 000 000 (1000), test from 2 000 000 (1000); the phantom test set (resolution,
# vessels with stenoses, tumours, shape combinations; 1000) from 3 000 000, never used for training
# or selection. Shared by every model trained on these pairs (MSA-transformer, compact Restormer).
#   models/msa/datasets.sh [DIR]
set -euo pipefail
source "$(dirname "$0")/../../scripts/prologue.sh"
build_release
dir=${1:-/tmp/magpie-deblur}
mkdir -p "$dir"

make() {  # NAME PHANTOMS COUNT SEED
  local out="$dir/$1.h5"
  [[ -f $out ]] && return
  echo "== $out" >&2
  "$magpie" simulate dataset deblur --phantom "$2" --snr 20...30 --count "$3" --seed "$4" -o "$out.part" --overwrite 2>/dev/null
  mv "$out.part" "$out"
}

make train-digits digits 8000 0
make val-digits digits 1000 1000000
make test-digits digits 1000 2000000
make test-phantoms resolution,vessels,tumor,shapes 1000 3000000
echo "datasets in $dir" >&2
