#!/usr/bin/python3
"""make_checkpoints.py — checkpoints in every format visec reads, written by
PyTorch itself, with the checksums PyTorch computes for them.

    /usr/bin/python3 tools/make_checkpoints.py OUTDIR [--small-only]

For each FILE it writes FILE.crc: one line per tensor, "NAME CRC32", where
CRC32 is zlib.crc32 of the tensor as float32 little-endian bytes in C order
(of the int64 bytes for integer tensors), which is what `visec inspect`
prints.  Names are as stored in the file (prefixes included).

Small files (a few tensors) cover each case alone: zip, legacy, float16,
bfloat16, float64, safetensors (written by hand: JSON header + raw data),
a nested {"state_dict": ...}, "module."-prefixed keys, a non-contiguous
view, views sharing one storage.  The full-size ones are the VisE trunk,
torch.nn.Sequential(*list(resnet50().children())[:-2]), with random weights
and randomised batch-norm statistics (seeded), in the formats the
acceptance test binds.
"""
import argparse
import json
import os
import struct
import sys
import zlib

import numpy as np
import torch

SEED = 1234
ST_DTYPE = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
            torch.float64: "F64", torch.int64: "I64"}


def crc_of(t):
    """CRC-32 of what visec binds: float32 LE after conversion, C order."""
    t = t.detach().cpu().contiguous()
    if t.is_floating_point():
        a = t.to(torch.float32).numpy().astype("<f4")
    else:
        a = t.numpy().astype("<i8")
    return zlib.crc32(a.tobytes()) & 0xFFFFFFFF


def write_crc(path, sd):
    with open(path + ".crc", "w") as f:
        for k in sorted(sd):
            f.write("%s %08x\n" % (k, crc_of(sd[k])))


def raw_bytes(t):
    """Little-endian bytes of a tensor in C order (bfloat16 via its bits)."""
    t = t.detach().cpu().contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    return t.numpy().tobytes()


def save_safetensors(path, sd, metadata=None):
    """The safetensors layout, written by hand (the package is not needed)."""
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for k in sorted(sd):
        b = raw_bytes(sd[k])
        header[k] = {"dtype": ST_DTYPE[sd[k].dtype], "shape": list(sd[k].shape),
                     "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)            # the format pads the header to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def save(path, obj, sd, legacy=False):
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    write_crc(path, sd)


def small_dict():
    g = torch.Generator().manual_seed(SEED)
    return {
        "conv.weight": torch.randn(4, 3, 3, 3, generator=g),
        "conv.bias": torch.randn(4, generator=g),
        "bn.weight": torch.rand(4, generator=g) + 0.5,
        "bn.bias": torch.randn(4, generator=g) * 0.1,
        "bn.running_mean": torch.randn(4, generator=g) * 0.1,
        "bn.running_var": torch.rand(4, generator=g) * 1.5 + 0.5,
        "bn.num_batches_tracked": torch.tensor(7),
        "fc.weight": torch.randn(5, 4, generator=g),
    }


def vise_model():
    import torchvision
    torch.manual_seed(SEED)
    m = torch.nn.Sequential(*list(torchvision.models.resnet50().children())[:-2])
    g = torch.Generator().manual_seed(SEED + 1)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                n = mod.num_features
                mod.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
                mod.running_var.copy_(torch.rand(n, generator=g) * 1.5 + 0.5)
                mod.weight.copy_(torch.rand(n, generator=g) + 0.5)
                mod.bias.copy_(torch.randn(n, generator=g) * 0.1)
                mod.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=g)))
    return m


def converted(sd, dtype):
    return {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in sd.items()}


def write_small(out):
    sd = small_dict()
    save(os.path.join(out, "small.pt"), sd, sd)
    save(os.path.join(out, "small_legacy.pt"), sd, sd, legacy=True)
    for name, dt in (("f16", torch.float16), ("bf16", torch.bfloat16), ("f64", torch.float64)):
        c = converted(sd, dt)
        save(os.path.join(out, "small_%s.pt" % name), c, c)
        save(os.path.join(out, "small_%s_legacy.pt" % name), c, c, legacy=True)
    save_safetensors(os.path.join(out, "small.safetensors"), sd, {"format": "pt"})
    write_crc(os.path.join(out, "small.safetensors"), sd)
    c = converted(sd, torch.float16)
    save_safetensors(os.path.join(out, "small_f16.safetensors"), c)
    write_crc(os.path.join(out, "small_f16.safetensors"), c)
    save(os.path.join(out, "small_nested.pt"), {"state_dict": sd, "epoch": 3, "arch": "small"}, sd)
    mod = {"module." + k: v for k, v in sd.items()}
    save(os.path.join(out, "small_module.pt"), mod, mod)
    save(os.path.join(out, "small_module_legacy.pt"), mod, mod, legacy=True)

    # Non-contiguous views: a transpose and a column slice with an offset.
    g = torch.Generator().manual_seed(SEED + 2)
    base = torch.randn(6, 5, generator=g)
    nc = {"t.weight": base.t(), "s.weight": base[1:5, 2:4], "c.weight": torch.randn(3, 2, generator=g)}
    assert not nc["t.weight"].is_contiguous() and not nc["s.weight"].is_contiguous()
    save(os.path.join(out, "noncontig.pt"), nc, nc)
    save(os.path.join(out, "noncontig_legacy.pt"), nc, nc, legacy=True)

    # Views sharing one storage.
    flat = torch.randn(24, generator=g)
    sh = {"a.weight": flat[:12].view(3, 4), "b.weight": flat[12:].view(2, 6), "all.weight": flat}
    save(os.path.join(out, "shared.pt"), sh, sh)
    save(os.path.join(out, "shared_legacy.pt"), sh, sh, legacy=True)


def write_vise(out):
    sd = vise_model().state_dict()
    save(os.path.join(out, "vise.pt"), sd, sd)
    save(os.path.join(out, "vise_legacy.pt"), sd, sd, legacy=True)
    c = converted(sd, torch.float16)
    save(os.path.join(out, "vise_f16.pt"), c, c)
    c = converted(sd, torch.bfloat16)
    save(os.path.join(out, "vise_bf16.pt"), c, c)
    save_safetensors(os.path.join(out, "vise.safetensors"), sd)
    write_crc(os.path.join(out, "vise.safetensors"), sd)
    save(os.path.join(out, "vise_nested.pt"), {"state_dict": sd, "epoch": 90}, sd)
    mod = {"module." + k: v for k, v in sd.items()}
    save(os.path.join(out, "vise_module.pt"), mod, mod)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir", help="where to write the checkpoints and their .crc files")
    ap.add_argument("--small-only", action="store_true", help="skip the full-size VisE checkpoints")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    write_small(a.outdir)
    if not a.small_only:
        write_vise(a.outdir)


if __name__ == "__main__":
    main()
