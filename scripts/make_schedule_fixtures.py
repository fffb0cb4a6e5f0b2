#!/usr/bin/env python3
"""Writes tests/fixtures/torch_schedules.json: the learning rate (and momentum or beta1) of
every step under torch.optim.lr_scheduler, for LayerLab's schedules to match (1e-7 relative).

Run from the repository root with a Python that has torch:
    python scripts/make_schedule_fixtures.py
(scripts/make_fixtures.py runs it too). Per-epoch schedulers are stepped after each epoch's
batches, OneCycleLR and the warm-up (LinearLR in SequentialLR) after every batch, as their
documentation says to.
"""
import json
import os

import torch


def run(case):
    param = torch.nn.Parameter(torch.zeros(1))
    kind = case["optimizer"]
    if kind == "adam":
        opt = torch.optim.Adam([param], lr=case["lr"])
    else:
        opt = torch.optim.SGD([param], lr=case["lr"], momentum=case.get("momentum", 0.0))
    epochs, per_epoch = case["epochs"], case["steps_per_epoch"]
    total = epochs * per_epoch
    s = case["schedule"]
    warmup = case.get("warmup_steps", 0)
    per_batch = s["kind"] == "onecycle" or warmup > 0
    if s["kind"] == "step":
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=s["step_size"], gamma=s["gamma"])
    elif s["kind"] == "multistep":
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=s["milestones"], gamma=s["gamma"])
    elif s["kind"] == "exponential":
        sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=s["gamma"])
    elif s["kind"] == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=s["t_max"] or epochs, eta_min=s["eta_min"])
    elif s["kind"] == "plateau":
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode=s["mode"], factor=s["factor"], patience=s["patience"],
            threshold=s["threshold"], threshold_mode=s["threshold_mode"],
            cooldown=s["cooldown"], min_lr=s["min_lr"])
    elif s["kind"] == "onecycle":
        main = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=case["lr"], total_steps=total - warmup, pct_start=s["pct_start"],
            anneal_strategy=s["anneal"], div_factor=s["div_factor"],
            final_div_factor=s["final_div_factor"], three_phase=s["three_phase"],
            cycle_momentum=s["cycle_momentum"])
        if warmup:
            first = torch.optim.lr_scheduler.LinearLR(
                opt, start_factor=case["warmup_start_factor"], total_iters=warmup)
            sched = torch.optim.lr_scheduler.SequentialLR(opt, [first, main], milestones=[warmup])
        else:
            sched = main
    else:
        raise ValueError(s["kind"])
    lrs, momenta = [], []
    for epoch in range(epochs):
        for _ in range(per_epoch):
            group = opt.param_groups[0]
            lrs.append(group["lr"])
            momenta.append(group["betas"][0] if "betas" in group else group["momentum"])
            opt.zero_grad()
            param.sum().backward()
            opt.step()
            if per_batch:
                sched.step()
        if s["kind"] == "plateau":
            sched.step(case["metrics"][epoch])
        elif not per_batch:
            sched.step()
    return {**case, "lrs": lrs, "momenta": momenta}


onecycle = {"kind": "onecycle", "pct_start": 0.3, "anneal": "cos", "div_factor": 25.0,
            "final_div_factor": 1e4, "three_phase": False, "cycle_momentum": True}
CASES = [
    {"name": "step", "optimizer": "sgd", "lr": 0.1, "epochs": 6, "steps_per_epoch": 3,
     "schedule": {"kind": "step", "step_size": 2, "gamma": 0.5}},
    {"name": "multistep", "optimizer": "sgd", "lr": 0.05, "epochs": 6, "steps_per_epoch": 2,
     "schedule": {"kind": "multistep", "milestones": [2, 4], "gamma": 0.1}},
    {"name": "exponential", "optimizer": "adam", "lr": 0.01, "epochs": 5, "steps_per_epoch": 2,
     "schedule": {"kind": "exponential", "gamma": 0.9}},
    {"name": "cosine over the run", "optimizer": "sgd", "lr": 0.1, "epochs": 6, "steps_per_epoch": 2,
     "schedule": {"kind": "cosine", "t_max": 0, "eta_min": 0.001}},
    {"name": "cosine past t_max", "optimizer": "adam", "lr": 0.1, "epochs": 9, "steps_per_epoch": 1,
     "schedule": {"kind": "cosine", "t_max": 4, "eta_min": 0.0}},
    {"name": "onecycle adam", "optimizer": "adam", "lr": 0.01, "epochs": 5, "steps_per_epoch": 10,
     "schedule": onecycle},
    {"name": "onecycle linear three-phase sgd", "optimizer": "sgd", "momentum": 0.9, "lr": 0.2,
     "epochs": 4, "steps_per_epoch": 11,
     "schedule": {**onecycle, "anneal": "linear", "three_phase": True}},
    {"name": "onecycle odd", "optimizer": "adam", "lr": 0.003, "epochs": 1, "steps_per_epoch": 37,
     "schedule": {**onecycle, "pct_start": 0.25, "div_factor": 10.0, "final_div_factor": 100.0,
                  "cycle_momentum": False}},
    # ReduceLROnPlateau on a made-up validation metric, one value per epoch.
    {"name": "plateau min rel", "optimizer": "sgd", "lr": 0.1, "epochs": 14, "steps_per_epoch": 2,
     "metrics": [1.0, 0.8, 0.8, 0.79995, 0.81, 0.7, 0.7, 0.7, 0.7, 0.69, 0.69, 0.69, 0.69, 0.69],
     "schedule": {"kind": "plateau", "mode": "min", "factor": 0.5, "patience": 2,
                  "threshold": 1e-4, "threshold_mode": "rel", "cooldown": 0, "min_lr": 0.0}},
    {"name": "plateau max abs cooldown min_lr", "optimizer": "adam", "lr": 0.01, "epochs": 16,
     "steps_per_epoch": 1,
     "metrics": [0.5, 0.6, 0.6, 0.605, 0.6, 0.6, 0.6, 0.6, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7],
     "schedule": {"kind": "plateau", "mode": "max", "factor": 0.3, "patience": 1,
                  "threshold": 0.01, "threshold_mode": "abs", "cooldown": 2, "min_lr": 0.0005}},
    {"name": "warm-up then onecycle", "optimizer": "adam", "lr": 0.01, "epochs": 4,
     "steps_per_epoch": 10, "warmup_steps": 8, "warmup_start_factor": 0.1, "schedule": onecycle},
]


def main():
    out = {"torch": torch.__version__, "cases": [run(case) for case in CASES]}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                        "torch_schedules.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print(f"wrote {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
