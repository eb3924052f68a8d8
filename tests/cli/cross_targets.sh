#!/usr/bin/env bash
# cross_targets.sh VISEC WORKDIR — the VisE ResNet-50 trunk's code for other
# machines, against PyTorch (max|y - ref| <= 1e-4 max|ref|):
#   aarch64  --target aarch64 (the NEON kernels), aarch64-linux-gnu-gcc,
#            run under qemu-aarch64
#   s390x    --target generic (the reference kernels) on a big-endian
#            machine, s390x-linux-gnu-gcc under qemu-s390x: the .weights
#            file is little-endian and must be byte-swapped when read
# One image each, no OpenMP, -O2 (under qemu about 40 s and 2 minutes on
# the development machine).  Skipped (77) without torch or the cross tools
# (tools/install-deps.sh installs them).
set -eu
. "$(dirname "$0")/src/lib.sh"
need_torch
for tool in aarch64-linux-gnu-gcc qemu-aarch64 s390x-linux-gnu-gcc qemu-s390x; do
    command -v $tool >/dev/null || { echo "no $tool (tools/install-deps.sh installs it)"; exit 77; }
done
[ -d /usr/aarch64-linux-gnu/lib ] && [ -d /usr/s390x-linux-gnu/lib ] ||
    { echo "no cross C libraries (libc6-dev-arm64-cross, libc6-dev-s390x-cross)"; exit 77; }

torch_ref 12 1 "$work/x1.npy" "$work/ref1.npy"

run() { # TARGET CC QEMU ARCH
    local t=$1 cc=$2 qemu=$3 arch=$4 d=$work/$1
    mkdir -p "$d"
    "$visec" compile "$model" --weights "$work/ck.pt" -o "$d" --target "$t"
    build_driver vise_resnet50 "$d" "$d/driver" "$cc" -std=c99 -Wall -Wextra -pedantic -Werror -O2
    if command -v file >/dev/null; then
        file "$d/driver" | grep -q "$arch" || fail "$d/driver is not an $arch binary"
    fi
    $qemu -L "/usr/${cc%-gcc}" "$d/driver" "$d/vise_resnet50.weights" "$work/x1.npy" "$d/y1.npy" ||
        fail "$t under $qemu failed"
    compare "$d/y1.npy" "$work/ref1.npy" "$t under $qemu differs from PyTorch"
}

run aarch64 aarch64-linux-gnu-gcc qemu-aarch64 aarch64
# the NEON kernels, not only the fallback: the compiler defines both macros of their guard
grep -q 'vfmaq_f32' "$work/aarch64/vise_resnet50.c" || fail "no NEON kernels in the aarch64 code"
aarch64-linux-gnu-gcc -dM -E - </dev/null | grep -q '__ARM_FEATURE_FMA 1' ||
    fail "aarch64-linux-gnu-gcc does not define __ARM_FEATURE_FMA: the NEON kernels would not be built"

run generic s390x-linux-gnu-gcc qemu-s390x "S/390"
echo "cross_targets: ok"
