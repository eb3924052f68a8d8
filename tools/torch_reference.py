#!/usr/bin/python3
"""PyTorch reference outputs for the VisE ResNet-50 trunk (the oracle of visec's tests).

The VisE model is torchvision's resnet50 without its avgpool and fc:
    torch.nn.Sequential(*list(torchvision.models.resnet50().children())[:-2])
(--full: the whole resnet50, output [B, 1000]).

    torch_reference.py gen --seed S --checkpoint CK.pt --batch B --input X.npy --output Y.npy
        Builds the model with seeded random weights AND batch-norm statistics
        (so a wrong eps, mean or variance cannot hide), saves its state dict
        with torch.save (zip format), a seeded N(0, 1) input of B images and
        PyTorch's output.  --input-only skips the model: just the input file.

    torch_reference.py run --checkpoint CK --input X.npy --output Y.npy
        Loads an existing checkpoint (torch.save file or safetensors, such as
        visec init-weights writes) and writes PyTorch's output for X.

Run it with /usr/bin/python3 (the Python that has torch and torchvision).
"""
import argparse
import json
import struct
import sys

import numpy as np
import torch
import torchvision


def build(full):
    m = torchvision.models.resnet50()
    if not full:
        m = torch.nn.Sequential(*list(m.children())[:-2])
    return m.eval()


def randomize(model, seed):
    """Kaiming-normal convs; batch norms with non-trivial statistics."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, torch.nn.Conv2d):
                fan_in = mod.weight[0].numel()
                mod.weight.copy_(torch.randn(mod.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5)
                if mod.bias is not None:
                    mod.bias.copy_(torch.randn(mod.bias.shape, generator=g) * 0.1)
            elif isinstance(mod, torch.nn.BatchNorm2d):
                c = mod.num_features
                mod.weight.copy_(torch.rand(c, generator=g) + 0.5)          # U(0.5, 1.5)
                mod.bias.copy_(torch.randn(c, generator=g) * 0.1)           # N(0, 0.1)
                mod.running_mean.copy_(torch.randn(c, generator=g) * 0.1)   # N(0, 0.1)
                mod.running_var.copy_(torch.rand(c, generator=g) * 1.5 + 0.5)  # U(0.5, 2)
            elif isinstance(mod, torch.nn.Linear):
                fan_in = mod.weight.shape[1]
                mod.weight.copy_(torch.randn(mod.weight.shape, generator=g) * (1.0 / fan_in) ** 0.5)
                mod.bias.copy_(torch.randn(mod.bias.shape, generator=g) * 0.1)


def load_safetensors(path):
    dtypes = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64}
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    sd = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        a = np.frombuffer(data[b:e], dtype=np.dtype(dtypes[info["dtype"]]).newbyteorder("<"))
        sd[name] = torch.from_numpy(a.reshape(info["shape"]).copy())
    return sd


def load_checkpoint(model, path):
    with open(path, "rb") as f:
        magic = f.read(2)
    sd = torch.load(path, map_location="cpu") if magic == b"PK" else load_safetensors(path)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        sys.exit("%s: missing keys %s, unexpected keys %s" % (path, missing[:5], unexpected[:5]))


def forward(model, x):
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy().astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["gen", "run"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--size", type=int, default=224, help="image height and width")
    ap.add_argument("--input", required=True)
    ap.add_argument("--output")
    ap.add_argument("--input-only", action="store_true")
    ap.add_argument("--full", action="store_true", help="the whole resnet50 with avgpool and fc")
    args = ap.parse_args()
    torch.set_num_threads(2)

    if args.mode == "gen":
        g = torch.Generator().manual_seed(args.seed + 1)
        x = torch.randn(args.batch, 3, args.size, args.size, generator=g).numpy()
        np.save(args.input, x.astype(np.float32))
        if args.input_only:
            return
        model = build(args.full)
        randomize(model, args.seed)
        torch.save(model.state_dict(), args.checkpoint)
    else:
        model = build(args.full)
        load_checkpoint(model, args.checkpoint)
        x = np.load(args.input)
    if args.output:
        np.save(args.output, forward(model, x))


if __name__ == "__main__":
    main()
