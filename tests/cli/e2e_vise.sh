#!/usr/bin/env bash
# e2e_vise.sh VISEC WORKDIR — the VisE ResNet-50 trunk compiled by visec
# against PyTorch: random weights and batch-norm statistics, generated code
# built with gcc and clang, with and without OpenMP, separate and embedded
# weights, batch 1 and 3; max|y - ref| <= 1e-4 max|ref|.  Each target's
# kernels built for its instruction set (generic; x86-64-v3 with
# -march=x86-64-v3, x86-64-v4 with -march=x86-64-v4, where this CPU runs
# them) with gcc and clang.  Also: identical
# output files on recompilation, corrupt or foreign .weights refused, and a
# clean run under AddressSanitizer and UBSan.  Skipped (77) without torch.
set -eu
. "$(dirname "$0")/src/lib.sh"
need_torch

torch_ref 11 3 "$work/x3.npy" "$work/ref3.npy"
first_image

mkdir -p "$work/out" "$work/again" "$work/emb" "$work/other"
"$visec" compile "$model" --weights "$work/ck.pt" -o "$work/out"
"$visec" compile "$model" --weights "$work/ck.pt" -o "$work/again"
for f in vise_resnet50.h vise_resnet50.c vise_resnet50.weights; do
    cmp "$work/out/$f" "$work/again/$f" || fail "$f differs between two compilations"
done
rm -rf "$work/again"
"$visec" compile "$model" --weights "$work/ck.pt" -o "$work/emb" --embed-weights
"$visec" compile "$model" --weights "$work/ck.pt" -o "$work/other" --name other_net

build_and_run vise_resnet50 "$work/out"
w=$work/out/vise_resnet50.weights

# Every target's code built for its instruction set: the explicit-vector
# kernels (AVX2 + FMA, AVX-512), not only the reference kernels above.
cpu_has() { [ -z "$1" ] || grep -qw "$1" /proc/cpuinfo 2>/dev/null; }
for spec in generic: x86-64-v3:avx2 x86-64-v4:avx512f; do
    t=${spec%%:*} feature=${spec#*:}
    cpu_has "$feature" || { echo "skip $t: this CPU has no $feature"; continue; }
    mkdir -p "$work/t_$t"
    "$visec" compile "$model" --weights "$work/ck.pt" -o "$work/t_$t" --target "$t"
    march=$([ "$t" = generic ] || echo "-march=$t")
    case $t in
    x86-64-v3) grep -q _mm256_fmadd_ps "$work/t_$t/vise_resnet50.c" || fail "$t: no AVX2 kernels" ;;
    x86-64-v4) grep -q _mm512_fmadd_ps "$work/t_$t/vise_resnet50.c" || fail "$t: no AVX-512 kernels" ;;
    esac
    for cc in gcc clang; do
        command -v $cc >/dev/null || continue
        build_driver vise_resnet50 "$work/t_$t" "$work/t_$t/$cc" $cc $cflags -fopenmp $march
        for b in 1 3; do
            OMP_NUM_THREADS=2 "$work/t_$t/$cc" "$work/t_$t/vise_resnet50.weights" "$work/x$b.npy" "$work/t_$t/y$b$cc.npy"
            compare "$work/t_$t/y$b$cc.npy" "$work/ref$b.npy"
        done
    done
    rm -rf "$work/t_$t"    # 110 MB each
done

# Embedded weights: one gcc build (the 270 MB source takes a while).
build_driver vise_resnet50 "$work/emb" "$work/t_emb" gcc $cflags -fopenmp
OMP_NUM_THREADS=2 "$work/t_emb" - "$work/x3.npy" "$work/y3emb.npy"
compare "$work/y3emb.npy" "$work/ref3.npy"
cmp "$work/y3emb.npy" "$work/y3gcc-fopenmp.npy" || fail "embedded weights give other results"
rm -rf "$work/emb" "$work/t_emb"

# Weights files that open() must refuse, each with its message.
exe=$work/t_gcc-fopenmp
size=$(stat -c %s "$w")
head -c $((size - 4096)) "$w" >"$work/trunc.weights"
refuse "$exe" "$work/trunc.weights" "truncated"
cp "$w" "$work/flip.weights"
printf '\x01' | dd of="$work/flip.weights" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
cmp -s "$w" "$work/flip.weights" && fail "the flip did not change the file"
refuse "$exe" "$work/flip.weights" "CRC-32"
rm -f "$work/trunc.weights" "$work/flip.weights"
refuse "$exe" "$work/other/other_net.weights" "another model"

# AddressSanitizer and UBSan on the generated code.
if gcc -fsanitize=address,undefined -x c /dev/null -c -o /dev/null 2>/dev/null; then
    build_driver vise_resnet50 "$work/out" "$work/t_san" gcc $cflags -fopenmp -O1 -g \
        -fsanitize=address,undefined -fno-sanitize-recover=all
    ASAN_OPTIONS=detect_leaks=1 OMP_NUM_THREADS=2 "$work/t_san" "$w" "$work/x1.npy" "$work/ysan.npy"
    compare "$work/ysan.npy" "$work/ref1.npy"
fi
echo "e2e_vise: ok"
