#!/usr/bin/env bash
# bench.sh — speed of the generated VisE code against PyTorch, measured in
# one run on the same machine (make bench).
#
# Compiles examples/vise_resnet50.vise twice — with every pass (the default)
# and with none (-O0) — builds each with $CC -O3 -march=native -fopenmp,
# and times batch 1 and batch $BATCH with $THREADS threads: the median of
# $REPEAT runs after a warm-up.  PyTorch (Debian's python3-torch, if
# installed) runs the same weights and inputs.  Ratios are PyTorch's median
# over ours: above 1 means faster than PyTorch.
set -euo pipefail
cd "$(dirname "$0")/.."
CC=${CC:-gcc}
THREADS=${THREADS:-2}
REPEAT=${REPEAT:-15}
BATCH=${BATCH:-4}
work=${BENCH_DIR:-out/bench}
mkdir -p "$work"
visec=bin/visec
model=examples/vise_resnet50.vise
export OMP_NUM_THREADS=$THREADS

have_torch=0
/usr/bin/python3 -c "import torch, torchvision" 2>/dev/null && have_torch=1

$visec init-weights $model --seed 1 -o "$work/w.safetensors"
for b in 1 "$BATCH"; do
    /usr/bin/python3 - "$work/x$b.npy" "$b" <<'PY'
import sys, numpy as np
np.save(sys.argv[1], np.random.default_rng(1).standard_normal((int(sys.argv[2]), 3, 224, 224), dtype=np.float32))
PY
done

build() { # variant flags...
    local v=$1; shift
    $visec compile $model --weights "$work/w.safetensors" -o "$work/$v" "$@" >/dev/null
    $CC -std=c99 -O3 -march=native -fopenmp -DMODEL=vise_resnet50 -DUPPER=VISE_RESNET50 \
        -I"$work/$v" tools/vx_driver.c "$work/$v/vise_resnet50.c" -lm -o "$work/$v/driver"
}
build optimized
build unoptimized -O0

median() { sed -n 's/^median \([0-9.]*\) ms.*/\1/p'; }
printf '%-28s %10s %10s\n' "VisE ResNet-50, $THREADS threads" "median ms" "vs PyTorch"
for b in 1 "$BATCH"; do
    ref=""
    if [ $have_torch = 1 ]; then
        ref=$(/usr/bin/python3 tools/torch_bench.py --checkpoint "$work/w.safetensors" \
              --input "$work/x$b.npy" --threads "$THREADS" --repeat "$REPEAT" | median)
        printf '%-28s %10s %10s\n' "pytorch batch $b" "$ref" "1.00"
    fi
    for v in optimized unoptimized; do
        t=$("$work/$v/driver" "$work/$v/vise_resnet50.weights" "$work/x$b.npy" "$work/y.npy" \
            --repeat "$REPEAT" | median)
        r=$([ -n "$ref" ] && awk -v a="$ref" -v b="$t" 'BEGIN { printf "%.2f", a / b }' || echo "-")
        printf '%-28s %10s %10s\n' "visec $v batch $b" "$t" "$r"
    done
done
gflop=8.17
echo "(the trunk is $gflop GFLOP per image; this machine's FMA peak is about 203 GFLOP/s on 2 threads)"
