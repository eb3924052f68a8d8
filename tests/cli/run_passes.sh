#!/usr/bin/env bash
# run_passes.sh VISEC WORKDIR — visec run --passes: the interpreter on the
# optimized graph (folded, fused, packed, Winograd) agrees with the graph as
# written within 1e-5, with every pass and with each one disabled; pass
# options without --passes are refused.
set -eu
visec=$1 work=$2
fail() { echo "FAIL: $*"; exit 1; }
src=$(cd "$(dirname "$0")/../.." && pwd)
/usr/bin/python3 -c "import numpy" 2>/dev/null || { echo "no numpy"; exit 77; }

# Enough channels and tiles that the schedule picks Winograd for c2.
cat >"$work/m.vise" <<'M'
model m
input x: [N, 3, 32, 30]
h = relu(batchnorm(conv2d(x, "c1", out=40, kernel=3, stride=2, pad=1), "b1"))
s = h
h = relu(batchnorm(conv2d(h, "c2", out=40, kernel=3, pad=1), "b2"))
h = relu(add(batchnorm(conv2d(h, "c3", out=40, kernel=1), "b3"), s))
output y = maxpool(h, kernel=3, stride=2, pad=1)
M
"$visec" init-weights "$work/m.vise" --seed 9 -o "$work/w.safetensors"
/usr/bin/python3 -c "
import sys, numpy as np
np.save(sys.argv[1], np.random.default_rng(3).standard_normal((2, 3, 32, 30), dtype=np.float32))" "$work/x.npy"
run() { "$visec" run "$work/m.vise" --weights "$work/w.safetensors" --input "$work/x.npy" "$@"; }
run -o "$work/ref.npy"
run -o "$work/opt.npy" --passes --stats >"$work/stats"
grep -q "1 of them as Winograd" "$work/stats" || { cat "$work/stats"; fail "no Winograd conv in the test"; }
grep -q "3 batch norms folded" "$work/stats" || fail "no folding"
/usr/bin/python3 "$src/tools/compare_npy.py" --tol 1e-5 "$work/opt.npy" "$work/ref.npy" || fail "passes change the result"
passes=$("$visec" complete passes)
[ "$(echo "$passes" | wc -l)" -ge 7 ] || fail "visec complete passes: '$passes'"
for p in $passes; do
    run -o "$work/$p.npy" --passes --disable-pass=$p
    /usr/bin/python3 "$src/tools/compare_npy.py" --tol 1e-5 "$work/$p.npy" "$work/ref.npy" ||
        fail "passes without $p change the result"
done
st=0; run -o "$work/bad.npy" --stats 2>"$work/err" || st=$?
[ $st -eq 1 ] && grep -q "need --passes" "$work/err" || fail "--stats without --passes accepted"
[ ! -e "$work/bad.npy" ] || fail "output written after an option error"
echo "run_passes: ok"
