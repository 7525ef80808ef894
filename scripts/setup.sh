#!/usr/bin/env bash
# Installs the Debian packages Magpie needs. Idempotent: silent when everything is present.
set -euo pipefail

packages=(
  pkg-config
  libhdf5-dev      # MDF v2 files
  libzmq3-dev      # scanner streams
  libfftw3-dev     # FFTs, single and double precision
  libopenblas-dev  # BLAS
  liblapacke-dev   # LAPACK
  libtorch-dev     # TorchBridge: TorchScript models of the learned stages
  zlib1g-dev       # PNG phantoms (inflate)
  python3-h5py     # Tests/interop: reads Magpie's files as the MDF reference Python code does
  python3-numpy
  python3-skimage  # Tests/interop: the reference SSIM and PSNR
  python3-zmq      # Tests/interop: an independent magpie-stream peer
  python3-jsonschema  # Tests/interop: headers against protocols/schemas
  python3-prometheus-client  # Tests/interop: parses /metrics as Prometheus does
  chromium         # Tests/interop/test_console_browser.py: the console's page in a real browser
  chromium-driver
  python3-selenium
  python3-torch    # models/: training, export and the exporter's reference outputs
  systemd          # Tests/interop: systemd-analyze rates the unit's sandbox
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      run_as_root=(sudo)
    else
      echo "magpie setup: these Debian packages are missing: ${missing[*]}" >&2
      echo "magpie setup: installing them needs root; run: sudo $0" >&2
      exit 1
    fi
  else
    run_as_root=()
  fi
  echo "magpie setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${run_as_root[@]}" apt-get update -qq
  "${run_as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null; then
  if [[ -x /opt/swift/usr/bin/swift ]]; then
    echo "magpie setup: swift is at /opt/swift/usr/bin; add it to PATH" >&2
  else
    echo "magpie setup: no Swift toolchain found; install Swift 6 (swift.org) and put it on PATH" >&2
  fi
  exit 1
fi
