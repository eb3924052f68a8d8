#!/usr/bin/env bash
# install-deps.sh [demo|test] — installs the Debian packages visec needs.
# Safe to run again; a no-op when all is there.
#
#   demo (make demo, make install: build visec, compile and run the example)
#     build:     gcc make flex bison pkg-config
#                zlib1g-dev (DEFLATE checkpoints), nettle-dev (SHA-256)
#     examples:  libstb-dev (image decoding in examples/embed)
#   test (make test; everything in demo and)
#     compilers: clang, libomp-dev (OpenMP with clang; gcc brings libgomp)
#     unit:      check libsubunit-dev
#     oracle:    python3 python3-numpy python3-torch python3-torchvision
#                (PyTorch reference outputs and checkpoint fixtures)
#     tools:     graphviz (dot checks visec graph), man-db (the man page test)
#     examples:  openmpi-bin libopenmpi-dev (embed across machines: make MPI=1,
#                mpirun), libfaiss-dev (nearest-neighbour search in examples/search)
#     Halide:    libhalide14-0-dev (--runtime halide: `make halide-runtime`, RunGen,
#                examples/halide; pulls in LLVM 14, about 550 MB installed)
#     cross:     qemu-user gcc-aarch64-linux-gnu gcc-s390x-linux-gnu libc6-dev-arm64-cross
#                libc6-dev-s390x-cross (the aarch64 NEON kernels and big-endian s390x,
#                run under qemu by tests/cli/cross_targets.sh)
set -euo pipefail
set_=${1:-test}
demo="gcc make flex bison pkg-config zlib1g-dev nettle-dev libstb-dev"
test="$demo clang libomp-dev check libsubunit-dev python3 python3-numpy python3-torch
      python3-torchvision graphviz man-db openmpi-bin libopenmpi-dev libfaiss-dev libhalide14-0-dev
      qemu-user gcc-aarch64-linux-gnu gcc-s390x-linux-gnu libc6-dev-arm64-cross libc6-dev-s390x-cross"
case $set_ in
demo) pkgs=$demo ;;
test) pkgs=$test ;;
*) echo "usage: $0 [demo|test]" >&2; exit 2 ;;
esac
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
