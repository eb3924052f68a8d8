#!/usr/bin/env bash
# check_inputs.sh VISEC WORKDIR — `visec check` on hostile input: missing,
# binary and huge files, floods of errors, deep nesting.  Each ends with
# exit status 1 and a located message; none crashes or hangs.
set -u
visec=$1 work=$2

fails() { # name expected-message-pattern file
    timeout 60 "$visec" check "$3" >"$work/$1.out" 2>"$work/$1.err"; st=$?
    [ $st -eq 1 ] || { echo "$1: exit status $st, expected 1"; cat "$work/$1.err"; exit 1; }
    [ -s "$work/$1.out" ] && { echo "$1: printed a summary"; exit 1; }
    grep -Eq "$2" "$work/$1.err" || { echo "$1: no message matching '$2':"; head "$work/$1.err"; exit 1; }
}

fails missing "^visec: error: cannot open '$work/none.vise'" "$work/none.vise"
printf 'model m\000\n' >"$work/nul.vise"
fails nul "contains a NUL byte" "$work/nul.vise"
fails dir "^visec: error: cannot read" "$work"

# A flood of mistakes: the first 50 are shown, then the compiler stops.
{ echo "model m"; echo "input x: [N, 3, 8, 8]"
  for i in $(seq 100); do echo "h$i = relu(q$i)"; done; echo "output y = x"; } >"$work/flood.vise"
fails flood "too many errors; stopping" "$work/flood.vise"
[ "$(grep -c ': error: ' "$work/flood.err")" -eq 50 ] || { echo "flood: not 50 errors"; exit 1; }

# Deep nesting is an error, not a stack overflow.
{ echo "model m"; echo "input x: [N, 3, 8, 8]"; printf 'a = '
  for i in $(seq 3000); do printf -- '-'; done; echo 1; echo "output y = x"; } >"$work/deep.vise"
fails deep "^$work/deep.vise:3:[0-9]+: error: expression is nested more than 100 deep" "$work/deep.vise"
{ echo "model m"; echo "input x: [N, 3, 8, 8]"; printf 'a = 1'
  for i in $(seq 20000); do printf ' + 1'; done; echo; echo "output y = x"; } >"$work/chain.vise"
fails chain "error: expression is nested more than 100 deep" "$work/chain.vise"
{ echo "model m"; echo "input x: [N, 3, 8, 8]"; printf 'a = '
  for i in $(seq 6000); do printf '('; done; printf 1
  for i in $(seq 6000); do printf ')'; done; echo; echo "output y = x"; } >"$work/parens.vise"
fails parens "error: nested too deeply for the parser" "$work/parens.vise"

# Runaway loops stop at a limit.
printf 'model m\ninput x: [N, 3, 8, 8]\nfor i in 0..10000 {\n  for j in 0..10000 {\n    k = i\n  }\n}\noutput y = x\n' >"$work/loop.vise"
fails loop "error: elaboration stopped after 1000000 steps" "$work/loop.vise"

# A long but valid model is fine: 300 blocks of 3 ops.
{ echo "model deep"; echo "input x: [N, 8, 8, 8]"
  echo 'block unit(x: tensor, p: string) {'
  echo '    return relu(batchnorm(conv2d(x, "{p}.conv", out=8, kernel=3, pad=1), "{p}.bn"))'
  echo '}'
  echo 'h = x'; echo 'for i in 0..300 {'; echo '    h = unit(h, "u{i}")'; echo '}'; echo 'output y = h'; } >"$work/long.vise"
timeout 60 "$visec" check "$work/long.vise" >"$work/long.out" || { echo "long: failed"; exit 1; }
grep -q '^  conv2d *300$' "$work/long.out" || { cat "$work/long.out"; exit 1; }
echo ok
