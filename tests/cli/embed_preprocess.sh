#!/usr/bin/env bash
# embed_preprocess.sh VISEC WORKDIR — examples/embed's image preprocessing
# against torchvision's evaluation transform on PIL images
# (tools/torch_preprocess.py): Resize(256) + CenterCrop(224) + ToTensor +
# Normalize must agree within 1e-5 (in practice bit for bit) on lossless
# images of many shapes and pixel formats, for gcc and clang builds and one
# with AddressSanitizer and UBSan.  JPEG:
# the stb_image build is allowed the few levels stb's decoder differs from
# libjpeg by; the JPEG=libjpeg build must match exactly.  Bad files: a clear
# error naming the file, exit status 1, no output left behind.
# Needs no generated code: it builds embed-preprocess only.
set -eu
work=$(cd "$2" && pwd)
py=/usr/bin/python3
src=examples/embed
fail() { echo "FAIL: $*"; exit 1; }

$py -c 'import numpy, torch, torchvision, PIL' 2>/dev/null || { echo "no torch/torchvision in $py"; exit 77; }

# ---- builds: default flags (-O3 -march=native -fopenmp), must be warning-free
build() { # NAME MAKE-ARGS...
    local name=$1; shift
    make -s -C "$src" O="$work/$name" "$@" preprocess >"$work/$name.build" 2>&1 ||
        { cat "$work/$name.build"; fail "build $name failed"; }
    if grep -v 'stb_image.c' "$work/$name.build" | grep -q 'warning:'; then
        cat "$work/$name.build"; fail "build $name has warnings"
    fi
}
build gcc CC=gcc
bins=("$work/gcc/embed-preprocess")
if command -v clang >/dev/null && echo 'int main(void){return 0;}' |
        clang -fopenmp -x c - -o "$work/omp-probe" 2>/dev/null; then
    build clang CC=clang
    bins+=("$work/clang/embed-preprocess")
fi
# ASan + UBSan, and JPEG=libjpeg when libjpeg is installed
jpeg=stb
if echo '#include <stdio.h>
#include <jpeglib.h>
int main(void){return 0;}' | cc -x c - -ljpeg -o "$work/jpeg-probe" 2>/dev/null; then
    jpeg=libjpeg
fi
build san CC=gcc JPEG=$jpeg CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all"
san=$work/san/embed-preprocess
bins+=("$san")
libjpeg=
[ $jpeg = libjpeg ] && libjpeg=$san

# ---- lossless test images: shapes (portrait, landscape, upscaled, odd crop
# offsets, already 256, extreme aspect) and pixel formats (grey, alpha,
# palette, 16-bit, PPM/PGM with other maxvals)
gen() { # FILE SIZE [ARGS...]
    local f=$1 size=$2; shift 2
    $py tools/make_sample_image.py "$work/$f" --size "$size" "$@"
    imgs+=("$work/$f")
}
imgs=("$src/sample.png")
gen landscape.png 640x480 --seed 2
gen portrait.png 240x320 --seed 3
gen small.png 100x60 --seed 4                 # upscaled on both axes
gen tiny.png 7x5 --seed 5
gen onepixel.png 1x1 --seed 6
gen half-even-w.png 203x200 --seed 7         # 259 wide: offset round(17.5) = 18
gen half-even-h.png 200x203 --seed 8
gen half-even-259.png 256x259 --seed 24       # no resize, offset 18
gen half-down.png 257x256 --seed 25           # offset round(16.5) = 16
gen square256.png 256x256 --seed 9            # Resize is a no-op
gen exact224.png 224x224 --seed 10
gen wide.png 1200x41 --seed 11                # long side int(256*1200/41)
gen tall.png 33x700 --seed 12
gen big.png 1999x1333 --seed 13               # wide antialiasing support
gen grey.png 300x200 --mode L --seed 14
gen grey-alpha.png 200x300 --mode LA --seed 15
gen rgba.png 333x250 --mode RGBA --seed 16
gen palette.png 301x222 --mode P --seed 17
gen grey16.png 260x190 --mode I16 --seed 18   # Pillow: mode I, clamped
gen image.ppm 321x123 --seed 19
gen image.pgm 123x321 --mode L --seed 20
gen maxval100.ppm 280x210 --maxval 100 --seed 21
gen maxval1000.ppm 210x280 --maxval 1000 --seed 22
gen maxval4095.pgm 300x256 --mode L --maxval 4095 --seed 23

compare() { # GOT REF LIMIT LABEL: per-image max |difference| <= LIMIT
    $py - "$1" "$2" "$3" "$4" "${imgs[@]}" <<'EOF'
import sys
import numpy as np
got, ref = np.load(sys.argv[1]), np.load(sys.argv[2])
limit, label, names = float(sys.argv[3]), sys.argv[4], sys.argv[5:]
assert got.dtype == np.float32 and got.shape == ref.shape == (len(names), 3, 224, 224), \
    (got.dtype, got.shape, ref.shape)
worst = 0.0
for name, g, r in zip(names, got, ref):
    d = float(np.abs(g.astype(np.float64) - r).max())
    worst = max(worst, d)
    if d > limit:
        print("%s: %s: max |difference| %.3g > %g" % (label, name, d, limit))
        sys.exit(1)
print("%s: %d images, max |difference| %.3g" % (label, len(names), worst))
EOF
}

$py tools/torch_preprocess.py "$work/ref.npy" "${imgs[@]}"
for b in "${bins[@]}"; do
    "$b" -q --batch 5 --preprocess-only "$work/got.npy" "${imgs[@]}" || fail "$b failed"
    compare "$work/got.npy" "$work/ref.npy" 1e-5 "$b" || fail "$b differs from torchvision"
done

# the .npy header: version 1.0, padded to 64 bytes like numpy.save
$py - "$work/got.npy" <<'EOF' || fail "bad .npy header"
import sys
b = open(sys.argv[1], "rb").read(128)
assert b[:8] == b"\x93NUMPY\x01\x00", b[:8]
n = b[8] | b[9] << 8
assert (10 + n) % 64 == 0 and b[10 + n - 1:10 + n] == b"\n", n
EOF

# ---- JPEG: stb_image's decoder differs from libjpeg's (Pillow's) by a few
# levels; the libjpeg build matches exactly
imgs=()
gen photo.jpg 320x240 --seed 30
gen photo-q60.jpg 500x375 --quality 60 --seed 31
gen grey.jpg 240x320 --mode L --seed 32
$py tools/torch_preprocess.py "$work/ref-jpeg.npy" "${imgs[@]}"
"${bins[0]}" -q --preprocess-only "$work/got-jpeg.npy" "${imgs[@]}" || fail "JPEG failed"
# 4 levels of 255, divided by the smallest std 0.224
compare "$work/got-jpeg.npy" "$work/ref-jpeg.npy" 0.071 "stb JPEG" || fail "stb JPEG off by too much"
if [ -n "$libjpeg" ]; then
    "$libjpeg" -q --preprocess-only "$work/got-jpeg.npy" "${imgs[@]}" || fail "libjpeg JPEG failed"
    compare "$work/got-jpeg.npy" "$work/ref-jpeg.npy" 1e-5 "libjpeg JPEG" ||
        fail "libjpeg build differs from torchvision on JPEG"
fi

# ---- progress and batching: one line per image, same result in any batch
"${bins[0]}" --batch 2 --preprocess-only "$work/b2.npy" "$src/sample.png" "$work/grey.png" \
    "$work/tiny.png" 2>"$work/progress" || fail "batch run failed"
grep -qx "\[3/3\] $work/tiny.png" "$work/progress" || { cat "$work/progress"; fail "no progress"; }
"${bins[0]}" -q --preprocess-only "$work/b1.npy" "$src/sample.png" "$work/grey.png" "$work/tiny.png"
cmp "$work/b1.npy" "$work/b2.npy" || fail "--batch 2 changes the output"

# ---- bad files: exit 1, the file named, no output (nor temporary) left
head -c 3000 "$work/photo.jpg" >"$work/truncated.jpg"
echo "this is not an image" >"$work/text.png"
: >"$work/empty.png"
head -c 9000 "$src/sample.png" >"$work/truncated.png"
printf 'P6\n20000 10\n255\n' >"$work/huge.ppm"
printf 'P6\n0 10\n255\n' >"$work/zero.ppm"
expect_error() { # FILE MESSAGE-PART
    local st=0
    rm -f "$work/bad.npy" "$work/bad.npy.tmp"
    "$san" -q --preprocess-only "$work/bad.npy" "$src/sample.png" "$1" 2>"$work/err" || st=$?
    [ $st -eq 1 ] || fail "$1: exit status $st, expected 1"
    grep -q "^embed: error: $1: .*$2" "$work/err" || { cat "$work/err"; fail "$1: unclear error"; }
    [ "$(wc -l <"$work/err")" -eq 1 ] || { cat "$work/err"; fail "$1: more than one line"; }
    [ ! -e "$work/bad.npy" ] && [ ! -e "$work/bad.npy.tmp" ] || fail "$1: partial output left"
}
expect_error "$work/truncated.jpg" "cannot decode: truncated JPEG"
expect_error "$work/text.png" "cannot decode: "
expect_error "$work/empty.png" "cannot decode: empty file"
expect_error "$work/truncated.png" "cannot decode: "
expect_error "$work/huge.ppm" "20000x10 not supported"
expect_error "$work/zero.ppm" "0x10 not supported"
expect_error "$work/missing.jpg" "cannot open: No such file"
expect_error "$work" "cannot"

# ---- usage errors: exit 1 with a message
for args in "" "--preprocess-only" "--batch 0 --preprocess-only $work/x.npy $src/sample.png" \
        "--bogus $src/sample.png" "--features $work/x.npy $src/sample.png" \
        "$src/sample.png" "--preprocess-only $work/nodir/x.npy $src/sample.png"; do
    st=0; "$san" $args 2>"$work/err" || st=$?
    [ $st -eq 1 ] || fail "exit status $st for: $args"
    grep -q "^embed: error: " "$work/err" || fail "no error message for: $args"
done
[ ! -e "$work/x.npy" ] || fail "output written after a usage error"
echo "ok"
