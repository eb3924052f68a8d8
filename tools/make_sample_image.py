#!/usr/bin/python3
"""Write a deterministic synthetic landscape picture.

    make_sample_image.py OUT [--size WxH] [--mode RGB|L|RGBA|LA|P|I16]
                             [--seed N] [--quality Q] [--maxval M]

The picture (sky gradient, sun, layered hills, a lake, trees, film grain) is
smooth in places and detailed in others, so resampling errors show.  It is a
pure function of the size and the seed: numpy's legacy RandomState stream is
fixed across numpy versions.  The format follows OUT's extension (.png, .ppm
or .pgm, .jpg); --mode converts the picture with PIL before saving ('RGBA'
and 'LA' get a varying alpha channel, 'P' an adaptive palette, 'I16' is
16-bit grey, PNG only).  --maxval writes a binary PPM/PGM whose samples
are scaled to 0..M (two bytes each above 255) instead of 0..255.

examples/embed/sample.png is this program's output with the defaults:
    /usr/bin/python3 tools/make_sample_image.py examples/embed/sample.png
"""
import argparse
import sys

import numpy as np
from PIL import Image


def smoothstep(e0, e1, x):
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def blend(img, color, alpha):
    """img (H,W,3) += alpha (H,W) * (color - img)."""
    a = alpha[..., None]
    return img + a * (np.asarray(color, np.float64) - img)


def landscape(w, h, seed):
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    u, v = x / w, y / h                      # 0..1 across, 0..1 down

    # sky: blue at the top to a warm haze at the horizon
    sky_top = np.array([40, 90, 170.0])
    sky_low = np.array([235, 200, 160.0])
    t = smoothstep(0.0, 0.55, v)[..., None]
    img = sky_top + t * (sky_low - sky_top)

    # sun with a soft halo
    sx, sy = 0.72, 0.22
    d = np.hypot((u - sx) * w / h, v - sy)
    img = blend(img, (255, 240, 200), np.exp(-(d / 0.12) ** 2) * 0.6)
    img = blend(img, (255, 250, 235), smoothstep(0.055, 0.045, d))

    # three ranges of hills, farther ones paler
    ranges = [(0.48, 0.05, (120, 130, 150)), (0.58, 0.07, (80, 110, 80)),
              (0.70, 0.06, (50, 90, 40))]
    for base, amp, color in ranges:
        ph = rng.uniform(0, 2 * np.pi, 3)
        ridge = base + amp * (np.sin(u * 5.0 + ph[0]) * 0.6 +
                              np.sin(u * 13.0 + ph[1]) * 0.3 +
                              np.sin(u * 31.0 + ph[2]) * 0.1)
        edge = smoothstep(-0.004, 0.004, v - ridge)
        shade = (1.0 - 0.35 * smoothstep(ridge, ridge + 0.3, v))[..., None]
        img = img + edge[..., None] * (np.asarray(color, np.float64) * shade - img)

    # a lake in the lower left, reflecting the sky, with ripples
    lake = smoothstep(0.004, -0.004, ((u - 0.28) / 0.25) ** 2 + ((v - 0.88) / 0.09) ** 2 - 1.0)
    ripple = 0.5 + 0.5 * np.sin(v * h * 0.9 + np.sin(u * 40.0) * 2.0)
    water = sky_top * 0.8 + ripple[..., None] * 25.0
    img = img + lake[..., None] * (water - img)

    # trees: dark triangles with trunks on the near hill
    for _ in range(7):
        tx = rng.uniform(0.45, 0.98)
        ty = rng.uniform(0.74, 0.9)
        th = rng.uniform(0.10, 0.18)
        tw = th * 0.35 * h / w
        inside = (v < ty) & (v > ty - th) & (np.abs(u - tx) < tw * (v - (ty - th)) / th)
        img = blend(img, (25, 60, 30), inside.astype(np.float64) * 0.9)
        trunk = (v >= ty) & (v < ty + 0.03) & (np.abs(u - tx) < 0.006)
        img = blend(img, (70, 45, 25), trunk.astype(np.float64))

    # film grain (in 2x2 clumps, which keeps the PNG small), some vignetting
    grain = rng.normal(0.0, 3.0, ((h + 1) // 2, (w + 1) // 2, 1))
    img = img + np.repeat(np.repeat(grain, 2, axis=0), 2, axis=1)[:h, :w]
    vign = 1.0 - 0.25 * (((u - 0.5) * 1.6) ** 2 + ((v - 0.5) * 1.6) ** 2)
    img = img * vign[..., None]
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def write_pnm(path, pixels, maxval):
    """Binary PGM (H,W) or PPM (H,W,3) of 8-bit pixels rescaled to 0..maxval."""
    if not 1 <= maxval <= 65535:
        sys.exit("make_sample_image.py: error: --maxval %d: expected 1..65535" % maxval)
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3) or \
            (pixels.ndim == 3 and pixels.shape[2] != 3):
        sys.exit("make_sample_image.py: error: --maxval needs mode RGB or L")
    v = np.rint(pixels.astype(np.float64) * maxval / 255.0).astype(np.uint32)
    data = v.astype(">u2" if maxval > 255 else np.uint8).tobytes()
    magic = "P6" if pixels.ndim == 3 else "P5"
    with open(path, "wb") as f:
        f.write(("%s\n# make_sample_image.py\n%d %d\n%d\n" %
                 (magic, pixels.shape[1], pixels.shape[0], maxval)).encode("ascii"))
        f.write(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--size", default="320x240", help="WxH (default 320x240)")
    ap.add_argument("--mode", default="RGB", choices=["RGB", "L", "RGBA", "LA", "P", "I16"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quality", type=int, default=90, help="JPEG quality")
    ap.add_argument("--maxval", type=int, default=255, help="PPM/PGM maxval (1..65535)")
    a = ap.parse_args()
    try:
        w, h = (int(s) for s in a.size.lower().split("x"))
        if w < 1 or h < 1:
            raise ValueError
    except ValueError:
        sys.exit("make_sample_image.py: error: --size %r: expected WxH" % a.size)

    pixels = landscape(w, h, a.seed)
    im = Image.fromarray(pixels, "RGB")
    if a.mode in ("RGBA", "LA"):
        yy, xx = np.mgrid[0:h, 0:w]
        alpha = (128 + 127 * np.sin(xx / 7.0) * np.cos(yy / 11.0)).astype(np.uint8)
        im = im.convert(a.mode[:-1])
        im.putalpha(Image.fromarray(alpha, "L"))
    elif a.mode == "I16":
        # grey spread over 0..65535 the way a 16-bit scan would be
        grey = np.asarray(im.convert("L"), dtype=np.uint16) * 257
        im = Image.fromarray(grey.astype(np.uint16), "I;16")
    elif a.mode == "P":
        im = im.quantize(colors=64, method=Image.MEDIANCUT, dither=Image.NONE)
    elif a.mode != "RGB":
        im = im.convert(a.mode)

    ext = a.out.rsplit(".", 1)[-1].lower()
    if ext in ("jpg", "jpeg"):
        im.save(a.out, "JPEG", quality=a.quality)
    elif ext == "png":
        im.save(a.out, "PNG", optimize=True)
    elif ext in ("ppm", "pgm", "pnm") and a.maxval != 255:
        write_pnm(a.out, np.asarray(im), a.maxval)
    elif ext in ("ppm", "pgm", "pnm"):
        im.save(a.out, "PPM")
    else:
        sys.exit("make_sample_image.py: error: %s: unknown extension (.png, .ppm, .jpg)" % a.out)


if __name__ == "__main__":
    main()
