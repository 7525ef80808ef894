#!/usr/bin/env bash
# System-matrix reconstruction speed (release build): Kaczmarz and CGNR on a simulated
# openmpi-2d 32 x 32 calibration, with the NumPy row-loop peer timed in the same run, then a
# random matrix of a 3D calibration's size (19^3 voxels, 4000 rows).
source "$(dirname "$0")/prologue.sh"
build_release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$magpie" simulate sm --preset openmpi-2d --grid 32 --snr 60 -o "$work/sm.mdf" 2>/dev/null
"$magpie" simulate measurement --preset openmpi-2d --phantom shapes --frames 100 --background-frames 100 --snr 30 -o "$work/m.mdf"
numpy=$(/usr/bin/python3 scripts/bench_kaczmarz_numpy.py "$work/sm.mdf" "$work/m.mdf")
"$magpie" bench sm --sm "$work/sm.mdf" --measurement "$work/m.mdf" --numpy-sweep "$numpy"
"$magpie" bench sm --rows 4000 --columns 6859 --batch 16 --repeats 3
