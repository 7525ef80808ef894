#!/usr/bin/env bash
# The demo: writes example MDF files, validates them, and inspects two files written by
# third-party software (MPIMeasurements.jl / MPIFiles.jl).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x /opt/swift/usr/bin/swift ]] && export PATH="/opt/swift/usr/bin:$PATH"
scripts/setup.sh

swift build -c release
magpie="$(swift build -c release --show-bin-path)/magpie"
"$magpie" --version
echo
"$magpie" demo --output demo-output
"$magpie" inspect --validate demo-output/*.mdf
echo
echo "== files written by other software"
"$magpie" inspect Tests/Fixtures/*.mdf
