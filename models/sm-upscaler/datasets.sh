#!/usr/bin/env bash
# Writes the system-matrix super-resolution sets with `magpie simulate dataset upscale-sm` into DIR
# (default /tmp/magpie-smsr): SMs of the smsr-paper scanner (32 x 32 over 32 x 32 mm, gradient
# 2-4 T/m and cores 20-35 nm drawn per SM), each frequency with SNR >= 5 at 20 dB, as the noisy
# image (/high) and the noise-free one (/clean) of the same SM. 16 SMs train (seeds from 0),
# 4 validate (from 1 000 000), 5 test (from 2 000 000). Training takes the low-resolution input
# as every n-th grid point of /clean (noise-free) or /high (20 dB); the label is always /clean.
#   models/sm-upscaler/datasets.sh [DIR]
set -euo pipefail
source "$(dirname "$0")/../../scripts/prologue.sh"
build_release
dir=${1:-/tmp/magpie-smsr}
mkdir -p "$dir"

make() {  # NAME COUNT SEED
  local out="$dir/$1.h5"
  [[ -f $out ]] && return
  echo "== $out" >&2
  "$magpie" simulate dataset upscale-sm --snr 20 --count "$2" --seed "$3" -o "$out.part" --overwrite
  mv "$out.part" "$out"
}

make train 16 0
make val 4 1000000
make test 5 2000000
echo "datasets in $dir" >&2
