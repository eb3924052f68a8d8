#!/usr/bin/env bash
# run_errors.sh VISEC WORKDIR — visec run refuses bad inputs and options with
# a clear message and exit status 1, and never leaves or clobbers an output.
set -eu
visec=$1 work=$2
fail() { echo "FAIL: $*"; exit 1; }

cat >"$work/tiny.vise" <<'VISE'
model tiny
input x: [N, 3, 8, 8]
h = relu(batchnorm(conv2d(x, "c", out=4, kernel=3, pad=1), "bn"))
output y = h
output z = relu(h)
VISE
"$visec" init-weights "$work/tiny.vise" --seed 1 -o "$work/tiny.st"

# .npy files with exact headers, written here without numpy.
npy() { # file descr shape nbytes
    local hdr="{'descr': '$2', 'fortran_order': False, 'shape': $3, }"
    while [ $(( (10 + ${#hdr} + 1) % 64 )) -ne 0 ]; do hdr="$hdr "; done
    { printf '\x93NUMPY\x01\x00'; printf "\\x$(printf %02x $(( (${#hdr} + 1) % 256 )))\\x$(printf %02x $(( (${#hdr} + 1) / 256 )))";
      printf '%s\n' "$hdr"; head -c "$4" /dev/zero; } >"$1"
}
npy "$work/ok.npy" '<f4' '(2, 3, 8, 8)' $((2 * 3 * 64 * 4))
npy "$work/badshape.npy" '<f4' '(2, 3, 9, 8)' $((2 * 3 * 72 * 4))
npy "$work/rank3.npy" '<f4' '(3, 8, 8)' $((3 * 64 * 4))
npy "$work/f8.npy" '<f8' '(1, 3, 8, 8)' $((3 * 64 * 8))
npy "$work/short.npy" '<f4' '(1, 3, 8, 8)' 100

# the good case first: two images in, [2, 4, 8, 8] out
"$visec" run "$work/tiny.vise" --weights "$work/tiny.st" --input "$work/ok.npy" --output z -o "$work/z.npy"
[ "$(head -c 128 "$work/z.npy" | tr -d '\0' | grep -ao "'shape': ([0-9, ]*)")" = "'shape': (2, 4, 8, 8)" ] ||
    fail "wrong output header"

echo old >"$work/keep.npy"
check() { # expected-message-fragment args...
    local want=$1; shift
    st=0; "$visec" run "$@" 2>"$work/err" || st=$?
    [ $st -eq 1 ] || { cat "$work/err"; fail "exit status $st for: $*"; }
    grep -qF -- "$want" "$work/err" || { cat "$work/err"; fail "message lacks '$want' for: $*"; }
    [ "$(cat "$work/keep.npy")" = old ] || fail "output clobbered by: $*"
}
M="$work/tiny.vise"
W="--weights $work/tiny.st"
O="-o $work/keep.npy"
check "array of shape [2, 3, 9, 8] does not fit input 'x' of shape [N, 3, 8, 8]" $M $W --input "$work/badshape.npy" --output y $O
check "array of shape [3, 8, 8] does not fit input 'x' of shape [N, 3, 8, 8]" $M $W --input "$work/rank3.npy" --output y $O
check "dtype '<f8' is not float32" $M $W --input "$work/f8.npy" --output y $O
check "truncated" $M $W --input "$work/short.npy" --output y $O
check "cannot open" $M $W --input "$work/nonexistent.npy" --output y $O
check "has 2 outputs (y, z); choose one with --output NAME" $M $W --input "$work/ok.npy" $O
check "has no output named 'w'" $M $W --input "$work/ok.npy" --output w $O
check "has 1 input, got 2 --input files" $M $W --input "$work/ok.npy" --input "$work/ok.npy" --output y $O
check "no weights given" $M --input "$work/ok.npy" --output y $O
check "no input given" $M $W --output y $O
check "no output file given" $M $W --input "$work/ok.npy" --output y
check "no model description given" $W --input "$work/ok.npy" $O
check "unknown option '--bogus'" $M $W --input "$work/ok.npy" --bogus $O
check "option '--input' needs a value" $M $W --input
check "cannot create" $M $W --input "$work/ok.npy" --output y -o "$work/nodir/y.npy"
ls "$work" | grep -q 'tmp' && fail "temporary file left"
"$visec" run --help | grep -q -- "--weights FILE" || fail "help lacks --weights"
echo ok
