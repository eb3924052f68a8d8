#!/usr/bin/env bash
# embed_speed.sh EMBED WEIGHTS [COUNT] [BATCH] — is decoding hidden behind
# the model in 'embed --list'?  Generates COUNT photo-sized images (default
# 48; 640x480-ish: JPEG, PNG, PPM) and times, alternately, ROUNDS times each:
#
#   model alone   embed --batch B --embeddings ...: the model's own time per
#                 image (its summary line), decoding not included
#   list run      embed --list ... --out-dir ...: wall-clock images/s, with
#                 decoding on its own thread
#
# and prints the best of each, their ratio, and the median of the rounds'
# ratios (on a shared, busy machine the runs of one round see the most
# similar load).
set -euo pipefail
embed=$1
weights=$2
count=${3:-48}
batch=${4:-8}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 tools/make_image_set.py "$work/img" --count "$count" --seed 1 \
    --min-size 480 --max-size 800
best_model=0 best_list=0 ratios=
rounds=${ROUNDS:-3}
for i in $(seq 1 "$rounds"); do
    # shellcheck disable=SC2046
    ms=$("$embed" -w "$weights" --batch "$batch" --embeddings "$work/e.npy" $(cat "$work/img/list.txt") 2>/dev/null |
        sed -n 's/^time: model .* (\([0-9.]*\) ms per image).*/\1/p')
    m=$(awk -v ms="$ms" 'BEGIN { printf "%.2f", 1000 / ms }')
    rm -rf "$work/out"
    l=$("$embed" -w "$weights" --batch "$batch" --list "$work/img/list.txt" --out-dir "$work/out" 2>&1 |
        sed -n 's/^embed: [0-9.]* s, \([0-9.]*\) images\/s.*/\1/p')
    echo "run $i: model alone $m images/s, list run $l images/s"
    ratios="$ratios $(awk -v m="$m" -v l="$l" 'BEGIN { printf "%.4f", l / m }')"
    best_model=$(awk -v a="$best_model" -v b="$m" 'BEGIN { print (b > a ? b : a) }')
    best_list=$(awk -v a="$best_list" -v b="$l" 'BEGIN { print (b > a ? b : a) }')
done
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
echo "CPU: $cpu, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), OMP_NUM_THREADS=${OMP_NUM_THREADS:-unset}, batch $batch, $count images"
awk -v m="$best_model" -v l="$best_list" 'BEGIN {
    printf "best: model alone %.2f images/s, list run %.2f images/s: %.1f%% of the model\n", m, l, 100 * l / m }'
# the median of the rounds' ratios: each round's two runs are close in time
echo "$ratios" | tr ' ' '\n' | sed '/^$/d' | sort -g |
    awk '{ r[NR] = $1 } END { m = NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2;
           printf "median of the rounds: list run at %.1f%% of the model alone\n", 100 * m }'
