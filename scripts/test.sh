#!/usr/bin/env bash
# Runs every test: Swift unit tests, the fuzz corpus replay and a minute of coverage-guided
# fuzzing, then the interoperability and command-line tests in Python (whose last line is the
# plain "N passed, N failed" summary).
source "$(dirname "$0")/prologue.sh"

echo "== swift build"
swift build
echo "== swift test"
swift test
bin="$(swift build --show-bin-path)"
echo "== fuzz corpus replay (Tests/FuzzCorpus: seeds and every past defect)"
"$bin/magpie-fuzz" Tests/FuzzCorpus
echo "== fuzzing (libFuzzer, 60 s; longer: scripts/fuzz.sh SECONDS)"
scripts/fuzz.sh 60
echo "== interoperability and command-line tests (python3-h5py)"
MAGPIE="$bin/magpie" /usr/bin/python3 Tests/interop/run.py
