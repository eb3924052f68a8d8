#!/usr/bin/python3
"""Reference for examples/embed: torchvision's evaluation transform.

    torch_preprocess.py OUT.npy IMAGE...        (N, 3, 224, 224) float32
    torch_preprocess.py --decoded OUT.npy IMAGE (H, W, 3) uint8 as PIL decodes it

Each image goes through exactly what a PyTorch pipeline does:
    Image.open(f).convert('RGB')
    transforms.Compose([Resize(256), CenterCrop(224), ToTensor(),
                        Normalize(mean=[0.485, 0.456, 0.406],
                                  std=[0.229, 0.224, 0.225])])
--decoded stops after convert('RGB') and writes the pixels (one image).
Exit status 77 when torch or torchvision cannot be imported.
"""
import sys

try:
    import numpy as np
    import torch
    from PIL import Image
    from torchvision import transforms
except ImportError as e:
    print("torch_preprocess.py: %s" % e, file=sys.stderr)
    sys.exit(77)

TRANSFORM = transforms.Compose([
    transforms.Resize(256),
    transforms.CenterCrop(224),
    transforms.ToTensor(),
    transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
])


def load_rgb(path):
    with open(path, "rb") as f:
        return Image.open(f).convert("RGB")


def main(argv):
    if len(argv) >= 3 and argv[0] == "--decoded":
        if len(argv) != 3:
            sys.exit("usage: torch_preprocess.py --decoded OUT.npy IMAGE")
        np.save(argv[1], np.asarray(load_rgb(argv[2]), dtype=np.uint8))
        return
    if len(argv) < 2 or argv[0].startswith("-"):
        sys.exit(__doc__.strip().split("\n\n")[1])
    with torch.no_grad():
        batch = torch.stack([TRANSFORM(load_rgb(p)) for p in argv[1:]])
    np.save(argv[0], batch.numpy().astype(np.float32, copy=False))


if __name__ == "__main__":
    main(sys.argv[1:])
