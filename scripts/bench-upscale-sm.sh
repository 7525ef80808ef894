#!/usr/bin/env bash
# SM super-resolution (docs/BENCHMARKS.md), like the FSC-loss paper's Tables II, III and VI:
# nRMSE per frequency image of bicubic, the l1-trained and the FSC-trained network at 2x, 4x, 8x on
# the test SMs of models/sm-upscaler/datasets.sh (made if absent), then `magpie upscale-sm` on coarse
# SMs taken from a fine one, the pSNR of reconstructions with them, and its wall time.
#   scripts/bench-upscale-sm.sh [DATA_DIR] [WORK_DIR]
source "$(dirname "$0")/prologue.sh"
build_release
data=${1:-/tmp/magpie-smsr}
work=${2:-/tmp/magpie-bench-upscale}
models/sm-upscaler/datasets.sh "$data"
/usr/bin/python3 scripts/bench_upscale_sm.py "$magpie" "$data" "$work"
