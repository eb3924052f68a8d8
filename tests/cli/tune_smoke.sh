#!/usr/bin/env bash
# tune_smoke.sh VISEC WORKDIR — visec tune on a small model with a 30 s
# budget: it keeps to the budget, writes a schedule file that compile
# accepts, with a measured time in every conv's comment; Ctrl-C leaves no
# file; errors exit 1.
set -eu
visec=$1 work=$2
fail() { echo "FAIL: $*"; exit 1; }
command -v "${CC:-cc}" >/dev/null || { echo "no C compiler"; exit 77; }
model=tests/dumps/resblock.vise
"$visec" init-weights "$model" --seed 2 -o "$work/w.safetensors"

start=$(date +%s)
"$visec" tune "$model" --weights "$work/w.safetensors" --target x86-64-v3 --budget 30 --runs 3 \
    -o "$work/t.sched" 2>"$work/progress" || { cat "$work/progress"; fail "tune failed"; }
took=$(( $(date +%s) - start ))
cat "$work/progress"
[ $took -le 45 ] || fail "a 30 s budget took $took s"
grep -q "^tune: round 0" "$work/progress" || fail "no progress lines"
grep -q "^# Tuned by 'visec tune'" "$work/t.sched" || fail "no tuning header"
[ "$(grep -c '^# tuned on this machine: ' "$work/t.sched")" -eq 4 ] || fail "not every conv has its measured time"
"$visec" compile "$model" --weights "$work/w.safetensors" --target x86-64-v3 --schedule "$work/t.sched" \
    -o "$work/out" || fail "compile refuses the tuned schedule"

# Ctrl-C (during the first build of a bigger model): exit 130, nothing
# written, no work directory left
sed 's/\[N, 3, 224, 224\]/[N, 3, 64, 64]/' examples/vise_resnet50.vise >"$work/v64.vise"
"$visec" init-weights "$work/v64.vise" --seed 1 -o "$work/w64.safetensors"
before=$(ls -d /tmp/visec-tune-* 2>/dev/null | wc -l)
"$visec" tune "$work/v64.vise" --weights "$work/w64.safetensors" --budget 300 -o "$work/int.sched" 2>"$work/int.log" &
pid=$!
sleep 3
kill -INT $pid
st=0; wait $pid || st=$?
[ $st -eq 130 ] || { cat "$work/int.log"; fail "exit status $st after Ctrl-C, expected 130"; }
[ ! -e "$work/int.sched" ] || fail "an interrupted tune left a file"
ls "$work" | grep -q '^int.sched' && fail "an interrupted tune left a temporary file"
after=$(ls -d /tmp/visec-tune-* 2>/dev/null | wc -l)
[ "$after" -le "$before" ] || fail "an interrupted tune left its work directory"

# errors
st=0; "$visec" tune "$model" -o "$work/e.sched" 2>"$work/err" || st=$?
[ $st -eq 1 ] && grep -q "needs --weights" "$work/err" || fail "tune without weights"
st=0; "$visec" tune "$model" --weights "$work/w.safetensors" --budget 0 2>"$work/err" || st=$?
[ $st -eq 1 ] && grep -q "from 1 to 86400" "$work/err" || fail "--budget 0"
echo "tune_smoke: ok ($took s)"
