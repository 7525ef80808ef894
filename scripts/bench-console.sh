#!/usr/bin/env bash
# The daemon with the console's page open in headless Chromium against the same daemon with no
# client, in alternating rounds: a 2D scan (openmpi-2d, background + x-space) replayed at the
# scanner's own rate (realtime) and at full speed. Per round: intake rate (the daemon's log),
# frames processed live, and with the page, how many images it drew a second. Ends with medians
# and the page-open / no-page ratios.
#   scripts/bench-console.sh [ROUNDS] [FRAMES]
source "$(dirname "$0")/prologue.sh"
build_release
MAGPIE="$magpie" /usr/bin/python3 scripts/bench_console.py "${1:-3}" "${2:-6000}"
