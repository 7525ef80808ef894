#!/usr/bin/env bash
# MDF write/read speed of Magpie against h5py on the same machine in the same run.
# Usage: scripts/bench-mdf.sh [megabytes] [repeats]
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x /opt/swift/usr/bin/swift ]] && export PATH="/opt/swift/usr/bin:$PATH"
scripts/setup.sh
megabytes=${1:-150}
repeats=${2:-5}
swift build -c release >/dev/null
"$(swift build -c release --show-bin-path)/magpie" bench mdf --megabytes "$megabytes" --repeats "$repeats" | tail -1
/usr/bin/python3 scripts/bench_mdf_h5py.py "$megabytes" "$repeats"
