#!/usr/bin/env bash
# fuzz_smoke.sh VISEC WORKDIR — every libFuzzer target (`make fuzz-build`:
# checkpoint readers, model language, the generated code's .weights loader)
# runs for FUZZ_SMOKE_SECONDS (default 10) on its seed corpus, and each
# hostile checkpoint of tools/make_hostile.py and each small PyTorch
# checkpoint variant goes through the checkpoint target once; any crash,
# leak or sanitizer report fails.  Skipped (77) where clang's libFuzzer
# does not work.  Longer campaigns: make fuzz FUZZ_SECONDS=N (docs).
set -eu
visec=$1 work=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
visec=$(cd "$(dirname "$visec")" && pwd)/$(basename "$visec")
fail() { echo "FAIL: $*"; exit 1; }
secs=${FUZZ_SMOKE_SECONDS:-10}

printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$work/t.c"
if ! command -v clang >/dev/null || ! clang -fsanitize=fuzzer,address,undefined "$work/t.c" -o "$work/t" 2>/dev/null ||
    ! "$work/t" -runs=1 >/dev/null 2>&1; then
    echo "clang's libFuzzer does not work here"; exit 77
fi
make -s -C "$src" fuzz-build >"$work/build.log" 2>&1 || { tail -20 "$work/build.log"; fail "make fuzz-build"; }
targets=$(cd "$src/build/fuzz" && ls fuzz_* | grep -v '\.' | sed 's/^fuzz_//')
[ -n "$targets" ] || fail "no fuzz targets built"
for t in $targets; do
    (cd "$src" && VISEC=$visec tests/fuzz/run.sh "$secs" "$t") >"$work/$t.log" 2>&1 ||
        { tail -40 "$work/$t.log"; fail "fuzz_$t found a problem (see build/fuzz/crash-$t-*)"; }
    grep -E "^Done [0-9]+ runs" "$work/$t.log" || fail "fuzz_$t did not run"
done
# The hostile corpus and the everyday variants, once each, under the checkpoint target.
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
    mkdir -p "$work/hostile" "$work/variants"
    /usr/bin/python3 "$src/tools/make_hostile.py" "$work/hostile" >/dev/null
    /usr/bin/python3 "$src/tools/make_variants.py" "$work/variants" --small >/dev/null
    files=$(find "$work/hostile" "$work/variants" -type f ! -name '*.txt')
    "$src/build/fuzz/fuzz_checkpoint" -rss_limit_mb=2048 -timeout=10 $files >"$work/hostile.log" 2>&1 ||
        { tail -30 "$work/hostile.log"; fail "a hostile checkpoint crashes the reader"; }
    echo "hostile and variant checkpoints: $(echo "$files" | wc -l) files, no crash"
fi
echo "fuzz_smoke: ok"
