#!/usr/bin/env bash
# Deblurring of native x-space images (docs/BENCHMARKS.md), like the MSA-transformer paper's
# Table 2: native, Wiener, Richardson-Lucy, the compact Restormer and the MSA-transformer on the
# digit and phantom test sets of models/msa/datasets.sh (made if absent); the classical methods'
# parameters chosen on the validation split. Once with 1 LibTorch thread, once with 2.
#   scripts/bench-deblur.sh [DATA_DIR]
source "$(dirname "$0")/prologue.sh"
build_release
data=${1:-/tmp/magpie-deblur}
models/msa/datasets.sh "$data"
for threads in 1 2; do
  echo "## $threads LibTorch thread(s)"
  "$magpie" bench deblur --test "$data/test-digits.h5" --test "$data/test-phantoms.h5" --validation "$data/val-digits.h5" \
    --model restormer-deblur --model msa-deblur --threads "$threads"
done
