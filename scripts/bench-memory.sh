#!/usr/bin/env bash
# The daemon's memory over back-to-back scans at the scanner's own rate: 3000-frame openmpi-2d
# scans replayed one after another at one frame per drive cycle (1532 frames/s) through background,
# average (10), denoise and x-space, for SECONDS (default 300); each scan's file is deleted as it
# lands. The daemon's RSS is sampled every second; prints it per minute and the scans written.
#   scripts/bench-memory.sh [SECONDS]
source "$(dirname "$0")/prologue.sh"
duration="${1:-300}"
build_release
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
endpoint="tcp://127.0.0.1:$((20000 + RANDOM % 20000))"
"$magpie" simulate measurement --preset openmpi-2d --phantom shapes --frames 3000 --background-frames 20 --snr 30 -o "$work/m.mdf" >/dev/null
printf '[input]\nendpoint = "%s"\nsocket = "pull"\nbind = true\n[output]\ndirectory = "%s"\npreview = ""\n[pipeline]\nstages = ["background", "average", "denoise", "xspace"]\nmodels = "%s"\n[stage.average]\nframes = 10\n[metrics]\nlisten = ""\n' \
  "$endpoint" "$work/out" "$PWD/models/manifest.json" > "$work/memory.toml"
"$magpie" daemon --config "$work/memory.toml" 2> "$work/log" &
daemon=$!
for _ in $(seq 300); do grep -q "listening on" "$work/log" && break; sleep 0.1; done
( while kill -0 $daemon 2>/dev/null; do
    echo "$(date +%s) $(awk '/VmRSS/ {print $2}' /proc/$daemon/status 2>/dev/null)"; sleep 1
  done ) > "$work/rss" &
began=$(date +%s)
scans=0
while (( $(date +%s) - began < duration )); do
  "$magpie" replay "$work/m.mdf" --socket push --connect --endpoint "$endpoint" --warmup 0.1 --rate realtime >/dev/null
  scans=$((scans + 1))
  for _ in $(seq 600); do [[ $(grep -c -- " -> " "$work/log") -ge $scans ]] && break; sleep 0.1; done
  rm -f "$work"/out/*.mdf
done
kill -TERM $daemon; wait $daemon || true
echo "$scans scans of 3000 frames in $(( $(date +%s) - began )) s; files written: $(grep -c -- ' -> ' "$work/log"); caught up: $(grep -c 'caught up in' "$work/log")"
awk -v t0="$began" 'NF == 2 && $2 != "" { m = int(($1 - t0) / 60); if (!(m in lo) || $2 < lo[m]) lo[m] = $2; if ($2 > hi[m]) hi[m] = $2 }
  END { for (m = 0; m in lo; m++) printf "minute %d: RSS %.1f to %.1f MB\n", m + 1, lo[m] / 1024, hi[m] / 1024 }' "$work/rss"
