#!/usr/bin/env bash
# demo_scale.sh — feature extraction at scale on one machine (make demo-scale):
# compiles the VisE ResNet-50 trunk with synthetic weights (visec
# init-weights), builds examples/embed with MPI (mpicc) and examples/search
# with FAISS, generates a few hundred images (and some bad and missing
# entries), embeds them with 'mpirun -n 2' into shards, then indexes the
# shards and queries three of the images.
#
#   DEMO_DIR (out/demo-scale)   where everything goes
#   DEMO_IMAGES (300)           how many images
#   DEMO_RANKS (2)              MPI ranks; OMP_NUM_THREADS defaults to
#                               cores / ranks
#
# Running it again resumes: complete shards are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${DEMO_DIR:-out/demo-scale}
count=${DEMO_IMAGES:-300}
ranks=${DEMO_RANKS:-2}
mkdir -p "$out"
out=$(cd "$out" && pwd)
command -v mpicc >/dev/null && command -v mpirun >/dev/null ||
    { echo "demo-scale needs Open MPI: run tools/install-deps.sh (openmpi-bin libopenmpi-dev)"; exit 1; }

make -s all
echo "== synthetic weights, visec compile"
[ -e "$out/w.safetensors" ] || bin/visec init-weights examples/vise_resnet50.vise --seed 1 -o "$out/w.safetensors"
bin/visec compile examples/vise_resnet50.vise --weights "$out/w.safetensors" -o "$out/gen"

echo "== build embed with mpicc (MPI=1) and search with FAISS"
make -s -C examples/embed GEN="$out/gen" O="$out/bin" MPI=1
make -s -C examples/search GEN="$out/gen" O="$out/bin"

echo "== $count generated images, 4 undecodable files, 2 missing paths"
[ -e "$out/img/list.txt" ] ||
    /usr/bin/python3 tools/make_image_set.py "$out/img" --count "$count" --bad 4 --missing 2 --seed 1

threads=$(( $(nproc) / ranks )); [ "$threads" -ge 1 ] || threads=1
echo "== mpirun -n $ranks embed --list ... (OMP_NUM_THREADS=${OMP_NUM_THREADS:-$threads} per rank)"
st=0
OMP_NUM_THREADS=${OMP_NUM_THREADS:-$threads} OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} \
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    mpirun --oversubscribe -n "$ranks" "$out/bin/embed" -w "$out/gen/vise_resnet50.weights" \
    --list "$out/img/list.txt" --out-dir "$out/emb" --shard-size 64 --batch 8 --keep-going || st=$?
# 2: finished, some images failed (they are in the manifest)
[ $st -eq 0 ] || [ $st -eq 2 ] || exit $st
ls -l "$out/emb"
echo "failed entries:"
grep -P '\terror: ' "$out/emb/manifest.tsv" || true

echo "== search build (exact) and three queries"
"$out/bin/search" build --from "$out/emb" -o "$out/emb.index"
# shellcheck disable=SC2046
"$out/bin/search" query --index "$out/emb.index" --manifest "$out/emb/manifest.tsv" \
    -w "$out/gen/vise_resnet50.weights" -k 3 \
    $(grep -P '\tok$' "$out/emb/manifest.tsv" | cut -f3 | head -3)
