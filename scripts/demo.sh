#!/usr/bin/env bash
# The demo: the daemon and the simulated scanner on loopback. One phantom scan is streamed,
# archived, processed by the mission's chain (blocks of 10 frames, the signal denoiser, x-space,
# the MSA-transformer trained for this scanner, openmpi-2d) and written as MDF while the daemon's console serves it live
# (the address is printed; MAGPIE_DEMO_HOLD=SECONDS keeps it up that long after the scan, to look
# around); the file, the PNG preview and the counters are left in demo-output/.
source "$(dirname "$0")/prologue.sh"

build_release
"$magpie" --version
out="$PWD/demo-output"
rm -rf "$out" && mkdir -p "$out"
port=$((20000 + RANDOM % 20000)); console=$((port + 1))
cat > "$out/magpie.toml" <<TOML
[input]
endpoint = "tcp://127.0.0.1:$port"
socket = "pull"
bind = true
[output]
directory = "$out/scans"
[console]
listen = "127.0.0.1:$console"
[pipeline]
models = "$PWD/models/manifest.json"
stages = ["background", "average", "denoise", "xspace", "deblur"]
[stage.average]
frames = 10
[stage.deblur]
method = "msa"
TOML

"$magpie" daemon --config "$out/magpie.toml" 2> "$out/daemon.log" &
daemon=$!
trap 'kill $daemon 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "console on" "$out/daemon.log" && break; sleep 0.1; done
echo "== the console: open http://127.0.0.1:$console/ in a browser (live image, signals, counters, scans)"

echo "== the simulated scanner streams one scan (openmpi-2d, shapes phantom, 1000 frames, realtime)"
"$magpie" publish --preset openmpi-2d --phantom shapes --frames 1000 --background-frames 20 --snr 30 \
  --socket push --connect --endpoint "tcp://127.0.0.1:$port" --warmup 0.2
for _ in $(seq 300); do ls "$out"/scans/*.mdf >/dev/null 2>&1 && break; sleep 0.1; done
echo
echo "== counters (Prometheus text from http://127.0.0.1:$console/metrics; histograms left out here)"
curl -s "http://127.0.0.1:$console/metrics" | grep -v '^#' | grep -v '_bucket{' || true
echo "== the scan as the console lists it (http://127.0.0.1:$console/api/scans)"
curl -s "http://127.0.0.1:$console/api/scans" > "$out/scans.json"
/usr/bin/python3 - "$out/scans.json" <<'PY'
import json, sys
for scan in json.load(open(sys.argv[1]))["scans"]:
    print(f"{scan['name']}: {scan['status']}, {scan['summary']['frames']} frames, {scan['images']} images, {scan['bytes']} bytes")
PY
if [[ -n "${MAGPIE_DEMO_HOLD:-}" ]]; then
  echo "== the console stays up for $MAGPIE_DEMO_HOLD s: http://127.0.0.1:$console/"
  sleep "$MAGPIE_DEMO_HOLD"
fi
kill -TERM $daemon && wait $daemon
trap - EXIT
echo
echo "== the daemon's log"
cat "$out/daemon.log"
echo
echo "== the scan's file"
"$magpie" inspect "$out"/scans/*.mdf
echo
echo "== the same plan offline: magpie reconstruct --plan-from the scan's own file"
scan=$(ls "$out"/scans/*.mdf | head -1)
"$magpie" reconstruct "$scan" --plan-from "$scan" --manifest models/manifest.json -o "$out/offline.mdf" --png "$out/offline.png"
/usr/bin/python3 - "$scan" "$out/offline.mdf" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as live, h5py.File(sys.argv[2], "r") as offline:
    a, b = live["/reconstruction/data"][()], offline["/reconstruction/data"][()]
    fa, fb = live["/_magpie/reconstruction/imageFrames"][()].tolist(), offline["/_magpie/reconstruction/imageFrames"][()].tolist()
    index = {f: i for i, f in enumerate(fb)}
    worst = max(np.abs(a[i] - b[index[f]]).max() / np.abs(b[index[f]]).max() for i, f in enumerate(fa))
    group = live["/_magpie/reconstruction"]
    made_live = int(group["imageLive"][()].sum()) if "imageLive" in group else len(fa)
    print(f"the daemon's file: {len(fa)} images ({made_live} made live, {len(fa) - made_live} by catch-up after the scan); "
          f"offline: {len(fb)}; largest relative difference of a daemon image from its offline twin: {worst:.1e}")
PY
echo
echo "left in $out: scans/*.mdf (raw frames, images, provenance), scans/latest.png (newest image), scans.json (the console's list), offline.mdf, daemon.log"
