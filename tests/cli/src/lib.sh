# lib.sh — sourced by the tests/cli scripts, after their `set`:
#
#   . "$(dirname "$0")/src/lib.sh"
#
# Reads the script's arguments VISEC WORKDIR into visec and work (made
# absolute), sets py (the Python with numpy and torch), src (the source
# tree) and model (the VisE ResNet-50 trunk's description), and defines
# the checks the scripts share.
visec=$1
work=$(cd "$2" && pwd)
py=/usr/bin/python3
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
model=$src/examples/vise_resnet50.vise

# fail MESSAGE: the test fails.
fail() { echo "FAIL: $*"; exit 1; }

# need_torch: skip (77) unless $py imports torch and torchvision.
need_torch() {
    $py -c "import torch, torchvision" 2>/dev/null || { echo "no torch"; exit 77; }
}

# torch_ref SEED BATCH X REF: $work/ck.pt, a VisE checkpoint with random
# weights and batch-norm statistics, a random input X of BATCH images and
# PyTorch's output for it, REF.
torch_ref() {
    $py "$src/tools/torch_reference.py" gen --seed "$1" --checkpoint "$work/ck.pt" --batch "$2" \
        --input "$3" --output "$4"
}

# first_image: $work/x1.npy and $work/ref1.npy, the first image of
# $work/x3.npy and its output in $work/ref3.npy.
first_image() {
    $py -c "
import sys, numpy as np
np.save(sys.argv[1] + '/x1.npy', np.load(sys.argv[1] + '/x3.npy')[:1])
np.save(sys.argv[1] + '/ref1.npy', np.load(sys.argv[1] + '/ref3.npy')[:1])" "$work"
}

# compare GOT REF [LABEL]: max|GOT - REF| <= 1e-4 max|REF|, else the test
# fails, saying LABEL (by default: GOT differs from REF).
compare() {
    $py "$src/tools/compare_npy.py" "$1" "$2" || fail "${3:-$1 differs from $2}"
}

# build_driver NAME DIR OUT CC FLAGS...: tools/vx_driver.c with the
# generated NAME.c in DIR, built by CC with FLAGS into OUT; the test fails
# when that does not compile (cleanly, when FLAGS has -Werror).
build_driver() {
    local name=$1 dir=$2 out=$3 cc=$4
    shift 4
    "$cc" "$@" -DMODEL="$name" -DUPPER="${name^^}" -I"$dir" "$src/tools/vx_driver.c" "$dir/$name.c" \
        -lm -o "$out" || fail "$cc $*: the generated $dir/$name.c does not compile cleanly"
}

# The flags the generated code must compile cleanly with.
cflags="-std=c99 -Wall -Wextra -pedantic -Werror -O2"

# build_and_run NAME DIR: the generated NAME.c in DIR built by gcc and by
# clang (those installed), each with $cflags, without and with OpenMP, as
# $work/t_CC and $work/t_CC-fopenmp; each run at batch 1 and 3 on
# $work/xB.npy gives $work/refB.npy, and OpenMP the same bits.
build_and_run() {
    local name=$1 dir=$2 cc omp b exe
    for cc in gcc clang; do
        command -v $cc >/dev/null || { echo "no $cc"; continue; }
        for omp in "" -fopenmp; do
            exe=$work/t_$cc$omp
            build_driver "$name" "$dir" "$exe" $cc $cflags $omp
            for b in 1 3; do
                OMP_NUM_THREADS=2 "$exe" "$dir/$name.weights" "$work/x$b.npy" "$work/y$b$cc$omp.npy"
                compare "$work/y$b$cc$omp.npy" "$work/ref$b.npy"
            done
        done
        cmp "$work/y3$cc.npy" "$work/y3$cc-fopenmp.npy" || fail "$cc: OpenMP changes the results"
    done
}

# refuse EXE FILE MESSAGE: the driver EXE refuses the weights FILE with
# exit status 1 and MESSAGE.
refuse() {
    local st=0
    "$1" "$2" "$work/x1.npy" "$work/bad.npy" 2>"$work/err" || st=$?
    [ $st -eq 1 ] || fail "open accepted $2"
    grep -q "$3" "$work/err" || { cat "$work/err"; fail "no '$3' for $2"; }
    echo "refused $(basename "$2"): $(cat "$work/err")"
}

# code FILE: FILE without the lines that record visec's command line.
code() { grep -v -e '^ \*   visec compile ' -e '^ *"visec compile ' "$1"; }

# expect_status1 PATTERN COMMAND...: COMMAND exits with status 1 and
# PATTERN in what it writes to stderr ($work/e.err).
expect_status1() {
    local pat=$1 st=0
    shift
    "$@" >"$work/e.out" 2>"$work/e.err" || st=$?
    [ $st -eq 1 ] || { cat "$work/e.err"; fail "exit status $st for: $*"; }
    grep -q -- "$pat" "$work/e.err" || { cat "$work/e.err"; fail "expected '$pat' for: $*"; }
}

# build_embed: examples/embed built on the VisE code for weights of seed 7
# ($work/gen, $work/bin); its own code must be warning-free.  Sets embed (the program) and weights (its .weights file).
build_embed() {
    mkdir -p "$work/gen"
    "$visec" init-weights "$model" --seed 7 -o "$work/w.safetensors"
    "$visec" compile "$model" --weights "$work/w.safetensors" -o "$work/gen"
    make -s -C "$src/examples/embed" GEN="$work/gen" O="$work/bin" >"$work/build.log" 2>&1 ||
        { cat "$work/build.log"; fail "building the example failed"; }
    if grep -v 'stb_image.c\|vise_resnet50.c' "$work/build.log" | grep -q 'warning:'; then
        cat "$work/build.log"; fail "the example's own code has warnings"
    fi
    embed=$work/bin/embed
    weights=$work/gen/vise_resnet50.weights
}

# compare_crc FILE: the names and CRC-32s `visec inspect` prints equal the
# ones PyTorch wrote to FILE.crc (keys kept as stored).
compare_crc() {
    local got
    got=$("$visec" inspect "$1" --strip-prefix '' |
          awk 'NR > 1 && length($NF) == 8 && $NF ~ /^[0-9a-f]+$/ { print $1, $NF }' | sort) || return 1
    if [ "$got" != "$(sort "$1.crc")" ]; then
        echo "$1: checksums differ from PyTorch's:"
        diff <(sort "$1.crc") <(echo "$got") | head -10
        return 1
    fi
}
