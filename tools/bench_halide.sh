#!/usr/bin/env bash
# bench_halide.sh — the VisE trunk built for both runtimes, timed in turns:
# `visec compile` without and with --runtime halide (the same schedule),
# both built with gcc -O3 -march=native (OpenMP with -fopenmp, Halide linked
# with build/halide/halide_runtime.o), THREADS threads each, batch 1 and 8.
# Each round runs each build REPEAT+1 times (tools/vx_driver.c --repeat) and
# takes its median; the table gives the median over ROUNDS rounds of each
# build and the ratio Halide / OpenMP.  Runs alternate, so a machine shared
# with other jobs slows both alike.  Also checks that the two builds give
# the same bits.
#
#   make bench-halide            (or: tools/bench_halide.sh [OUTDIR])
#   THREADS=2 ROUNDS=5 REPEAT=10 BATCHES="1 8" VISE_CHECKPOINT=path.pth
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/out/bench-halide}
threads=${THREADS:-2} rounds=${ROUNDS:-5} repeat=${REPEAT:-10} batches=${BATCHES:-"1 8"}
py=/usr/bin/python3
visec=$src/bin/visec
rt=$src/build/halide/halide_runtime.o
hinc=${HALIDE_INC:-/usr/include/halide14}
[ -x "$visec" ] && [ -f "$rt" ] || { echo "run 'make all halide-runtime' first"; exit 1; }
mkdir -p "$out"
model=$src/examples/vise_resnet50.vise
w=${VISE_CHECKPOINT:-$out/synthetic.safetensors}
[ -f "$w" ] || "$visec" init-weights "$model" --seed 1 -o "$w"
"$visec" compile "$model" --weights "$w" -o "$out/openmp"
"$visec" compile "$model" --weights "$w" -o "$out/halide" --runtime halide
flags="-std=c99 -O3 -march=native -DMODEL=vise_resnet50 -DUPPER=VISE_RESNET50"
gcc $flags -fopenmp -I"$out/openmp" "$src/tools/vx_driver.c" "$out/openmp/vise_resnet50.c" -lm -o "$out/run_openmp"
gcc $flags -I"$hinc" -I"$out/halide" "$src/tools/vx_driver.c" "$out/halide/vise_resnet50.c" "$rt" \
    -lpthread -ldl -lm -o "$out/run_halide"

echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; $threads threads; load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %12s %12s %8s\n' batch "openmp ms" "halide ms" ratio
for b in $batches; do
    $py -c "
import sys, numpy as np
np.save(sys.argv[1], np.random.default_rng(1).standard_normal((int(sys.argv[2]), 3, 224, 224)).astype(np.float32))" \
        "$out/x$b.npy" "$b"
    OMP_NUM_THREADS=$threads "$out/run_openmp" "$out/openmp/vise_resnet50.weights" "$out/x$b.npy" "$out/y$b.omp.npy"
    HL_NUM_THREADS=$threads "$out/run_halide" "$out/halide/vise_resnet50.weights" "$out/x$b.npy" "$out/y$b.hl.npy"
    cmp -s "$out/y$b.omp.npy" "$out/y$b.hl.npy" || { echo "batch $b: the two builds differ"; exit 1; }
    : >"$out/t$b.omp"; : >"$out/t$b.hl"
    for r in $(seq "$rounds"); do
        OMP_NUM_THREADS=$threads "$out/run_openmp" "$out/openmp/vise_resnet50.weights" "$out/x$b.npy" /dev/null \
            --repeat "$repeat" | sed -n 's/^median \([0-9.]*\) ms.*/\1/p' >>"$out/t$b.omp"
        HL_NUM_THREADS=$threads "$out/run_halide" "$out/halide/vise_resnet50.weights" "$out/x$b.npy" /dev/null \
            --repeat "$repeat" | sed -n 's/^median \([0-9.]*\) ms.*/\1/p' >>"$out/t$b.hl"
    done
    $py -c "
import sys, statistics as st
o = [float(v) for v in open(sys.argv[1])]; h = [float(v) for v in open(sys.argv[2])]
print('%-8s %12.2f %12.2f %8.3f   (rounds: openmp %s; halide %s)' % (sys.argv[3], st.median(o), st.median(h),
      st.median(h) / st.median(o), ' '.join('%.1f' % v for v in o), ' '.join('%.1f' % v for v in h)))" \
        "$out/t$b.omp" "$out/t$b.hl" "$b"
done
echo "outputs of the two builds: bit-identical"
