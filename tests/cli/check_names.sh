#!/usr/bin/env bash
# check_names.sh VISEC WORKDIR — the checkpoint tensors the examples name are
# exactly the state_dict keys of the torchvision models they describe
# (without the batch norms' num_batches_tracked counters).
set -eu
visec=$1 work=$2
/usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null || { echo "skip: /usr/bin/python3 cannot import torch"; exit 77; }

/usr/bin/python3 - "$work" <<'PY'
import sys, torch, torchvision
work = sys.argv[1]
full = torchvision.models.resnet50()
trunk = torch.nn.Sequential(*list(full.children())[:-2])
for name, m in (("vise_resnet50", trunk), ("resnet50", full)):
    with open(f"{work}/{name}.torch", "w") as f:
        for k, v in m.state_dict().items():
            if not k.endswith("num_batches_tracked"):
                f.write(f"{k} {list(v.shape)}\n")
PY

# The IR dump lists each node's tensors as "role = name".  (Their shapes are
# checked through the parameter counts in check_examples.sh.)
for name in vise_resnet50 resnet50; do
    "$visec" check --dump-ir "examples/$name.vise" >"$work/$name.ir"
    sed -n 's/^ *\(weight\|bias\|running_mean\|running_var\) = //p' "$work/$name.ir" | sort -u >"$work/$name.visec"
    cut -d' ' -f1 "$work/$name.torch" | sort -u >"$work/$name.keys"
    n=$(wc -l <"$work/$name.keys")
    [ "$n" -gt 100 ] || { echo "$name: only $n torch keys"; exit 1; }
    if ! diff "$work/$name.keys" "$work/$name.visec"; then
        echo "$name: tensor names differ from torchvision's state_dict keys (< torch, > visec)"
        exit 1
    fi
    echo "$name: $n tensor names match"
done
