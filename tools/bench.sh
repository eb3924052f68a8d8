#!/usr/bin/env bash
# bench.sh — speed of the generated VisE code against PyTorch's fastest CPU
# paths, measured in one interleaved session on the same machine (make bench).
#
#   1. the machine: CPU model, vector ISA, and its measured FMA peak
#      (tools/fma_peak.c) on 1 and 2 threads
#   2. examples/vise_resnet50.vise compiled for --target native, built with
#      each of $CCS using the build line visec prints (-std=c99 -O3
#      -march=native -fopenmp); at batch 1 also gcc -std=gnu11, gcc -O2,
#      and the code of 'visec compile -O0'
#   3. tools/bench.py: PyTorch (torch.jit.optimize_for_inference of the
#      scripted model, and eager channels_last at batch 1) and every build, batches
#      $BATCHES x threads $THREADS, $ROUNDS interleaved rounds of the median
#      of $REPEAT runs; medians, ratios to PyTorch-jit, effective GFLOP/s
#      (8.17 GFLOP per image) and the share of the FMA peak
#   4. AVX2 only (on an x86 CPU with AVX2): --target x86-64-v3 built with
#      -march=x86-64-v3 against PyTorch with ATEN_CPU_CAPABILITY=avx2
#      DNNL_MAX_CPU_ISA=AVX2, and the AVX2 FMA peak
# The machine is shared: compare ratios measured in the same run, not
# absolute figures across runs.
set -euo pipefail
cd "$(dirname "$0")/.."
CCS=${CCS:-gcc clang}
THREADS=${THREADS:-1,2}
BATCHES=${BATCHES:-1,8}
ROUNDS=${ROUNDS:-3}
REPEAT=${REPEAT:-3}
AVX2=${AVX2:-1}
work=${BENCH_DIR:-out/bench}
mkdir -p "$work"
work=$(cd "$work" && pwd)
visec=bin/visec
model=examples/vise_resnet50.vise
py=/usr/bin/python3
$py -c "import torch, torchvision" 2>/dev/null || { echo "bench: needs python3-torch and python3-torchvision"; exit 1; }

cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
flags=$(grep -m1 -E '^(flags|Features)' /proc/cpuinfo 2>/dev/null || true)
isa=generic
case " $flags " in
*" avx512f "*) isa="AVX-512 (x86-64-v4)" ;;
*" avx2 "*) isa="AVX2 + FMA (x86-64-v3)" ;;
*" asimd "*) isa="NEON (aarch64)" ;;
esac
echo "CPU: ${cpu:-unknown}, $(nproc) logical CPUs, vector ISA $isa"
echo "compilers: $(gcc --version | head -1); $(clang --version 2>/dev/null | head -1 || echo no clang)"
echo "PyTorch $($py -c 'import torch; print(torch.__version__)')"

peak_args=()
peak() { # MARCH THREADS...: prints the peak lines, sets peak_args
    gcc -std=c99 -O2 "$1" -fopenmp tools/fma_peak.c -o "$work/fma_peak" -lm
    shift
    peak_args=()
    for t in "$@"; do
        line=$(OMP_NUM_THREADS=$t "$work/fma_peak")
        echo "$line"
        peak_args+=(--peak "$t:$(echo "$line" | sed 's/^fma peak: \([0-9.]*\).*/\1/')")
    done
}
peak -march=native ${THREADS//,/ }

$visec init-weights $model --seed 1 -o "$work/w.safetensors" >/dev/null
$visec compile $model --weights "$work/w.safetensors" -o "$work/native" --target native >/dev/null
$visec compile $model --weights "$work/w.safetensors" -o "$work/O0" -O0 >/dev/null
fast="-std=c99 -O3 -march=native -fopenmp"
echo "build line: $(sed -n 's/^ \* Build: //p' "$work/native/vise_resnet50.c")"
drv() { # CC DIR OUT FLAGS...
    local cc=$1 dir=$2 out=$3
    shift 3
    $cc "$@" -DMODEL=vise_resnet50 -DUPPER=VISE_RESNET50 -I"$dir" tools/vx_driver.c "$dir/vise_resnet50.c" \
        -lm -o "$out"
}
cands=()
for cc in $CCS; do
    command -v $cc >/dev/null || continue
    drv $cc "$work/native" "$work/native/$cc" $fast
    cands+=(--c "visec $cc -std=c99 -O3" "$work/native/$cc" "$work/native/vise_resnet50.weights")
done
drv gcc "$work/native" "$work/native/gnu11" -std=gnu11 -O3 -march=native -fopenmp
drv gcc "$work/native" "$work/native/O2" -std=c99 -pedantic -O2 -march=native -fopenmp
drv gcc "$work/O0" "$work/O0/gcc" $fast
cands+=(--c "visec gcc -std=gnu11 -O3" "$work/native/gnu11" "$work/native/vise_resnet50.weights"
        --c "visec gcc -std=c99 -pedantic -O2" "$work/native/O2" "$work/native/vise_resnet50.weights"
        --c "visec -O0 (no passes) gcc" "$work/O0/gcc" "$work/O0/vise_resnet50.weights"
        --c-batches "visec gcc -std=gnu11 -O3:1" --c-batches "visec gcc -std=c99 -pedantic -O2:1"
        --c-batches "visec -O0 (no passes) gcc:1")

echo
echo "== VisE ResNet-50 trunk, target native ($isa)"
$py tools/bench.py --checkpoint "$work/w.safetensors" --work "$work" --batches "$BATCHES" --threads "$THREADS" \
    --rounds "$ROUNDS" --repeat "$REPEAT" "${peak_args[@]}" "${cands[@]}"

if [ "$AVX2" = 1 ] && case " $flags " in *" avx2 "*) true ;; *) false ;; esac; then
    echo
    echo "== AVX2 only: --target x86-64-v3, -march=x86-64-v3; PyTorch with ATEN_CPU_CAPABILITY=avx2 DNNL_MAX_CPU_ISA=AVX2"
    peak -march=x86-64-v3 ${THREADS//,/ }
    $visec compile $model --weights "$work/w.safetensors" -o "$work/v3" --target x86-64-v3 >/dev/null
    cands=()
    for cc in $CCS; do
        command -v $cc >/dev/null || continue
        drv $cc "$work/v3" "$work/v3/$cc" -std=c99 -O3 -march=x86-64-v3 -fopenmp
        cands+=(--c "visec x86-64-v3 $cc" "$work/v3/$cc" "$work/v3/vise_resnet50.weights")
    done
    ATEN_CPU_CAPABILITY=avx2 DNNL_MAX_CPU_ISA=AVX2 $py tools/bench.py --checkpoint "$work/w.safetensors" \
        --work "$work" --batches 1 --threads "$THREADS" --rounds "$ROUNDS" --repeat "$REPEAT" \
        "${peak_args[@]}" "${cands[@]}"
fi
