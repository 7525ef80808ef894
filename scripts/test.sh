#!/usr/bin/env bash
# Runs every test: Swift unit tests, then the interoperability and command-line tests in Python.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x /opt/swift/usr/bin/swift ]] && export PATH="/opt/swift/usr/bin:$PATH"
scripts/setup.sh

echo "== swift build"
swift build
echo "== swift test"
swift test
echo "== interoperability and command-line tests (python3-h5py)"
MAGPIE="$(swift build --show-bin-path)/magpie" /usr/bin/python3 Tests/interop/run.py
