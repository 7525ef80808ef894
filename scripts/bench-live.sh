#!/usr/bin/env bash
# The daemon's live path at the scanner's own rate: a 3000-frame openmpi-2d scan replayed at one
# frame per drive cycle (1532 frames/s, PUSH -> PULL on loopback) through each chain, at average 1
# and 10 (x-space, denoise + x-space, and each followed by MSA deblurring); then x-space of two
# back-to-back openmpi-3d scans (220 frames at 46 frames/s), the
# second one reported (the first builds the x-space plan). Prints, per run, what the daemon logged
# of the reported scan: frames processed and skipped live, the send-to-image latency (median,
# 99th percentile, images), and catch-up. With REVISION, the daemon of that git revision, built
# beside, runs the same scans first (the peer). MAGPIE_BENCH_CHAINS=msa or =sm runs only the
# chains ending in MSA deblurring, or only Kaczmarz and score (see below). MAGPIE_BENCH_CHAINS=3d-sm
# with SM3D=a 3D calibration (magpie simulate sm --preset openmpi-3d --grid 19) runs Kaczmarz on
# it compressed by compress-sm (keep 0.01 and 0.1) on the openmpi-3d scan at 46 frames/s.
#   scripts/bench-live.sh [REVISION]
source "$(dirname "$0")/prologue.sh"
revision="${1:-}"
build_release
binaries=("$magpie")
if [[ -n "$revision" ]]; then
  peer_tree="/tmp/magpie-peer-$revision"
  [[ -d "$peer_tree" ]] || git worktree add -f "$peer_tree" "$revision" >&2
  (cd "$peer_tree" && swift build -c release --scratch-path "$peer_tree/.build-peer" >&2)
  binaries=("$peer_tree/.build-peer/release/magpie" "$magpie")
fi
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
endpoint="tcp://127.0.0.1:$((20000 + RANDOM % 20000))"
"$magpie" simulate measurement --preset openmpi-2d --phantom shapes --frames 3000 --background-frames 20 --snr 30 -o "$work/m.mdf" >/dev/null
"$magpie" simulate measurement --preset openmpi-3d --phantom dots --frames 216 --background-frames 4 --snr 30 -o "$work/m3d.mdf" >/dev/null

run() {  # $1 binary, $2 stages, $3 average, $4 measurement (default the 2D one), $5 scans (default 1), $6 more [stage.*] tables
  rm -rf "$work/out"
  local stages="$2" average=""
  if [[ $3 -gt 1 ]]; then
    stages="${stages/\"background\", /\"background\", \"average\", }"
    average=$'\n[stage.average]\nframes = '"$3"
  fi
  printf '[input]\nendpoint = "%s"\nsocket = "pull"\nbind = true\n[output]\ndirectory = "%s"\n[pipeline]\nstages = %s\nmodels = "%s"%s\n[metrics]\nlisten = ""\n' \
    "$endpoint" "$work/out" "$stages" "$PWD/models/manifest.json" "$average${6:+$'\n'$6}" > "$work/live.toml"
  "$1" daemon --config "$work/live.toml" 2> "$work/log" &
  local daemon=$!
  for _ in $(seq 300); do grep -q "listening on" "$work/log" && break; sleep 0.1; done
  grep -q "listening on" "$work/log" || { echo "the daemon did not start: $(cat "$work/log")"; return; }
  local scans="${5:-1}"
  for scan in $(seq "$scans"); do
    local measurement="${4:-}"
  "$magpie" replay "${measurement:-$work/m.mdf}" --socket push --connect --endpoint "$endpoint" --warmup 0.2 --rate realtime >/dev/null
    for _ in $(seq 1200); do [[ $(ls "$work"/out/*.mdf 2>/dev/null | wc -l) -ge $scan ]] && break; sleep 0.1; done
  done
  kill -TERM $daemon; wait $daemon
  local counts latency catchup
  counts=$(grep -o "processed [0-9]*, skipped [0-9]*" "$work/log" | tail -1)
  latency=$(grep -o "latency median [0-9.]* ms, 99th percentile [0-9.]* ms, over [0-9]* images" "$work/log" | tail -1)
  catchup=$(grep "scan" "$work/log" | tail -4 | grep -o "caught up in [0-9.]* s: [0-9]* images\|catch-up stopped after [0-9.]* s" | tail -1)
  echo "${counts:-?}; ${latency:-no live image}; ${catchup:-no catch-up}"
}

# MAGPIE_BENCH_CHAINS=msa: only the chains that end in the MSA-transformer; =sm: only the
# system-matrix chains (Kaczmarz on a 32 x 32 SM, score on a 19 x 19 one, simulated here).
chains=('["background", "xspace"]' '["background", "denoise", "xspace"]'
        '["background", "xspace", "deblur"]' '["background", "denoise", "xspace", "deblur"]')
[[ "${MAGPIE_BENCH_CHAINS:-}" == msa ]] && chains=("${chains[@]:2}")
if [[ "${MAGPIE_BENCH_CHAINS:-}" == sm ]]; then
  chains=('["background", "kaczmarz"]' '["background", "score"]')
  "$magpie" simulate sm --preset openmpi-2d --grid 32 --snr 40 -o "$work/sm32.mdf" >/dev/null
  "$magpie" simulate sm --preset openmpi-2d --grid 19 --snr 40 -o "$work/sm19.mdf" >/dev/null
fi
if [[ "${MAGPIE_BENCH_CHAINS:-}" == 3d-sm ]]; then
  [[ -n "${SM3D:-}" ]] || { echo "MAGPIE_BENCH_CHAINS=3d-sm needs SM3D=a 3D calibration (magpie simulate sm --preset openmpi-3d --grid 19)" >&2; exit 1; }
  for keep in 0.01 0.1; do
    "$magpie" compress-sm "$SM3D" -o "$work/sm3d-$keep.mdf" --keep "$keep" >&2
    for binary in "${binaries[@]}"; do
      label=$([[ "$binary" == "$magpie" ]] && echo "this tree" || echo "$revision")
      printf '%-48s average %-3s %-10s %s\n' "3D kaczmarz, compressed SM, keep $keep" 1 "$label:" \
        "$(run "$binary" '["background", "kaczmarz"]' 1 "$work/m3d.mdf" 1 $'[stage.kaczmarz]\nsystem_matrix = "'"$work/sm3d-$keep.mdf"'"')"
    done
  done
  exit 0
fi
for chain in "${chains[@]}"; do
  tables=""
  [[ "$chain" == *deblur* ]] && tables=$'[stage.deblur]\nmethod = "msa"'
  [[ "$chain" == *kaczmarz* ]] && tables=$'[stage.kaczmarz]\nsystem_matrix = "'"$work/sm32.mdf"'"'
  [[ "$chain" == *score* ]] && tables=$'[stage.score]\nsystem_matrix = "'"$work/sm19.mdf"'"'
  for average in 1 10; do
    for binary in "${binaries[@]}"; do
      label=$([[ "$binary" == "$magpie" ]] && echo "this tree" || echo "$revision")
      printf '%-48s average %-3s %-10s %s\n' "$chain" "$average" "$label:" "$(run "$binary" "$chain" "$average" "" 1 "$tables")"
    done
  done
done
[[ -n "${MAGPIE_BENCH_CHAINS:-}" ]] && exit 0
for binary in "${binaries[@]}"; do
  label=$([[ "$binary" == "$magpie" ]] && echo "this tree" || echo "$revision")
  printf '%-40s average %-3s %-10s %s\n' "3D xspace, 2nd scan" 1 "$label:" "$(run "$binary" '["background", "xspace"]' 1 "$work/m3d.mdf" 2)"
done
