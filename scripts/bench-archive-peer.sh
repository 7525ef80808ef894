#!/usr/bin/env bash
# The daemon's archive path (reconstruct = off, PUSH -> PULL on loopback, replay at full speed)
# against the minimal receiver (`magpie bench receive`) and the daemon of an earlier git revision
# built beside it, in the same rounds, with each [output] durability: 2D (openmpi-2d, 5020 frames
# of 13 kB) and 3D (openmpi-3d, 604 of 646 kB). Ends with the medians over the rounds and each
# one's ratio to this tree's minimal receiver (the earlier revision's receiver runs beside it).
#   scripts/bench-archive-peer.sh b2f8f2d [ROUNDS]
source "$(dirname "$0")/prologue.sh"
revision="${1:?usage: scripts/bench-archive-peer.sh GIT-REVISION [ROUNDS]}"
rounds="${2:-3}"
build_release
peer_tree="/tmp/magpie-peer-$revision"
[[ -d "$peer_tree" ]] || git worktree add -f "$peer_tree" "$revision" >&2
(cd "$peer_tree" && swift build -c release --scratch-path "$peer_tree/.build-peer" >&2)
peer="$peer_tree/.build-peer/release/magpie"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
endpoint="tcp://127.0.0.1:$((20000 + RANDOM % 20000))"
"$magpie" simulate measurement --preset openmpi-2d --frames 5000 --background-frames 20 --snr 30 -o "$work/m2d.mdf" >/dev/null
"$magpie" simulate measurement --preset openmpi-3d --phantom dots --frames 600 --background-frames 4 --snr 30 -o "$work/m3d.mdf" >/dev/null

run() {  # $1 binary, $2 file, $3 extra [output] line
  rm -rf "$work/out"
  printf '[input]\nendpoint = "%s"\nsocket = "pull"\nbind = true\n[output]\ndirectory = "%s"\n%s\n[pipeline]\nreconstruct = "off"\n[metrics]\nlisten = ""\n' \
    "$endpoint" "$work/out" "$3" > "$work/m.toml"
  "$1" daemon --config "$work/m.toml" 2> "$work/log" &
  local daemon=$!
  for _ in $(seq 100); do grep -q "listening on" "$work/log" && break; sleep 0.1; done
  "$magpie" replay "$2" --socket push --connect --endpoint "$endpoint" --warmup 0.2 --rate max >/dev/null
  for _ in $(seq 600); do ls "$work"/out/*.mdf >/dev/null 2>&1 && break; sleep 0.1; done
  kill -TERM $daemon; wait $daemon
  grep -o "archived [0-9]* frames in [0-9.]* s ([0-9]* frames/s, [0-9.]* MB/s)" "$work/log"
}

receive() {  # $1 binary, $2 file
  "$1" bench receive --endpoint "$endpoint" > "$work/receiver" &
  local receiver=$!
  sleep 0.3
  "$magpie" replay "$2" --socket push --connect --endpoint "$endpoint" --warmup 0.2 --rate max >/dev/null
  wait $receiver
  grep -o "[0-9]* frames in [0-9.]* s ([0-9]* frames/s, [0-9.]* MB/s)" "$work/receiver"
}

for round in $(seq "$rounds"); do
  for file in m2d m3d; do
    echo "$round $file receiver:        $(receive "$magpie" "$work/$file.mdf")"
    echo "$round $file receiver $revision:        $(receive "$peer" "$work/$file.mdf")"
    echo "$round $file $revision:        $(run "$peer" "$work/$file.mdf" '')"
    for durability in os interval frame; do
      printf '%s %s durability %-8s %s\n' "$round" "$file" "$durability:" "$(run "$magpie" "$work/$file.mdf" "durability = \"$durability\"")"
    done
  done
done | tee "$work/rounds"
echo "medians of $rounds rounds (frames/s, and the ratio to the minimal receiver):"
/usr/bin/python3 - "$work/rounds" <<'PY'
import re, statistics, sys
rates = {}
for line in open(sys.argv[1]):
    m = re.match(r"\d+ (\S+) (.+?):\s+.*\((\d+) frames/s", line)
    if m: rates.setdefault((m[1], m[2].strip().rstrip(":")), []).append(int(m[3]))
for (file, what), values in rates.items():
    median = statistics.median(values)
    print(f"  {file} {what:<22} {median:8.0f}  {median / statistics.median(rates[(file, 'receiver')]):5.2f} x")
PY
