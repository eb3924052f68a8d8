#!/usr/bin/env bash
# e2e_passes.sh VISEC WORKDIR — the generated VisE code still matches
# PyTorch with no pass at all (-O0) and with each pass disabled in turn:
# max|y - ref| <= 1e-4 max|ref| at batch 2.  Skipped (77) without torch.
set -eu
. "$(dirname "$0")/src/lib.sh"
need_torch

torch_ref 23 2 "$work/x.npy" "$work/ref.npy"

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
    build_driver vise_resnet50 "$d" "$d/driver" gcc -std=c99 -Wall -Wextra -pedantic -Werror -O2 -fopenmp
    OMP_NUM_THREADS=2 "$d/driver" "$d/vise_resnet50.weights" "$work/x.npy" "$d/y.npy"
    compare "$d/y.npy" "$work/ref.npy" "$v: output differs from PyTorch"
    rm -f "$d/vise_resnet50.weights"
done
echo "e2e_passes: ok"
