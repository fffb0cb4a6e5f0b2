#!/usr/bin/env python3
"""Checks LayerLab's ONNX exports with ONNX's own checker and runs them in onnxruntime.

Usage: ONNX_DUMP_DIR=/tmp/onnx cargo test --release --features onnx-check --test onnx
       python3 scripts/onnx_runtime_check.py /tmp/onnx
(pip install onnx onnxruntime numpy.) For every NAME.onnx beside a NAME.json (the input
LayerLab ran and its logits), prints the largest difference of onnxruntime's logits.
"""
import json
import pathlib
import sys

import numpy as np
import onnx
import onnxruntime as ort

folder = pathlib.Path(sys.argv[1])
worst = 0.0
for model_path in sorted(folder.glob("*.onnx")):
    case = json.loads(model_path.with_suffix(".json").read_text())
    model = onnx.load(str(model_path))
    onnx.checker.check_model(model, full_check=True)
    session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    x = np.asarray(case["input"], dtype=np.float32).reshape(case["shape"])
    (logits,) = session.run(["logits"], {"input": x})
    expected = np.asarray(case["logits"], dtype=np.float32).reshape(logits.shape)
    difference = float(np.abs(logits - expected).max())
    worst = max(worst, difference)
    meta = {p.key for p in model.metadata_props}
    print(f"{model_path.stem:22} opset {model.opset_import[0].version}  checker ok  "
          f"onnxruntime {ort.__version__}  max |diff| {difference:.2e}  metadata {sorted(meta)}")
print(f"worst difference {worst:.2e}")
sys.exit(0 if worst < 1e-4 else 1)
