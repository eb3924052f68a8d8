#!/usr/bin/python3
"""make_hostile.py — broken and hostile checkpoints that visec must refuse.

    /usr/bin/python3 tools/make_hostile.py OUTDIR [--with-model]

Writes each file into OUTDIR and a manifest OUTDIR/manifest.txt, one line per
file:  NAME|COMMAND|PATTERN  where COMMAND is "inspect" (run `visec inspect
FILE`) or "check" (run `visec check examples/vise_resnet50.vise --weights
FILE`), and PATTERN is an extended regular expression stderr must match.
Every file must end in exit status 1 with an "error:" line: never a crash,
a hang, or an allocation the file's size does not justify.

Pickles are built by hand, opcode by opcode, so nothing here runs them.
The "check" cases (wrong shapes, non-finite values, negative variances)
need a full-size VisE checkpoint and are written only with --with-model.
"""
import argparse
import io
import os
import struct
import sys
import zipfile

out = None
manifest = []


def put(name, data, pattern, command="inspect"):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
    manifest.append("%s|%s|%s" % (name, command, pattern))


# ---------------------------------------------------------------- pickles

def s(x):
    """BINUNICODE."""
    b = x.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def glob(mod, name):
    return b"c" + mod.encode() + b"\n" + name.encode() + b"\n"


def i1(n):
    return b"K" + bytes([n])


def tensor(key, numel, size, stride, offset=0, storage=b"FloatStorage", legacy=False):
    """_rebuild_tensor_v2 of a persistent-id storage, as torch writes it."""
    pid = b"(" + s("storage") + glob("torch", storage.decode()) + s(key) + s("cpu") + b"J" + \
        struct.pack("<i", numel) + ((b"N") if legacy else b"") + b"tQ"
    tup = lambda xs: b"(" + b"".join(i1(x) for x in xs) + b"t"
    return glob("torch._utils", "_rebuild_tensor_v2") + b"(" + pid + i1(offset) + tup(size) + \
        tup(stride) + b"\x89" + glob("collections", "OrderedDict") + b")R" + b"tR"


def state_dict(items):
    """{key: value, ...} as EMPTY_DICT MARK ... SETITEMS."""
    return b"\x80\x02}(" + b"".join(s(k) + v for k, v in items) + b"u."


def torch_zip(pkl, storages, prefix="archive", extra=()):
    """A ZIP laid out like torch's: STORED entries named PREFIX/...."""
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_STORED) as z:
        z.writestr(prefix + "/data.pkl", pkl)
        for k, data in storages:
            z.writestr(prefix + "/data/" + k, data)
        for name, data in extra:
            z.writestr(name, data)
        z.writestr(prefix + "/version", b"3\n")
    return bytearray(b.getvalue())


def deflated_zip(pkl, storages, prefix="archive"):
    """torch_zip's layout with every entry DEFLATE-compressed."""
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(prefix + "/data.pkl", pkl)
        for k, data in storages:
            z.writestr(prefix + "/data/" + k, data)
        z.writestr(prefix + "/version", b"3\n")
    return bytearray(b.getvalue())


def floats(n, v=0.5):
    return struct.pack("<%df" % n, *([v] * n))


def good_pkl():
    return state_dict([("a.weight", tensor("0", 6, (2, 3), (3, 1))),
                       ("b.bias", tensor("1", 4, (4,), (1,)))])


def good_zip():
    return torch_zip(good_pkl(), [("0", floats(6)), ("1", floats(4))])


def central(z, name):
    """Offset of NAME's central-directory header in zip bytes z."""
    i = z.find(b"PK\x01\x02")
    while i >= 0:
        n = struct.unpack_from("<H", z, i + 28)[0]
        if z[i + 46:i + 46 + n] == name.encode():
            return i
        i = z.find(b"PK\x01\x02", i + 4)
    raise KeyError(name)


def patched(z, name, fmt, off, *values):
    """z with values packed by fmt at off in the central directory record of name."""
    b = bytearray(z)
    struct.pack_into(fmt, b, central(b, name) + off, *values)
    return b


def eocd(z):
    return z.rfind(b"PK\x05\x06")


def legacy(main_pkl, keys, storages, magic=None, le=True):
    """The legacy format: magic, version, sys info, main pickle, keys, data."""
    magic = magic if magic is not None else 0x1950A86A20F9469CFC6C
    out = b"\x80\x02\x8a\x0a" + magic.to_bytes(10, "little") + b"."
    out += b"\x80\x02M\xe9\x03."
    out += b"\x80\x02}(" + s("protocol_version") + b"M\xe9\x03" + s("little_endian") + \
        (b"\x88" if le else b"\x89") + b"u."
    out += main_pkl
    out += b"\x80\x02](" + b"".join(s(k) for k in keys) + b"e."
    for numel, data in storages:
        out += struct.pack("<q", numel) + data
    return bytearray(out)


def legacy_pkl():
    return state_dict([("a.weight", tensor("7", 6, (2, 3), (3, 1), legacy=True))])


def good_legacy():
    return legacy(legacy_pkl(), ["7"], [(6, floats(6))])


def safetensors(header, data=b"", hlen=None):
    h = header if isinstance(header, bytes) else header.encode()
    return struct.pack("<Q", len(h) if hlen is None else hlen) + h + data


def good_st_header():
    return '{"a.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}'


# ---------------------------------------------------------------- the corpus

def corpus():
    z = good_zip()
    n = len(z)
    # Truncations of a ZIP: the end record goes first.
    for cut in (1, 3, 30, 64, n // 3, n // 2, n - 100, n - 23, n - 1):
        put("trunc_zip_%d.pt" % cut, z[:cut],
            "end-of-central-directory|not a checkpoint")
    put("empty.pt", b"", "empty")
    put("garbage.pt", bytes(range(7, 250)) * 4, "not a checkpoint")

    # Flipped bytes.
    pkl_off = z.find(b"\x80\x02}")
    for name, off in (("flip_pickle", pkl_off + 20), ("flip_data", z.find(floats(6)) + 5)):
        b = bytearray(z)
        b[off] ^= 0x40
        put(name + ".pt", b, "corrupt: CRC-32")
    b = bytearray(z)
    c = central(b, "archive/data/0")
    b[c] ^= 0xFF
    put("flip_central_sig.pt", b, "central directory header")
    b = bytearray(z)
    b[0] = ord("Q")
    put("flip_local_sig.pt", b, "not a checkpoint")
    b = bytearray(z)
    lho = struct.unpack_from("<I", b, central(b, "archive/data/1") + 42)[0]
    b[lho + 1] ^= 0xFF
    put("flip_local_header.pt", b, "no local header")

    # Sizes and offsets outside the file.
    b = bytearray(z)
    e = eocd(b)
    struct.pack_into("<I", b, e + 16, 0x7FFFFF00)
    put("cd_offset_outside.pt", b, "lies outside the file")
    b = bytearray(z)
    struct.pack_into("<H", b, eocd(b) + 10, 60000)
    struct.pack_into("<H", b, eocd(b) + 8, 60000)
    put("cd_count_huge.pt", b, "claims 60000 entries")
    put("local_offset_outside.pt", patched(z, "archive/data/0", "<I", 42, 0x7FFFFFF0), "no local header")
    put("entry_size_huge.pt", patched(z, "archive/data/0", "<II", 20, 0x7FFFFFF0, 0x7FFFFFF0), "runs past the end")
    put("entry_overlap.pt", patched(z, "archive/data/0", "<II", 20, 24 + 40, 24 + 40), "overlaps")
    put("entry_deflated.pt", patched(z, "archive/data/1", "<H", 10, 8), "DEFLATE data is corrupt")
    put("entry_bzip2.pt", patched(z, "archive/data/1", "<H", 10, 12), "compression method 12")
    # DEFLATE entries that lie about their size or contents.
    zd = deflated_zip(good_pkl(), [("0", floats(6)), ("1", floats(4))])
    put("deflate_bomb_claim.pt", patched(zd, "archive/data/0", "<I", 24, 0x7FFFFFF0), "more than DEFLATE can")
    put("deflate_size_lie.pt", patched(zd, "archive/data/0", "<I", 24, 25), "does not inflate to the 25 bytes")
    put("deflate_crc.pt", patched(zd, "archive/data/0", "<I", 16, 0x12345678), "CRC-32")
    put("entry_encrypted.pt", patched(z, "archive/data/1", "<H", 8, 1), "encrypted")
    b = bytearray(z)
    c0, c1 = central(b, "archive/data/0"), central(b, "archive/data/1")
    b[c1 + 46:c1 + 46 + 14] = b[c0 + 46:c0 + 46 + 14]
    put("entry_twice.pt", b, "names another entry|appears twice")
    put("no_data_pkl.pt", torch_zip(b"", [], prefix="x", extra=()).replace(b"x/data.pkl", b"x/dat0.pkl"),
        "without a PREFIX/data.pkl")
    put("big_endian.pt", torch_zip(good_pkl(), [("0", floats(6)), ("1", floats(4))],
                                   extra=(("archive/byteorder", b"big"),)), "not little-endian")

    # Storages that do not fit.
    put("storage_missing.pt", torch_zip(good_pkl(), [("0", floats(6))]), "has no record")
    put("storage_short.pt", torch_zip(good_pkl(), [("0", floats(5)), ("1", floats(4))]),
        "declares 6 float32 elements")
    put("storage_numel_huge.pt",
        torch_zip(state_dict([("a", tensor("0", 0x7FFFFFFF, (2, 3), (3, 1)))]), [("0", floats(6))]),
        "declares 2147483647")
    put("view_outside.pt",
        torch_zip(state_dict([("a", tensor("0", 6, (2, 3), (3, 1), offset=5))]), [("0", floats(6))]),
        "reaches element")
    put("view_strides.pt",
        torch_zip(state_dict([("a", tensor("0", 6, (2, 3), (9, 1)))]), [("0", floats(6))]),
        "reaches element")
    put("view_expanded.pt",
        torch_zip(state_dict([("a", tensor("0", 6, (200, 3), (0, 1)))]), [("0", floats(6))]),
        "expanded view")
    put("dtype_clash.pt",
        torch_zip(state_dict([("a", tensor("0", 6, (6,), (1,))),
                              ("b", tensor("0", 6, (6,), (1,), storage=b"HalfStorage"))]),
                  [("0", floats(6))]), "used as")

    # Pickles that try to run code or use what a state dict never does.
    put("os_system.pt", torch_zip(b"\x80\x02" + glob("os", "system") + s("echo pwned") + b"\x85R.", []),
        "holds a 'os.system' object, not a dictionary of tensors \\(nothing was run")
    put("os_system_legacy.pt", b"\x80\x02" + glob("os", "system") + s("true") + b"\x85R.",
        "not a PyTorch checkpoint")
    put("builtins_eval.pt", torch_zip(b"\x80\x04\x8c\x08builtins\x8c\x04eval\x93" + s("1") + b"\x85R.", []),
        "holds a 'builtins.eval' object.*nothing was run")
    # An unknown object inside the state dict, where a tensor belongs.
    put("opaque_value.pt",
        torch_zip(state_dict([("a.weight", tensor("0", 6, (2, 3), (3, 1))),
                              ("b", glob("os", "system") + s("x") + b"\x85R")]), [("0", floats(6))]),
        "the state-dict key 'b' holds a 'os.system' object")
    put("pickled_module.pt", torch_zip(b"\x80\x02" + glob("torch.nn.modules.conv", "Conv2d") + b")\x81}b.", []),
        r"whole pickled 'torch.nn.modules.conv.Conv2d' object.*state_dict\(\)")
    put("load_from_bytes.pt", torch_zip(b"\x80\x02" + glob("torch.storage", "_load_from_bytes") +
                                        s("x") + b"\x85R.", []),
        "torch.storage._load_from_bytes")
    put("reduce_storage_class.pt", torch_zip(b"\x80\x02" + glob("torch", "FloatStorage") + b")R.", []),
        "refusing to call 'FloatStorage'")
    put("opcode_inst.pt", torch_zip(b"\x80\x02(ios\nsystem\n.", []), r"unsupported opcode 0x69 \('i'\)")
    put("opcode_ff.pt", torch_zip(b"\x80\x02}\xff.", []), "unsupported opcode 0xff")
    put("opcode_persid_text.pt", torch_zip(b"\x80\x02P0\n.", []), r"unsupported opcode 0x50 \('P'\)")
    put("protocol_99.pt", torch_zip(b"\x80\x63}.", []), "protocol 99")
    put("memo_missing.pt", torch_zip(b"\x80\x02h\x05.", []), "memo entry 5 is not set")
    put("memo_huge_index.pt", torch_zip(b"\x80\x02}r\xff\xff\xff\x7f.", []), "memo index")
    put("stack_underflow.pt", torch_zip(b"\x80\x02s.", []), "stack underflow")
    put("no_stop.pt", torch_zip(b"\x80\x02}", []), "no STOP")
    put("string_huge.pt", torch_zip(b"\x80\x02X\xff\xff\xff\x7fabc", []), "string of 2147483647 bytes")
    put("string_past_end.pt", torch_zip(b"\x80\x02X\x00\x10\x00\x00abc", []), "truncated")
    put("not_a_dict.pt", torch_zip(b"\x80\x02](K\x01K\x02e.", []), "holds a list, not a dictionary")
    # A list that contains itself, again and again.
    put("recursive_list.pt", torch_zip(b"\x80\x02]q\x00" + b"h\x00a" * 200 + b".", []), "nested more than")
    put("deep_nesting.pt", torch_zip(b"\x80\x02" + b"]" * 3000 + b"a" * 2999 + b".", []), "nested more than")
    put("deep_marks.pt", torch_zip(b"\x80\x02" + b"(" * 5000 + b".", []), "nested MARKs")
    # A million-item list: bounded work, then refused as not a dictionary.
    put("huge_list.pt", torch_zip(b"\x80\x02](" + b"K\x01" * 1000000 + b"e.", []),
        "not a dictionary")
    put("huge_dict_no_tensors.pt",
        torch_zip(b"\x80\x02}q\x00(" + b"".join(s("k%d" % i) + b"N" for i in range(50000)) + b"u.", []),
        "no tensors at the top level")
    put("bad_key.pt", torch_zip(state_dict([("a\x1b[2Jb", tensor("0", 6, (6,), (1,)))]), [("0", floats(6))]),
        "control characters")
    put("dup_key.pt", torch_zip(state_dict([("a", tensor("0", 6, (6,), (1,))), ("a", tensor("0", 6, (6,), (1,)))]),
                                [("0", floats(6))]), "two tensors are named 'a'")
    put("rank_9.pt", torch_zip(b"\x80\x02}(" + s("a") + glob("torch._utils", "_rebuild_tensor_v2") +
                               b"(" + b"(" + s("storage") + glob("torch", "FloatStorage") + s("0") + s("cpu") +
                               i1(1) + b"tQ" + i1(0) + b"(" + i1(1) * 9 + b"t(" + i1(1) * 9 + b"t\x89" +
                               b"}tRu.", [("0", floats(1))]), "9 dimensions")

    # The legacy format.
    lg = good_legacy()
    for cut in (5, 16, 40, len(lg) // 2, len(lg) - 30, len(lg) - 4):
        put("trunc_legacy_%d.pt" % cut, lg[:cut], "truncated")
    put("legacy_magic.pt", legacy(legacy_pkl(), ["7"], [(6, floats(6))], magic=12345), "magic number")
    put("legacy_big_endian.pt", legacy(legacy_pkl(), ["7"], [(6, floats(6))], le=False), "big-endian")
    put("legacy_count.pt", legacy(legacy_pkl(), ["7"], [(7, floats(7))]), "has 7 elements here but 6")
    put("legacy_unknown_key.pt", legacy(legacy_pkl(), ["8"], [(6, floats(6))]), "not a storage of the checkpoint")
    put("legacy_junk.pt", legacy(legacy_pkl(), ["7"], [(6, floats(6) + b"junk")]), "junk after")
    put("legacy_numel_huge.pt",
        legacy(state_dict([("a", tensor("7", 0x7FFFFFFF, (2, 3), (3, 1), legacy=True))]), ["7"], [(6, floats(6))]),
        "more than the file holds")

    # safetensors.
    data = floats(6)
    st = safetensors(good_st_header(), data)
    for cut in (4, 12, 40, len(st) - 5):
        put("trunc_st_%d.safetensors" % cut, st[:cut], "larger than the file|outside the file|not a checkpoint")
    bad_json = {
        "st_trailing_comma": ('{"a":{"dtype":"F32","shape":[6],"data_offsets":[0,24]},}', "expected a string key"),
        "st_unterminated": ('{"a":{"dtype":"F32', "unterminated string"),
        "st_bad_escape": ('{"a\\q":1}', "bad escape"),
        "st_dup_key": ('{"a":{"dtype":"F32","shape":[6],"data_offsets":[0,24]},'
                       '"a":{"dtype":"F32","shape":[6],"data_offsets":[0,24]}}', "appears twice"),
        "st_nan": ('{"a":NaN}', "expected a value"),
        "st_deep": ('[' * 200 + ']' * 200, "nested too deeply"),
        "st_ctrl": ('{"a\x01":1}', "control character"),
        "st_not_object": ('[1,2]', "not a JSON object"),
        "st_no_dtype": ('{"a":{"shape":[6],"data_offsets":[0,24]}}', "has no dtype"),
        "st_dtype_f8": ('{"a":{"dtype":"F8_E4M3","shape":[6],"data_offsets":[0,24]}}', "unsupported dtype 'F8_E4M3'"),
        "st_size_mismatch": ('{"a":{"dtype":"F32","shape":[7],"data_offsets":[0,24]}}', "needs 28 bytes"),
        "st_outside": ('{"a":{"dtype":"F32","shape":[6000],"data_offsets":[0,24000]}}', "outside the file"),
        "st_overlap": ('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},'
                       '"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}', "overlap"),
        "st_reversed": ('{"a":{"dtype":"F32","shape":[0],"data_offsets":[16,8]}}', "ends before it begins"),
        "st_bad_utf8": (b'{"a\xff":1}', "invalid UTF-8"),
        "st_lone_surrogate": ('{"a\\ud800":1}', "unpaired surrogate"),
        "st_junk_after": (good_st_header() + "x", "junk after"),
        "st_metadata": ('{"__metadata__":{"a":1}}', "__metadata__"),
    }
    for name, (h, pat) in sorted(bad_json.items()):
        put(name + ".safetensors", safetensors(h, data), pat)
    put("st_header_huge.safetensors", safetensors(good_st_header(), data, hlen=(1 << 63) + 5),
        "larger than the file")
    put("st_header_limit.safetensors", safetensors(good_st_header(), data, hlen=200 << 20),
        "larger than the file")


def model_cases():
    """Wrong shapes and bad values in an otherwise good VisE checkpoint."""
    import torch
    import torchvision
    torch.manual_seed(5)
    m = torch.nn.Sequential(*list(torchvision.models.resnet50().children())[:-2])
    base = {k: v.half() if v.is_floating_point() else v for k, v in m.state_dict().items()}

    def save(name, sd, pattern):
        b = io.BytesIO()
        torch.save(sd, b)
        put(name, b.getvalue(), pattern, "check")

    sd = dict(base)
    sd["4.0.conv1.weight"] = torch.zeros(64, 64, 3, 3).half()
    save("shape_conv.pt", sd, r"4.0.conv1.weight' has shape \[64, 64, 3, 3\] in the checkpoint, "
                              r"the model needs \[64, 64, 1, 1\]")
    sd = dict(base)
    sd["7.2.bn3.bias"] = torch.zeros(2048, 1).half()
    save("shape_rank.pt", sd, r"7.2.bn3.bias' has shape \[2048, 1\]")
    sd = dict(base)
    sd["4.0.bn1.weigth"] = sd.pop("4.0.bn1.weight")
    save("missing_key.pt", sd, "tensor '4.0.bn1.weight' is not in the checkpoint .*did you mean '4.0.bn1.weigth'")
    sd = dict(base)
    sd["1.running_var"] = sd["1.running_var"].clone()
    sd["1.running_var"][5] = -0.25
    save("negative_var.pt", sd, r"running variance '1.running_var' is negative \(-0.25\) at index \[5\]")
    sd = dict(base)
    sd["5.1.conv2.weight"] = sd["5.1.conv2.weight"].clone()
    sd["5.1.conv2.weight"][1, 2, 0, 1] = float("nan")
    save("nan_weight.pt", sd, r"'5.1.conv2.weight' has a non-finite value \(nan\) at index \[1, 2, 0, 1\]")
    sd = dict(base)
    sd["0.weight"] = sd["0.weight"].long()
    save("int_weight.pt", sd, "'0.weight' is int64 in the checkpoint")


def main():
    global out
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir", help="where to write the files and manifest.txt")
    ap.add_argument("--with-model", action="store_true",
                    help="also the cases that need a full-size VisE checkpoint (needs torch)")
    a = ap.parse_args()
    out = a.outdir
    os.makedirs(out, exist_ok=True)
    corpus()
    if a.with_model:
        model_cases()
    with open(os.path.join(out, "manifest.txt"), "w") as f:
        f.write("\n".join(manifest) + "\n")


if __name__ == "__main__":
    main()
