#!/usr/bin/env python3
"""PyTorch CPU reference for `layerlab bench --only cnn-bn` (or `--only mnist-99`), measured
as ../shared/bench/torch_reference.py measures the cnn preset (which it does not cover).

Same stacks as LayerLab's presets: cnn-bn is Conv32-BN-ReLU-Pool-Conv64-BN-ReLU-Pool-Dense128-
10, Adam 1e-3, batch 32; mnist-99 the same with Dropout 0.2 before the last layer, Adam 3e-3,
batch 64 (no augmentation: this measures the network). Same method: 10 warm-up batches, then
the median of 5 timed runs of 60 batches, in training mode. Prints one JSON object:
PRESET_train_img_per_s, PRESET_predict_us (PRESET with _ for -).

Usage: ~/venv/bin/python scripts/torch_cnn_bn_reference.py [--threads 2] [--mnist assets/mnist]
       [--preset cnn-bn|mnist-99]
"""
import argparse, gzip, json, os, struct, time
import numpy as np
import torch
import torch.nn as nn

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=os.cpu_count())
ap.add_argument("--mnist", default=os.path.join(here, "..", "assets", "mnist"))
ap.add_argument("--preset", choices=["cnn-bn", "mnist-99"], default="cnn-bn")
args = ap.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)


def idx(path):
    b = gzip.open(path).read()
    nd = b[3]
    dims = struct.unpack(">" + "I" * nd, b[4:4 + 4 * nd])
    return np.frombuffer(b, np.uint8, offset=4 + 4 * nd).reshape(dims)


x = torch.from_numpy(idx(f"{args.mnist}/train-images-idx3-ubyte.gz").astype(np.float32) / 255.0)
y = torch.from_numpy(idx(f"{args.mnist}/train-labels-idx1-ubyte.gz").astype(np.int64))
xs = x.reshape(-1, 1, 28, 28)

dropout = [nn.Dropout(0.2)] if args.preset == "mnist-99" else []
m = nn.Sequential(
    nn.Conv2d(1, 32, 3), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), *dropout, nn.Linear(128, 10))
lr, bs = (3e-3, 64) if args.preset == "mnist-99" else (1e-3, 32)
opt = torch.optim.Adam(m.parameters(), lr=lr)
loss_fn = nn.CrossEntropyLoss()
nb, pos = 60, 0


def step():
    global pos
    if pos + bs > xs.shape[0]:
        pos = 0
    xb, yb = xs[pos:pos + bs], y[pos:pos + bs]
    pos += bs
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(m(xb), yb)
    loss.backward()
    opt.step()
    return loss.item()


for _ in range(10):
    step()
rates = []
for _ in range(5):
    s = time.perf_counter()
    for _ in range(nb):
        step()
    rates.append(nb * bs / (time.perf_counter() - s))
m.eval()
one = xs[:1]
lat = []
with torch.no_grad():
    for _ in range(50):
        m(one)
    for _ in range(1000):
        s = time.perf_counter()
        m(one).softmax(1)
        lat.append((time.perf_counter() - s) * 1e6)
key = args.preset.replace("-", "_")
print(json.dumps({"threads": args.threads, "torch": torch.__version__,
                  f"{key}_train_img_per_s": round(sorted(rates)[2], 1),
                  f"{key}_predict_us": round(sorted(lat)[500], 1)}))
