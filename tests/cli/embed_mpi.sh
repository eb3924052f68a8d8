#!/usr/bin/env bash
# embed_mpi.sh VISEC WORKDIR — examples/embed built with MPI=1 (mpicc):
# 'mpirun -n 2' and '-n 3' over a list of generated images with bad and
# missing entries give output directories byte-identical to a
# single-process run (also with the list on stdin); an MPI build run
# without mpirun works alone; a bad image without --keep-going ends the
# whole job with a clear message and leaves no manifest and no temporary
# files; a job of 3 resumes what a job of 2 left.  Skipped without mpicc
# and mpirun (Debian: openmpi-bin libopenmpi-dev).
set -eu
. "$(dirname "$0")/src/lib.sh"

command -v mpicc >/dev/null && command -v mpirun >/dev/null || { echo "no mpicc/mpirun"; exit 77; }
"$visec" init-weights --help >/dev/null 2>&1 || { echo "visec init-weights not available"; exit 77; }
$py -c 'import numpy, PIL' 2>/dev/null || { echo "no numpy/PIL in $py"; exit 77; }

build_embed
make -s -C "$src/examples/embed" GEN="$work/gen" O="$work/mpi" MPI=1 >"$work/build-mpi.log" 2>&1 ||
    { cat "$work/build-mpi.log"; fail "building the example with MPI=1 failed"; }
if grep -v 'stb_image.c\|vise_resnet50.c' "$work/build-mpi.log" | grep -q 'warning:'; then
    cat "$work/build-mpi.log"; fail "the example's own code has warnings with mpicc"
fi
# CI runs as root; one OpenMP thread per rank, waiting politely, on 2 cores
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
export OMP_WAIT_POLICY=passive
mpirun="mpirun --oversubscribe"

$py tools/make_image_set.py "$work/img" --count 24 --bad 3 --missing 3 --seed 11
list=$work/img/list.txt
args=(-q -w "$weights" --list "$list" --shard-size 8 --batch 4 --keep-going)

# ---- one process (the plain build), then 2 and 3 ranks
st=0
"$work/bin/embed" "${args[@]}" --out-dir "$work/r1" || st=$?
[ $st -eq 2 ] || fail "single process: exit status $st, expected 2 (failed images)"
grep -c 'error: ' "$work/r1/manifest.tsv" | grep -qx 6 || fail "the manifest does not list 6 failures"
for n in 2 3; do
    st=0
    OMP_NUM_THREADS=1 $mpirun -n $n "$work/mpi/embed" "${args[@]}" --out-dir "$work/r$n" \
        >"$work/r$n.log" 2>&1 || st=$?
    [ $st -eq 2 ] || { cat "$work/r$n.log"; fail "mpirun -n $n: exit status $st, expected 2"; }
    diff -r "$work/r1" "$work/r$n" || fail "mpirun -n $n differs from one process"
    echo "mpirun -n $n: identical to one process ($(ls "$work/r$n" | wc -l) files)"
done

# ---- the list on stdin (read by rank 0, sent to the others)
st=0
OMP_NUM_THREADS=1 $mpirun -n 2 "$work/mpi/embed" -q -w "$weights" --list - --shard-size 8 \
    --batch 4 --keep-going --out-dir "$work/stdin" <"$list" >"$work/stdin.log" 2>&1 || st=$?
[ $st -eq 2 ] || { cat "$work/stdin.log"; fail "stdin list: exit status $st"; }
diff -r "$work/r1" "$work/stdin" || fail "a list on stdin under mpirun differs"

# ---- the MPI build alone (a singleton, no mpirun)
st=0
"$work/mpi/embed" "${args[@]}" --out-dir "$work/single" >"$work/single.log" 2>&1 || st=$?
[ $st -eq 2 ] || { cat "$work/single.log"; fail "MPI build without mpirun: exit status $st"; }
diff -r "$work/r1" "$work/single" || fail "the MPI build alone differs"

# ---- a job of 3 resumes what a job of 2 left: only the missing shards
cp -a "$work/r2" "$work/resume"
rm "$work/resume/embeddings-00001.npy" "$work/resume/shard-00002.tsv" "$work/resume/manifest.tsv"
st=0
OMP_NUM_THREADS=1 $mpirun -n 3 "$work/mpi/embed" -w "$weights" --list "$list" --shard-size 8 \
    --batch 4 --keep-going --out-dir "$work/resume" >"$work/resume.log" 2>&1 || st=$?
[ $st -eq 2 ] || { cat "$work/resume.log"; fail "resume with 3 ranks: exit status $st"; }
grep -q "4 shards: 2 written, 2 complete already" "$work/resume.log" || { cat "$work/resume.log"; fail "resume count"; }
diff -r "$work/r1" "$work/resume" || fail "resumed directory differs"

# ---- a bad image without --keep-going ends the job: no manifest, no temporaries
st=0
OMP_NUM_THREADS=1 $mpirun -n 2 "$work/mpi/embed" -q -w "$weights" --list "$list" --shard-size 8 \
    --batch 4 --out-dir "$work/stop" >"$work/stop.log" 2>&1 || st=$?
[ $st -ne 0 ] || fail "a bad image without --keep-going: exit status 0"
grep -q "^embed: rank [01]: error: .*: cannot \(decode\|open\)" "$work/stop.log" || { cat "$work/stop.log"; fail "no clear error"; }
[ -e "$work/stop/manifest.tsv" ] && fail "a failed job wrote a manifest"
ls "$work/stop"/*.tmp >/dev/null 2>&1 && fail "a failed job left temporary files: $(ls "$work/stop")"

# ---- ranks that see different lists refuse to start
head -5 "$list" >"$work/short.txt"
st=0
OMP_NUM_THREADS=1 $mpirun -n 2 sh -c 'if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then l=$1; else l=$2; fi; shift 2; exec "$@" --list "$l"' \
    sh "$work/short.txt" "$list" "$work/mpi/embed" -q -w "$weights" --out-dir "$work/diff" \
    >"$work/diff.log" 2>&1 || st=$?
[ $st -ne 0 ] || fail "ranks with different lists: exit status 0"
grep -q "the ranks must read the same list" "$work/diff.log" || { cat "$work/diff.log"; fail "no clear error for different lists"; }
echo "ok"
