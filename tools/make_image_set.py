#!/usr/bin/env python3
"""make_image_set.py — a collection of distinct test images and a list of them.

    make_image_set.py DIR --count N [--bad K] [--missing M] [--seed S]
                          [--min-size P] [--max-size P]

Writes N images DIR/img-0000.png, ... (random blocky colour patterns of
random sizes, every one different enough that its embedding is its own
nearest neighbour; PNG, some JPEG and PPM), K undecodable files (text named
.png, a truncated PNG, an empty file) and DIR/list.txt: the paths of all of
them plus M paths that do not exist, in a fixed shuffled order.  The same
arguments give the same files.
"""
import argparse
import os
import random

import numpy as np
from PIL import Image


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--bad", type=int, default=0)
    ap.add_argument("--missing", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--min-size", type=int, default=230, help="smallest side drawn (pixels)")
    ap.add_argument("--max-size", type=int, default=360, help="largest side drawn (pixels)")
    a = ap.parse_args()

    os.makedirs(a.dir, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    paths = []
    for i in range(a.count):
        w = int(rng.integers(a.min_size, a.max_size))
        h = int(rng.integers(a.min_size, a.max_size))
        cells = int(rng.integers(3, 12))
        small = rng.integers(0, 256, size=(cells, cells, 3), dtype=np.uint8)
        img = Image.fromarray(small, "RGB").resize((w, h), Image.NEAREST)
        kind = ("png", "png", "jpg", "ppm")[i % 4]
        path = os.path.join(a.dir, "img-%04d.%s" % (i, kind))
        if kind == "jpg":
            img.save(path, quality=95)
        else:
            img.save(path)
        paths.append(path)
    for i in range(a.bad):
        path = os.path.join(a.dir, "bad-%02d.png" % i)
        kind = i % 3
        if kind == 0:
            data = b"this is not an image\n"
        elif kind == 1:
            full = os.path.join(a.dir, "img-0000.png") if a.count else None
            data = open(full, "rb").read()[:200] if full else b"\x89PNG\r\n\x1a\n"
        else:
            data = b""
        with open(path, "wb") as fh:
            fh.write(data)
        paths.append(path)
    for i in range(a.missing):
        paths.append(os.path.join(a.dir, "missing-%02d.png" % i))
    random.Random(a.seed).shuffle(paths)
    with open(os.path.join(a.dir, "list.txt"), "w") as fh:
        fh.write("".join(p + "\n" for p in paths))


if __name__ == "__main__":
    main()
