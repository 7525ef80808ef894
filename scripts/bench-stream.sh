#!/usr/bin/env bash
# Stream ingest (release build): `magpie replay` of a simulated 2D measurement (and a 3D one)
# pushed as fast as the receiver takes it, into (1) a minimal receiver that discards messages and
# (2) the daemon archiving to its journal and writing the MDF (reconstruction off, then x-space);
# then the daemon on x-space at the scanner's own rate for the send-to-image latency. The archive
# is measured with each [output] durability (os, interval, frame: docs/RELIABILITY.md).
source "$(dirname "$0")/prologue.sh"
build_release
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
endpoint="tcp://127.0.0.1:$port"

"$magpie" simulate measurement --preset openmpi-2d --frames 5000 --background-frames 20 --snr 30 -o "$work/m2d.mdf" >/dev/null
"$magpie" simulate measurement --preset openmpi-3d --phantom dots --frames 200 --background-frames 4 --snr 30 -o "$work/m3d.mdf" >/dev/null

daemon_run() {  # $1 file, $2 reconstruct, $3 rate, $4 durability (default interval)
  rm -rf "$work/out"
  printf '[input]\nendpoint = "%s"\nsocket = "pull"\nbind = true\n[output]\ndirectory = "%s"\ndurability = "%s"\n[pipeline]\nreconstruct = "%s"\n[metrics]\nlisten = ""\n' \
    "$endpoint" "$work/out" "${4:-interval}" "$2" > "$work/magpie.toml"
  "$magpie" daemon --config "$work/magpie.toml" 2> "$work/daemon.log" &
  local daemon=$!
  for _ in $(seq 100); do grep -q "listening on" "$work/daemon.log" && break; sleep 0.1; done
  "$magpie" replay "$1" --socket push --connect --endpoint "$endpoint" --warmup 0.2 --rate "$3" >/dev/null
  for _ in $(seq 600); do ls "$work"/out/*.mdf >/dev/null 2>&1 && break; sleep 0.1; done
  kill -TERM $daemon; wait $daemon
  grep -E "archived .* frames in|latency|complete:" "$work/daemon.log" | sed 's/^[^ ]* magpie: scan [^:]*: /  /'
}

for file in m2d m3d; do
  echo "== $file: minimal receiver"
  "$magpie" bench receive --endpoint "$endpoint" &
  receiver=$!
  sleep 0.3
  "$magpie" replay "$work/$file.mdf" --socket push --connect --endpoint "$endpoint" --warmup 0.2 --rate max >/dev/null
  wait $receiver
  for durability in os interval frame; do
    echo "== $file: daemon, archive only (reconstruct = off), durability = $durability"
    daemon_run "$work/$file.mdf" off max "$durability"
  done
  echo "== $file: daemon, x-space"
  daemon_run "$work/$file.mdf" xspace max
done
echo "== m2d: daemon, x-space, replayed at the scanner's rate (1532 frames/s): latency"
daemon_run "$work/m2d.mdf" xspace realtime
