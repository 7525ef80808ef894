#!/usr/bin/env bash
# Where 3D intake's CPU time goes, per frame: `perf record -a -g` on both cores while `magpie
# replay` pushes 604 openmpi-3d frames (PUSH -> PULL on loopback, full speed) into the minimal
# receiver, then into the daemon (archive only, default durability). Over the window in which the
# receiving side worked, each thread's CPU microseconds a frame and its busiest functions.
# Needs perf and root (or perf_event_paranoid <= -1). Nothing else should run meanwhile.
#   scripts/profile-intake.sh [RUNS]
source "$(dirname "$0")/prologue.sh"
runs="${1:-2}"
build_release
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
"$magpie" simulate measurement --preset openmpi-3d --phantom dots --frames 600 --background-frames 4 --snr 30 -o "$work/m3d.mdf" >/dev/null

replay_profiled() {  # $1 endpoint
  perf record -q -a -g -o "$work/perf.data" -- "$magpie" replay "$work/m3d.mdf" --socket push --connect --endpoint "$1" --warmup 0.2 --rate max >/dev/null 2>&1
}

report() {  # $1: a function only the receiving side runs for each frame, which marks the window
  perf script -i "$work/perf.data" -F comm,pid,tid,time,ip,sym 2>/dev/null | /usr/bin/python3 -c '
import collections, re, sys
key, frames = sys.argv[1], 604
samples, block = [], []
def flush():
    if block:
        m = re.match(r"\s*(.+?)\s+(\d+)/(\d+)\s+([\d.]+):", block[0])
        if m:
            stack = [re.sub(r"\+0x[0-9a-f]+", "", l.split(None, 1)[1]).strip() if len(l.split(None, 1)) > 1 else "?" for l in block[1:]]
            samples.append((float(m[4]), m[1], m[2], m[3], stack))
for line in sys.stdin:
    if line.strip(): block.append(line)
    else: flush(); block = []
flush()
marks = [s[0] for s in samples if any(key in f for f in s[4])]
low, high = min(marks), max(marks)
inside = [s for s in samples if low <= s[0] <= high]
per = (high - low) * 2 / len(inside) * 1e6 / frames   # two cores busy or idle: microseconds a sample, a frame
print(f"  window {high - low:.3f} s")
for pid, n in collections.Counter(s[2] for s in inside).most_common(3): print(f"  process {pid}: {n * per:.0f} us a frame")
threads = collections.Counter((s[1], s[2], s[3]) for s in inside)
for (comm, pid, tid), n in threads.most_common(5):
    print(f"  thread {tid} ({comm}, process {pid}): {n * per:.0f} us a frame")
    leaves = collections.Counter((s[4][0] if s[4] else "?")[:70] for s in inside if s[3] == tid)
    for leaf, m in leaves.most_common(4): print(f"      {100 * m / n:4.1f} %  {leaf}")
' "$1"
}

for run in $(seq "$runs"); do
  endpoint="tcp://127.0.0.1:$((20000 + RANDOM % 20000))"
  "$magpie" bench receive --endpoint "$endpoint" > "$work/receiver" &
  receiver=$!
  sleep 0.3
  replay_profiled "$endpoint"
  wait $receiver
  echo "run $run, $(cat "$work/receiver")"
  report StreamCodecO5htype   # the header's type, read for each message: the receiver's per-frame work

  rm -rf "$work/out"
  printf '[input]\nendpoint = "%s"\nsocket = "pull"\nbind = true\n[output]\ndirectory = "%s"\n[pipeline]\nreconstruct = "off"\n[metrics]\nlisten = ""\n' \
    "$endpoint" "$work/out" > "$work/m.toml"
  "$magpie" daemon --config "$work/m.toml" 2> "$work/log" &
  daemon=$!
  for _ in $(seq 100); do grep -q "listening on" "$work/log" && break; sleep 0.1; done
  replay_profiled "$endpoint"
  for _ in $(seq 600); do ls "$work"/out/*.mdf >/dev/null 2>&1 && break; sleep 0.1; done
  kill -TERM $daemon; wait $daemon
  echo "run $run, daemon: $(grep -o "archived [0-9]* frames in [0-9.]* s ([0-9]* frames/s, [0-9.]* MB/s)" "$work/log")"
  report ScanJournalC6append   # the journal's appends: intake's per-frame work
done
