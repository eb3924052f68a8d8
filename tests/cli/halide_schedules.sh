#!/usr/bin/env bash
# halide_schedules.sh VISEC WORKDIR — --runtime: the default output is the
# OpenMP one byte for byte; an unknown runtime is refused; with --runtime
# halide a small model with every op kind (input 'weights' refused), under
# its default schedule, with embedded weights, -O0, winograd(4) inside
# images, pixel tiles in few groups (each group's channel blocks shared
# out), and random legal schedules (parallel over the batch, inside images,
# none; gemm, direct, Winograd, reduction tiles), compiles warning-free
# with gcc and clang and gives bit-identical outputs to the OpenMP build of
# the same schedule, at batch 1 and 3.  Skipped (77) without Halide.
set -eu
. "$(dirname "$0")/src/lib.sh"
. "$src/tests/cli/src/halide.sh"

cp "$src/tests/cli/src/tiny.vise" "$work/tiny.vise"
"$visec" init-weights "$work/tiny.vise" --seed 3 -o "$work/tiny.safetensors"

# ---- the default is OpenMP, byte for byte; unknown runtimes are refused
"$visec" compile "$work/tiny.vise" --weights "$work/tiny.safetensors" -o "$work/default"
"$visec" compile "$work/tiny.vise" --weights "$work/tiny.safetensors" -o "$work/openmp" --runtime openmp
# (but for the lines that record visec's command line, which names --runtime: code)
cmp "$work/default/tiny.weights" "$work/openmp/tiny.weights" || fail "--runtime openmp changes tiny.weights"
for f in tiny.h tiny.c; do
    grep -q -- '--runtime openmp' "$work/openmp/$f" || fail "$f does not record --runtime openmp"
    cmp <(code "$work/default/$f") <(code "$work/openmp/$f") || fail "--runtime openmp changes $f"
done
grep -q 'HalideRuntime\|halide_do_par_for\|halide_malloc' "$work/default/tiny.c" && fail "the OpenMP output uses Halide"
st=0; "$visec" compile "$work/tiny.vise" --weights "$work/tiny.safetensors" -o "$work/bad" --runtime tbb \
    2>"$work/err" || st=$?
[ $st -eq 1 ] && grep -q "unknown runtime 'tbb'" "$work/err" || fail "--runtime tbb: status $st, $(cat "$work/err")"
[ ! -e "$work/bad" ] || fail "files left behind by --runtime tbb"

# an input called like the weights argument is refused, nothing written
sed -e 's/^input x:/input weights:/' -e 's/conv2d(x,/conv2d(weights,/' "$work/tiny.vise" >"$work/w.vise"
st=0; "$visec" compile "$work/w.vise" --weights "$work/tiny.safetensors" -o "$work/badw" --runtime halide \
    2>"$work/err" || st=$?
[ $st -eq 1 ] && grep -q "the input 'weights' is the name of the weights argument" "$work/err" \
    || fail "input 'weights': status $st, $(cat "$work/err")"
[ ! -e "$work/badw" ] || fail "files left behind for input 'weights'"

halide_setup "$work"
# ---- the same numbers from both runtimes, schedule by schedule
$py -c "
import numpy as np, sys
rng = np.random.default_rng(5)
np.save(sys.argv[1] + '/x3.npy', rng.standard_normal((3, 3, 17, 15)).astype(np.float32))
np.save(sys.argv[1] + '/x1.npy', rng.standard_normal((1, 3, 17, 15)).astype(np.float32))" "$work"
one() { # NAME VISEC-OPTIONS...
    local n=$1; shift
    "$visec" compile "$work/tiny.vise" --weights "$work/tiny.safetensors" -o "$work/$n.omp" "$@"
    "$visec" compile "$work/tiny.vise" --weights "$work/tiny.safetensors" -o "$work/$n.hl" --runtime halide "$@"
    [ -f "$work/$n.hl/tiny.registration.cpp" ] || fail "$n: no registration file"
    build_driver tiny "$work/$n.omp" "$work/$n.omp/run" gcc $cflags -fopenmp
    for cc in gcc clang; do
        command -v $cc >/dev/null || continue
        $cc $cflags -DMODEL=tiny -DUPPER=TINY -I"$HL_INC" -I"$work/$n.hl" "$src/tools/vx_driver.c" \
            "$work/$n.hl/tiny.c" "$HL_RT" $HL_LIBS -o "$work/$n.hl/run_$cc" \
            || fail "$n: the Halide-runtime code does not compile cleanly with $cc"
    done
    local wo=$work/$n.omp/tiny.weights wh=$work/$n.hl/tiny.weights
    [ -f "$wo" ] || wo=- ; [ -f "$wh" ] || wh=-     # - : embedded weights
    for b in 1 3; do
        OMP_NUM_THREADS=2 "$work/$n.omp/run" "$wo" "$work/x$b.npy" "$work/$n.y$b.omp.npy"
        for cc in gcc clang; do
            [ -x "$work/$n.hl/run_$cc" ] || continue
            HL_NUM_THREADS=2 "$work/$n.hl/run_$cc" "$wh" "$work/x$b.npy" "$work/$n.y$b.$cc.npy"
            cmp "$work/$n.y$b.omp.npy" "$work/$n.y$b.$cc.npy" || fail "$n, batch $b, $cc: runtimes differ"
        done
    done
    echo "$n: identical ($(grep -c '_par[0-9]*(void' "$work/$n.hl/tiny.c") outlined parallel loops)"
}
one default
one embedded --embed-weights
one O0 -O0
# winograd(4) with its transforms in parallel loops (the vector output transform's names)
printf 'c2 { algo = winograd(4); parallel = inside; }\n' >"$work/w4.sched"
one winograd4 --schedule "$work/w4.sched"
# pixel tiles in 3 groups, fewer than SPLIT_GROUPS: the channel blocks of each group in a parallel loop
printf 'c3 { order = pix,co; reg = 4x4; tile_pix = 8; parallel = inside; }\n' >"$work/g.sched"
one groups --schedule "$work/g.sched"
grep -q "the threads share each one's blocks" "$work/groups.omp/tiny.c" || fail "groups: c3's groups are not split"
# blocked outputs (NCHW8c for x86-64-v3's 8 lanes) and the layout pass's reorders, in parallel loops
printf 'c1 { algo = gemm; lanes = co; reg = 8x4; layout = nchw8c; parallel = inside; }\n' >"$work/b.sched"
printf 'c3 { lanes = co; reg = 8x4; layout = nchw8c; parallel = inside; }\n' >>"$work/b.sched"
one blocked --target x86-64-v3 --schedule "$work/b.sched"
[ "$(grep -c "NCHW -> NCHWc\|NCHWc -> NCHW" "$work/blocked.hl/tiny.c")" -eq 3 ] || fail "blocked: not 3 reorders"
for seed in 1 2 3 4 5 6 7 8; do
    "$visec" schedule "$work/tiny.vise" --random $seed -o "$work/s$seed.sched"
    one random$seed --schedule "$work/s$seed.sched"
done
echo "halide_schedules: ok"
