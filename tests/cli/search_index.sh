#!/usr/bin/env bash
# search_index.sh VISEC WORKDIR — examples/search over the shards of an
# 'embed --list' run of generated images (with bad and missing entries):
# 'search build' (exact and --ivf) indexes every ok row, and querying each
# indexed image returns the image itself first with a score above 0.999.
# Errors: an index queried with the manifest of other shards, a missing
# manifest, k larger than the index, shards that disagree with the manifest,
# a damaged index, a bad query image; none leaves an index file behind.
# Skipped without FAISS (Debian: libfaiss-dev).
set -eu
. "$(dirname "$0")/src/lib.sh"

[ -e /usr/include/faiss/IndexFlat.h ] || { echo "no FAISS headers (libfaiss-dev)"; exit 77; }
command -v "${CXX:-g++}" >/dev/null || { echo "no C++ compiler"; exit 77; }
"$visec" init-weights --help >/dev/null 2>&1 || { echo "visec init-weights not available"; exit 77; }
$py -c 'import numpy, PIL' 2>/dev/null || { echo "no numpy/PIL in $py"; exit 77; }

build_embed
make -s -C examples/search GEN="$work/gen" O="$work/bin" >"$work/build-search.log" 2>&1 ||
    { cat "$work/build-search.log"; fail "building search failed"; }
if grep -v 'stb_image.c\|vise_resnet50.c' "$work/build-search.log" | grep -q 'warning:'; then
    cat "$work/build-search.log"; fail "search's own code has warnings"
fi
search=$work/bin/search
export OMP_WAIT_POLICY=passive

$py tools/make_image_set.py "$work/img" --count 20 --bad 2 --missing 1 --seed 21
"$embed" -q -w "$weights" --list "$work/img/list.txt" --out-dir "$work/out" --shard-size 8 \
    --batch 4 --keep-going 2>/dev/null || [ $? -eq 2 ] || fail "embed failed"
grep -v 'error: ' "$work/out/manifest.tsv" | tail -n +2 | cut -f3 >"$work/ok.txt"
[ "$(wc -l <"$work/ok.txt")" -eq 20 ] || fail "expected 20 ok rows"

# every indexed image finds itself first, score > 0.999
check_self() { # query-output
    $py - "$1" <<'EOF'
import sys
q, n = None, 0
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("# query "):
        q, first = line[8:], True
        continue
    rank, score, path = line.split("\t")
    if first:
        assert rank == "1" and path == q and float(score) > 0.999, (q, line)
        n += 1
        first = False
assert n == 20, "%d queries answered" % n
print("%d queries: each image is its own nearest neighbour" % n)
EOF
}
"$search" build --from "$work/out" -o "$work/flat.index" >"$work/build.out" || fail "search build failed"
grep -q "20 images from 3 shards" "$work/build.out" || { cat "$work/build.out"; fail "build summary"; }
# shellcheck disable=SC2046
"$search" query --index "$work/flat.index" --manifest "$work/out/manifest.tsv" -w "$weights" \
    -k 3 $(cat "$work/ok.txt") >"$work/flat.out" || fail "query failed"
[ "$(grep -vc '^#' "$work/flat.out")" -eq 60 ] || fail "expected 3 results for each of 20 queries"
check_self "$work/flat.out" || { cat "$work/flat.out"; fail "exact index: not itself first"; }

"$search" build --from "$work/out" -o "$work/ivf.index" --ivf 4 >/dev/null 2>&1 || fail "search build --ivf failed"
# shellcheck disable=SC2046
"$search" query --index "$work/ivf.index" --manifest "$work/out/manifest.tsv" -w "$weights" \
    -k 1 --nprobe 4 $(cat "$work/ok.txt") >"$work/ivf.out" || fail "IVF query failed"
check_self "$work/ivf.out" || { cat "$work/ivf.out"; fail "IVF index: not itself first"; }

# ---- errors: exit status 1, a clear message
one=$(head -1 "$work/ok.txt")
# an index queried with another run's manifest
tac "$work/img/list.txt" | head -10 >"$work/list10.txt"
"$embed" -q -w "$weights" --list "$work/list10.txt" --out-dir "$work/other" --shard-size 8 \
    --keep-going 2>/dev/null || true
expect_status1 "^search: error: $work/flat.index was built from another manifest .* rebuild it" \
    "$search" query --index "$work/flat.index" --manifest "$work/other/manifest.tsv" -w "$weights" "$one"
expect_status1 "^search: error: $work/nowhere/manifest.tsv: cannot open the manifest: No such file" \
    "$search" query --index "$work/flat.index" --manifest "$work/nowhere/manifest.tsv" -w "$weights" "$one"
expect_status1 "^search: error: -k 21: the index holds only 20 images" \
    "$search" query --index "$work/flat.index" --manifest "$work/out/manifest.tsv" -w "$weights" -k 21 "$one"
expect_status1 "^search: error: $work/img/bad-00.png: cannot decode" \
    "$search" query --index "$work/flat.index" --manifest "$work/out/manifest.tsv" -w "$weights" "$work/img/bad-00.png"
expect_status1 "^search: error: no weights" \
    "$search" query --index "$work/flat.index" --manifest "$work/out/manifest.tsv" "$one"
expect_status1 "^search: error: $work/nowhere.index: cannot open the index" \
    "$search" query --index "$work/nowhere.index" --manifest "$work/out/manifest.tsv" -w "$weights" "$one"
head -c 100 "$work/flat.index" >"$work/cut.index"
expect_status1 "^search: error: $work/cut.index: " \
    "$search" query --index "$work/cut.index" --manifest "$work/out/manifest.tsv" -w "$weights" "$one"
echo "garbage" >"$work/garbage.index"
expect_status1 "^search: error: $work/garbage.index: not an index written by 'search build'" \
    "$search" query --index "$work/garbage.index" --manifest "$work/out/manifest.tsv" -w "$weights" "$one"
# building from shards that disagree with the manifest, or from no run at all
cp -a "$work/out" "$work/mixed"
cp "$work/other/shard-00000.tsv" "$work/other/embeddings-00000.npy" "$work/mixed/"
expect_status1 "^search: error: $work/mixed/shard-00000.tsv: its rows are not the manifest's" \
    "$search" build --from "$work/mixed" -o "$work/x.index"
cp -a "$work/out" "$work/damaged"
printf 'X' | dd of="$work/damaged/embeddings-00001.npy" bs=1 seek=300 conv=notrunc 2>/dev/null
expect_status1 "^search: error: $work/damaged/embeddings-00001.npy: .* its record says" \
    "$search" build --from "$work/damaged" -o "$work/x.index"
expect_status1 "^search: error: $work/img/manifest.tsv: cannot open the manifest" \
    "$search" build --from "$work/img" -o "$work/x.index"
expect_status1 "^search: error: --ivf 64: more lists than the 20 images" \
    "$search" build --from "$work/out" -o "$work/x.index" --ivf 64
ls "$work"/x.index* >/dev/null 2>&1 && fail "a failed build left $(ls "$work"/x.index*)"
echo "ok"
