#!/usr/bin/env python3
"""Writes tests/fixtures/lr_find_suggestions.json: learning-rate range-test curves and the
rates fastai's own suggestion code (`steep`, `valley`) picks on them, for LayerLab's
`steepest` and `valley` to match. Lightning's `suggestion` is written beside them for the
record (LayerLab does not offer it: it lands on the flat start of noisy curves).

Run from the repository root with a Python that has torch, lightning and fastai:
    python scripts/make_lr_find_fixtures.py
(scripts/make_fixtures.py runs it too). The curves are made up but shaped like real sweeps
(flat, a descent, a minimum, a blow-up), smoothed as both libraries smooth (beta 0.98,
bias-corrected), with noise from a fixed seed, plus a short sweep that diverged, one
that only descends, and one that ends in NaN.
"""
import json
import math
import os

import numpy as np
import torch
import lightning
import fastai
from fastai.callback.schedule import steep as fastai_steep, valley as fastai_valley
from lightning.pytorch.tuner.lr_finder import _LRFinder


def smoothed(raw, beta=0.98):
    avg, out = 0.0, []
    for i, loss in enumerate(raw):
        avg = beta * avg + (1 - beta) * loss
        out.append(avg / (1 - beta ** (i + 1)))
    return out


def sweep(num_it, shape, seed, stop_at=None, nan_from=None):
    rng = np.random.default_rng(seed)
    lrs = [1e-7 * (10 / 1e-7) ** (i / num_it) for i in range(num_it)]
    raw = [shape(math.log10(lr)) + rng.normal(0, 0.05) for lr in lrs]
    losses = smoothed(raw)
    if nan_from is not None:
        losses = losses[:nan_from] + [float("nan")] * (len(losses) - nan_from)
    if stop_at is not None:
        lrs, losses = lrs[:stop_at], losses[:stop_at]
    return lrs, losses


def u_shape(x):
    # Flat at 2.3, falling from 1e-4, lowest near 1e-1, blowing up past 1.
    return 2.3 - 1.8 / (1 + math.exp(-(x + 2.5) * 2)) + max(0.0, x + 1) ** 3 * 2


CURVES = [
    ("u-shaped", 100, u_shape, 0, None, None),
    ("u-shaped, other noise", 100, u_shape, 1, None, None),
    ("long sweep", 300, u_shape, 2, None, None),
    ("diverged early", 100, u_shape, 3, 88, None),
    ("only descends", 100, lambda x: 3.0 - 0.2 * (x + 7), 4, None, None),
    ("ends in NaN", 100, u_shape, 5, None, 93),
    ("steep then shallow", 60, lambda x: 1.0 + math.exp(-(x + 4)), 6, None, None),
]


def main():
    cases = []
    for name, num_it, shape, seed, stop_at, nan_from in CURVES:
        lrs, losses = sweep(num_it, shape, seed, stop_at, nan_from)
        finder = _LRFinder("exponential", 1e-7, 10.0, num_it)
        finder.results = {"lr": lrs, "loss": losses}
        lightning_steepest = finder.suggestion(skip_begin=10, skip_end=1)
        # fastai's Learner.lr_find: the curve cut to [num_it // 10 : -5], and up to a NaN.
        cut_lrs = torch.tensor(lrs[num_it // 10:-5])
        cut_losses = torch.tensor(losses[num_it // 10:-5])
        nan_idxs = torch.nonzero(torch.isnan(cut_losses.view(-1)))
        if len(nan_idxs) > 0:
            drop = min(nan_idxs.min(), len(cut_losses) - 1)
            cut_lrs, cut_losses = cut_lrs[:drop], cut_losses[:drop]
        valley, _ = fastai_valley(cut_lrs, cut_losses, num_it)
        steep, _ = fastai_steep(cut_lrs, cut_losses, num_it)
        cases.append({
            "name": name, "num_it": num_it,
            "lrs": lrs, "losses": [None if math.isnan(l) else l for l in losses],
            "steep": float(steep), "valley": valley,
            "lightning_suggestion": lightning_steepest,
        })
    out = {"lightning": lightning.__version__, "fastai": fastai.__version__, "cases": cases}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                        "lr_find_suggestions.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print(f"wrote {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
