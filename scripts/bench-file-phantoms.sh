#!/usr/bin/env bash
# The learned models on phantoms unlike anything they trained on (docs/BENCHMARKS.md, "Learned
# models on phantoms from image files"): letters, rings and a hand-drawn vessel tree
# (Tests/Fixtures/phantoms, read with --phantom-file), each model beside its classical baselines
# on the scanner and protocol of its own benchmark: the MSA-transformer as bench-deblur.sh
# (deblur-paper-3T, 20-30 dB, against the deconvolved 6 T/m label), the DC-GAN as bench-dcgan.sh
# (dcgan-paper-3T, against the phantom, noise-free and 30 dB image noise), the score model as
# bench-score.sh (openmpi-2d 19 x 19 SM, 15 and 25 dB). The classical methods' parameters are
# chosen on validation sets made with those benchmarks' recipes and seeds (digits, tumours); the
# file phantoms choose nothing. Each file appears in several records with its own noise.
#   scripts/bench-file-phantoms.sh [DATA_DIR]
source "$(dirname "$0")/prologue.sh"
build_release
data=${1:-/tmp/magpie-file-phantoms}
mkdir -p "$data"
names=(letters rings vessel-tree)

make() {  # NAME ARGS... (of magpie simulate dataset)
  local out="$data/$1.h5"
  shift
  [[ -f $out ]] && return
  echo "== $out" >&2
  "$magpie" simulate dataset "$@" -o "$out.part" --overwrite 2>/dev/null
  mv "$out.part" "$out"
}
dcgan=(deblur --preset dcgan-paper-3T --label-preset dcgan-paper-6T --label-iterations 100)
make msa-val deblur --phantom digits --snr 20...30 --count 100 --seed 1000000
make dcgan-val "${dcgan[@]}" --count 100 --seed 1000000 --snr 30...50
make score-val score --grid 19 --phantom tumor --count 50 --seed 1000000
msa=() dcgan_sets=() dcgan_noisy=()
for name in "${names[@]}"; do
  file=(--phantom-file "Tests/Fixtures/phantoms/$name.png")
  make "msa-$name" deblur "${file[@]}" --snr 20...30 --count 10 --seed 4000000
  make "dcgan-$name" "${dcgan[@]}" "${file[@]}" --count 1 --seed 4000000
  make "dcgan-$name-30dB" "${dcgan[@]}" "${file[@]}" --count 10 --seed 4000000 --image-snr 30
  make "score-$name" score --grid 19 "${file[@]}" --count 5 --seed 4000000
  msa+=("--test=$data/msa-$name.h5") dcgan_sets+=("--test=$data/dcgan-$name.h5") dcgan_noisy+=("--test=$data/dcgan-$name-30dB.h5")
done
sm="$data/sm19.mdf"
[[ -f $sm ]] || "$magpie" simulate sm --preset openmpi-2d --grid 19 --snr 40 -o "$sm" >/dev/null

echo "## MSA-transformer (deblur-paper-3T, 20-30 dB, against the deconvolved 6 T/m label; 10 images per file)"
"$magpie" bench deblur --validation "$data/msa-val.h5" --model msa-deblur --threads 2 --by-set "${msa[@]}"
echo "## DC-GAN (dcgan-paper-3T, against the phantom; noise-free, then 10 images per file at 30 dB image noise)"
"$magpie" bench deblur --preset dcgan-paper-3T --reference phantom --validation "$data/dcgan-val.h5" --model dcgan-deblur --threads 2 \
  --by-set "${dcgan_sets[@]}" "${dcgan_noisy[@]}"
for name in "${names[@]}"; do
  echo "## score model, $name (openmpi-2d 19 x 19 SM; 5 phantoms)"
  "$magpie" bench score --sm "$sm" --phantoms "$data/score-$name.h5" --validation "$data/score-val.h5" --tune-count 20 --timing-count 3 --threads 2
done
