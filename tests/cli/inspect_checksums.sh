#!/usr/bin/env bash
# inspect_checksums.sh VISEC WORKDIR — `visec inspect` lists every tensor of
# small checkpoints in every format and dtype PyTorch writes (zip, legacy,
# float16, bfloat16, float64, safetensors, nested, module.-prefixed,
# non-contiguous views, shared storages) with the CRC-32 PyTorch computes.
set -u
. "$(dirname "$0")/src/lib.sh"
/usr/bin/python3 -c 'import torch' 2>/dev/null || { echo "skip: /usr/bin/python3 has no torch"; exit 77; }
/usr/bin/python3 tools/make_checkpoints.py "$work" --small-only || exit 1

n=0
for f in "$work"/*.pt "$work"/*.safetensors; do
    compare_crc "$f" || exit 1
    n=$((n + 1))
done
[ $n -eq 17 ] || { echo "expected 17 checkpoints, found $n"; exit 1; }

# The header names the format, the count and the conversion.
out=$("$visec" inspect "$work/small_f16.pt") || exit 1
echo "$out" | head -1 | grep -q 'PyTorch zip format.*8 tensors' || { echo "bad header: $out"; exit 1; }
echo "$out" | grep -q '^conv.weight  *float16 -> float32  *\[4, 3, 3, 3\]  *216 ' || { echo "bad line: $out"; exit 1; }
"$visec" inspect "$work/small_legacy.pt" | head -1 | grep -q 'PyTorch legacy format' || exit 1
"$visec" inspect "$work/small.safetensors" | head -1 | grep -q 'safetensors format' || exit 1
# Nested and prefixed dicts are found automatically, and the tool says so.
"$visec" inspect "$work/small_nested.pt" | grep -q "under the key 'state_dict' (found automatically" || exit 1
"$visec" inspect "$work/small_module.pt" | grep -q "prefix 'module.' removed" || exit 1
"$visec" inspect "$work/small_module.pt" | grep -q '^bn.running_var ' || exit 1
"$visec" inspect "$work/small.pt" --add-prefix net. | grep -q '^net.bn.running_var ' || exit 1
# --select must name a dictionary.
"$visec" inspect "$work/small_nested.pt" --select epoch 2>"$work/err"; st=$?
[ $st -eq 1 ] && grep -q "error: .*--select 'epoch': that entry is not a dictionary" "$work/err" || { cat "$work/err"; exit 1; }
"$visec" inspect --help | grep -q '^usage: visec inspect FILE' || exit 1
"$visec" inspect "$work/nonexistent.pt" 2>"$work/err"; st=$?
[ $st -eq 1 ] && grep -q "error: .*nonexistent.pt: cannot open" "$work/err" || exit 1
echo "ok: $n checkpoints"
