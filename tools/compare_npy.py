#!/usr/bin/python3
"""compare_npy.py Y.npy REF.npy [--tol T]

Prints max|y - ref|, max|ref| and their ratio; exits 1 if the shapes differ,
if y has a NaN or infinity, or if max|y - ref| > T * max|ref| (T = 1e-4).
Needs only numpy.
"""
import argparse
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("y")
    ap.add_argument("ref")
    ap.add_argument("--tol", type=float, default=1e-4)
    a = ap.parse_args()
    y, ref = np.load(a.y), np.load(a.ref)
    if y.shape != ref.shape:
        print("shapes differ: %s has %s, %s has %s" % (a.y, y.shape, a.ref, ref.shape))
        return 1
    if not np.all(np.isfinite(y)):
        print("%s holds NaN or infinity" % a.y)
        return 1
    err = float(np.max(np.abs(y.astype(np.float64) - ref))) if y.size else 0.0
    mag = float(np.max(np.abs(ref))) if ref.size else 0.0
    ratio = err / mag if mag > 0 else (0.0 if err == 0 else float("inf"))
    ok = err <= a.tol * mag
    print("max|y-ref| = %.6g  max|ref| = %.6g  ratio = %.3g  (tolerance %g): %s"
          % (err, mag, ratio, a.tol, "ok" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
