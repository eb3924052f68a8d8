#!/usr/bin/env bash
# python_ctypes.sh VISEC WORKDIR — examples/python/vise_ctypes.py: the VisE
# code built as a shared library and called from Python with ctypes and
# numpy gives PyTorch's result (max|y-ref| <= 1e-4 max|ref|) and the C
# driver's .npy result, batch 2; --exact tells the weights compiled with
# from a retrained checkpoint's, which still opens.  Skipped without torch.
set -eu
. "$(dirname "$0")/src/lib.sh"
need_torch

torch_ref 21 2 "$work/x.npy" "$work/ref.npy"
mkdir -p "$work/gen" "$work/re"
"$visec" compile "$model" --weights "$work/ck.pt" -o "$work/gen"
"$visec" init-weights "$model" --seed 4 -o "$work/retrained.safetensors"
"$visec" compile "$model" --weights "$work/retrained.safetensors" -o "$work/re"
gcc -std=c99 -Wall -Wextra -pedantic -Werror -O2 -fopenmp -shared -fPIC "$work/gen/vise_resnet50.c" -lm \
    -o "$work/gen/libvise_resnet50.so" || fail "the shared library does not build cleanly"
build_driver vise_resnet50 "$work/gen" "$work/driver" gcc -std=c99 -O2 -fopenmp
OMP_NUM_THREADS=2 "$work/driver" "$work/gen/vise_resnet50.weights" "$work/x.npy" "$work/y_c.npy"

ex=$src/examples/python/vise_ctypes.py
args="--lib $work/gen/libvise_resnet50.so --header $work/gen/vise_resnet50.h"
OMP_NUM_THREADS=2 $py "$ex" $args --weights "$work/gen/vise_resnet50.weights" --input "$work/x.npy" \
    --output "$work/y_py.npy" --exact | tee "$work/out.txt"
grep -q "exactly those compiled with" "$work/out.txt" || fail "own weights not recognised"
compare "$work/y_py.npy" "$work/ref.npy" "ctypes result differs from PyTorch"
$py "$src/tools/compare_npy.py" "$work/y_py.npy" "$work/y_c.npy" --tol 0 || fail "ctypes result differs from the C driver's"

# A retrained checkpoint's .weights: opens, is not the exact one.
OMP_NUM_THREADS=2 $py "$ex" $args --weights "$work/re/vise_resnet50.weights" --input "$work/x.npy" \
    --output "$work/y_re.npy" | tee "$work/out.txt"
grep -q "other weights of the same layout" "$work/out.txt" || fail "retrained weights taken for the exact ones"
st=0; $py "$ex" $args --weights "$work/re/vise_resnet50.weights" --input "$work/x.npy" --output "$work/no.npy" \
    --exact 2>"$work/err" >/dev/null || st=$?
[ $st -ne 0 ] && grep -q "not the weights the code was compiled with" "$work/err" || fail "--exact"
# A foreign file is refused with the library's own message.
st=0; $py "$ex" $args --weights "$work/ck.pt" --input "$work/x.npy" --output "$work/no.npy" 2>"$work/err" || st=$?
[ $st -ne 0 ] && grep -q "not a visec weights file" "$work/err" || { cat "$work/err"; fail "a checkpoint taken for .weights"; }
echo "python_ctypes: ok"
