#!/usr/bin/env python3
"""Writes tests/fixtures/torch_reference.json: numbers from PyTorch that LayerLab must reproduce.

Run from the repository root with a Python that has torch:  python scripts/make_fixtures.py
- models: forward outputs and parameter gradients of small stacks (stride 2, padding,
  non-square inputs, batch 1 and 2, pooling ties after ReLU, every activation);
- optimizers: 10 steps of every optimizer on the quadratic loss sum(a*p^2 + b*p);
- training: 5 optimizer steps of a conv stack with cross-entropy, weights after each step.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from layerlab_torch import build, optimizer  # noqa: E402

torch.manual_seed(0)
torch.set_num_threads(1)


def tolist(t):
    return [float(v) for v in t.detach().flatten().tolist()]


def weights_of(model):
    return {k: {"shape": list(v.shape), "values": tolist(v)} for k, v in model.state_dict().items()}


def model_case(name, layers, input_shape, batch):
    spec = {"version": 1, "layers": layers}
    model = build(spec, input_shape)
    model.eval()  # dropout off, as in LayerLab's Mode::Eval
    x = torch.randn(batch, *input_shape)
    # Exact ties for max-pool: a block of zeros (ReLU makes more).
    x.view(batch, -1)[:, :6] = 0.0
    y = model(x)
    r = torch.randn_like(y)
    (y * r).sum().backward()
    return {
        "name": name,
        "spec": spec,
        "input_shape": list(input_shape),
        "batch": batch,
        "input": tolist(x),
        "weights": weights_of(model),
        "outputs": tolist(y),
        "r": tolist(r),
        "grads": {k: tolist(p.grad) for k, p in model.named_parameters()},
    }


models = [
    model_case("conv_stride_padding_nonsquare", [
        {"type": "Conv2d", "out_channels": 3, "kernel_size": 3, "stride": 2, "padding": 1},
        {"type": "ReLU"},
        {"type": "MaxPool2d", "kernel_size": 2},
        {"type": "Conv2d", "out_channels": 4, "kernel_size": 2, "stride": 1, "padding": 0},
        {"type": "AvgPool2d", "kernel_size": 2, "stride": 1},
        {"type": "Flatten"},
        {"type": "Linear", "out_features": 5},
    ], (2, 17, 13), 2),
    model_case("batch_one_pool_stride", [
        {"type": "Conv2d", "out_channels": 2, "kernel_size": 3, "stride": 1, "padding": 2},
        {"type": "ReLU"},
        {"type": "MaxPool2d", "kernel_size": 3, "stride": 2},
        {"type": "Linear", "out_features": 3},
    ], (1, 8, 10), 1),
    model_case("activations", [
        {"type": "Linear", "out_features": 7},
        {"type": "GELU"},
        {"type": "Linear", "out_features": 6},
        {"type": "Tanh"},
        {"type": "Linear", "out_features": 5},
        {"type": "Sigmoid"},
        {"type": "Linear", "out_features": 4},
        {"type": "LeakyReLU", "negative_slope": 0.1},
        {"type": "Dropout", "p": 0.5},
        {"type": "Linear", "out_features": 3},
    ], (1, 3, 4), 3),
]

optimizer_configs = [
    ("sgd", {"kind": "Sgd", "lr": 0.1}),
    ("sgd_momentum", {"kind": "Sgd", "lr": 0.05, "momentum": 0.9}),
    ("sgd_dampening_weight_decay", {"kind": "Sgd", "lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01}),
    ("sgd_nesterov", {"kind": "Sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.001}),
    ("adam", {"kind": "Adam", "lr": 0.01}),
    ("adam_l2", {"kind": "Adam", "lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-6, "weight_decay": 0.1}),
    ("adamw", {"kind": "AdamW", "lr": 0.01, "weight_decay": 0.1}),
    ("rmsprop", {"kind": "RmsProp", "lr": 0.01}),
    ("rmsprop_centered_momentum", {"kind": "RmsProp", "lr": 0.005, "alpha": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 0.01}),
]
a = torch.rand(8) + 0.1
b = torch.randn(8)
p0 = torch.randn(8)
optimizers = []
for name, config in optimizer_configs:
    p = torch.nn.Parameter(p0.clone())
    opt = optimizer(config, [p])
    steps = []
    for _ in range(10):
        opt.zero_grad()
        (a * p * p + b * p).sum().backward()
        opt.step()
        steps.append(tolist(p))
    optimizers.append({"name": name, "config": config, "steps": steps})

# A few real training steps, cross-entropy, conv + pool + linear, Adam.
train_spec = {"version": 1, "layers": [
    {"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "stride": 1, "padding": 0},
    {"type": "ReLU"},
    {"type": "MaxPool2d", "kernel_size": 2},
    {"type": "Flatten"},
    {"type": "Linear", "out_features": 10},
]}
train_model = build(train_spec, (1, 10, 10))
initial = weights_of(train_model)
train_opt = torch.optim.Adam(train_model.parameters(), lr=0.01)
batches = []
after = []
for _ in range(5):
    x = torch.rand(4, 1, 10, 10)
    labels = torch.randint(0, 10, (4,))
    train_opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(train_model(x), labels)
    loss.backward()
    train_opt.step()
    batches.append({"input": tolist(x), "labels": labels.tolist(), "loss": float(loss.detach())})
    after.append(weights_of(train_model))

out = {
    "generated_by": "scripts/make_fixtures.py",
    "torch": torch.__version__,
    "models": models,
    "optimizers": {"a": tolist(a), "b": tolist(b), "p0": tolist(p0), "cases": optimizers},
    "training": {"spec": train_spec, "input_shape": [1, 10, 10], "optimizer": {"kind": "Adam", "lr": 0.01},
                 "initial_weights": initial, "batches": batches, "weights_after_each_step": after},
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "torch_reference.json")
with open(path, "w") as f:
    json.dump(out, f)
print(f"wrote {os.path.normpath(path)}")

# Batch norm (tests/fixtures/torch_batch_norm.json): three SGD steps in training mode, each
# with its outputs, gradients and the state (running statistics included) after it; then the
# model in evaluation mode, with the input's gradient too. Seeded on its own, so the file
# above stays as it was.
torch.manual_seed(1)
bn_spec = {"version": 1, "layers": [
    {"type": "Conv2d", "out_channels": 3, "kernel_size": 3, "stride": 1, "padding": 1},
    {"type": "BatchNorm2d", "eps": 1e-4, "momentum": 0.2},
    {"type": "ReLU"},
    {"type": "MaxPool2d", "kernel_size": 2},
    {"type": "Flatten"},
    {"type": "Linear", "out_features": 6},
    {"type": "BatchNorm1d"},
    {"type": "Tanh"},
    {"type": "Linear", "out_features": 4},
]}
bn_shape = (2, 6, 6)
bn_batch = 5
bn_model = build(bn_spec, bn_shape)
with torch.no_grad():  # an affine part that is not the identity
    for module in bn_model:
        if isinstance(module, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            module.weight.uniform_(0.5, 1.5)
            module.bias.uniform_(-0.5, 0.5)
bn_initial = weights_of(bn_model)
bn_opt = torch.optim.SGD(bn_model.parameters(), lr=0.1)
bn_steps = []
bn_model.train()
for _ in range(3):
    x = torch.randn(bn_batch, *bn_shape) * 2.0 + 0.5
    bn_opt.zero_grad()
    y = bn_model(x)
    r = torch.randn_like(y)
    (y * r).sum().backward()
    grads = {k: tolist(p.grad) for k, p in bn_model.named_parameters()}
    bn_opt.step()
    bn_steps.append({"input": tolist(x), "r": tolist(r), "outputs": tolist(y), "grads": grads,
                     "weights_after": weights_of(bn_model)})
bn_model.eval()
x = (torch.randn(bn_batch, *bn_shape) * 2.0 + 0.5).requires_grad_()
bn_opt.zero_grad()
y = bn_model(x)
r = torch.randn_like(y)
(y * r).sum().backward()
bn_out = {
    "generated_by": "scripts/make_fixtures.py",
    "torch": torch.__version__,
    "spec": bn_spec, "input_shape": list(bn_shape), "batch": bn_batch,
    "optimizer": {"kind": "Sgd", "lr": 0.1},
    "initial_weights": bn_initial, "train_steps": bn_steps,
    "eval": {"input": tolist(x), "r": tolist(r), "outputs": tolist(y),
             "grads": {k: tolist(p.grad) for k, p in bn_model.named_parameters()},
             "input_grad": tolist(x.grad)},
}
bn_path = os.path.join(os.path.dirname(path), "torch_batch_norm.json")
with open(bn_path, "w") as f:
    json.dump(bn_out, f)
print(f"wrote {os.path.normpath(bn_path)}")

# Learning-rate schedules (tests/fixtures/torch_schedules.json).
import make_schedule_fixtures  # noqa: E402

make_schedule_fixtures.main()

# The LR finder's suggestions (tests/fixtures/lr_find_suggestions.json; needs lightning and
# fastai: pip install lightning fastai).
import make_lr_find_fixtures  # noqa: E402

make_lr_find_fixtures.main()
