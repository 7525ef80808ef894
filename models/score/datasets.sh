#!/usr/bin/env bash
# Writes the score network's phantom sets with `magpie simulate dataset score` (openmpi-2d, 19 x 19)
# into DIR (default /tmp/magpie-score). Seeds keep the splits disjoint: train from 0 (tumour
# phantoms and the other procedural kinds), validation from 1 000 000, test from 2 000 000 (tumour
# phantoms only, used for the tables, never for selection).
#   models/score/datasets.sh [DIR]
set -euo pipefail
source "$(dirname "$0")/../../scripts/prologue.sh"
build_release
dir=${1:-/tmp/magpie-score}
mkdir -p "$dir"

make() {  # NAME PHANTOM COUNT SEED
  local out="$dir/$1.h5"
  [[ -f $out ]] && return
  echo "== $out" >&2
  "$magpie" simulate dataset score --grid 19 --phantom "$2" --count "$3" --seed "$4" -o "$out.part" --overwrite 2>/dev/null
  mv "$out.part" "$out"
}

make train-tumor tumor 16000 0
for kind in dots vessels shapes concentration resolution; do make "train-$kind" "$kind" 2000 0; done
make val-tumor tumor 500 1000000
make test-tumor tumor 500 2000000
echo "datasets in $dir" >&2
