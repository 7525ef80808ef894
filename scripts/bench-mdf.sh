#!/usr/bin/env bash
# MDF write/read speed of Magpie against h5py on the same machine in the same run.
# Usage: scripts/bench-mdf.sh [megabytes] [repeats]
source "$(dirname "$0")/prologue.sh"
megabytes=${1:-150}
repeats=${2:-5}
build_release
"$magpie" bench mdf --megabytes "$megabytes" --repeats "$repeats" | tail -1
/usr/bin/python3 scripts/bench_mdf_h5py.py "$megabytes" "$repeats"
