#!/usr/bin/env bash
# bind_vise.sh VISEC WORKDIR — full-size VisE checkpoints written by PyTorch
# (zip, legacy, float16, bfloat16, safetensors, nested, module.-prefixed):
# `visec inspect` lists all 318 tensors with PyTorch's checksums, and
# `visec check examples/vise_resnet50.vise --weights FILE` binds each one.
set -u
. "$(dirname "$0")/src/lib.sh"
/usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null || { echo "skip: /usr/bin/python3 has no torch"; exit 77; }
/usr/bin/python3 tools/make_checkpoints.py "$work" || exit 1

for f in vise.pt vise_legacy.pt vise_f16.pt vise_bf16.pt vise.safetensors vise_nested.pt vise_module.pt; do
    [ "$(wc -l <"$work/$f.crc")" -eq 318 ] || { echo "$f.crc: not 318 tensors"; exit 1; }
    "$visec" inspect "$work/$f" | head -1 | grep -q ', 318 tensors, 23561205 elements$' || { echo "$f: header"; exit 1; }
    compare_crc "$work/$f" || exit 1
    "$visec" check "$model" --weights "$work/$f" >"$work/out" 2>"$work/err" || { echo "$f: check failed"; cat "$work/err"; exit 1; }
    grep -q '^parameters: 23508032 ' "$work/out" || exit 1
    grep -q 'error' "$work/err" && { cat "$work/err"; exit 1; }
    echo "ok: $f"
done
# The automatic choices are reported; explicit options give the same result.
"$visec" check $model --weights "$work/vise_nested.pt" 2>&1 >/dev/null | grep -q "note: .*using the state dict under the key 'state_dict'" || exit 1
"$visec" check $model --weights "$work/vise_module.pt" 2>&1 >/dev/null | grep -q "note: .*removing the prefix 'module.'" || exit 1
"$visec" check $model --weights "$work/vise_nested.pt" --select state_dict 2>&1 >/dev/null | grep -q note && exit 1
"$visec" check $model --weights "$work/vise_module.pt" --strip-prefix module. 2>"$work/err" >/dev/null || exit 1
# Keeping the prefix leaves every tensor unmatched, with a hint.
"$visec" check $model --weights "$work/vise_module.pt" --strip-prefix '' 2>"$work/err" >/dev/null; st=$?
[ $st -eq 1 ] && grep -q "error: .*265 of the 265 tensors are missing: the checkpoint's keys start with 'module.' (try --strip-prefix 'module.')" "$work/err" || { head "$work/err"; exit 1; }
# A prefix added to a plain checkpoint makes every key miss, with a hint.
"$visec" check $model --weights "$work/vise.pt" --add-prefix net. 2>"$work/err" >/dev/null; st=$?
[ $st -eq 1 ] && grep -q "265 of the 265 tensors are missing: the checkpoint's keys start with 'net.' (try --strip-prefix 'net.')" "$work/err" || { head "$work/err"; exit 1; }
"$visec" check $model --select x 2>"$work/err"; [ $? -eq 1 ] && grep -q "need --weights" "$work/err" || exit 1
echo "ok"
