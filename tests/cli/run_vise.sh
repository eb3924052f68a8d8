#!/usr/bin/env bash
# run_vise.sh VISEC WORKDIR — visec run (the reference interpreter) on the VisE
# ResNet-50 trunk against PyTorch, batch 1 and batch 3, with random weights
# and random batch-norm statistics: max|y - ref| <= 1e-4 * max|ref|.
set -eu
visec=$1 work=$2
py=/usr/bin/python3
model=examples/vise_resnet50.vise
$py -c 'import torch, torchvision, numpy' 2>/dev/null || { echo "skip: no torch/torchvision in $py"; exit 77; }

# checkpoint, a batch-1 input and PyTorch's output
$py tools/torch_reference.py gen --seed 11 --checkpoint "$work/vise.pt" --batch 1 \
    --input "$work/x1.npy" --output "$work/ref1.npy"
# a batch-3 input and PyTorch's output for it, same checkpoint
$py tools/torch_reference.py gen --seed 12 --checkpoint unused --batch 3 --input "$work/x3.npy" --input-only
$py tools/torch_reference.py run --checkpoint "$work/vise.pt" --input "$work/x3.npy" --output "$work/ref3.npy"

for b in 1 3; do
    "$visec" run "$model" --weights "$work/vise.pt" --input "$work/x$b.npy" -o "$work/y$b.npy"
    echo "batch $b:"
    $py tools/compare_npy.py "$work/y$b.npy" "$work/ref$b.npy" --tol 1e-4
done

# The comparison must be able to fail: perturb one value of the output.
$py -c "
import numpy as np, sys
y = np.load(sys.argv[1]); y.flat[12345] += 1e-3 * np.abs(y).max(); np.save(sys.argv[2], y)
" "$work/y1.npy" "$work/bad1.npy"
if $py tools/compare_npy.py "$work/bad1.npy" "$work/ref1.npy" --tol 1e-4; then
    echo "compare_npy.py accepted a wrong output"; exit 1
fi
echo ok
