#!/usr/bin/env bash
# demo.sh — the main job: compile the VisE ResNet-50 trunk to C, build the
# generated code with the feature-extraction example, run it on the bundled
# sample image and print the output shape, statistics and time taken.
#
# Weights: the real VisE checkpoint if VISE_CHECKPOINT names it (a torch.save
# state dict such as resnet50_250m.pth), else deterministic synthetic weights
# from `visec init-weights`.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${DEMO_DIR:-out/demo}
mkdir -p "$out"

make -s all
if [ -n "${VISE_CHECKPOINT:-}" ]; then
    weights=$VISE_CHECKPOINT
    echo "== weights: $weights"
else
    weights=$out/synthetic.safetensors
    echo "== weights: synthetic (set VISE_CHECKPOINT=/path/to/resnet50_250m.pth for the real ones)"
    bin/visec init-weights examples/vise_resnet50.vise --seed 1 -o "$weights"
fi

echo "== visec check"
bin/visec check examples/vise_resnet50.vise --weights "$weights"

echo "== visec compile"
bin/visec compile examples/vise_resnet50.vise --weights "$weights" -o "$out/gen" --stats

echo "== build the generated C with the example (gcc -O3 -march=native -fopenmp)"
make -s -C examples/embed GEN="$PWD/$out/gen" O="$PWD/$out"

echo "== run on examples/embed/sample.png (the first run includes loading; then a second image)"
"$out/embed" -w "$out/gen/vise_resnet50.weights" --features "$out/features.npy" \
    --embeddings "$out/embeddings.npy" examples/embed/sample.png examples/embed/sample.png
