#!/usr/bin/env bash
# embed_run.sh VISEC WORKDIR — examples/embed end to end: synthetic weights
# (visec init-weights), generated code (visec compile), the example built
# with its Makefile and run on the bundled sample image.  Checks the .npy
# outputs: features (N, 2048, 7, 7), embeddings (N, 2048) equal to the
# features' 7x7 means, batching that does not change results, errors that
# leave no output.  With torch installed, the features must also match
# torchvision's resnet50 trunk run on torchvision's preprocessing of the
# same image with the same weights.
set -eu
. "$(dirname "$0")/src/lib.sh"

"$visec" init-weights --help >/dev/null 2>&1 || { echo "visec init-weights not available"; exit 77; }
"$visec" compile --help >/dev/null 2>&1 || { echo "visec compile not available"; exit 77; }
$py -c 'import numpy' 2>/dev/null || { echo "no numpy in $py"; exit 77; }

build_embed
ex=$src/examples/embed

# ---- the sample image
"$embed" -w "$weights" --features "$work/f.npy" --embeddings "$work/e.npy" \
    "$ex/sample.png" 2>"$work/progress" || { cat "$work/progress"; fail "embed failed"; }
grep -qx "\[1/1\] $ex/sample.png" "$work/progress" || { cat "$work/progress"; fail "no progress line"; }
$py - "$work/f.npy" "$work/e.npy" 1 <<'EOF' || fail "bad outputs"
import sys
import numpy as np
f, e, n = np.load(sys.argv[1]), np.load(sys.argv[2]), int(sys.argv[3])
assert f.dtype == e.dtype == np.float32, (f.dtype, e.dtype)
assert f.shape == (n, 2048, 7, 7), f.shape
assert e.shape == (n, 2048), e.shape
assert np.isfinite(f).all(), "non-finite features"
assert (f >= 0).all(), "negative features after the final ReLU"
assert f.std() > 0, "constant features"
mean = f.astype(np.float64).mean(axis=(2, 3))
err = np.abs(e - mean).max() / max(1.0, np.abs(mean).max())
assert err < 1e-6, "embeddings are not the 7x7 means (relative error %g)" % err
print("features %s, embeddings %s, mean check %.2g" % (f.shape, e.shape, err))
EOF

# ---- three images in batches of 2 give what three single runs give
$py tools/make_sample_image.py "$work/b.png" --size 200x300 --seed 2
$py tools/make_sample_image.py "$work/c.ppm" --size 500x260 --seed 3
"$embed" -q -w "$weights" --batch 2 --embeddings "$work/e3.npy" --features "$work/f3.npy" \
    "$ex/sample.png" "$work/b.png" "$work/c.ppm" || fail "batch run failed"
"$embed" -q -w "$weights" --embeddings "$work/eb.npy" "$work/b.png"
"$embed" -q -w "$weights" --embeddings "$work/ec.npy" "$work/c.ppm"
$py - "$work" <<'EOF' || fail "batching changes the results"
import sys
import numpy as np
w = sys.argv[1]
e3 = np.load(w + "/e3.npy")
single = np.concatenate([np.load(w + "/e.npy"), np.load(w + "/eb.npy"), np.load(w + "/ec.npy")])
assert e3.shape == (3, 2048) and np.load(w + "/f3.npy").shape == (3, 2048, 7, 7)
err = np.abs(e3 - single).max() / np.abs(single).max()
assert err < 1e-5, "batch of 2 vs single images: relative difference %g" % err
assert np.abs(e3[0] - e3[1]).max() > 0, "different images, same embedding"
print("batching: relative difference %.2g" % err)
EOF

# ---- errors: a bad image in the second batch leaves no output at all
echo "not an image" >"$work/bad.png"
st=0
"$embed" -q -w "$weights" --batch 1 --features "$work/xf.npy" --embeddings "$work/xe.npy" \
    "$ex/sample.png" "$work/bad.png" 2>"$work/err" || st=$?
[ $st -eq 1 ] || fail "bad image: exit status $st"
grep -q "^embed: error: $work/bad.png: cannot decode" "$work/err" || { cat "$work/err"; fail "unclear error"; }
ls "$work"/x* >/dev/null 2>&1 && fail "partial output left: $(ls "$work"/x*)"
st=0
"$embed" -q --embeddings "$work/xe.npy" "$ex/sample.png" 2>"$work/err" || st=$?
[ $st -eq 1 ] && grep -q "^embed: error: no weights" "$work/err" || fail "missing -w accepted"
st=0
"$embed" -q -w "$work/w.safetensors" --embeddings "$work/xe.npy" "$ex/sample.png" 2>"$work/err" || st=$?
[ $st -eq 1 ] && grep -q "^embed: error: $work/w.safetensors: cannot load the weights: " "$work/err" ||
    { cat "$work/err"; fail "wrong weights file accepted"; }
ls "$work"/x* >/dev/null 2>&1 && fail "partial output left"

# ---- against PyTorch: the same weights in torchvision's resnet50 trunk
if ! $py -c 'import torch, torchvision' 2>/dev/null; then
    echo "ok (no torch: PyTorch comparison skipped)"
    exit 0
fi
$py - "$work/w.safetensors" "$ex/sample.png" "$work/f.npy" <<'EOF' || fail "differs from PyTorch"
import json, struct, sys
import numpy as np
import torch, torchvision
sys.path.insert(0, "tools")
from torch_preprocess import TRANSFORM, load_rgb

with open(sys.argv[1], "rb") as fh:
    n = struct.unpack("<Q", fh.read(8))[0]
    header = json.loads(fh.read(n))
    data = fh.read()
state = {}
for name, t in header.items():
    if name == "__metadata__":
        continue
    assert t["dtype"] == "F32", t["dtype"]
    a, b = t["data_offsets"]
    state[name] = torch.from_numpy(np.frombuffer(data[a:b], np.float32).reshape(t["shape"]).copy())
net = torch.nn.Sequential(*list(torchvision.models.resnet50().children())[:-2]).eval()
missing, unexpected = net.load_state_dict(state, strict=False)
assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
with torch.no_grad():
    ref = net(TRANSFORM(load_rgb(sys.argv[2])).unsqueeze(0)).numpy()
got = np.load(sys.argv[3])
err = np.abs(got - ref).max() / np.abs(ref).max()
print("vs PyTorch: max |difference| %.3g, relative to max |feature| %.3g" % (np.abs(got - ref).max(), err))
assert err < 1e-4, err
EOF
echo "ok"
