#!/usr/bin/env bash
# checkpoints_everyday.sh VISEC WORKDIR — the checkpoints people have, written
# by PyTorch (tools/make_variants.py): torchvision's own naming, a training
# checkpoint ({"state_dict", argparse.Namespace, numpy scalars, optimizer},
# zip and legacy format),
# a DEFLATE re-zipped file, float16, an extra tensor, a pickled nn.Module.
# The first two compile and match PyTorch (max|y-ref| <= 1e-4 max|ref|);
# --strict refuses the extra tensor and the float16 conversion in check, run
# and compile; binding with the wrong description gives one error naming
# the right one.  Skipped (77) without torch.
set -eu
. "$(dirname "$0")/src/lib.sh"
need_torch
$py "$src/tools/make_variants.py" "$work" --seed 5 --batch 2
seq=$src/examples/vise_resnet50.vise
tv=$src/examples/vise_resnet50_torchvision.vise

compile_run() { # MODEL CHECKPOINT NAME REF
    mkdir -p "$work/$3"
    "$visec" compile "$1" --weights "$2" -o "$work/$3" 2>"$work/$3.err" || { cat "$work/$3.err"; fail "compile $3"; }
    build_driver vise_resnet50 "$work/$3" "$work/$3/t" gcc -std=c99 -Wall -Wextra -pedantic -Werror -O2 -fopenmp
    OMP_NUM_THREADS=2 "$work/$3/t" "$work/$3/vise_resnet50.weights" "$work/x.npy" "$work/$3/y.npy"
    compare "$work/$3/y.npy" "$4" "$3 differs from PyTorch"
    rm -rf "$work/${3:?}"    # 100 MB
}
expect_fail() { # PATTERN ARGS...  (exit 1, the pattern in stderr)
    local pat=$1; shift
    st=0; "$visec" "$@" >"$work/out" 2>"$work/err" || st=$?
    [ $st -eq 1 ] || { cat "$work/err"; fail "exit status $st for: $*"; }
    grep -q -- "$pat" "$work/err" || { cat "$work/err"; fail "no '$pat' for: $*"; }
}

# torchvision naming: the torchvision description; fc is reported unused.
compile_run "$tv" "$work/torchvision.pt" tv "$work/ref.npy"
grep -q "2 tensors are not used by the model: 'fc.bias', 'fc.weight'" "$work/tv.err" || fail "no fc warning"
# The wrong description: one error that names the right one, no per-tensor noise.
expect_fail "use examples/vise_resnet50_torchvision.vise" check "$seq" --weights "$work/torchvision.pt"
[ "$(grep -c 'error:' "$work/err")" -eq 1 ] || { cat "$work/err"; fail "more than one error"; }
grep -q "did you mean" "$work/err" && fail "misleading hints"
expect_fail "use examples/vise_resnet50.vise" check "$tv" --weights "$work/trunk.pt"
# The same scheme under another prefix: the prefix option that fits.
sed -e 's/"conv1"/"backbone.conv1"/' -e 's/"bn1"/"backbone.bn1"/' -e 's/"layer\([1-4]\)"/"backbone.layer\1"/' \
    -e "s|from \"vise_resnet50.vise\"|from \"$src/examples/vise_resnet50.vise\"|" "$tv" >"$work/backbone.vise"
expect_fail "the model's keys start with 'backbone.', the checkpoint's do not (try --add-prefix 'backbone.')" \
    check "$work/backbone.vise" --weights "$work/torchvision.pt"
"$visec" check "$work/backbone.vise" --weights "$work/torchvision.pt" --add-prefix backbone. >/dev/null 2>&1 ||
    fail "--add-prefix backbone. does not bind"

# A training checkpoint: the state dict is found, the extras are inert.
compile_run "$seq" "$work/training.pt" training "$work/ref.npy"
grep -q "using the state dict under the key 'state_dict'" "$work/training.err" || fail "no state_dict note"
expect_fail "state-dict key '4.0.conv1.weight' holds a 'argparse.Namespace' object" \
    check "$seq" --weights "$work/opaque_in_sd.pt"
expect_fail "torch.save(model.state_dict()" check "$seq" --weights "$work/module.pt"
grep -q "torch.nn.modules.container.Sequential" "$work/err" || fail "the module class is not named"
expect_fail "torch.save(model.state_dict()" check "$seq" --weights "$work/module_legacy.pt"
# The legacy format: the same training checkpoint binds, the same tensors.
"$visec" check "$seq" --weights "$work/training_legacy.pt" --strict >/dev/null 2>"$work/err" ||
    { cat "$work/err"; fail "legacy training checkpoint"; }
"$visec" inspect "$work/training.pt" | tail -n +3 >"$work/zip.txt"
"$visec" inspect "$work/training_legacy.pt" | tail -n +3 >"$work/legacy.txt"
cmp "$work/zip.txt" "$work/legacy.txt" || fail "the legacy training checkpoint reads differently"

# DEFLATE: the same tensors, the same checksums.
"$visec" inspect "$work/trunk.pt" | tail -n +2 >"$work/stored.txt"
"$visec" inspect "$work/deflated.pt" | tail -n +2 >"$work/deflated.txt"
cmp "$work/stored.txt" "$work/deflated.txt" || fail "the deflated checkpoint reads differently"
"$visec" check "$seq" --weights "$work/deflated.pt" 2>"$work/err" >/dev/null
grep -q "DEFLATE-compressed" "$work/err" || fail "no DEFLATE note"

# Conversions: a note without --strict, an error with it.
"$visec" check "$seq" --weights "$work/fp16.pt" >"$work/out" 2>"$work/err"
grep -q "note: .*265 tensors converted to float32 (265 from float16)" "$work/err" || fail "no conversion note"
grep -q "265 converted to float32" "$work/out" || fail "summary lacks the conversions"
"$visec" check "$seq" --weights "$work/extra.pt" >"$work/out" 2>"$work/err"
grep -q "warning: .*1 tensor is not used by the model: 'head.weight'" "$work/err" || fail "no unused warning"
grep -q "^weights: .* 265 bound, 1 ignored" "$work/out" || { cat "$work/out"; fail "summary lacks the ignored count"; }
for cmd in check run compile; do
    extra=
    [ $cmd = run ] && extra="--input $work/x.npy -o $work/strict.npy"
    [ $cmd = compile ] && extra="-o $work/strict_out"
    expect_fail "not used by the model (--strict): 'head.weight'" $cmd "$seq" --weights "$work/extra.pt" --strict $extra
    expect_fail "265 tensors would be converted to float32 (265 from float16) (--strict" \
        $cmd "$seq" --weights "$work/fp16.pt" --strict $extra
done
[ ! -e "$work/strict_out" ] && [ ! -e "$work/strict.npy" ] || fail "--strict failure left output"
"$visec" check "$seq" --weights "$work/trunk.pt" --strict >/dev/null || fail "--strict refuses a clean checkpoint"
echo "checkpoints_everyday: ok"
