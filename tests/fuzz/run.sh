#!/usr/bin/env bash
# run.sh SECONDS — runs each fuzz target for SECONDS, seeded with the
# examples, the golden error tests and whatever checkpoints the test suite
# generated (tests/work).  Crashes are kept in build/fuzz/crash-*.
set -eu
secs=${1:-60}
cd "$(dirname "$0")/../.."
mkdir -p build/fuzz/corpus_model build/fuzz/corpus_checkpoint build/fuzz/corpus_schedule
cp examples/*.vise tests/errors/*.vise build/fuzz/corpus_model/ 2>/dev/null || true
cp tests/sched_errors/*.sched build/fuzz/corpus_schedule/ 2>/dev/null || true
bin/visec schedule tests/sched_errors/model.vise --target x86-64-v4 -o build/fuzz/corpus_schedule/full.sched \
    2>/dev/null || true
# Small checkpoints of every format, written by PyTorch (skipped without it).
if [ ! -e build/fuzz/seeds/.done ] && /usr/bin/python3 -c "import torch" 2>/dev/null; then
    mkdir -p build/fuzz/seeds
    /usr/bin/python3 tools/make_checkpoints.py build/fuzz/seeds --small-only >/dev/null && touch build/fuzz/seeds/.done
fi
find build/fuzz/seeds -type f ! -name '*.crc' ! -name .done -exec cp {} build/fuzz/corpus_checkpoint/ \; 2>/dev/null || true
for t in model checkpoint schedule; do
    echo "== fuzz_$t, $secs s"
    build/fuzz/fuzz_$t -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
        -artifact_prefix=build/fuzz/crash-$t- build/fuzz/corpus_$t
done
