#!/usr/bin/env bash
# unary_ops.sh VISEC WORKDIR — every elementwise op of ir/ops.h's
# VISEC_UNARY_OPS against PyTorch, on a 4-d map (y = OP(conv2d(x))) and a
# 2-d one (y = OP(linear(flatten(global_avgpool(x))))): the interpreter and the
# generated code built by gcc and clang with -Werror, with and without
# OpenMP, at batch 1 and 3.  A new one adds its row to the table below;
# an op of ops.h without a row fails the test.
set -eu
. "$(dirname "$0")/src/lib.sh"
need_torch

# op, then the same function in PyTorch of the tensor a
table="
sigmoid torch.sigmoid(a)
"
for op in $(sed -n 's/^ *X([A-Z0-9_]*, *"\([a-z0-9_]*\)".*/\1/p' "$src/ir/ops.h"); do
    echo "$table" | grep -q "^$op " || fail "$op: an op of VISEC_UNARY_OPS (ir/ops.h) with no row here"
done

echo "$table" | while read -r op fn; do
    [ -n "$op" ] || continue
    for rank in 4 2; do
        d=$work/${op}_$rank
        mkdir -p "$d"
        case $rank in
        4) body="$op(conv2d(x, \"c\", out=6, kernel=3, pad=1, bias=true))" ;;
        2) body="$op(linear(flatten(global_avgpool(x)), \"fc\", out=6, bias=true))" ;;
        esac
        printf 'model u\ninput x: [N, 5, 9, 7]\noutput y = %s\n' "$body" >"$d/u.vise"
        "$visec" init-weights "$d/u.vise" --seed 3 -o "$d/w.safetensors"
        $py - "$d" "$rank" "$fn" "$src/tools" <<'PY'
import sys
import numpy as np
import torch
sys.path.insert(0, sys.argv[4])
from torch_reference import load_safetensors
d, rank, fn = sys.argv[1], int(sys.argv[2]), sys.argv[3]
w = load_safetensors(d + "/w.safetensors")
x = torch.randn(3, 5, 9, 7, generator=torch.Generator().manual_seed(5)) * 3
with torch.no_grad():
    if rank == 4:
        a = torch.nn.functional.conv2d(x, w["c.weight"], w["c.bias"], padding=1)
    else:
        a = torch.nn.functional.linear(x.mean((2, 3)), w["fc.weight"], w["fc.bias"])
    y = eval(fn)
for b in (1, 3):
    np.save("%s/x%d.npy" % (d, b), x[:b].numpy())
    np.save("%s/ref%d.npy" % (d, b), y[:b].numpy())
PY
        "$visec" run "$d/u.vise" --weights "$d/w.safetensors" --input "$d/x3.npy" -o "$d/interp.npy"
        compare "$d/interp.npy" "$d/ref3.npy" "$op, rank $rank: the interpreter differs from PyTorch"
        "$visec" compile "$d/u.vise" --weights "$d/w.safetensors" -o "$d"
        grep -q "$op: y = " "$d/u.c" || fail "$op: no layer comment"
        for b in 1 3; do cp "$d/x$b.npy" "$d/ref$b.npy" "$work/"; done
        build_and_run u "$d"
        echo "$op, rank $rank: interpreter and generated code match PyTorch"
    done
done
echo "unary_ops: ok"
