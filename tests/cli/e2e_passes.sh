#!/usr/bin/env bash
# e2e_passes.sh VISEC WORKDIR — the generated VisE code still matches
# PyTorch with no pass at all (-O0) and with each pass disabled in turn:
# max|y - ref| <= 1e-4 max|ref| at batch 2.  Skipped (77) without torch.
set -eu
visec=$1 work=$2
py=/usr/bin/python3
fail() { echo "FAIL: $*"; exit 1; }
src=$(cd "$(dirname "$0")/../.." && pwd)
model=$src/examples/vise_resnet50.vise
$py -c "import torch, torchvision" 2>/dev/null || { echo "no torch"; exit 77; }

$py "$src/tools/torch_reference.py" gen --seed 23 --checkpoint "$work/ck.pt" --batch 2 \
    --input "$work/x.npy" --output "$work/ref.npy"

variants="-O0"
passes=$("$visec" compile --help | sed -n 's/^passes, in order: //p')   # the pipeline's one list
[ "$(echo $passes | wc -w)" -ge 6 ] || fail "no pass list in compile --help"
for p in $passes; do
    variants="$variants --disable-pass=$p"
done
for v in $variants; do
    d=$work/${v#--disable-pass=}
    "$visec" compile "$model" --weights "$work/ck.pt" -o "$d" $v --stats >"$d.stats"
    # The pass really did not run.
    case $v in
    -O0) grep -q "fold_bn *disabled" "$d.stats" || fail "-O0 ran fold_bn" ;;
    # schedule and plan_memory make the trivial schedule and the naive plan instead
    *) grep -q "${v#--disable-pass=} .*disabled" "$d.stats" || fail "$v did not disable it" ;;
    esac
    gcc -std=c99 -Wall -Wextra -pedantic -Werror -O2 -fopenmp -DMODEL=vise_resnet50 \
        -DUPPER=VISE_RESNET50 -I"$d" "$src/tools/vx_driver.c" "$d/vise_resnet50.c" -lm -o "$d/driver" ||
        fail "$v: the generated code does not compile cleanly"
    OMP_NUM_THREADS=2 "$d/driver" "$d/vise_resnet50.weights" "$work/x.npy" "$d/y.npy"
    $py "$src/tools/compare_npy.py" "$d/y.npy" "$work/ref.npy" || fail "$v: output differs from PyTorch"
    rm -f "$d/vise_resnet50.weights"
done
echo "e2e_passes: ok"
