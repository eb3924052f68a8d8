#!/usr/bin/env bash
# halide_calls.sh VISEC WORKDIR — the Halide entry point of a small model
# compiled with --runtime halide, called directly under AddressSanitizer and
# UBSan (tests/cli/src/halide_calls.c): bad buffers (NULL, wrong type, 3-D,
# wrong channel count, batch 0, too-small output, strides, overlap, bad
# weights) give Halide's error codes with a message through the error
# handler; bounds queries fill in shapes; a good call equals tiny_run() and
# goes through halide_malloc, halide_free and halide_do_par_for.  Skipped
# (77) without Halide.
set -eu
visec=$1 work=$2
fail() { echo "FAIL: $*"; exit 1; }
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/cli/src/halide.sh"
halide_setup "$work"

cat >"$work/tiny.vise" <<'M'
model tiny
input x: [N, 3, 17, 15]
h = relu(batchnorm(conv2d(x, "c1", out=8, kernel=3, stride=2, pad=1), "b1"))
h = maxpool(h, kernel=3, stride=2, pad=1)
h = conv2d(h, "c4", out=6, kernel=3, pad=2, dilation=2, groups=2, bias=true)
output y = h
M
"$visec" init-weights "$work/tiny.vise" --seed 3 -o "$work/tiny.safetensors"
"$visec" compile "$work/tiny.vise" --weights "$work/tiny.safetensors" -o "$work/out" --runtime halide
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
gcc -fsanitize=address,undefined -x c /dev/null -c -o /dev/null 2>/dev/null || san=
for cc in gcc clang; do
    command -v $cc >/dev/null || continue
    $cc -std=c99 -Wall -Wextra -pedantic -Werror -O1 -g $san -I"$HL_INC" -I"$work/out" \
        "$src/tests/cli/src/halide_calls.c" "$work/out/tiny.c" "$HL_RT" $HL_LIBS -o "$work/calls_$cc" \
        || fail "$cc: build"
    ASAN_OPTIONS=detect_leaks=1 HL_NUM_THREADS=2 "$work/calls_$cc" "$work/out/tiny.weights" \
        || fail "$cc: direct calls"
done
echo "halide_calls: ok"
