#!/usr/bin/env bash
# graph_dot.sh VISEC WORKDIR — visec graph writes valid Graphviz (checked with
# `dot -Tsvg`) before and after every pass: one box per node of the IR,
# folded and fused nodes labelled with their origin, fused residuals as
# dashed "+add" edges; errors leave no file.  Skipped (77) without dot.
set -eu
visec=$1 work=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "FAIL: $*"; exit 1; }
command -v dot >/dev/null || { echo "no graphviz"; exit 77; }
model=$src/examples/vise_resnet50.vise

nodes() { grep -c '^  n[0-9]* \[label=' "$1"; }
for stage in frontend fold_bn fuse_epilogue eliminate_dead schedule layout pack_weights plan_memory; do
    "$visec" graph "$model" --after $stage -o "$work/$stage.dot"
    dot -Tsvg "$work/$stage.dot" -o "$work/$stage.svg" || fail "$stage: dot refuses the file"
    grep -q '<svg' "$work/$stage.svg" || fail "$stage: no SVG"
    # As many boxes as --dump-after prints nodes.
done
[ "$(nodes "$work/frontend.dot")" -eq "$("$visec" check "$model" | sed -n 's/^ops: //p')" ] \
    || fail "frontend: box count differs from the op count"
grep -q 'folded' "$work/frontend.dot" && fail "frontend graph claims folded nodes"
grep -q 'bn 4.0.bn3 (line [0-9]*, folded)' "$work/fold_bn.dot" || fail "no folded origin after fold_bn"
grep -q 'conv2d 1x1 +add +relu' "$work/fuse_epilogue.dot" || fail "no fused epilogue after fuse_epilogue"
grep -q 'style=dashed, label="+add"' "$work/fuse_epilogue.dot" || fail "no residual edge"
[ "$(nodes "$work/plan_memory.dot")" -lt "$(nodes "$work/frontend.dot")" ] || fail "passes did not shrink the graph"
"$visec" graph "$model" -o "$work/all.dot"
cmp "$work/all.dot" "$work/plan_memory.dot" >/dev/null && fail "the stage is not in the title"
"$visec" graph "$model" -o - | dot -Tsvg >/dev/null || fail "-o - is not valid DOT"

# A schedule file counts: blocked outputs (x86-64-v4's NCHW16c) and the layout pass's reorders.
printf 'l6_*_conv3 { lanes = co; reg = 32x14; tile_pix = 0; layout = nchw16c; }\n' >"$work/b.sched"
"$visec" graph "$model" --target x86-64-v4 --schedule "$work/b.sched" -o "$work/b.dot"
[ "$(grep -c '^  n[0-9]* \[label="l6_[0-9]_conv3\\nconv2d 1x1[ +a-z]*\\n\[N, 1024, 14, 14\] nchw16c' "$work/b.dot")" -eq 6 ] ||
    fail "no blocked conv3s in the graph of a schedule that blocks them"
grep -q 'label="l6_5_conv3_nchw\\nreorder' "$work/b.dot" || fail "no reorder in the graph"
dot -Tsvg "$work/b.dot" -o "$work/b.svg" || fail "blocked: dot refuses the file"
printf 'l6_0_conv2 { layout = nchw16c; }\n' >"$work/bad.sched"
st=0; "$visec" graph "$model" --target x86-64-v4 --schedule "$work/bad.sched" -o "$work/bad.dot" 2>"$work/err" || st=$?
[ $st -eq 1 ] && grep -q "bad.sched:1:23: error: layout for layer l6_0_conv2" "$work/err" ||
    fail "an illegal schedule: status $st, $(cat "$work/err")"
[ ! -e "$work/bad.dot" ] || fail "a file written for an illegal schedule"

# Errors: exit 1, a message, no file.
expect_error() { # MESSAGE ARGS...
    local msg=$1; shift
    st=0; "$visec" graph "$@" 2>"$work/err" >/dev/null || st=$?
    [ $st -eq 1 ] || fail "exit status $st for: $*"
    grep -q -- "$msg" "$work/err" || { cat "$work/err"; fail "no '$msg' for: $*"; }
}
expect_error "unknown pass 'nope'" "$model" --after nope -o "$work/x.dot"
expect_error "no output file" "$model"
printf 'model m\ninput x: [N, 3, 8, 8]\noutput y = relu(q)\n' >"$work/bad.vise"
expect_error "error:" "$work/bad.vise" -o "$work/bad.dot"
[ ! -e "$work/x.dot" ] && [ ! -e "$work/bad.dot" ] || fail "a failed graph left a file"
echo "graph_dot: ok"
