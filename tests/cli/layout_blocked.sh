#!/usr/bin/env bash
# layout_blocked.sh VISEC WORKDIR — blocked activations (NCHWc) on VisE at a
# 64x64 input, against the interpreter, batch 2:
#   1. a schedule that blocks the output of the 1x1 convs and downsamples
#      (lanes = co), some with reduction tiles, some with blocks short of
#      output channels (guarded vectors), read in place by 1x1s in channel
#      lanes, im2col panels, Winograd F(2x2) and F(4x4) and a direct conv;
#      one downsample plain (the conv that adds the residual of its block,
#      so its residual, a blocked conv3, is reordered to NCHW, and its
#      output, the next block's residual, to NCHWc), and one 1x1 in pixel
#      lanes, which gets a reorder to NCHW: 34 blocked outputs, 4 reorders
#      with the one at the graph output;
#   2. built three ways: the target's vector kernels (gcc, -march), the same
#      with clang -std=c99 -Wall -Wextra -pedantic -Werror, and the
#      reference kernels (no -march); each within 1e-4 of the interpreter;
#      and the aarch64 code (NEON, blocks of 4) under qemu-aarch64 likewise;
#      'visec schedule' writes the layers' layouts, not the reorders, and
#      compiling with what it wrote gives the same code;
#   3. --disable-pass layout: every layout plain, no reorder, same results;
#      two compiles give identical files.
# The target is the host's widest x86 table (x86-64-v4 with AVX-512,
# x86-64-v3 with AVX2); without either only the reference build runs.
set -eu
visec=$1 work=$2
py=/usr/bin/python3
fail() { echo "FAIL: $*"; exit 1; }
src=$(cd "$(dirname "$0")/../.." && pwd)
$py -c "import numpy" 2>/dev/null || { echo "no numpy in $py"; exit 77; }

flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
if [[ $flags == *" avx512f "* ]]; then
    t=x86-64-v4 L=16 reg=32x7 short=48x7 tiny=32x4
elif [[ $flags == *" avx2 "* && $flags == *" fma "* ]]; then
    t=x86-64-v3 L=8 reg=16x5 short=24x4 tiny=16x4
else
    t=x86-64-v4 L=16 reg=32x7 short=48x7 tiny=32x4    # reference kernels only
    novec=1
fi

sed 's/\[N, 3, 224, 224\]/[N, 3, 64, 64]/' "$src/examples/vise_resnet50.vise" >"$work/v64.vise"
"$visec" init-weights "$work/v64.vise" --seed 9 -o "$work/w.safetensors"
$py -c "
import sys, numpy as np
np.save(sys.argv[1], np.random.default_rng(3).standard_normal((2, 3, 64, 64)).astype(np.float32))" "$work/x.npy"
"$visec" run "$work/v64.vise" --weights "$work/w.safetensors" --input "$work/x.npy" -o "$work/ref.npy"

cat >"$work/b.sched" <<EOF
target $t;
l*_conv1 { algo = gemm; lanes = co; reg = $reg; tile_pix = 0; layout = nchw${L}c; }
l*_conv3 { algo = gemm; lanes = co; reg = $reg; tile_pix = 0; layout = nchw${L}c; }
l*_downsample_0 { algo = gemm; lanes = co; reg = $reg; tile_pix = 0; layout = nchw${L}c; }
l4_*_conv1 { reg = $short; }
l6_*_conv3 { tile_k = 96; }
l7_* { reg = $tiny; }
l4_1_conv2 { algo = winograd(4); }
l4_2_conv2 { algo = winograd(2); }
l5_1_conv2 { algo = direct; }
l5_0_downsample_0 { layout = nchw; }
l6_2_conv1 { lanes = pix; reg = 6x16; layout = nchw; }
EOF

"$visec" compile "$work/v64.vise" --weights "$work/w.safetensors" --target $t --schedule "$work/b.sched" \
    -o "$work/b" --stats >"$work/stats" 2>&1
grep -q "pass layout .* 34 convolution outputs blocked (nchw${L}c), 4 reorders" "$work/stats" ||
    { cat "$work/stats"; fail "layout pass summary"; }
c=$work/b/vise_resnet50.c
[ "$(grep -c "NCHWc -> NCHW: channel ch" "$c")" -eq 3 ] || fail "not 3 reorders to NCHW in the code"
[ "$(grep -c "NCHW -> NCHWc: channel ch" "$c")" -eq 1 ] || fail "not 1 reorder to NCHWc in the code"
grep -q "layout: l5_0_conv3's output, nchw${L}c -> nchw for l5_0_downsample_0" "$c" || fail "no reorder of a residual"
grep -q "layout: l5_0_downsample_0's output, nchw -> nchw${L}c for l5_1_conv3" "$c" || fail "no reorder to NCHWc"
grep -q "layout: l6_1_conv3's output, nchw${L}c -> nchw for l6_2_conv1" "$c" || fail "no reorder before pixel lanes"
for l in l4_1_conv2 l4_2_conv2 l5_1_conv2 l5_0_conv2; do  # Winograd(4), (2), direct, im2col over NCHWc
    grep -A8 "layer $l: conv2d" "$c" | grep -q "input:     %[0-9]* \[N, [0-9]*, [0-9]*, [0-9]*\] nchw${L}c" ||
        fail "$l does not read its blocked input in place"
done
grep -q "output:    %[0-9]* \[N, 2048, 2, 2\] nchw${L}c" "$c" || fail "no blocked output in a layer comment"
grep -q "layout: l7_2_conv3's output, nchw${L}c -> nchw for the graph output" "$c" || fail "no reorder at the output"

run() { # NAME CC FLAGS...
    local name=$1 cc=$2; shift 2
    "$cc" "$@" -fopenmp -DMODEL=vise_resnet50 -DUPPER=VISE_RESNET50 -I"$work/b" "$src/tools/vx_driver.c" "$c" \
        -lm -o "$work/$name" || fail "$name: does not compile"
    OMP_NUM_THREADS=2 "$work/$name" "$work/b/vise_resnet50.weights" "$work/x.npy" "$work/y_$name.npy"
    echo -n "$name: "
    $py "$src/tools/compare_npy.py" "$work/y_$name.npy" "$work/ref.npy" || fail "$name: wrong results"
}
run reference gcc -std=c99 -O1
if [ -z "${novec:-}" ]; then
    grep -q "each vector whole into the NCHW${L}c output" "$c" || fail "no blocked vector stores"
    run vector gcc -std=c99 -O2 -march=$t
    if command -v clang >/dev/null; then
        run clang clang -std=c99 -O2 -march=$t -Wall -Wextra -pedantic -Werror
    fi
else
    echo "no AVX2 or AVX-512 here: the vector kernels were not run"
fi

# NEON: the same schedule for aarch64 (blocks of 4 channels) under qemu, batch 2
if command -v qemu-aarch64 >/dev/null && command -v aarch64-linux-gnu-gcc >/dev/null; then
    sed -e "s/^target .*/target aarch64;/" -e "s/reg = $reg;/reg = 16x6;/g" -e "s/reg = $short;/reg = 12x6;/" \
        -e "s/reg = $tiny;/reg = 16x4;/" -e "s/nchw${L}c/nchw4c/g" "$work/b.sched" >"$work/a.sched"
    "$visec" compile "$work/v64.vise" --weights "$work/w.safetensors" --target aarch64 --schedule "$work/a.sched" \
        -o "$work/a"
    grep -q "each vector whole into the NCHW4c output" "$work/a/vise_resnet50.c" || fail "aarch64: no blocked stores"
    aarch64-linux-gnu-gcc -std=c99 -O2 -DMODEL=vise_resnet50 -DUPPER=VISE_RESNET50 -I"$work/a" \
        "$src/tools/vx_driver.c" "$work/a/vise_resnet50.c" -lm -o "$work/neon"
    qemu-aarch64 -L /usr/aarch64-linux-gnu "$work/neon" "$work/a/vise_resnet50.weights" "$work/x.npy" "$work/y_neon.npy"
    echo -n "aarch64 (NEON, qemu): "
    $py "$src/tools/compare_npy.py" "$work/y_neon.npy" "$work/ref.npy" || fail "aarch64: wrong results"
else
    echo "no qemu-aarch64 or aarch64-linux-gnu-gcc: NEON not run"
fi

# 'visec schedule' writes the 54 layers, not the reorders, and compiling
# with what it wrote gives the same code
"$visec" schedule "$work/v64.vise" --target $t --schedule "$work/b.sched" -o "$work/w.sched"
[ "$(grep -c '^[a-z0-9_]* {$' "$work/w.sched")" -eq 54 ] || fail "schedule: not the 54 layers"
[ "$(grep -c "layout = nchw${L}c;" "$work/w.sched")" -eq 34 ] || fail "schedule: not 34 blocked layouts"
"$visec" compile "$work/v64.vise" --weights "$work/w.safetensors" --target $t --schedule "$work/w.sched" -o "$work/rt"
code() { grep -v -e '^ \*   visec compile ' -e '^ *"visec compile ' "$1"; }
cmp <(code "$c") <(code "$work/rt/vise_resnet50.c") || fail "round trip through visec schedule differs"

# ---- 3. the pass disabled: plain layouts throughout, the same results
"$visec" compile "$work/v64.vise" --weights "$work/w.safetensors" --target $t --schedule "$work/b.sched" \
    --disable-pass layout -o "$work/p" --stats >"$work/stats" 2>&1
grep -q "pass layout .*34 blocked layouts of the schedule made plain (pass disabled" "$work/stats" ||
    { cat "$work/stats"; fail "disabled layout pass summary"; }
! grep -q "NCHWc" "$work/p/vise_resnet50.c" || fail "a reorder with the pass disabled"
gcc -std=c99 -O1 -fopenmp -DMODEL=vise_resnet50 -DUPPER=VISE_RESNET50 -I"$work/p" "$src/tools/vx_driver.c" \
    "$work/p/vise_resnet50.c" -lm -o "$work/plain"
OMP_NUM_THREADS=2 "$work/plain" "$work/p/vise_resnet50.weights" "$work/x.npy" "$work/y_plain.npy"
echo -n "pass disabled: "
$py "$src/tools/compare_npy.py" "$work/y_plain.npy" "$work/ref.npy" || fail "plain: wrong results"

"$visec" compile "$work/v64.vise" --weights "$work/w.safetensors" --target $t --schedule "$work/b.sched" -o "$work/b2"
cmp <(code "$c") <(code "$work/b2/vise_resnet50.c") || fail "two compiles differ"
echo "layout_blocked: ok"
