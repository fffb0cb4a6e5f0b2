#!/usr/bin/env python3
"""Checks that a LayerLab export loads into PyTorch and gives the same logits.

Usage (repository root, a Python with torch, numpy and safetensors):
    cargo run --release -- train --preset cnn --epochs 1 --export /tmp/cnn.safetensors
    python scripts/check_export_parity.py /tmp/cnn.safetensors
It rebuilds the nn.Sequential from the stack in the file's metadata, loads the weights with
load_state_dict(strict=True), runs the 10,000 MNIST test images, and compares with the logits
`layerlab eval --dump-logits` writes. Exits non-zero above 1e-4.
"""
import gzip
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from layerlab_torch import build  # noqa: E402

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
path = sys.argv[1]
with safe_open(path, framework="pt") as f:
    meta = f.metadata()
spec = json.loads(meta["layerlab.spec"])
input_shape = json.loads(meta["layerlab.input_shape"])
model = build(spec, input_shape)
model.load_state_dict(load_file(path), strict=True)
model.eval()

raw = gzip.open(os.path.join(root, "assets/mnist/t10k-images-idx3-ubyte.gz")).read()
x = torch.from_numpy(np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 1, 28, 28).astype(np.float32) / 255.0)
with torch.no_grad():
    torch_logits = model(x).numpy()

with tempfile.TemporaryDirectory() as tmp:
    dump = os.path.join(tmp, "logits.f32")
    subprocess.run(["cargo", "run", "--release", "--quiet", "--", "eval", "--model", path,
                    "--dump-logits", dump], check=True, cwd=root)
    ours = np.fromfile(dump, dtype="<f4").reshape(torch_logits.shape)

diff = np.abs(ours - torch_logits)
rel = diff / np.maximum(np.abs(torch_logits), 1.0)
agree = (ours.argmax(1) == torch_logits.argmax(1)).mean()
print(f"max_abs_diff={diff.max():.3e} max_rel_diff={rel.max():.3e} argmax_agreement={agree:.4f}")
sys.exit(0 if rel.max() <= 1e-4 else 1)
