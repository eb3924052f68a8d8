#!/usr/bin/env bash
# embed_list.sh VISEC WORKDIR — examples/embed --list ... --out-dir: a list of
# generated images with undecodable and missing files, in shards of 8.
# Checks the manifest (failures listed, rows numbered), the shard files and
# their records, that the embeddings equal the --embeddings path row for
# row, --features shards, a list on stdin, that a re-run skips complete
# shards and redoes a deleted or damaged one (the others keep their inode
# and mtime), that a killed run leaves no file under a final name that is
# not complete and resumes to the same directory, that a run without
# --keep-going stops at the first bad image leaving nothing partial, and
# the usage errors.
set -eu
. "$(dirname "$0")/src/lib.sh"

"$visec" init-weights --help >/dev/null 2>&1 || { echo "visec init-weights not available"; exit 77; }
$py -c 'import numpy, PIL' 2>/dev/null || { echo "no numpy/PIL in $py"; exit 77; }

build_embed
export OMP_WAIT_POLICY=passive

# 20 images, 3 bad files, 2 missing: 25 entries, 4 shards of 8
$py tools/make_image_set.py "$work/img" --count 20 --bad 3 --missing 2 --seed 3
list=$work/img/list.txt
[ "$(wc -l <"$list")" -eq 25 ] || fail "the image set has $(wc -l <"$list") entries"

# keep_going ERR WHAT: the list run into $work/out with --keep-going, its
# stderr in ERR (shown); exit status 2, as some images fail.
keep_going() {
    local st=0
    "$embed" -w "$weights" --list "$list" --out-dir "$work/out" --shard-size 8 --batch 4 \
        --keep-going 2>"$1" || st=$?
    cat "$1"
    [ $st -eq 2 ] || fail "$2: exit status $st, expected 2"
}

# ---- a run with --keep-going: exit status 2, the failures in the manifest
keep_going "$work/run.err" "keep-going run with failures"
grep -q "images/s" "$work/run.err" || fail "no progress line with images/s"
grep -q "^embed: 25 images: 20 ok, 5 failed; 4 shards: 4 written" "$work/run.err" || fail "no summary"
grep -q "^embed: warning: .*missing-00.png: cannot open: " "$work/run.err" || fail "no warning for a missing file"
ls "$work/out" | sort | tr '\n' ' ' >"$work/ls"
[ "$(cat "$work/ls")" = "embeddings-00000.npy embeddings-00001.npy embeddings-00002.npy embeddings-00003.npy manifest.tsv shard-00000.tsv shard-00001.tsv shard-00002.tsv shard-00003.tsv " ] ||
    fail "unexpected files: $(cat "$work/ls")"
$py - "$work/out" "$list" <<'EOF' || fail "bad manifest or shards"
import sys, os
import numpy as np
out, lst = sys.argv[1], sys.argv[2]
paths = [l.rstrip("\n") for l in open(lst)]
lines = open(out + "/manifest.tsv").read().split("\n")
assert lines[0] == "shard\trow\tpath\tstatus", lines[0]
assert lines[-1] == "", "no final newline"
rows = [l.split("\t") for l in lines[1:-1]]
assert [r[2] for r in rows] == paths, "manifest paths are not the list in order"
counts = {}
for i, (s, r, p, status) in enumerate(rows):
    bad = "bad-" in p or "missing-" in p
    if bad:
        assert (s, r) == ("-", "-") and status.startswith("error: "), (s, r, status)
    else:
        assert status == "ok", (p, status)
        assert int(s) == i // 8, "entry %d in shard %s" % (i, s)
        assert int(r) == counts.get(int(s), 0), "row numbers"
        counts[int(s)] = int(r) + 1
assert sum(1 for r in rows if r[3] != "ok") == 5
for s in range(4):
    e = np.load("%s/embeddings-%05d.npy" % (out, s))
    assert e.dtype == np.float32 and e.shape == (counts.get(s, 0), 2048), (s, e.shape)
    assert np.isfinite(e).all()
    rec = open("%s/shard-%05d.tsv" % (out, s)).read().split("\n")
    assert rec[0] == "# embed shard %d" % s and "# entries %d" % min(8, 25 - 8 * s) in rec
    assert [l for l in rec if l and not l.startswith("#")] == \
        ["\t".join(r) for r in rows[8 * s:8 * s + 8]], "record rows differ from the manifest"
print("manifest: %d entries, %d ok; shards %s" % (len(rows), sum(counts.values()), counts))
EOF
ls "$work/out"/*.tmp >/dev/null 2>&1 && fail "temporary files left"

# ---- the same images through the file path, row for row
grep -v 'error: ' "$work/out/manifest.tsv" | tail -n +2 | cut -f3 >"$work/ok.txt"
# shellcheck disable=SC2046
"$embed" -q -w "$weights" --batch 4 --embeddings "$work/e_file.npy" $(cat "$work/ok.txt")
$py - "$work" <<'EOF' || fail "list run differs from --embeddings"
import sys
import numpy as np
w = sys.argv[1]
f = np.load(w + "/e_file.npy")
s = np.concatenate([np.load(w + "/out/embeddings-%05d.npy" % i) for i in range(4)])
assert f.shape == s.shape == (20, 2048), (f.shape, s.shape)
err = np.abs(f - s).max() / np.abs(f).max()
assert err < 1e-6, "relative difference %g" % err
print("list run vs --embeddings: %d rows, max relative difference %g%s" %
      (len(f), err, " (identical)" if (f == s).all() else ""))
EOF

# ---- a list on stdin gives the same directory
st=0
"$embed" -q -w "$weights" --list - --out-dir "$work/stdin" --shard-size 8 --batch 4 \
    --keep-going <"$list" 2>/dev/null || st=$?
[ $st -eq 2 ] || fail "stdin list: exit status $st"
diff -r "$work/out" "$work/stdin" || fail "a list on stdin gives another directory"

# ---- resuming: a deleted shard is redone, the others are not touched
cp -a "$work/out" "$work/ref"
stamp() { for f in "$work"/out/*-0000[013].*; do stat -c '%n %i %y' "$f"; done; }
stamp >"$work/stamp.before"
rm "$work/out/embeddings-00002.npy"
sleep 1
keep_going "$work/resume.err" "resumed run"
grep -q "shard 2 is redone: .*embeddings-00002.npy: cannot open" "$work/resume.err" || fail "no redo message"
grep -q "4 shards: 1 written, 3 complete already" "$work/resume.err" || fail "resume did more than one shard"
stamp >"$work/stamp.after"
diff "$work/stamp.before" "$work/stamp.after" || fail "complete shards were rewritten"
diff -r "$work/ref" "$work/out" || fail "the resumed directory differs"

# a damaged shard is redone too, and so is a shard whose record is gone
printf 'X' | dd of="$work/out/embeddings-00001.npy" bs=1 seek=200 conv=notrunc 2>/dev/null
rm "$work/out/shard-00003.tsv"
keep_going "$work/resume.err" "run over a damaged shard"
grep -q "shard 1 is redone: .*embeddings-00001.npy: .* its record says" "$work/resume.err" ||
    { cat "$work/resume.err"; fail "damaged shard not redone"; }
grep -q "4 shards: 2 written, 2 complete already" "$work/resume.err" || { cat "$work/resume.err"; fail "resume count"; }
diff -r "$work/ref" "$work/out" || fail "the directory differs after redoing shards"

# another shard size is another layout: every shard is redone
st=0
"$embed" -w "$weights" --list "$list" --out-dir "$work/out" --shard-size 16 --batch 4 \
    --keep-going 2>"$work/resize.err" || st=$?
[ $st -eq 2 ] || { cat "$work/resize.err"; fail "shard size 16: exit status $st"; }
grep -q "shard 0 is redone: .*another list or shard size" "$work/resize.err" || { cat "$work/resize.err"; fail "no redo after a shard size change"; }

# ---- --features shards, (n, 2048, 7, 7), whose 7x7 means are the embeddings
head -6 "$list" >"$work/list6.txt"
st=0
"$embed" -q -w "$weights" --list "$work/list6.txt" --out-dir "$work/feat" --shard-size 4 \
    --batch 2 --features --keep-going 2>/dev/null || st=$?
[ $st -eq 0 ] || [ $st -eq 2 ] || fail "--features run: exit status $st"
$py - "$work/feat" <<'EOF' || fail "bad features shards"
import sys
import numpy as np
d = sys.argv[1]
for s in range(2):
    f, e = np.load("%s/features-%05d.npy" % (d, s)), np.load("%s/embeddings-%05d.npy" % (d, s))
    assert f.shape == (e.shape[0], 2048, 7, 7), (f.shape, e.shape)
    err = np.abs(f.astype(np.float64).mean(axis=(2, 3)) - e).max() / max(1.0, np.abs(e).max())
    assert err < 1e-6, err
print("features shards ok")
EOF
grep -q "^# features features-00000.npy [0-9]* [0-9a-f]*$" "$work/feat/shard-00000.tsv" || fail "record without features"
# without --features again: the shards are redone and the features files go
"$embed" -q -w "$weights" --list "$work/list6.txt" --out-dir "$work/feat" --shard-size 4 \
    --batch 2 --keep-going 2>/dev/null || true
ls "$work/feat"/features-* >/dev/null 2>&1 && fail "stale features shards left"

# ---- on a terminal the progress line is redrawn in place (script(1) gives a pty)
if command -v script >/dev/null; then
    script -qfec "'$embed' -w '$weights' --list '$work/list6.txt' --out-dir '$work/tty' --shard-size 4 --batch 2 --keep-going" \
        /dev/null >"$work/tty.out" 2>&1 </dev/null || true
    grep -q $'\rembed: 6/6 images (100%), .* images/s, 0s left\033\[K' "$work/tty.out" ||
        { cat -A "$work/tty.out" | head; fail "no redrawn progress line on a terminal"; }
else
    echo "no script(1): terminal progress not checked"
fi

# ---- a killed run: nothing incomplete under a final name, and it resumes
$py tools/make_image_set.py "$work/img2" --count 12 --seed 5
"$embed" -w "$weights" --list "$work/img2/list.txt" --out-dir "$work/killed" --shard-size 2 \
    --batch 1 2>"$work/killed.err" &
pid=$!
for _ in $(seq 1 600); do
    [ -e "$work/killed/shard-00001.tsv" ] && break
    sleep 0.05
done
kill -TERM $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
ls "$work/killed"/*.tmp >/dev/null 2>&1 && fail "a killed run left temporary files"
# every .npy under its final name is whole (its record may be missing if the
# kill came between the two renames: the next run redoes such a shard)
$py -c '
import sys, numpy as np
for f in sys.argv[1:]:
    np.load(f)
' "$work"/killed/*.npy || fail "an incomplete .npy under its final name"
[ -e "$work/killed/manifest.tsv" ] && fail "a killed run wrote a manifest"
"$embed" -q -w "$weights" --list "$work/img2/list.txt" --out-dir "$work/killed" --shard-size 2 \
    --batch 1 || fail "resuming the killed run failed"
"$embed" -q -w "$weights" --list "$work/img2/list.txt" --out-dir "$work/whole" --shard-size 2 \
    --batch 1 || fail "the uninterrupted run failed"
diff -r "$work/whole" "$work/killed" || fail "killed and resumed differs from an uninterrupted run"

# ---- without --keep-going the first bad image stops the run, nothing partial
printf '%s\n' "$work/img/img-0000.png" "$work/img/bad-00.png" "$work/img/img-0001.png" >"$work/stop.txt"
st=0
"$embed" -q -w "$weights" --list "$work/stop.txt" --out-dir "$work/stop" --shard-size 8 \
    2>"$work/stop.err" || st=$?
[ $st -eq 1 ] || fail "bad image without --keep-going: exit status $st"
grep -q "^embed: error: $work/img/bad-00.png: cannot decode" "$work/stop.err" || { cat "$work/stop.err"; fail "unclear error"; }
[ -z "$(ls -A "$work/stop")" ] || fail "files left after a stopped run: $(ls "$work/stop")"

# ---- usage and input errors: exit status 1, a clear message, nothing written
expect_status1 "^embed: error: --list needs --out-dir" "$embed" -w "$weights" --list "$list"
expect_status1 "^embed: error: --out-dir needs --list" "$embed" -w "$weights" --out-dir "$work/x"
expect_status1 "^embed: error: --keep-going applies to --list runs only" \
    "$embed" -w "$weights" --keep-going --embeddings "$work/x.npy" "$src/examples/embed/sample.png"
expect_status1 "^embed: error: --shard-size '0'" "$embed" -w "$weights" --list "$list" --out-dir "$work/x" --shard-size 0
expect_status1 "with --list, the images come from the list only" \
    "$embed" -w "$weights" --list "$list" --out-dir "$work/x" "$src/examples/embed/sample.png"
expect_status1 "^embed: error: $work/nolist.txt: cannot open the list: No such file" \
    "$embed" -w "$weights" --list "$work/nolist.txt" --out-dir "$work/x"
: >"$work/empty.txt"
expect_status1 "^embed: error: $work/empty.txt: no image paths in the list" \
    "$embed" -w "$weights" --list "$work/empty.txt" --out-dir "$work/x"
expect_status1 "^embed: error: $work/ls: not a directory" \
    "$embed" -w "$weights" --list "$list" --out-dir "$work/ls"
expect_status1 "cannot load the weights" \
    "$embed" -w "$work/w.safetensors" --list "$list" --out-dir "$work/x"
[ -e "$work/x" ] && [ -n "$(ls -A "$work/x")" ] && fail "an error run wrote files: $(ls "$work/x")"
echo "ok"
