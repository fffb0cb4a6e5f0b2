#!/usr/bin/env python3
"""PyTorch and scikit-learn on LayerLab's own splits of the tabular built-ins, for comparison.

Usage (a venv outside the repo or ignored by it, with torch, scikit-learn and pandas):
    venv/bin/python scripts/reference_tabular.py [--layerlab target/release/layerlab] [--seeds 42 1 2]

For each split seed it asks `layerlab datasets --show NAME --test-rows --json` which source rows
form the test split, so both tools see exactly the same rows, then prints one JSON object per
line:
  * ames-housing: the seed recipe in PyTorch (numeric columns standardised and categorical
    ones one-hot, both fitted on the training rows; target standardised; Linear 64, ReLU,
    Linear 1; MSE; SGD lr 0.01; batch 32; 100 epochs) and scikit-learn's
    GradientBoostingRegressor, test RMSE in dollars;
  * iris, wine, breast-cancer: LogisticRegression on standardised features, test accuracy;
  * speed: PyTorch optimizer steps per second of the ames regressor (batch 32) and of the
    iris MLP (Linear 32, ReLU, Linear 3, Adam, batch 16), measured as `layerlab bench
    --tabular` measures LayerLab (median of 5 runs of 2,000 steps after 10 warm-up steps).
"""
import argparse, gzip, json, os, subprocess, time
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
ap = argparse.ArgumentParser()
ap.add_argument("--layerlab", default=os.path.join(root, "target", "release", "layerlab"))
ap.add_argument("--seeds", type=int, nargs="+", default=[42])
ap.add_argument("--threads", type=int, default=os.cpu_count())
args = ap.parse_args()
torch.set_num_threads(args.threads)


def test_rows(name, seed):
    out = subprocess.run([args.layerlab, "datasets", "--show", name, "--test-rows", "--json",
                          "--split-seed", str(seed)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)["test_rows"]


def split(n, rows):
    test = np.zeros(n, dtype=bool)
    test[rows] = True
    return ~test, test


def ames_features(df, train):
    target = pd.to_numeric(df["Sale_Price"]).to_numpy(np.float64)
    X = df.drop(columns=["Sale_Price"])
    numeric = [c for c in X.columns if pd.to_numeric(X[c], errors="coerce").notna().all()]
    X[numeric] = X[numeric].apply(pd.to_numeric)
    categorical = [c for c in X.columns if c not in numeric]
    scaler = StandardScaler().fit(X.loc[train, numeric])
    parts = [scaler.transform(X[numeric])]
    for c in categorical:
        levels = sorted(X.loc[train, c].astype(str).str.strip().unique())
        values = X[c].astype(str).str.strip()
        parts.append(np.stack([(values == l).to_numpy(np.float64) for l in levels], axis=1))
    return np.concatenate(parts, axis=1).astype(np.float32), target


def ames(seed):
    df = pd.read_csv(os.path.join(root, "assets", "ames", "ames.csv.gz"), dtype=str, keep_default_na=False)
    train, test = split(len(df), test_rows("ames-housing", seed))
    X, y = ames_features(df, train)
    mean, std = y[train].mean(), y[train].std()
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(X.shape[1], 64), nn.ReLU(), nn.Linear(64, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    xt = torch.from_numpy(X[train])
    yt = torch.from_numpy(((y[train] - mean) / std).astype(np.float32)).reshape(-1, 1)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(100):
        order = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), 32):
            idx = order[i:i + 32]
            opt.zero_grad(set_to_none=True)
            nn.functional.mse_loss(model(xt[idx]), yt[idx]).backward()
            opt.step()
    with torch.no_grad():
        predicted = model(torch.from_numpy(X[test])).numpy().ravel() * std + mean
    rmse = float(np.sqrt(np.mean((predicted - y[test]) ** 2)))
    gb = GradientBoostingRegressor(random_state=0).fit(X[train], y[train])
    gb_rmse = float(np.sqrt(np.mean((gb.predict(X[test]) - y[test]) ** 2)))
    return {"dataset": "ames-housing", "seed": seed, "torch_mlp_test_rmse": round(rmse, 1),
            "sklearn_gradient_boosting_test_rmse": round(gb_rmse, 1)}


def sklearn_table(name, file, seed):
    lines = open(os.path.join(root, "assets", "sklearn", file)).read().strip().splitlines()[1:]
    data = np.array([[float(v) for v in l.split(",")] for l in lines])
    X, y = data[:, :-1], data[:, -1].astype(int)
    train, test = split(len(y), test_rows(name, seed))
    scaler = StandardScaler().fit(X[train])
    lr = LogisticRegression(max_iter=5000).fit(scaler.transform(X[train]), y[train])
    return {"dataset": name, "seed": seed,
            "sklearn_logistic_regression_test_accuracy": round(float(lr.score(scaler.transform(X[test]), y[test])), 4)}


def steps_per_second(make, make_opt, x, y, loss_fn, batch):
    model = make()
    opt = make_opt(model.parameters())
    pos = 0

    def step():
        nonlocal pos
        if pos >= len(x):
            pos = 0
        xb, yb = x[pos:pos + batch], y[pos:pos + batch]
        pos += batch
        opt.zero_grad(set_to_none=True)
        loss_fn(model(xb), yb).backward()
        opt.step()

    for _ in range(10):
        step()
    rates = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(2000):
            step()
        rates.append(2000 / (time.perf_counter() - t))
    return round(float(np.median(rates)), 1)


def speed():
    df = pd.read_csv(os.path.join(root, "assets", "ames", "ames.csv.gz"), dtype=str, keep_default_na=False)
    train, _ = split(len(df), test_rows("ames-housing", 42))
    X, y = ames_features(df, train)
    xa = torch.from_numpy(X[train])
    ya = torch.from_numpy(((y[train] - y[train].mean()) / y[train].std()).astype(np.float32)).reshape(-1, 1)
    ames_rate = steps_per_second(lambda: nn.Sequential(nn.Linear(X.shape[1], 64), nn.ReLU(), nn.Linear(64, 1)),
                                 lambda p: torch.optim.SGD(p, lr=0.01), xa, ya, nn.functional.mse_loss, 32)
    lines = open(os.path.join(root, "assets", "sklearn", "iris.csv")).read().strip().splitlines()[1:]
    data = np.array([[float(v) for v in l.split(",")] for l in lines], dtype=np.float32)
    xi = torch.from_numpy((data[:, :4] - data[:, :4].mean(0)) / data[:, :4].std(0))
    yi = torch.from_numpy(data[:, 4].astype(np.int64))
    iris_rate = steps_per_second(lambda: nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 3)),
                                 lambda p: torch.optim.Adam(p, lr=1e-3), xi, yi, nn.functional.cross_entropy, 16)
    return {"torch": torch.__version__, "threads": args.threads,
            "torch_ames_regressor_batch32_steps_per_s": ames_rate,
            "torch_iris_mlp_batch16_steps_per_s": iris_rate}


for seed in args.seeds:
    print(json.dumps(ames(seed)), flush=True)
    for name, file in [("iris", "iris.csv"), ("wine", "wine_data.csv"), ("breast-cancer", "breast_cancer.csv")]:
        print(json.dumps(sklearn_table(name, file, seed)), flush=True)
print(json.dumps(speed()), flush=True)
