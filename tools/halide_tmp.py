#!/usr/bin/env python3
"""halide_tmp.py — converts between .npy arrays and Halide's .tmp files (the
format RunGen reads and writes: five int32, extents 0-3 then a type code,
and the elements, dimension 0 fastest).

  halide_tmp.py to-tmp IN.npy OUT.tmp        NCHW float32 -> [W, H, C, N]
  halide_tmp.py bytes FILE OUT.tmp           any file -> uint8 [size, 1, 1, 1]
  halide_tmp.py to-npy IN.tmp OUT.npy        [W, H, C, N] -> NCHW float32

An NCHW array in C order and a [W, H, C, N] Halide buffer with dense strides
are the same bytes, so only the header changes.
"""
import struct
import sys

import numpy as np

CODES = {0: np.float32, 2: np.uint8}


def to_tmp(src, dst):
    a = np.ascontiguousarray(np.load(src), dtype=np.float32)
    ext = list(a.shape[::-1]) + [1] * (4 - a.ndim)
    with open(dst, "wb") as f:
        f.write(struct.pack("<5i", *ext, 0))
        f.write(a.tobytes())


def from_bytes(src, dst):
    data = open(src, "rb").read()
    with open(dst, "wb") as f:
        f.write(struct.pack("<5i", len(data), 1, 1, 1, 2))
        f.write(data)


def to_npy(src, dst):
    raw = open(src, "rb").read()
    ext = struct.unpack("<5i", raw[:20])
    if ext[4] not in CODES:
        sys.exit("halide_tmp.py: %s: type code %d not supported" % (src, ext[4]))
    a = np.frombuffer(raw[20:], dtype=CODES[ext[4]]).reshape(ext[3], ext[2], ext[1], ext[0])
    np.save(dst, a)


if __name__ == "__main__":
    cmds = {"to-tmp": to_tmp, "bytes": from_bytes, "to-npy": to_npy}
    if len(sys.argv) != 4 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](sys.argv[2], sys.argv[3])
