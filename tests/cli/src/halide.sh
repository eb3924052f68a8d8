# halide.sh — sourced by the tests of --runtime halide: finds Halide (Debian's
# libhalide14-0-dev) and a standalone Halide runtime, or skips (exit 77).
#
#   halide_setup WORKDIR   sets HL_INC (HalideRuntime.h), HL_TOOLS (RunGenMain.cpp),
#                          HL_RT (the runtime object) and HL_LIBS (what it needs)
#   halide_rungen_main     sets HL_RUNGEN (RunGenMain.cpp compiled)
#
# Objects made by `make halide-runtime` (build/halide/) are used when present,
# else built in WORKDIR.
HL_INC=${HALIDE_INCLUDE:-/usr/include/halide14}
HL_TOOLS=${HALIDE_TOOLS:-/usr/src/halide14}
HL_LIBS="-lpthread -ldl -lm"
HL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)    # the source tree

halide_setup() {
    local work=$1
    [ -f "$HL_INC/HalideRuntime.h" ] || { echo "no HalideRuntime.h in $HL_INC"; exit 77; }
    HL_RT=$HL_ROOT/build/halide/halide_runtime.o
    if [ ! -f "$HL_RT" ]; then
        g++ -std=c++17 -O1 -I"$HL_INC" "$HL_ROOT/tools/halide_runtime.cpp" -o "$work/halide_runtime_gen" \
            -lHalide14 2>"$work/hl_err" || { cat "$work/hl_err"; echo "cannot build with libHalide"; exit 77; }
        "$work/halide_runtime_gen" "$work/halide_runtime.o" host >/dev/null || exit 1
        HL_RT=$work/halide_runtime.o
    fi
}

halide_rungen_main() {
    local work=$1
    [ -f "$HL_TOOLS/RunGenMain.cpp" ] || { echo "no RunGenMain.cpp in $HL_TOOLS"; exit 77; }
    HL_RUNGEN=$HL_ROOT/build/halide/RunGenMain.o
    if [ ! -f "$HL_RUNGEN" ]; then
        g++ -std=c++17 -O1 -DHALIDE_NO_PNG -DHALIDE_NO_JPEG -I"$HL_INC" -I"$HL_TOOLS" \
            -c "$HL_TOOLS/RunGenMain.cpp" -o "$work/RunGenMain.o" || exit 1
        HL_RUNGEN=$work/RunGenMain.o
    fi
}
