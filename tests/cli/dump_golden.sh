#!/usr/bin/env bash
# dump_golden.sh VISEC WORKDIR — the IR after every pass (--dump-after all)
# of the small models in tests/dumps/ must equal the golden dumps:
#   NAME.dump      all passes, target x86-64-v4
#   NAME.O0.dump   -O0: no pass, the trivial schedule and the naive plan
# After an intended change, regenerate with UPDATE_GOLDEN=1 and read the diff.
set -eu
visec=$1 work=$2
fail() { echo "FAIL: $*"; exit 1; }
n=0
for golden in tests/dumps/*.dump; do
    base=${golden%.dump}
    opts=()
    case $base in *.O0) opts=(-O0); base=${base%.O0} ;; esac
    out=$work/$(basename "$golden")
    "$visec" schedule "$base.vise" --target x86-64-v4 "${opts[@]}" --dump-after all -o /dev/null 2>"$out"
    if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
        cp "$out" "$golden"
    elif ! cmp -s "$out" "$golden"; then
        diff "$golden" "$out" | head -30
        fail "$golden differs"
    fi
    n=$((n + 1))
done
[ $n -ge 3 ] || fail "only $n golden dumps"
echo "dump_golden: $n dumps ok"
