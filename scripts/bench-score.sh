#!/usr/bin/env bash
# Score-based reconstruction against Kaczmarz (docs/BENCHMARKS.md): the paper's protocol on a
# simulated openmpi-2d 19 x 19 system matrix, tumour phantoms of the test split of
# models/score/datasets.sh (made if absent), 15 and 25 dB; parameters chosen on the validation
# split. Once with 1 LibTorch thread, once with 2.
#   scripts/bench-score.sh [DATA_DIR]
source "$(dirname "$0")/prologue.sh"
build_release
data=${1:-/tmp/magpie-score}
models/score/datasets.sh "$data"
sm="$data/sm19.mdf"
[[ -f $sm ]] || "$magpie" simulate sm --preset openmpi-2d --grid 19 --snr 40 -o "$sm"
for threads in 1 2; do
  echo "## $threads LibTorch thread(s)"
  "$magpie" bench score --sm "$sm" --phantoms "$data/test-tumor.h5" --validation "$data/val-tumor.h5" --timing-count 10 --threads "$threads"
done
