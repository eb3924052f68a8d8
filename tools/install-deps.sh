#!/usr/bin/env bash
# install-deps.sh — installs the Debian packages visec needs to build,
# test and run its examples.  Safe to run again; a no-op when all is there.
#
#   build:     gcc clang make flex bison pkg-config zlib1g-dev (DEFLATE checkpoints)
#              nettle-dev (SHA-256 of inputs and outputs)
#   tests:     check libsubunit-dev (unit tests), python3-torch python3-torchvision
#              python3-numpy (the PyTorch oracle and checkpoint fixtures)
#   examples:  libstb-dev (image decoding in examples/embed)
#   OpenMP:    libomp-dev (for clang; gcc brings libgomp)
set -euo pipefail
pkgs="gcc clang make flex bison pkg-config zlib1g-dev nettle-dev check libsubunit-dev libstb-dev libomp-dev
      python3 python3-numpy python3-torch python3-torchvision"
missing=()
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
