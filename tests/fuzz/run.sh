#!/usr/bin/env bash
# run.sh SECONDS [TARGET...] — runs each fuzz target (default: all of
# build/fuzz/fuzz_*) for SECONDS on its corpus, seeded with the examples, the
# golden error tests, small PyTorch-written checkpoints (when torch is there)
# and .weights files compiled from small models (with $VISEC, default
# bin/visec).  Crashes are kept in build/fuzz/crash-*; the exit status is
# libFuzzer's (non-zero on a crash).
set -eu
secs=${1:-60}
shift || true
cd "$(dirname "$0")/../.."
visec=${VISEC:-bin/visec}
targets=${*:-model checkpoint weights schedule}
mkdir -p build/fuzz/corpus_model build/fuzz/corpus_checkpoint build/fuzz/corpus_weights build/fuzz/corpus_schedule
cp examples/*.vise tests/errors/*.vise build/fuzz/corpus_model/ 2>/dev/null || true
cp tests/sched_errors/*.sched build/fuzz/corpus_schedule/ 2>/dev/null || true
"$visec" schedule tests/sched_errors/model.vise --target x86-64-v4 -o build/fuzz/corpus_schedule/full.sched \
    2>/dev/null || true
# Small checkpoints of every format, written by PyTorch (skipped without it).
if [ ! -e build/fuzz/seeds/.done ] && /usr/bin/python3 -c "import torch" 2>/dev/null; then
    mkdir -p build/fuzz/seeds
    /usr/bin/python3 tools/make_checkpoints.py build/fuzz/seeds --small-only >/dev/null &&
        /usr/bin/python3 tools/make_variants.py build/fuzz/seeds --small >/dev/null &&
        touch build/fuzz/seeds/.done
fi
find build/fuzz/seeds -type f ! -name '*.crc' ! -name .done -exec cp {} build/fuzz/corpus_checkpoint/ \; 2>/dev/null || true
# .weights files of small models: separate and two-input-free shapes.
if [ ! -e build/fuzz/wseeds/.done ] && [ -x "$visec" ]; then
    mkdir -p build/fuzz/wseeds
    printf 'model a\ninput x: [N, 3, 5, 5]\nh = relu(batchnorm(conv2d(x, "c", out=4, kernel=3, pad=1), "b"))\noutput y = conv2d(h, "d", out=2, kernel=1, bias=true)\n' >build/fuzz/wseeds/a.vise
    printf 'model b\ninput x: [N, 2, 4, 4]\noutput y = maxpool(conv2d(x, "c", out=3, kernel=1), kernel=2, stride=2)\n' >build/fuzz/wseeds/b.vise
    for m in a b; do
        "$visec" init-weights build/fuzz/wseeds/$m.vise --seed 1 -o build/fuzz/wseeds/$m.safetensors &&
            "$visec" compile build/fuzz/wseeds/$m.vise --weights build/fuzz/wseeds/$m.safetensors \
                -o build/fuzz/wseeds/$m.out >/dev/null 2>&1 &&
            cp build/fuzz/wseeds/$m.out/$m.weights build/fuzz/corpus_weights/
        "$visec" compile -O0 build/fuzz/wseeds/$m.vise --weights build/fuzz/wseeds/$m.safetensors \
            -o build/fuzz/wseeds/$m.o0 >/dev/null 2>&1 && cp build/fuzz/wseeds/$m.o0/$m.weights build/fuzz/corpus_weights/$m-O0.weights
    done
    touch build/fuzz/wseeds/.done
fi
for t in $targets; do
    echo "== fuzz_$t, $secs s"
    build/fuzz/fuzz_$t -max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 \
        -print_final_stats=1 -artifact_prefix=build/fuzz/crash-$t- build/fuzz/corpus_$t
done
