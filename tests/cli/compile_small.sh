#!/usr/bin/env bash
# compile_small.sh VISEC WORKDIR — visec compile on a small model with every
# op kind: option errors, nothing left behind on failure, byte-identical
# output, warning-free C99 under gcc and clang (with and without OpenMP),
# the same numbers as `visec run` and with and without OpenMP, batch 1 and
# 3, and .weights files refused when truncated, corrupt or for another model.
set -eu
. "$(dirname "$0")/src/lib.sh"

cp "$src/tests/cli/src/tiny.vise" "$work/tiny.vise"
sed -e 's/^model tiny/model other/' -e 's/out=6/out=4/' "$work/tiny.vise" >"$work/other.vise"
"$visec" init-weights "$work/tiny.vise" --seed 3 -o "$work/tiny.safetensors"
"$visec" init-weights "$work/other.vise" --seed 3 -o "$work/other.safetensors"

# ---- option errors: exit 1, a message, nothing written
mkdir -p "$work/out"
expect_error() { # MESSAGE ARGS...
    local msg=$1; shift
    st=0; "$visec" compile "$@" 2>"$work/err" >/dev/null || st=$?
    [ $st -eq 1 ] || fail "exit status $st for: $*"
    grep -q -- "$msg" "$work/err" || { cat "$work/err"; fail "no '$msg' for: $*"; }
    [ -z "$(ls -A "$work/out")" ] || fail "files left behind by: $*"
}
expect_error "no model description" --weights "$work/tiny.safetensors" -o "$work/out"
expect_error "no weights given" "$work/tiny.vise" -o "$work/out"
expect_error "no output directory" "$work/tiny.vise" --weights "$work/tiny.safetensors"
expect_error "output directory" "$work/tiny.vise" --weights "$work/tiny.safetensors" -o "$work/nodir/sub"
expect_error "is not a directory" "$work/tiny.vise" --weights "$work/tiny.safetensors" -o "$work/tiny.vise"
# A directory made for the output is removed again when compilation fails.
expect_error "error" "$work/tiny.vise" --weights "$work/other.safetensors" -o "$work/made"
[ ! -e "$work/made" ] || fail "a directory made for a failed compilation was left behind"
expect_error "not a valid C identifier" "$work/tiny.vise" --weights "$work/tiny.safetensors" -o "$work/out" --name 9x
expect_error "not a valid C identifier" "$work/tiny.vise" --weights "$work/tiny.safetensors" -o "$work/out" --name a-b
expect_error "clashes" "$work/tiny.vise" --weights "$work/tiny.safetensors" -o "$work/out" --name vx_model
expect_error "unknown option" "$work/tiny.vise" --weights "$work/tiny.safetensors" -o "$work/out" --bogus
expect_error "error" "$work/tiny.vise" --weights "$work/other.safetensors" -o "$work/out"
printf 'model two\ninput x: [N, 3, 8, 8]\na = relu(x)\noutput y = a\noutput z = a\n' >"$work/two.vise"
"$visec" init-weights "$work/two.vise" -o "$work/two.safetensors"
expect_error "not supported yet" "$work/two.vise" --weights "$work/two.safetensors" -o "$work/out"
"$visec" compile --help | grep -q "embed-weights" || fail "--help"

# ---- byte-identical output, with the default name and with --name
"$visec" compile "$work/tiny.vise" --weights "$work/tiny.safetensors" -o "$work/out"
"$visec" compile "$work/tiny.vise" --weights "$work/tiny.safetensors" -o "$work/out2"   # made
mkdir -p "$work/emb"
for f in tiny.h tiny.c tiny.weights; do cmp "$work/out/$f" "$work/out2/$f" || fail "$f differs"; done
[ "$(ls "$work/out" | tr '\n' ' ')" = "tiny.c tiny.h tiny.weights " ] || fail "unexpected files: $(ls "$work/out")"
"$visec" compile "$work/tiny.vise" --weights "$work/tiny.safetensors" -o "$work/out2" --name my_net
grep -q "^int my_net_run(my_net \*model" "$work/out2/my_net.h" || fail "--name"
"$visec" compile "$work/tiny.vise" --weights "$work/tiny.safetensors" -o "$work/emb" --embed-weights
[ "$(ls "$work/emb" | tr '\n' ' ')" = "tiny.c tiny.h " ] || fail "embed wrote: $(ls "$work/emb")"
mkdir -p "$work/other"
"$visec" compile "$work/other.vise" --weights "$work/other.safetensors" -o "$work/other"

# ---- reference: visec run (the interpreter)
/usr/bin/python3 -c "import numpy" 2>/dev/null || { echo "no numpy"; exit 77; }
/usr/bin/python3 - "$work" <<'P'
import sys, numpy as np
rng = np.random.default_rng(7)
np.save(sys.argv[1] + "/x1.npy", rng.standard_normal((1, 3, 17, 15)).astype(np.float32))
np.save(sys.argv[1] + "/x3.npy", rng.standard_normal((3, 3, 17, 15)).astype(np.float32))
P
for b in 1 3; do
    "$visec" run "$work/tiny.vise" --weights "$work/tiny.safetensors" --input "$work/x$b.npy" \
        -o "$work/ref$b.npy" >/dev/null || { echo "visec run not available"; exit 77; }
done

build_and_run tiny "$work/out"
for cc in gcc clang; do
    [ -x "$work/t_$cc-fopenmp" ] || continue
    # run() takes whole images per thread when the batch is whole rounds of the
    # threads (1 thread, or 3 threads and 3 images), else goes layer by layer
    # (2 threads, 3 images, above): the same bits either way.
    for th in 1 3; do
        OMP_NUM_THREADS=$th "$work/t_$cc-fopenmp" "$work/out/tiny.weights" "$work/x3.npy" "$work/y3$cc-t$th.npy"
        cmp "$work/y3$cc-t$th.npy" "$work/y3$cc-fopenmp.npy" || fail "$cc: $th threads change the results"
    done
done
build_driver tiny "$work/emb" "$work/t_emb" gcc $cflags -fopenmp
"$work/t_emb" - "$work/x3.npy" "$work/y3emb.npy"
cmp "$work/y3emb.npy" "$work/y3gcc-fopenmp.npy" || fail "embedded weights give other results"

# ---- the weights file is checked
exe="$work/t_gcc"
w="$work/out/tiny.weights"
size=$(stat -c %s "$w")
head -c $((size - 1)) "$w" >"$work/trunc.weights"
refuse "$exe" "$work/trunc.weights" "truncated"
cp "$w" "$work/flip.weights"
printf '\x55' | dd of="$work/flip.weights" bs=1 seek=$((size - 9)) conv=notrunc 2>/dev/null
cmp -s "$w" "$work/flip.weights" && fail "flip did not change the file"
refuse "$exe" "$work/flip.weights" "CRC-32"
refuse "$exe" "$work/other/other.weights" "another model"
refuse "$exe" "$work/nonexistent.weights" "cannot open"
refuse "$exe" "$work/x1.npy" "not a visec weights file"
"$work/t_emb" "$w" "$work/x1.npy" "$work/bad.npy" 2>"$work/err" && fail "embedded build took a path"
grep -q "pass NULL" "$work/err" || fail "embedded build: no message for a path"

# ---- maxpool propagates NaN like PyTorch, in the interior and at the borders
printf 'model pool\ninput x: [N, 2, 9, 8]\noutput y = maxpool(x, kernel=3, stride=2, pad=1)\n' >"$work/pool.vise"
"$visec" init-weights "$work/pool.vise" -o "$work/pool.safetensors"
mkdir -p "$work/pool"
"$visec" compile "$work/pool.vise" --weights "$work/pool.safetensors" -o "$work/pool"
build_driver pool "$work/pool" "$work/t_pool" gcc $cflags
/usr/bin/python3 - "$work" <<'P'
import sys, numpy as np
x = np.random.default_rng(5).standard_normal((1, 2, 9, 8)).astype(np.float32)
x[0, 0, 4, 3] = np.nan      # inside: reaches the windows around it
x[0, 1, 0, 7] = np.nan      # a corner: only border windows see it
np.save(sys.argv[1] + "/xnan.npy", x)
P
"$work/t_pool" "$work/pool/pool.weights" "$work/xnan.npy" "$work/ynan.npy"
/usr/bin/python3 - "$work" <<'P' || fail "maxpool NaN propagation differs from PyTorch's rule"
import sys, numpy as np
x, y = np.load(sys.argv[1] + "/xnan.npy"), np.load(sys.argv[1] + "/ynan.npy")
p = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
for c in range(2):
    for i in range(y.shape[2]):
        for j in range(y.shape[3]):
            w = p[0, c, 2 * i:2 * i + 3, 2 * j:2 * j + 3]
            want = np.nan if np.isnan(w).any() else w.max()
            got = y[0, c, i, j]
            assert (np.isnan(want) and np.isnan(got)) or want == got, (c, i, j, want, got)
assert np.isnan(y).sum() == 3, np.isnan(y).sum()   # 2 windows see the inner NaN, 1 the corner
P

# ---- several handles on several threads at once (with OpenMP inside each)
gcc $cflags -fopenmp -DMODEL=tiny -DUPPER=TINY -I"$work/out" -I"$src/tools" "$src/tests/cli/src/threads.c" \
    "$work/out/tiny.c" -lm -lpthread -o "$work/t_threads" || fail "threads.c does not compile cleanly"
OMP_NUM_THREADS=2 "$work/t_threads" "$work/out/tiny.weights" || fail "handles on threads disagree"

# ---- -DVX_PROFILE: per-layer times printed at close, same numbers
build_driver tiny "$work/out" "$work/t_prof" gcc $cflags -fopenmp -DVX_PROFILE
"$work/t_prof" "$work/out/tiny.weights" "$work/x3.npy" "$work/yprof.npy" 2>"$work/prof"
cmp "$work/yprof.npy" "$work/y3gcc-fopenmp.npy" || fail "profiling changes the results"
for layer in c1 maxpool c2 c3 avgpool c4 total; do
    grep -q "^$layer" "$work/prof" || { cat "$work/prof"; fail "no '$layer' in the profile"; }
done
# achieved GFLOP/s: a positive number for the convs, "-" for the ops without MACs
grep -q "GFLOP/s" "$work/prof" || { cat "$work/prof"; fail "no GFLOP/s column in the profile"; }
for layer in c1 c2 c3 c4 total; do
    awk -v l=$layer '$1 == l { n++; if ($NF !~ /^[0-9.e+-]+$/ || $NF + 0 <= 0) bad = 1 } END { exit !(n == 1 && !bad) }' \
        "$work/prof" || { cat "$work/prof"; fail "no GFLOP/s for $layer in the profile"; }
done
awk '$1 ~ /^maxpool/ { n++; if ($NF != "-") bad = 1 } END { exit !(n == 1 && !bad) }' "$work/prof" ||
    { cat "$work/prof"; fail "maxpool has a GFLOP/s figure"; }

# ---- sanitizers on the generated code
if gcc -fsanitize=address,undefined -x c /dev/null -c -o /dev/null 2>/dev/null; then
    build_driver tiny "$work/out" "$work/t_san" gcc -std=c99 -O1 -g -fsanitize=address,undefined \
        -fno-sanitize-recover=all -fopenmp
    ASAN_OPTIONS=detect_leaks=1 "$work/t_san" "$w" "$work/x3.npy" "$work/ysan.npy"
    compare "$work/ysan.npy" "$work/ref3.npy"
    ASAN_OPTIONS=detect_leaks=1 "$work/t_san" "$work/flip.weights" "$work/x1.npy" "$work/bad.npy" 2>/dev/null && fail "san: accepted"
fi
echo "compile_small: ok"
