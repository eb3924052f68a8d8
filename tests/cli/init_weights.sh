#!/usr/bin/env bash
# init_weights.sh VISEC WORKDIR — visec init-weights: deterministic synthetic
# checkpoints that visec check and visec run accept (and PyTorch too).
set -eu
visec=$1 work=$2
py=/usr/bin/python3
model=examples/vise_resnet50.vise
fail() { echo "FAIL: $*"; exit 1; }

"$visec" init-weights "$model" --seed 5 -o "$work/a.safetensors"
"$visec" init-weights "$model" --seed=5 -o "$work/b.safetensors"
"$visec" init-weights "$model" --seed 6 -o "$work/c.safetensors"
cmp "$work/a.safetensors" "$work/b.safetensors" || fail "same seed, different files"
cmp -s "$work/a.safetensors" "$work/c.safetensors" && fail "different seeds, same file"
# 23,508,032 parameters + 53,120 running statistics, float32, plus the header
size=$(stat -c %s "$work/a.safetensors")
[ "$size" -gt $(( (23508032 + 53120) * 4 )) ] || fail "file of $size bytes is too small"
[ "$size" -lt $(( (23508032 + 53120) * 4 + 65536 )) ] || fail "file of $size bytes is too large"

"$visec" check "$model" --weights "$work/a.safetensors" >"$work/check.out" 2>"$work/check.err" ||
    { cat "$work/check.err"; fail "visec check refused the checkpoint"; }
[ -s "$work/check.err" ] && { cat "$work/check.err"; fail "visec check warned"; }

# Errors: no output file, bad seed, unwritable destination leaves nothing.
for args in "--seed 1" "--seed -1 -o $work/x" "--seed 1x -o $work/x" "--seed 1 -o $work/nodir/x" "-o"; do
    st=0; "$visec" init-weights "$model" $args 2>"$work/err" || st=$?
    [ $st -eq 1 ] || fail "exit status $st for: $args"
    grep -q "^visec: error: " "$work/err" || fail "no error message for: $args"
done
[ ! -e "$work/x" ] || fail "partial output left"
ls "$work" | grep -q tmp && fail "temporary file left"

# Runnable: visec run on it agrees with PyTorch loading the same file.
$py -c 'import torch, torchvision, numpy' 2>/dev/null || { echo "skip: no torch for the run check"; exit 77; }
$py tools/torch_reference.py gen --seed 3 --checkpoint unused --batch 1 --input "$work/x.npy" --input-only
$py tools/torch_reference.py run --checkpoint "$work/a.safetensors" --input "$work/x.npy" --output "$work/ref.npy"
"$visec" run "$model" --weights "$work/a.safetensors" --input "$work/x.npy" -o "$work/y.npy"
$py tools/compare_npy.py "$work/y.npy" "$work/ref.npy" --tol 1e-4
# sensible magnitudes: neither exploded nor vanished
$py -c "
import numpy as np, sys
m = np.abs(np.load(sys.argv[1])).max()
print('max|y| =', m); sys.exit(0 if 1 < m < 1e6 else 1)" "$work/y.npy" || fail "activations out of range"
echo ok
