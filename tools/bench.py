#!/usr/bin/python3
"""Times generated VisE code against PyTorch, interleaved, for tools/bench.sh.

    bench.py --checkpoint W --work DIR --c NAME DRIVER WEIGHTS [--c ...]
             [--batches 1,8] [--threads 1,2] [--rounds 5] [--repeat 3]
             [--gflop 8.17] [--peak T:GFLOPS ...] [--c-batches NAME:1 ...]

PyTorch runs in this process (its fastest CPU paths: the TorchScript model
frozen by torch.jit.optimize_for_inference, which uses oneDNN, and eager
mode in channels_last), the generated code as DRIVER (tools/vx_driver.c)
subprocesses.  For every (batch, threads) the candidates run in turn, one
measurement (the median of --repeat runs) each, and this is repeated
--rounds times, so the machine's load drifts over all of them alike; the
figure is the median over the rounds.  Ratios are PyTorch-jit's median over
the candidate's (above 1: faster than PyTorch).  On one thread the CPU time
of the run is shown too (median, its ratio, the GFLOP/s it gives and their
share of the FMA peak, itself measured by CPU time): on a busy machine other
processes disturb it far less than the wall clock.  Effective GFLOP/s is
gflop * batch / time.  The environment (ATEN_CPU_CAPABILITY,
DNNL_MAX_CPU_ISA) is honoured by PyTorch as usual.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_reference  # noqa: E402


def time_torch(fn, x, repeat):
    """(median wall ms, median CPU ms of all threads)"""
    times, cpu = [], []
    with torch.inference_mode():
        for _ in range(repeat):
            t, c = time.perf_counter(), time.process_time()
            fn(x)
            times.append((time.perf_counter() - t) * 1e3)
            cpu.append((time.process_time() - c) * 1e3)
    return statistics.median(times), statistics.median(cpu)


def time_driver(driver, weights, xpath, threads, repeat, work):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OMP_PROC_BIND="false")
    out = subprocess.run([driver, weights, xpath, os.path.join(work, "y_bench.npy"), "--repeat", str(repeat)],
                         env=env, check=True, capture_output=True, text=True).stdout
    # "median M ms over K runs (min m; cpu median C ms)"
    w = out.split()
    return float(w[1]), float(w[w.index("cpu") + 2])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--c", nargs=3, action="append", default=[], metavar=("NAME", "DRIVER", "WEIGHTS"))
    ap.add_argument("--c-batches", action="append", default=[], metavar="NAME:B,B",
                    help="run candidate NAME only at these batches")
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--gflop", type=float, default=8.17)
    ap.add_argument("--peak", action="append", default=[], metavar="T:GFLOPS")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--eager-batches", default="1",
                    help="batches at which eager channels_last runs too (it is far slower than the jit path)")
    a = ap.parse_args()
    peaks = {int(p.split(":")[0]): float(p.split(":")[1]) for p in a.peak}
    only = {c.split(":")[0]: [int(b) for b in c.split(":")[1].split(",")] for c in a.c_batches}

    torch_modes = {}
    if not a.no_torch:
        model = torch_reference.build(False)
        torch_reference.load_checkpoint(model, a.checkpoint)
        jit = torch.jit.optimize_for_inference(torch.jit.script(model))
        cl = torch_reference.build(False)
        torch_reference.load_checkpoint(cl, a.checkpoint)
        cl = cl.to(memory_format=torch.channels_last)
        torch_modes["pytorch jit (oneDNN)"] = lambda x: jit(x)
        torch_modes["pytorch eager channels_last"] = lambda x: cl(x.contiguous(memory_format=torch.channels_last))

    rows = []
    for b in [int(v) for v in a.batches.split(",")]:
        xpath = os.path.join(a.work, "x%d.npy" % b)
        xn = np.random.default_rng(1).standard_normal((b, 3, 224, 224), dtype=np.float32)
        np.save(xpath, xn)
        x = torch.from_numpy(xn)
        for t in [int(v) for v in a.threads.split(",")]:
            torch.set_num_threads(t)
            eager_b = [int(v) for v in a.eager_batches.split(",") if v]
            modes = {n: fn for n, fn in torch_modes.items() if "eager" not in n or b in eager_b}
            names = list(modes) + [c[0] for c in a.c if b in only.get(c[0], [b])]
            meas = {n: [] for n in names}
            for n, fn in modes.items():    # warm-up (TorchScript profiles its first runs)
                time_torch(fn, x, 2)
            for c in a.c:
                if c[0] in names:
                    time_driver(c[1], c[2], xpath, t, 1, a.work)
            for _ in range(a.rounds):
                for n, fn in modes.items():
                    meas[n].append(time_torch(fn, x, a.repeat))
                for c in a.c:
                    if c[0] in names:
                        meas[c[0]].append(time_driver(c[1], c[2], xpath, t, a.repeat, a.work))
            ref = statistics.median(m[0] for m in meas[names[0]]) if torch_modes else None
            cref = statistics.median(m[1] for m in meas[names[0]]) if torch_modes else None
            for n in names:
                ms = statistics.median(m[0] for m in meas[n])
                cpu = statistics.median(m[1] for m in meas[n]) if t == 1 else None
                rows.append((b, t, n, ms, ref / ms if ref else None, a.gflop * b / ms * 1e3, peaks.get(t), cpu,
                             cref / cpu if cpu and cref else None))
            print_rows(rows[-len(names):], first=(b == int(a.batches.split(",")[0]) and t ==
                                                  int(a.threads.split(",")[0])))
            sys.stdout.flush()


def print_rows(rows, first):
    if first:
        print("%5s %3s  %-34s %10s %7s %8s | %8s %7s %8s %7s" % (
            "batch", "thr", "", "median ms", "vs jit", "GFLOP/s", "cpu ms", "vs jit", "GFLOP/s", "% peak"))
    for b, t, n, ms, ratio, gf, peak, cpu, cratio in rows:
        cgf = gf * ms / cpu if cpu else None
        print("%5d %3d  %-34s %10.2f %7s %8.1f | %8s %7s %8s %7s" % (
            b, t, n, ms, "%.2f" % ratio if ratio else "-", gf, "%.2f" % cpu if cpu else "-",
            "%.2f" % cratio if cratio else "-", "%.1f" % cgf if cgf else "-",
            "%.0f" % (100 * cgf / peak) if cgf and peak else "-"))


if __name__ == "__main__":
    main()
