#!/usr/bin/env bash
# Writes the denoiser's training, validation and test sets with `magpie simulate dataset denoise`
# into DIR (default /tmp/magpie-denoise). Seeds keep the splits disjoint: train from 0, validation
# from 1 000 000, test from 2 000 000; the test split is used for the tables only, never for selection.
#   models/signal-denoiser/datasets.sh [DIR]
set -euo pipefail
source "$(dirname "$0")/../../scripts/prologue.sh"
build_release
dir=${1:-/tmp/magpie-denoise}
mkdir -p "$dir"

make() {  # NAME PRESET TRAIN VAL TEST NOISE-OPTIONS...
  local name=$1 preset=$2 counts=("$3" "$4" "$5") splits=(train val test) seeds=(0 1000000 2000000)
  shift 5
  for i in 0 1 2; do
    local out="$dir/$name-${splits[$i]}.h5"
    [[ -f $out ]] && continue
    echo "== $out" >&2
    "$magpie" simulate dataset denoise --preset "$preset" --count "${counts[$i]}" --seed "${seeds[$i]}" "$@" -o "$out.part" --overwrite 2>/dev/null
    mv "$out.part" "$out"
  done
}

# Table III: openmpi-2d, SNR 15 dB with SIR 5 dB (the daemon's model).
make openmpi2d-snr15-sir5 openmpi-2d 4000 200 300 --snr 15 --sir 5
# Table II: the paper's scanner and its five noise types, digits phantoms.
make paper-snr15 denoise-paper 300 40 100 --snr 15
make paper-snr10 denoise-paper 300 40 100 --snr 10
make paper-snr5 denoise-paper 300 40 100 --snr 5
make paper-snr15-sir15 denoise-paper 300 40 100 --snr 15 --sir 15
make paper-snr15-sir5 denoise-paper 300 40 100 --snr 15 --sir 5
# One model per interference type, as the paper trains them: more training records (seeds 0-999,
# a superset of the sets above); validation and test splits are the same records as above.
make paper1000-snr15-sir15 denoise-paper 1000 40 100 --snr 15 --sir 15
make paper1000-snr15-sir5 denoise-paper 1000 40 100 --snr 15 --sir 5
echo "datasets in $dir" >&2
