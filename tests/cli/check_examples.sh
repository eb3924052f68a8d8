#!/usr/bin/env bash
# check_examples.sh VISEC WORKDIR — `visec check` on the two example models
# prints the op counts, parameters, multiply-accumulates and output shapes
# of torchvision's resnet50 trunk and classifier.
set -eu
visec=$1 work=$2

expect() { # file pattern
    grep -Eq "$2" "$1" || { echo "$1: no line matching '$2':"; cat "$1"; exit 1; }
}

"$visec" check examples/vise_resnet50.vise >"$work/trunk.txt"
expect "$work/trunk.txt" '^model vise_resnet50 '
expect "$work/trunk.txt" '^  input +x +\[N, 3, 224, 224\]$'
expect "$work/trunk.txt" '^  output +features +\[N, 2048, 7, 7\]$'
expect "$work/trunk.txt" '^  conv2d +53$'
expect "$work/trunk.txt" '^  batchnorm +53$'
expect "$work/trunk.txt" '^  relu +49$'
expect "$work/trunk.txt" '^  add +16$'
expect "$work/trunk.txt" '^  maxpool +1$'
expect "$work/trunk.txt" '^parameters: 23508032 '
expect "$work/trunk.txt" '^multiply-accumulates per image: 4087136256 '
if grep -Eq 'linear|global_avgpool|flatten' "$work/trunk.txt"; then
    echo "the trunk has classifier ops"; exit 1
fi

"$visec" check examples/resnet50.vise >"$work/full.txt"
expect "$work/full.txt" '^model resnet50 '
expect "$work/full.txt" '^  output +logits +\[N, 1000\]$'
expect "$work/full.txt" '^  conv2d +53$'
expect "$work/full.txt" '^  global_avgpool +1$'
expect "$work/full.txt" '^  flatten +1$'
expect "$work/full.txt" '^  linear +1$'
expect "$work/full.txt" '^parameters: 25557032 '

# The trunk fits the budget of the language: at most 80 lines.
n=$(wc -l <examples/vise_resnet50.vise)
[ "$n" -le 80 ] || { echo "examples/vise_resnet50.vise has $n lines"; exit 1; }
echo ok
