#!/usr/bin/env bash
# System-matrix reconstruction speed (release build): Kaczmarz (every sweep kernel this processor
# runs) and CGNR on a simulated openmpi-2d 32 x 32 calibration; random matrices of a 3D
# calibration's size (19^3 voxels x 4000 rows, 37^3 x 2000 rows) dense and compressed; a Python
# peer on exactly the same rows in the same run. The peer is the MDF repository's reference
# `python/kaczmarzReg.py` when MDF_KACZMARZ names a copy of it (kept outside the project, e.g.
# from a clone of github.com/MagneticParticleImaging/MDF), else the project's NumPy row loop
# (Tests/interop/kaczmarz_reference.py, float64), and the output says which.
# With SM3D=path/to/3d-sm.mdf (e.g. `magpie simulate sm --preset openmpi-3d --grid 19`), also the
# compressed reconstructions of 3D phantoms against the dense ones.
source "$(dirname "$0")/prologue.sh"
build_release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Prints the peer's seconds for one sweep of one frame on the rows `bench sm ARGS` exports.
peer() {
  "$magpie" bench sm "$@" --export-rows "$work/rows.h5" >/dev/null
  if [[ -n "${MDF_KACZMARZ:-}" ]]; then
    /usr/bin/python3 scripts/bench_kaczmarz_reference.py "$MDF_KACZMARZ" "$work/rows.h5"
  else
    /usr/bin/python3 scripts/bench_kaczmarz_numpy.py --rows "$work/rows.h5"
  fi
  rm -f "$work/rows.h5"
}
name=$([[ -n "${MDF_KACZMARZ:-}" ]] && echo "MDF kaczmarzReg" || echo "NumPy row loop")

"$magpie" simulate sm --preset openmpi-2d --grid 32 --snr 60 -o "$work/sm.mdf" 2>/dev/null
"$magpie" simulate measurement --preset openmpi-2d --phantom shapes --frames 100 --background-frames 100 --snr 30 -o "$work/m.mdf"
echo "== 2D: openmpi-2d 32 x 32"
seconds=$(peer --sm "$work/sm.mdf" --measurement "$work/m.mdf")
"$magpie" bench sm --sm "$work/sm.mdf" --measurement "$work/m.mdf" --peer-sweep "$seconds" --peer-name "$name"
echo "== 3D scale: 19^3 voxels, 4000 random rows"
seconds=$(peer --rows 4000 --columns 6859)
"$magpie" bench sm --rows 4000 --columns 6859 --grid 19,19,19 --batch 16 --repeats 5 --peer-sweep "$seconds" --peer-name "$name"
echo "== 3D scale: 37^3 voxels, 2000 random rows"
seconds=$(peer --rows 2000 --columns 50653)
"$magpie" bench sm --rows 2000 --columns 50653 --grid 37,37,37 --batch 8 --repeats 3 --peer-sweep "$seconds" --peer-name "$name"
if [[ -n "${SM3D:-}" ]]; then
  for phantom in shapes vessels dots; do
    echo "== 3D: $SM3D, $phantom phantom (openmpi-3d, 10 frames averaged, 30 dB)"
    "$magpie" simulate measurement --preset openmpi-3d --phantom "$phantom" --frames 10 --background-frames 10 --snr 30 -o "$work/m3.mdf" --overwrite >/dev/null
    "$magpie" bench sm --sm "$SM3D" --measurement "$work/m3.mdf" --batch 4 --repeats 3 --keep 1,0.1,0.01 --skip-cgnr
  done
fi
