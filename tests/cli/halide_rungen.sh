#!/usr/bin/env bash
# halide_rungen.sh VISEC WORKDIR — the VisE trunk compiled with --runtime
# halide, linked with a standalone Halide runtime, Halide's own
# RunGenMain.cpp and the generated registration file, run through RunGen
# against PyTorch: inputs and outputs as .tmp files, batch 1 and 3, with and
# without --output_extents, max|y - ref| <= 1e-4 max|ref|; the same bits as
# the OpenMP build; --describe lists the arguments; --benchmarks=all runs.
# Skipped (77) without torch or Halide.
set -eu
. "$(dirname "$0")/src/lib.sh"
need_torch
. "$src/tests/cli/src/halide.sh"
halide_setup "$work"
halide_rungen_main "$work"

torch_ref 11 3 "$work/x3.npy" "$work/ref3.npy"
first_image

"$visec" compile "$model" --weights "$work/ck.pt" -o "$work/hl" --runtime halide
"$visec" compile "$model" --weights "$work/ck.pt" -o "$work/again" --runtime halide
for f in vise_resnet50.h vise_resnet50.c vise_resnet50.weights vise_resnet50.registration.cpp; do
    cmp "$work/hl/$f" "$work/again/$f" || fail "$f differs between two compilations"
done
gcc -std=c99 -Wall -Wextra -pedantic -Werror -O2 -I"$HL_INC" -c "$work/hl/vise_resnet50.c" \
    -o "$work/vise.o" || fail "the generated code does not compile cleanly"
g++ -std=c++17 -Wall -Wextra -O1 -I"$HL_INC" -c "$work/hl/vise_resnet50.registration.cpp" \
    -o "$work/reg.o" || fail "the registration file does not compile cleanly"
g++ "$HL_RUNGEN" "$work/reg.o" "$work/vise.o" "$HL_RT" $HL_LIBS -o "$work/rungen"
rg=$work/rungen

# --describe: the arguments, their kinds, types and dimensions
"$rg" --describe >"$work/describe"
cat "$work/describe"
grep -q 'Filter name: "vise_resnet50"' "$work/describe" || fail "--describe: name"
grep -q 'Input "weights" is of type Buffer<uint8> with 1 dimensions' "$work/describe" || fail "--describe: weights"
grep -q 'Input "x" is of type Buffer<float32> with 4 dimensions' "$work/describe" || fail "--describe: x"
grep -q 'Output "features" is of type Buffer<float32> with 4 dimensions' "$work/describe" || fail "--describe: features"

# runs through RunGen, .tmp in and out
tmp() { $py "$src/tools/halide_tmp.py" "$@"; }
tmp bytes "$work/hl/vise_resnet50.weights" "$work/w.tmp"
for b in 1 3; do
    tmp to-tmp "$work/x$b.npy" "$work/x$b.tmp"
    HL_NUM_THREADS=2 "$rg" weights="$work/w.tmp" x="$work/x$b.tmp" features="$work/y$b.tmp"
    tmp to-npy "$work/y$b.tmp" "$work/y$b.npy"
    compare "$work/y$b.npy" "$work/ref$b.npy" "batch $b differs from PyTorch"
    HL_NUM_THREADS=2 "$rg" --output_extents=[7,7,2048,$b] weights="$work/w.tmp" x="$work/x$b.tmp" \
        features="$work/ye$b.tmp"
    cmp "$work/y$b.tmp" "$work/ye$b.tmp" || fail "batch $b: --output_extents changes the output"
done

# the same bits as the OpenMP build of the same schedule
"$visec" compile "$model" --weights "$work/ck.pt" -o "$work/omp"
build_driver vise_resnet50 "$work/omp" "$work/omp_run" gcc -std=c99 -O2 -fopenmp
OMP_NUM_THREADS=2 "$work/omp_run" "$work/omp/vise_resnet50.weights" "$work/x3.npy" "$work/y3omp.npy"
$py -c "
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
sys.exit(0 if a.shape == b.shape and a.tobytes() == b.tobytes() else 1)" "$work/y3.npy" "$work/y3omp.npy" \
    || fail "the Halide and OpenMP builds differ"

# --benchmarks=all
HL_NUM_THREADS=2 "$rg" --benchmarks=all --benchmark_min_time=0.2 weights="$work/w.tmp" x="$work/x1.tmp" \
    >"$work/bench" || fail "--benchmarks=all"
cat "$work/bench"
grep -q 'Benchmark for vise_resnet50' "$work/bench" || fail "no benchmark result"
echo "halide_rungen: ok"
