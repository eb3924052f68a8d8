#!/usr/bin/env bash
# halide_example.sh VISEC WORKDIR — examples/halide: a Halide AOT generator
# (centre crop + ImageNet normalization) chained with the trunk compiled by
# --runtime halide on one runtime.  The program builds warning-free, runs on
# examples/embed/sample.png, and its features' statistics match the OpenMP
# trunk run on the same crop made with numpy.  Skipped (77) without Halide,
# stb or numpy/PIL.
set -eu
visec=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$(cd "$2" && pwd)      # absolute: make -C changes directory
py=/usr/bin/python3
fail() { echo "FAIL: $*"; exit 1; }
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/cli/src/halide.sh"
halide_setup "$work"
[ -f /usr/include/stb/stb_image.h ] || { echo "no stb_image.h"; exit 77; }
$py -c "import numpy, PIL" 2>/dev/null || { echo "no numpy or PIL"; exit 77; }
model=$src/examples/vise_resnet50.vise
img=$src/examples/embed/sample.png

"$visec" init-weights "$model" --seed 5 -o "$work/w.safetensors"
"$visec" compile "$model" --weights "$work/w.safetensors" -o "$work/hl" --runtime halide
make -s -C "$src/examples/halide" GEN="$work/hl" O="$work/ex" RUNTIME="$HL_RT" CFLAGS="-O2 -Werror" \
    || fail "the example does not build"
HL_NUM_THREADS=2 "$work/ex/halide_vise" "$work/hl/vise_resnet50.weights" "$img" --repeat 2 | tee "$work/out"
grep -q '^features: \[1, 2048, 7, 7\]' "$work/out" || fail "no features line"
grep -q '^time (median of 2): preprocess [0-9.]* ms, trunk [0-9.]* ms' "$work/out" || fail "no times"

# The reference: the same crop and normalization in numpy, the OpenMP trunk.
"$visec" compile "$model" --weights "$work/w.safetensors" -o "$work/omp"
gcc -std=c99 -O2 -fopenmp -DMODEL=vise_resnet50 -DUPPER=VISE_RESNET50 -I"$work/omp" "$src/tools/vx_driver.c" \
    "$work/omp/vise_resnet50.c" -lm -o "$work/omp_run"
$py -c "
import sys, numpy as np
from PIL import Image
a = np.asarray(Image.open(sys.argv[1]).convert('RGB'))
h, w, _ = a.shape
top, left = (h - 224) // 2, (w - 224) // 2
c = a[top:top + 224, left:left + 224].astype(np.float32).transpose(2, 0, 1)
mean = np.array([0.485, 0.456, 0.406], np.float32)[:, None, None]
std = np.array([0.229, 0.224, 0.225], np.float32)[:, None, None]
np.save(sys.argv[2], ((c / np.float32(255) - mean) / std)[None].astype(np.float32))" "$img" "$work/x.npy"
OMP_NUM_THREADS=2 "$work/omp_run" "$work/omp/vise_resnet50.weights" "$work/x.npy" "$work/y.npy"
$py -c "
import sys, re, numpy as np
y = np.load(sys.argv[1]).astype(np.float64)
line = [l for l in open(sys.argv[2]) if l.startswith('features:')][0]
got = [float(v) for v in re.findall(r'(?:min|max|mean) ([-0-9.e+]+)', line)]
want = [y.min(), y.max(), y.mean()]
print('numpy + OpenMP trunk: min %.6g max %.6g mean %.6g' % tuple(want))
scale = max(abs(y).max(), 1e-30)
bad = [(g, r) for g, r in zip(got, want) if abs(g - r) > 1e-4 * scale]
sys.exit('statistics differ: %s' % bad if bad else 0)" "$work/y.npy" "$work/out" || fail "the example's features differ"
echo "halide_example: ok"
