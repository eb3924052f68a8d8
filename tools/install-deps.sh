#!/usr/bin/env bash
# install-deps.sh — installs the Debian packages visec needs to build,
# test and run its examples.  Safe to run again; a no-op when all is there.
#
#   build:     gcc clang make flex bison pkg-config
#   tests:     check libsubunit-dev (unit tests), python3-torch python3-torchvision
#              python3-numpy (the PyTorch oracle and checkpoint fixtures)
#   examples:  libstb-dev (image decoding in examples/embed), openmpi-bin
#              libopenmpi-dev (embed across machines: make MPI=1, mpirun),
#              libfaiss-dev (nearest-neighbour search in examples/search)
#   OpenMP:    libomp-dev (for clang; gcc brings libgomp)
#   Halide:    libhalide14-0-dev (--runtime halide: `make halide-runtime`, RunGen,
#              examples/halide; pulls in LLVM 14, about 550 MB installed)
#   cross:     qemu-user gcc-aarch64-linux-gnu gcc-s390x-linux-gnu libc6-dev-arm64-cross
#              libc6-dev-s390x-cross (the aarch64 NEON kernels and big-endian s390x, run
#              under qemu by tests/cli/cross_targets.sh)
set -euo pipefail
pkgs="gcc clang make flex bison pkg-config check libsubunit-dev libstb-dev libomp-dev
      libhalide14-0-dev openmpi-bin libopenmpi-dev libfaiss-dev
      python3 python3-numpy python3-torch python3-torchvision
      qemu-user gcc-aarch64-linux-gnu gcc-s390x-linux-gnu libc6-dev-arm64-cross libc6-dev-s390x-cross"
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
