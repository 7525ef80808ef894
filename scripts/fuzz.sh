#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, with AddressSanitizer) of what a stream sender controls:
# the stream decoder with scan-start validation and strict JSON, the receiver's state machine,
# and the journal reader (Sources/MagpieFuzz). Seeds and every past defect: Tests/FuzzCorpus.
#   scripts/fuzz.sh            # 60 s (the test command runs this)
#   scripts/fuzz.sh 3600       # an hour, on demand
# New inputs go to a temporary directory; a crash leaves its input there (the path is printed):
# fix the defect, then add the input to Tests/FuzzCorpus as its regression test.
source "$(dirname "$0")/prologue.sh"

seconds="${1:-60}"
echo "== fuzz build (.build-fuzz, -sanitize=fuzzer,address)"
swift build --product magpie-fuzz --scratch-path .build-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DFUZZING -Xswiftc -use-ld=lld 2>&1 | grep -v "ld.gold: warning" >&2
work="$(mktemp -d /tmp/magpie-fuzz.XXXXXX)"
echo "== fuzzing for ${seconds} s (corpus: Tests/FuzzCorpus; new inputs and crashes: $work)"
status=0
.build-fuzz/debug/magpie-fuzz "$work" Tests/FuzzCorpus -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=4096 \
  -timeout=10 -artifact_prefix="$work/" -print_final_stats=1 > "$work/fuzz.log" 2>&1 || status=$?
grep -E "INITED|DONE|stat::number_of_executed_units|stat::peak_rss|ERROR|SUMMARY|artifact" "$work/fuzz.log" || true
if [[ $status -ne 0 ]]; then
  tail -40 "$work/fuzz.log" >&2
  echo "magpie fuzz: the fuzzer found a defect (exit $status); its input is in $work" >&2
  exit "$status"
fi
echo "magpie fuzz: $(ls "$work" | grep -vc fuzz.log) new inputs in $work, no defect"
