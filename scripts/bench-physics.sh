#!/usr/bin/env bash
# Simulation and x-space speed (release build), with a NumPy peer for x-space in the same run.
source "$(dirname "$0")/prologue.sh"
build_release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
seconds() { local TIMEFORMAT=%R; { time "$@" >/dev/null 2>&1; } 2>&1; }
echo "simulate measurement, openmpi-2d, shapes, 1000 + 2 frames, SNR 30 dB: $(seconds "$magpie" simulate measurement --preset openmpi-2d --phantom shapes --frames 1000 --snr 30 -o "$work/m.mdf") s"
echo "simulate sm, openmpi-2d, 32 x 32 + 10 background frames, SNR 40 dB: $(seconds "$magpie" simulate sm --preset openmpi-2d --grid 32 --snr 40 -o "$work/sm.mdf") s"
"$magpie" bench xspace "$work/m.mdf" --output "$work/first.h5"
/usr/bin/python3 scripts/bench_xspace_numpy.py "$work/m.mdf" --frames 50 --reference "$work/first.h5"
