#!/usr/bin/env bash
# run_ops.sh VISEC WORKDIR — visec run on a small model using every op the
# language has (grouped dilated strided conv with bias, batchnorm, relu,
# maxpool and avgpool with ceil_mode and padding, add, global_avgpool,
# flatten, linear) against the same network written in PyTorch, with
# weights from visec init-weights.  Two outputs, chosen with --output.
set -eu
visec=$1 work=$2
py=/usr/bin/python3
$py -c 'import torch, numpy' 2>/dev/null || { echo "skip: no torch in $py"; exit 77; }

cat >"$work/ops.vise" <<'VISE'
model ops
input x: [N, 4, 13, 11]
a = relu(batchnorm(conv2d(x, "c1", out=6, kernel=3, stride=2, pad=2, dilation=2, groups=2, bias=true), "bn1"))
b = maxpool(a, kernel=3, stride=2, pad=1, ceil_mode=true)
c = avgpool(a, kernel=3, stride=2, pad=1, ceil_mode=true)
d = add(b, c)
output feat = d
output y = linear(flatten(global_avgpool(d)), "fc", out=5, bias=true)
VISE

"$visec" init-weights "$work/ops.vise" --seed 9 -o "$work/ops.safetensors"
$py - "$work" <<'PY'
import sys
import numpy as np
import torch
import torch.nn.functional as F
sys.path.insert(0, "tools")
from torch_reference import load_safetensors

class Ops(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2, bias=True)
        self.bn1 = torch.nn.BatchNorm2d(6)
        self.fc = torch.nn.Linear(6, 5)

    def forward(self, x):
        a = F.relu(self.bn1(self.c1(x)))
        d = F.max_pool2d(a, 3, 2, 1, ceil_mode=True) + F.avg_pool2d(a, 3, 2, 1, ceil_mode=True)
        return d, self.fc(torch.flatten(F.adaptive_avg_pool2d(d, 1), 1))

w = sys.argv[1]
m = Ops().eval()
m.load_state_dict(load_safetensors(w + "/ops.safetensors"), strict=False)
x = torch.randn(2, 4, 13, 11, generator=torch.Generator().manual_seed(4))
np.save(w + "/x.npy", x.numpy())
with torch.no_grad():
    d, y = m(x)
assert tuple(d.shape) == (2, 6, 4, 4), d.shape
np.save(w + "/ref_feat.npy", d.numpy())
np.save(w + "/ref_y.npy", y.numpy())
PY

for out in feat y; do
    "$visec" run "$work/ops.vise" --weights "$work/ops.safetensors" --input "$work/x.npy" \
        --output $out -o "$work/$out.npy"
    $py tools/compare_npy.py "$work/$out.npy" "$work/ref_$out.npy" --tol 1e-5
done
echo ok
