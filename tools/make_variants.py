#!/usr/bin/python3
"""make_variants.py — the checkpoints people actually have, written by PyTorch.

    /usr/bin/python3 tools/make_variants.py OUTDIR [--seed S] [--batch B] [--small]

Writes into OUTDIR, all from one seeded VisE trunk (tools/torch_reference.py):

    x.npy, ref.npy        a seeded input and PyTorch's trunk output for it
    torchvision.pt        torchvision's own naming: the whole resnet50's
                          state_dict (conv1, bn1, layer1..4, fc), trunk weights
                          equal to the others
    training.pt           a training checkpoint: {"state_dict": trunk, "args":
                          argparse.Namespace(...), "epoch": numpy.int64,
                          "best_acc1": numpy.float64, "optimizer": {...}}
    deflated.pt           the trunk checkpoint re-zipped with DEFLATE
    fp16.pt               the trunk in float16 (ref_fp16.npy: PyTorch on it)
    extra.pt              the trunk plus one tensor the model does not use
    module.pt             torch.save(model): a whole pickled nn.Module
    training_legacy.pt,   the same two in the legacy format
    module_legacy.pt      (_use_new_zipfile_serialization=False)
    opaque_in_sd.pt       a state dict with an argparse.Namespace as a value

--small writes no full-size file: a 2-tensor stand-in for each wrapper kind
(for fuzz seeds).
"""
import argparse
import os
import sys
import zipfile

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_reference  # noqa: E402


def rezip_deflated(src, dst):
    """The same archive, every entry DEFLATE-compressed (torch.load reads it)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)


def wrapper(sd):
    return {
        "epoch": np.int64(90),
        "arch": "resnet50",
        "state_dict": sd,
        "best_acc1": np.float64(0.5),
        "args": argparse.Namespace(lr=0.1, arch="resnet50", epochs=90, dist=False,
                                   gpus=[0, 1], crop=np.float32(0.875)),
        "optimizer": {"state": {}, "param_groups": [{"lr": 0.1, "momentum": 0.9, "params": [0, 1]}]},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--small", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    out = lambda n: os.path.join(a.outdir, n)  # noqa: E731
    torch.set_num_threads(2)

    if a.small:
        sd = {"0.weight": torch.randn(2, 3, 1, 1), "1.running_var": torch.rand(2)}
        torch.save(wrapper(sd), out("small_training.pt"))
        torch.save(sd, out("small.pt"))
        rezip_deflated(out("small.pt"), out("small_deflated.pt"))
        torch.save(torch.nn.Sequential(torch.nn.Conv2d(3, 2, 1)), out("small_module.pt"))
        torch.save(wrapper(sd), out("small_training_legacy.pt"), _use_new_zipfile_serialization=False)
        torch.save({"0.weight": argparse.Namespace(x=1)}, out("small_opaque_in_sd.pt"))
        return

    full = torch_reference.build(full=True)
    torch_reference.randomize(full, a.seed)
    trunk = torch.nn.Sequential(*list(full.children())[:-2]).eval()
    g = torch.Generator().manual_seed(a.seed + 1)
    x = torch.randn(a.batch, 3, 224, 224, generator=g).numpy().astype(np.float32)
    np.save(out("x.npy"), x)
    np.save(out("ref.npy"), torch_reference.forward(trunk, x))

    sd = trunk.state_dict()
    torch.save(full.state_dict(), out("torchvision.pt"))
    torch.save(wrapper(sd), out("training.pt"))
    torch.save(sd, out("trunk.pt"))
    rezip_deflated(out("trunk.pt"), out("deflated.pt"))
    half = {k: (v.half() if v.is_floating_point() else v) for k, v in sd.items()}
    torch.save(half, out("fp16.pt"))
    trunk16 = torch.nn.Sequential(*list(torch_reference.build(full=True).children())[:-2]).eval()
    trunk16.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in half.items()})
    np.save(out("ref_fp16.npy"), torch_reference.forward(trunk16, x))
    extra = dict(sd)
    extra["head.weight"] = torch.randn(10, 2048)
    torch.save(extra, out("extra.pt"))
    torch.save(trunk, out("module.pt"))
    torch.save(wrapper(sd), out("training_legacy.pt"), _use_new_zipfile_serialization=False)
    torch.save(trunk, out("module_legacy.pt"), _use_new_zipfile_serialization=False)
    bad = dict(sd)
    bad["4.0.conv1.weight"] = argparse.Namespace(oops=True)
    torch.save(bad, out("opaque_in_sd.pt"))


if __name__ == "__main__":
    main()
