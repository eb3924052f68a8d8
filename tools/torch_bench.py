#!/usr/bin/python3
"""Times PyTorch on the VisE ResNet-50 trunk, for tools/bench.sh.

    torch_bench.py --checkpoint W --input X.npy --threads T --repeat K

Loads the checkpoint (torch.save file or safetensors) into
torch.nn.Sequential(*list(torchvision.models.resnet50().children())[:-2]),
runs X (after two warm-up runs) K times in inference mode with T threads and
prints "median MS over K runs (min MS)".
"""
import argparse
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, __import__("os").path.dirname(__file__))
import torch_reference  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=15)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model = torch_reference.build(False)
    torch_reference.load_checkpoint(model, a.checkpoint)
    x = torch.from_numpy(np.load(a.input))
    times = []
    with torch.inference_mode():
        for i in range(a.repeat + 2):
            t = time.perf_counter()
            model(x)
            if i >= 2:
                times.append((time.perf_counter() - t) * 1e3)
    print("median %.2f ms over %d runs (min %.2f)" % (statistics.median(times), len(times), min(times)))


if __name__ == "__main__":
    main()
