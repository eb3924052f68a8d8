#!/usr/bin/env bash
# schedule_vise.sh VISEC WORKDIR — schedules on the VisE graph:
#   1. round trip for every target: compiling with the file 'visec schedule'
#      wrote gives byte-identical output to compiling without it (but for
#      the recorded command line, which names the schedule file);
#   2. random legal schedules (SCHED_RANDOM_VISE of them, 30 by default) on
#      VisE at a 64x64 input, each for one of the four fixed targets, built
#      with OpenMP and run at batch 2 against the interpreter;
#   3. the command's own errors leave no output behind.
set -eu
. "$(dirname "$0")/src/lib.sh"
$py -c "import numpy" 2>/dev/null || { echo "no numpy in $py"; exit 77; }

# ---- 1. round trip, every target, the full-size graph
"$visec" init-weights "$model" --seed 5 -o "$work/w.safetensors"
for t in generic x86-64-v3 x86-64-v4 aarch64 native; do
    "$visec" schedule "$model" --target $t -o "$work/$t.sched"
    grep -q "^target $t;" "$work/$t.sched" || fail "$t: no target line"
    [ "$(grep -c '^[a-z0-9_]* {$' "$work/$t.sched")" -eq 54 ] || fail "$t: not every layer spelled out"
    "$visec" compile "$model" --weights "$work/w.safetensors" --target $t -o "$work/a_$t"
    "$visec" compile "$model" --weights "$work/w.safetensors" --target $t --schedule "$work/$t.sched" -o "$work/b_$t"
    cmp "$work/a_$t/vise_resnet50.weights" "$work/b_$t/vise_resnet50.weights" ||
        fail "$t: the weights differ with the schedule visec schedule wrote"
    for f in vise_resnet50.c vise_resnet50.h; do
        [ "$(grep -c -- '--schedule' "$work/b_$t/$f")" -ge 1 ] || fail "$t: $f does not record --schedule"
        cmp <(code "$work/a_$t/$f") <(code "$work/b_$t/$f") ||
            fail "$t: $f differs with the schedule visec schedule wrote"
    done
    grep -q "Scheduled for target $t" "$work/a_$t/vise_resnet50.c" || fail "$t: target not recorded"
    echo "round trip $t: identical"
    rm -rf "$work/b_$t"
    [ $t = x86-64-v4 ] || rm -rf "$work/a_$t"    # 100 MB each; a_x86-64-v4 is used below
done
# A schedule is data: one changed entry changes that layer's code only.
sed '/^l4_0_conv2 {/,/^}/s/reg = .*/reg = 4x32;/' "$work/x86-64-v4.sched" >"$work/edit.sched"
"$visec" compile "$model" --weights "$work/w.safetensors" --target x86-64-v4 --schedule "$work/edit.sched" -o "$work/e"
grep -q "layer l4_0_conv2: conv2d" "$work/e/vise_resnet50.c" || fail "no l4_0_conv2 comment"
grep -A30 "layer l4_0_conv2: conv2d" "$work/e/vise_resnet50.c" | grep -q "schedule:  algo=winograd(4) reg=4x32" ||
    fail "the edited block size is not in l4_0_conv2's comment"
cmp -s "$work/e/vise_resnet50.c" "$work/a_x86-64-v4/vise_resnet50.c" && fail "the edit changed nothing"
rm -rf "$work/e" "$work/a_x86-64-v4" "$work/w.safetensors"

# ---- 2. random legal schedules against the interpreter, 64x64 input
sed 's/\[N, 3, 224, 224\]/[N, 3, 64, 64]/' "$model" >"$work/v64.vise"
"$visec" init-weights "$work/v64.vise" --seed 9 -o "$work/w64.safetensors"
$py -c "
import sys, numpy as np
np.save(sys.argv[1], np.random.default_rng(3).standard_normal((2, 3, 64, 64)).astype(np.float32))" "$work/x.npy"
"$visec" run "$work/v64.vise" --weights "$work/w64.safetensors" --input "$work/x.npy" -o "$work/ref.npy"
targets=(generic x86-64-v3 x86-64-v4 aarch64)
n=${SCHED_RANDOM_VISE:-30}
for seed in $(seq 1 "$n"); do
    t=${targets[$((seed % 4))]}
    d=$work/r$seed
    mkdir -p "$d"
    "$visec" schedule "$work/v64.vise" --target "$t" --random "$seed" -o "$d/s.sched"
    "$visec" compile "$work/v64.vise" --weights "$work/w64.safetensors" --target "$t" --schedule "$d/s.sched" -o "$d"
    cc -std=c99 -O1 -fopenmp -DMODEL=vise_resnet50 -DUPPER=VISE_RESNET50 -I"$d" "$src/tools/vx_driver.c" \
        "$d/vise_resnet50.c" -lm -o "$d/t" || fail "seed $seed: does not compile"
    OMP_NUM_THREADS=2 "$d/t" "$d/vise_resnet50.weights" "$work/x.npy" "$d/y.npy"
    echo -n "random schedule $seed ($t, $(grep -c 'algo = winograd' "$d/s.sched") winograd, $(grep -c 'algo = direct' "$d/s.sched") direct, $(grep -c 'layout = nchw[0-9]' "$d/s.sched") blocked): "
    compare "$d/y.npy" "$work/ref.npy" "seed $seed: wrong results"
    rm -rf "$d"
done

# ---- 3. errors: exit 1, a message, nothing written
expect_error() { # MESSAGE ARGS...
    local msg=$1; shift
    rm -f "$work/o.sched"
    st=0; "$visec" schedule "$@" 2>"$work/err" >/dev/null || st=$?
    [ $st -eq 1 ] || fail "exit status $st for: $*"
    grep -q -- "$msg" "$work/err" || { cat "$work/err"; fail "no '$msg' for: $*"; }
    [ ! -e "$work/o.sched" ] || fail "output left behind by: $*"
}
expect_error "unknown target 'pdp11'" "$model" --target pdp11 -o "$work/o.sched"
expect_error "from 1 to 2147483647" "$model" --random 0 -o "$work/o.sched"
expect_error "from 1 to 2147483647" "$model" --random x -o "$work/o.sched"
expect_error "no model description" --target generic -o "$work/o.sched"
expect_error "No such file" "$model" --schedule "$work/missing.sched" -o "$work/o.sched"
expect_error "error" "$model" -o "$work/nodir/o.sched"
"$visec" targets | grep -q "^x86-64-v4 *16 *32" || fail "visec targets"
"$visec" schedule --help | grep -q -- "--random" || fail "schedule --help"
echo "schedule_vise: ok"
