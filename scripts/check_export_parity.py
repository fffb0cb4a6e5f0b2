#!/usr/bin/env python3
"""Checks that a LayerLab export loads into PyTorch and gives the same logits.

Usage (repository root, a Python with torch, numpy and safetensors):
    cargo run --release -- train --preset cnn --epochs 1 --export /tmp/cnn.safetensors
    python scripts/check_export_parity.py /tmp/cnn.safetensors [LAYERLAB_BINARY]
It rebuilds the nn.Sequential from the stack in the file's metadata, loads the weights with
load_state_dict(strict=True), runs it on the test split of the data the model was trained on
(images, a table or text, as `layerlab eval --dump-inputs` prepares them through the file's
own recorded preprocessing), and compares with the outputs `layerlab eval --dump-logits`
writes. Exits non-zero above 1e-4.
"""
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

binary = sys.argv[2] if len(sys.argv) > 2 else None
command = [binary] if binary else ["cargo", "run", "--release", "--quiet", "--"]
with tempfile.TemporaryDirectory() as tmp:
    dump = os.path.join(tmp, "logits.f32")
    inputs = os.path.join(tmp, "inputs.f32")
    subprocess.run(command + ["eval", "--model", os.path.abspath(path), "--dump-logits", dump, "--dump-inputs", inputs],
                   check=True, cwd=root)
    x = torch.from_numpy(np.fromfile(inputs, dtype="<f4").reshape([-1] + list(input_shape)))
    with torch.no_grad():
        torch_logits = model(x).numpy()
    ours = np.fromfile(dump, dtype="<f4").reshape(torch_logits.shape)

diff = np.abs(ours - torch_logits)
rel = diff / np.maximum(np.abs(torch_logits), 1.0)
agree = (ours.argmax(1) == torch_logits.argmax(1)).mean()
print(f"max_abs_diff={diff.max():.3e} max_rel_diff={rel.max():.3e} argmax_agreement={agree:.4f}")
sys.exit(0 if rel.max() <= 1e-4 else 1)
