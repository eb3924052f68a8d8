#!/usr/bin/env bash
# hostile_corpus.sh VISEC WORKDIR — every broken or hostile checkpoint made by
# tools/make_hostile.py ends in exit status 1 and a clear "error:" line that
# names the problem: no crash, no hang (timeout 10), and under ASan no
# allocation larger than the small files justify (max_allocation_size_mb).
set -u
visec=$1 work=$2
/usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null || { echo "skip: /usr/bin/python3 has no torch"; exit 77; }
/usr/bin/python3 tools/make_hostile.py "$work" --with-model || exit 1
n=0 bad=0
while IFS='|' read -r name cmd pattern; do
    f=$work/$name
    if [ "$cmd" = inspect ]; then
        ASAN_OPTIONS=${ASAN_OPTIONS:-}:max_allocation_size_mb=64:allocator_may_return_null=0 \
            timeout 10 "$visec" inspect "$f" >/dev/null 2>"$f.err"; st=$?
    else
        timeout 20 "$visec" check examples/vise_resnet50.vise --weights "$f" >/dev/null 2>"$f.err"; st=$?
    fi
    n=$((n + 1))
    if [ $st -ne 1 ]; then
        echo "$name: exit status $st, expected 1"; head -5 "$f.err"; bad=$((bad + 1))
    elif ! grep -q 'error: ' "$f.err"; then
        echo "$name: no error line"; bad=$((bad + 1))
    elif ! grep -Eq -- "$pattern" "$f.err"; then
        echo "$name: stderr does not match /$pattern/:"; head -3 "$f.err"; bad=$((bad + 1))
    fi
done <"$work/manifest.txt"
echo "$n hostile files, $bad wrong"
[ $n -ge 40 ] && [ $bad -eq 0 ]
