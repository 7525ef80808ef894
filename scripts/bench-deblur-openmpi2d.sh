#!/usr/bin/env bash
# Deblurring on openmpi-2d, the scanner of the demo and of replayed OpenMPI data
# (docs/BENCHMARKS.md, "Deblurring on openmpi-2d"): the MSA-transformer and the DC-GAN trained for
# it against Wiener and Richardson-Lucy with openmpi-2d's own PSF, and against the models trained
# for the papers' scanners (run, as a stage allowed to, on images resampled to their grids). Test
# sets per phantom kind (seeds from 3 000 000, never used for training or selection), and the
# mission's chain input: 40 dB, the noise of 10 averaged frames at 30 dB. The classical methods'
# parameters are chosen on the validation digits. Run it on a quiet machine.
#   scripts/bench-deblur-openmpi2d.sh [DATA_DIR]
source "$(dirname "$0")/prologue.sh"
build_release
data=${1:-/tmp/magpie-deblur-openmpi2d}
models/msa/datasets.sh "$data" --preset openmpi-2d --snr 25...45

make() {  # NAME ARGS... (of magpie simulate dataset deblur)
  local out="$data/$1.h5"
  shift
  [[ -f $out ]] && return
  echo "== $out" >&2
  "$magpie" simulate dataset deblur --preset openmpi-2d "$@" -o "$out.part" --overwrite 2>/dev/null
  mv "$out.part" "$out"
}
sets=()
for kind in shapes vessels resolution tumor digits; do
  make "kind-$kind" --phantom "$kind" --snr 25...45 --count 100 --seed 3000000
  sets+=("--test=$data/kind-$kind.h5")
done
make chain-shapes-40dB --phantom shapes --snr 40 --count 100 --seed 3100000
sets+=("--test=$data/chain-shapes-40dB.h5")

echo "## against the deconvolved label of the sharper twin (the MSA-transformer paper's protocol)"
"$magpie" bench deblur --preset openmpi-2d --validation "$data/val-digits.h5" --by-set --threads 2 \
  --model msa-deblur-openmpi2d --model msa-deblur "${sets[@]}"
echo "## against the phantom (the DC-GAN paper's protocol; every output scaled to a maximum of 1)"
"$magpie" bench deblur --preset openmpi-2d --reference phantom --validation "$data/val-digits.h5" --by-set --threads 2 \
  --model msa-deblur-openmpi2d --model dcgan-deblur-openmpi2d --model msa-deblur --model dcgan-deblur "${sets[@]}"
echo "## time per 64 x 64 image (2 LibTorch threads)"
"$magpie" bench deblur --preset openmpi-2d --validation "$data/val-digits.h5" --threads 2 --limit 100 \
  --model msa-deblur-openmpi2d --model dcgan-deblur-openmpi2d --test "$data/kind-shapes.h5"
