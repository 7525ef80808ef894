# Sourced by the other scripts: the repository root as working directory, Swift on PATH, the
# Debian packages installed (scripts/setup.sh), and `build_release`, which builds the release
# executable and sets $magpie to it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[[ -x /opt/swift/usr/bin/swift ]] && export PATH="/opt/swift/usr/bin:$PATH"
scripts/setup.sh

build_release() {
  swift build -c release >&2   # progress on stderr, so that the scripts' own output stays clean
  magpie="$(swift build -c release --show-bin-path)/magpie"
}
