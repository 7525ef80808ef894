#!/usr/bin/env bash
# Runs every test: Swift unit tests, then the interoperability and command-line tests in Python.
source "$(dirname "$0")/prologue.sh"

echo "== swift build"
swift build
echo "== swift test"
swift test
echo "== interoperability and command-line tests (python3-h5py)"
MAGPIE="$(swift build --show-bin-path)/magpie" /usr/bin/python3 Tests/interop/run.py
