#!/usr/bin/env python3
"""Trains a LayerLab run with PyTorch, on one process or many.

Written by `layerlab runs export-torch`. Needs `torch` and `safetensors` (and `torchvision`,
only when the run augments its images). Everything about the run is in run.json beside this
file: the layer stack, the data card with the preprocessing LayerLab fitted on the training
split (applied here as recorded, never refitted), the split's rows, and the settings.

    python train.py                              # one process: CUDA when present, else CPU
    torchrun --nproc_per_node N train.py         # DistributedDataParallel over N processes

Under torchrun every process trains on its share of each batch (the global batch size stays
the run's: per-process batch = batch / world size), gloo on CPU and nccl on GPUs; process 0
writes metrics.jsonl (LayerLab's event schema) and model.safetensors (LayerLab's metadata), and
`layerlab runs import DIR` brings the result back as a run. It ends with the line
`layerlab train` ends with: test_accuracy=... or test_rmse=... test_mae=... test_r2=...

Where PyTorch and LayerLab differ (stated, not hidden):
- the learning rate is set each step by the same formulas as torch.optim.lr_scheduler
  (StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, OneCycleLR with momentum cycling,
  LinearLR warm-up, ReduceLROnPlateau), written out below because LayerLab counts warm-up in
  steps and the other schedules in epochs, which SequentialLR cannot mix;
- initial weights are PyTorch's own unless --init-from is given, and batches are shuffled by
  torch's generator from the run's seed, so curves match LayerLab's in law, not bit for bit;
- augmentation uses torchvision.transforms.v2 (RandomAffine, ElasticTransform,
  RandomHorizontalFlip, GaussianNoise, RandomErasing); its random draws are torch's;
- under DDP, batch norm normalises each process's share of the batch (SyncBatchNorm is used
  on CUDA only).
"""
import argparse
import copy
import gzip
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------------------------------------
# The layer stack, with LayerLab's parameter names ("0.weight", ...).

class FlatLinear(nn.Linear):
    """A Linear after an image without a Flatten flattens first (LayerLab's rule)."""

    def forward(self, x):
        return super().forward(x.flatten(1))


def build_model(layers, input_shape):
    modules = []
    shape = list(input_shape)
    for layer in layers:
        kind = layer["type"]
        if kind == "Linear":
            modules.append(FlatLinear(math.prod(shape), layer["out_features"]))
            shape = [layer["out_features"]]
        elif kind == "Conv2d":
            conv = nn.Conv2d(shape[0], layer["out_channels"], layer["kernel_size"],
                             stride=layer.get("stride", 1), padding=layer.get("padding", 0))
            modules.append(conv)
            shape = list(conv(torch.zeros(1, *shape)).shape[1:])
        elif kind in ("MaxPool2d", "AvgPool2d"):
            k = layer["kernel_size"]
            s = layer.get("stride") or k
            pool = nn.MaxPool2d(k, s) if kind == "MaxPool2d" else nn.AvgPool2d(k, s)
            modules.append(pool)
            shape = list(pool(torch.zeros(1, *shape)).shape[1:])
        elif kind == "Flatten":
            modules.append(nn.Flatten())
            shape = [math.prod(shape)]
        elif kind == "ReLU":
            modules.append(nn.ReLU())
        elif kind == "LeakyReLU":
            modules.append(nn.LeakyReLU(layer.get("negative_slope", 0.01)))
        elif kind == "Sigmoid":
            modules.append(nn.Sigmoid())
        elif kind == "Tanh":
            modules.append(nn.Tanh())
        elif kind == "GELU":
            modules.append(nn.GELU())
        elif kind == "Dropout":
            modules.append(nn.Dropout(layer["p"]))
        elif kind in ("BatchNorm1d", "BatchNorm2d"):
            norm = nn.BatchNorm1d if kind == "BatchNorm1d" else nn.BatchNorm2d
            modules.append(norm(shape[0], eps=layer.get("eps", 1e-5),
                                momentum=layer.get("momentum", 0.1)))
        else:
            raise SystemExit(f"run.json: unknown layer type {kind!r}")
    return nn.Sequential(*modules)


def input_shape_of(card):
    pipeline = card["preprocessing"]["input"]
    if pipeline["kind"] == "image":
        return [pipeline["channels"], pipeline["height"], pipeline["width"]]
    return [sum(column_width(c) for c in pipeline["columns"])]


# ---------------------------------------------------------------------------------------------
# Data: the recorded files, prepared with the recorded (fitted) preprocessing.

def open_maybe_gzip(path):
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gz else open(path, "rb")


def read_idx(path):
    with open_maybe_gzip(path) as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 8:
        raise SystemExit(f"{path}: not an IDX file of unsigned bytes")
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    body = data[4 + 4 * dims:]
    if len(body) != math.prod(shape):
        raise SystemExit(f"{path}: {len(body)} bytes of data where its header promises "
                         f"{math.prod(shape)} (truncated?)")
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(shape)


def is_missing(cell):
    return cell.strip() in ("", "NA", "N/A", "na", "n/a", "NaN", "nan", "null", "NULL", "?")


def parse_number(cell):
    try:
        value = float(cell.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def tokenize(text):
    """LayerLab's tokens: runs of letters, lower-cased ("<br />" is a space)."""
    text = text[:1 << 20].replace("<br />", " ").replace("<br/>", " ")
    words, word = [], []
    for c in text:
        if c.isalpha():
            word.append(c)
        elif word:
            words.append("".join(word).lower())
            word = []
    if word:
        words.append("".join(word).lower())
    return words


def column_width(step):
    kind = step["kind"]
    if kind == "numeric":
        return 1
    if kind == "categorical":
        return len(step["levels"]) + (1 if step.get("other") else 0)
    if kind == "text":
        return len(step["vectoriser"]["vocabulary"])
    return 0


class ColumnEncoder:
    """One recorded column step: a cell to (feature index, value) pairs."""

    def __init__(self, step, offset):
        self.step = step
        self.offset = offset
        self.kind = step["kind"]
        if self.kind == "categorical":
            self.levels = {level: i for i, level in enumerate(step["levels"])}
        if self.kind == "text":
            vectoriser = step["vectoriser"]
            self.words = {w: i for i, w in enumerate(vectoriser["vocabulary"])}
            self.tf_idf = vectoriser.get("weighting") == "tf_idf"
            self.idf = vectoriser.get("idf", [])

    def encode(self, cell, out, where):
        step = self.step
        if self.kind == "numeric":
            value = step["mean"] if is_missing(cell) else parse_number(cell)
            if value is None:
                raise SystemExit(f"{where}: column {step['name']}: {cell.strip()!r} is not a number")
            out.append((self.offset, (value - step["mean"]) / step["std"]))
        elif self.kind == "categorical":
            level = "(missing)" if is_missing(cell) else cell.strip()
            index = self.levels.get(level)
            if index is not None:
                out.append((self.offset + index, 1.0))
            elif step.get("other"):
                out.append((self.offset + len(self.levels), 1.0))
        elif self.kind == "text":
            counts = {}
            for word in tokenize(cell):
                index = self.words.get(word)
                if index is not None:
                    counts[index] = counts.get(index, 0.0) + 1.0
            if self.tf_idf:
                for index in counts:
                    counts[index] *= self.idf[index] if index < len(self.idf) else 1.0
                norm = math.sqrt(sum(v * v for v in counts.values()))
                if norm > 0:
                    counts = {i: v / norm for i, v in counts.items()}
            else:
                counts = {i: 1.0 for i in counts}
            out.extend((self.offset + i, v) for i, v in sorted(counts.items()))


def read_csv_rows(path):
    import csv
    import io
    with open_maybe_gzip(path) as f:
        text = io.TextIOWrapper(f, encoding="utf-8", errors="replace", newline="")
        reader = csv.reader(text)
        header = next(reader, None)
        if header is None:
            raise SystemExit(f"{path}: empty file")
        return [h.strip() for h in header], list(reader)


class SparseRows(torch.utils.data.Dataset):
    """Table rows kept as (index, value) pairs, made dense one sample at a time."""

    def __init__(self, rows, width, targets):
        self.rows, self.width, self.targets = rows, width, targets

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        x = torch.zeros(self.width)
        if self.rows[i]:
            index, value = zip(*self.rows[i])
            x[list(index)] = torch.tensor(value, dtype=torch.float32)
        return x, self.targets[i]


class Pixels(torch.utils.data.Dataset):
    """Images stored as grey levels, scaled to [0, 1] per sample (as LayerLab and ToTensor)."""

    def __init__(self, levels, max_level, targets, transform=None):
        self.levels, self.max_level, self.targets = levels, max_level, targets
        self.transform = transform

    def __len__(self):
        return len(self.levels)

    def __getitem__(self, i):
        x = self.levels[i].float() / self.max_level
        if self.transform is not None:
            x = self.transform(x)
        return x, self.targets[i]


def rows_of(part):
    if "range" in part:
        return list(range(part["range"][0], part["range"][1]))
    return part["rows"]


def target_of(card, cell, where):
    task = card["task"]
    if task["kind"] == "classification":
        try:
            return task["class_names"].index(cell.strip())
        except ValueError:
            raise SystemExit(f"{where}: the target {cell.strip()!r} is not one of the run's "
                             f"classes {task['class_names']}")
    value = parse_number(cell)
    if value is None:
        raise SystemExit(f"{where}: the target {cell.strip()!r} is not a number")
    scaling = card["preprocessing"]["target"]
    if scaling["log"]:
        if value <= 0:
            raise SystemExit(f"{where}: a log target needs positive values, found {value}")
        value = math.log(value)
    return (value - scaling["mean"]) / scaling["std"]


def find_file(path, data_dir, what):
    candidates = [os.path.join(data_dir, os.path.basename(path))] if data_dir else []
    candidates.append(path)
    for candidate in candidates:
        if os.path.isfile(candidate):
            return candidate
    raise SystemExit(f"cannot find {what}; looked in:\n  " + "\n  ".join(candidates)
                     + "\nGive the folder that holds it with --data PATH.")


def load_splits(run, data_dir):
    """The training, validation and test sets, exactly the rows LayerLab used."""
    card, data, split = run["record"]["card"], run["data"], run["split"]
    regression = card["task"]["kind"] == "regression"
    target_type = torch.float32 if regression else torch.long
    if data["kind"] == "idx":
        files = {name: (read_idx(find_file(images, data_dir, f"the {name} images")),
                        read_idx(find_file(labels, data_dir, f"the {name} labels")))
                 for name, (images, labels) in data["files"].items()}
        pipeline = card["preprocessing"]["input"]
        shape = [pipeline["channels"], pipeline["height"], pipeline["width"]]
        sets = {}
        for name in ("train", "validation", "test"):
            images, labels = files[split[name]["file"]]
            rows = torch.tensor(rows_of(split[name]), dtype=torch.long)
            if len(rows) and int(rows.max()) >= len(images):
                raise SystemExit(f"the {split[name]['file']} images hold {len(images)} samples; "
                                 f"the run used row {int(rows.max())}")
            sets[name] = Pixels(images[rows].reshape(len(rows), *shape), pipeline["max_level"],
                                labels[rows].long())
        return sets
    if data["kind"] == "csv":
        steps = card["preprocessing"]["input"]["columns"]
        tables = {name: read_csv_rows(find_file(path, data_dir, f"the {name} file"))
                  for name, path in data["files"].items()}
        sets = {}
        for name in ("train", "validation", "test"):
            header, body = tables[split[name]["file"]]
            index = {column: i for i, column in enumerate(header)}
            missing = [s["name"] for s in steps if s["name"] not in index]
            if data["target"] not in index:
                missing.append(data["target"])
            if missing:
                raise SystemExit(f"{data['files'][split[name]['file']]} has no column(s) {missing}")
            encoders, offset = [], 0
            for step in steps:
                encoders.append((index[step["name"]], ColumnEncoder(step, offset)))
                offset += column_width(step)
            rows, targets = [], []
            for row in rows_of(split[name]):
                cells = body[row]
                where = f"{split[name]['file']} file, row {row + 2}"
                features = []
                for column, encoder in encoders:
                    encoder.encode(cells[column] if column < len(cells) else "", features, where)
                rows.append(features)
                target = index[data["target"]]
                targets.append(target_of(card, cells[target] if target < len(cells) else "", where))
            sets[name] = SparseRows(rows, offset, torch.tensor(targets, dtype=target_type))
        return sets
    if data["kind"] == "prepared":
        from safetensors.torch import load_file
        tensors = load_file(find_file(os.path.join(HERE, data["file"]), data_dir,
                                      "the prepared data"))
        pipeline = card["preprocessing"]["input"]
        sets = {}
        for name in ("train", "validation", "test"):
            source = split[name]["file"]
            rows = torch.tensor(rows_of(split[name]), dtype=torch.long)
            inputs, targets = tensors[f"{source}.inputs"][rows], tensors[f"{source}.targets"][rows]
            if regression:
                scaling = card["preprocessing"]["target"]
                targets = targets.double()
                if scaling["log"]:
                    targets = targets.log()
                targets = ((targets - scaling["mean"]) / scaling["std"]).float()
            else:
                targets = targets.long()
            if pipeline["kind"] == "image":
                sets[name] = Pixels(inputs, pipeline["max_level"], targets)
            else:
                sets[name] = torch.utils.data.TensorDataset(inputs.float(), targets)
        return sets
    raise SystemExit(f"run.json: unknown data kind {data['kind']!r}")


def augmentation(settings):
    """torchvision v2 transforms for LayerLab's augmentation settings (training only)."""
    a = settings.get("augmentation")
    if not a:
        return None
    try:
        from torchvision.transforms import v2
    except ImportError:
        raise SystemExit("this run augments its images: install torchvision "
                         "(pip install torchvision)")
    steps = []
    if a["rotate"] or a["translate"] or a["scale"] or a["shear"]:
        steps.append(v2.RandomAffine(
            degrees=a["rotate"],
            translate=(a["translate"], a["translate"]) if a["translate"] else None,
            scale=(1 - a["scale"], 1 + a["scale"]) if a["scale"] else None,
            shear=(-a["shear"], a["shear"]) if a["shear"] else None))
    if a["elastic_alpha"]:
        steps.append(v2.ElasticTransform(alpha=a["elastic_alpha"], sigma=a["elastic_sigma"]))
    if a["flip"]:
        steps.append(v2.RandomHorizontalFlip())
    if a["noise"]:
        steps.append(v2.GaussianNoise(sigma=a["noise"], clip=True))
    if a["erase"]:
        steps.append(v2.RandomErasing(p=a["erase"], scale=tuple(a["erase_scale"]),
                                      ratio=tuple(a["erase_ratio"]), value=0))
    return v2.Compose(steps)


# ---------------------------------------------------------------------------------------------
# Optimizer, learning rate, loss and early stopping, as LayerLab records them.

def make_optimizer(config, params):
    kind = config["kind"]
    if kind == "Sgd":
        return torch.optim.SGD(params, lr=config["lr"], momentum=config.get("momentum", 0.0),
                               dampening=config.get("dampening", 0.0),
                               nesterov=config.get("nesterov", False),
                               weight_decay=config.get("weight_decay", 0.0))
    if kind in ("Adam", "AdamW"):
        cls = torch.optim.Adam if kind == "Adam" else torch.optim.AdamW
        return cls(params, lr=config["lr"], betas=tuple(config.get("betas", (0.9, 0.999))),
                   eps=config.get("eps", 1e-8), weight_decay=config.get("weight_decay", 0.0))
    if kind == "RmsProp":
        return torch.optim.RMSprop(params, lr=config["lr"], alpha=config.get("alpha", 0.99),
                                   eps=config.get("eps", 1e-8),
                                   weight_decay=config.get("weight_decay", 0.0),
                                   momentum=config.get("momentum", 0.0),
                                   centered=config.get("centered", False))
    raise SystemExit(f"run.json: unknown optimizer {kind!r}")


def one_cycle(s, max_lr, step, total):
    """OneCycleLR.get_lr at `step` of `total`: the learning rate and momentum."""
    initial = max_lr / s["div_factor"]
    low = initial / s["final_div_factor"]
    lo_m, hi_m = s["base_momentum"], s["max_momentum"]
    p = s["pct_start"]
    if s["three_phase"]:
        phases = [(p * total - 1, initial, max_lr, hi_m, lo_m),
                  (2 * p * total - 2, max_lr, initial, lo_m, hi_m),
                  (total - 1, initial, low, hi_m, hi_m)]
    else:
        phases = [(p * total - 1, initial, max_lr, hi_m, lo_m),
                  (total - 1, max_lr, low, lo_m, hi_m)]

    def anneal(a, b, pct):
        if s["anneal"] == "cos":
            return b + (a - b) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (b - a) * pct + a

    start = 0.0
    for i, (end, lr0, lr1, m0, m1) in enumerate(phases):
        if step <= end or i == len(phases) - 1:
            pct = (step - start) / (end - start)
            return anneal(lr0, lr1, pct), (anneal(m0, m1, pct) if s["cycle_momentum"] else None)
        start = end
    return max_lr, None


def scheduled(schedule, base, step, epoch, total_steps, epochs, plateau_lr):
    """The learning rate (and momentum) of the step taken after `step` steps, in `epoch`."""
    warmup = schedule.get("warmup_steps", 0)
    if step < warmup:
        start = schedule.get("warmup_start_factor", 1 / 3)
        factor = start + (1 - start) * step / warmup
        lr, momentum = scheduled(schedule, base, warmup, epoch, total_steps, epochs, plateau_lr)
        return lr * factor, momentum
    s = schedule["schedule"]
    kind = s["kind"]
    if kind == "constant":
        return base, None
    if kind == "step":
        return base * s["gamma"] ** (epoch // max(s["step_size"], 1)), None
    if kind == "multi_step":
        return base * s["gamma"] ** sum(1 for m in s["milestones"] if m <= epoch), None
    if kind == "exponential":
        return base * s["gamma"] ** epoch, None
    if kind == "cosine":
        t_max = max(s["t_max"] or epochs, 1)
        return s["eta_min"] + (base - s["eta_min"]) * (1 + math.cos(math.pi * epoch / t_max)) / 2, None
    if kind == "one_cycle":
        return one_cycle(s, base, step - warmup, total_steps - warmup)
    if kind == "plateau":
        return plateau_lr, None
    raise SystemExit(f"run.json: unknown schedule {kind!r}")


class Plateau:
    """ReduceLROnPlateau, stepped on the validation metric after each epoch."""

    def __init__(self, s, lr):
        self.s, self.lr, self.best, self.bad, self.cooldown = s, lr, None, 0, 0
        self.max_mode = s["monitor"] == "val_accuracy"

    def better(self, value):
        if value != value:
            return False
        if self.best is None:
            return True
        t = self.s["threshold"]
        if self.s["threshold_mode"] == "rel":
            bound = self.best * (1 + t) if self.max_mode else self.best * (1 - t)
        else:
            bound = self.best + t if self.max_mode else self.best - t
        return value > bound if self.max_mode else value < bound

    def after_epoch(self, value):
        if value is None:
            return
        if self.better(value):
            self.best, self.bad = value, 0
        else:
            self.bad += 1
        if self.cooldown > 0:
            self.cooldown -= 1
            self.bad = 0
        if self.bad > self.s["patience"]:
            new = max(self.lr * self.s["factor"], self.s["min_lr"])
            if self.lr - new > self.s.get("eps", 1e-8):
                self.lr = new
            self.cooldown, self.bad = self.s["cooldown"], 0


class EarlyStopping:
    """Keras's EarlyStopping, restoring the best epoch whenever restore_best is on."""

    def __init__(self, rule):
        self.rule, self.best, self.best_epoch, self.wait, self.stopped_after = rule, None, None, 0, None
        self.best_state = None

    def after_epoch(self, epoch, metrics, model):
        value = metrics.get(monitored_key(self.rule["monitor"]))
        if value is None or epoch < self.rule["start_from_epoch"]:
            return False
        self.wait += 1
        better = self.best is None and value == value
        if self.best is not None:
            if self.rule["monitor"] == "val_accuracy":
                better = value - self.rule["min_delta"] > self.best
            else:
                better = value + self.rule["min_delta"] < self.best
        if better:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.rule["restore_best"]:
                self.best_state = copy.deepcopy(model.state_dict())
            return False
        if self.wait >= self.rule["patience"] and epoch > 0:
            self.stopped_after = epoch
            return True
        return False

    def describe(self, restored):
        metric = self.rule["monitor"]
        if self.best_epoch is None:
            best = f"no epoch had a {metric} to compare"
        elif restored:
            best = f"restored epoch {self.best_epoch + 1} (best {metric} {self.best:.4f})"
        else:
            best = (f"best epoch {self.best_epoch + 1} ({metric} {self.best:.4f}), "
                    "the last epoch's weights kept")
        if self.stopped_after is None:
            end = "ran every epoch"
        else:
            end = (f"stopped after epoch {self.stopped_after + 1}: no improvement for "
                   f"{self.wait} epoch{'' if self.wait == 1 else 's'}")
        return f"{best}; {end}"


def monitored_key(monitor):
    return {"val_loss": "validation_loss", "val_accuracy": "validation_accuracy",
            "val_rmse": "validation_rmse"}[monitor]


def batch_loss(kind, outputs, targets, classes):
    if kind == "cross_entropy":
        return F.cross_entropy(outputs, targets)
    if outputs.shape[1] == 1 and targets.dim() == 1:
        targets = targets.unsqueeze(1)
    elif targets.dim() == 1:
        targets = F.one_hot(targets, classes).float()
    if kind == "mse":
        return F.mse_loss(outputs, targets)
    if kind == "l1":
        return F.l1_loss(outputs, targets)
    if kind == "huber":
        return F.huber_loss(outputs, targets, delta=1.0)
    raise SystemExit(f"run.json: unknown loss {kind!r}")


# ---------------------------------------------------------------------------------------------
# Evaluation: loss and accuracy, or RMSE/MAE/R² in the target's units.

def unscale(card, values):
    scaling = card["preprocessing"]["target"]
    v = values.double() * scaling["std"] + scaling["mean"]
    return v.exp() if scaling["log"] else v


@torch.no_grad()
def evaluate(model, dataset, card, loss_kind, device, classes):
    if len(dataset) == 0:
        return None
    model.eval()
    loader = torch.utils.data.DataLoader(dataset, batch_size=500)
    total, correct, count, predicted, actual = 0.0, 0, 0, [], []
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        out = model(x)
        total += batch_loss(loss_kind, out, y, classes).item() * len(y)
        count += len(y)
        if card["task"]["kind"] == "classification":
            correct += (out.argmax(1) == y).sum().item()
        else:
            predicted.append(out[:, 0].cpu())
            actual.append(y.cpu())
    model.train()
    result = {"loss": total / count}
    if card["task"]["kind"] == "classification":
        result["accuracy"] = correct / count
    else:
        p, a = unscale(card, torch.cat(predicted)), unscale(card, torch.cat(actual))
        error = p - a
        total_ss = ((a - a.mean()) ** 2).sum().item()
        result["regression"] = {
            "rmse": math.sqrt((error ** 2).mean().item()),
            "mae": error.abs().mean().item(),
            "r2": 1 - (error ** 2).sum().item() / total_ss if total_ss > 0 else 0.0,
        }
    return result


def epoch_line(m):
    """The line `layerlab train` prints after each epoch."""
    line = f"epoch {m['epoch'] + 1} train_loss={m['train_loss']:.4f}"
    for key, name in (("train_accuracy", "train_accuracy"), ("train_rmse", "train_rmse"),
                      ("validation_loss", "val_loss"), ("validation_accuracy", "val_accuracy"),
                      ("validation_rmse", "val_rmse"), ("validation_mae", "val_mae")):
        if m.get(key) is not None:
            line += f" {name}={m[key]:.4f}"
    return line + f" samples_per_sec={m['images_per_sec']:.0f}"


def metrics_line(result, prefix="test"):
    if "regression" in result:
        r = result["regression"]
        return (f"{prefix}_rmse={r['rmse']:.4f} {prefix}_mae={r['mae']:.4f} "
                f"{prefix}_r2={r['r2']:.4f} {prefix}_loss={result['loss']:.4f}")
    return f"{prefix}_accuracy={result['accuracy']:.4f} {prefix}_loss={result['loss']:.4f}"


# ---------------------------------------------------------------------------------------------
# The run.

def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", default=os.path.join(HERE, "run.json"), help="the run's record")
    parser.add_argument("--data", help="the folder holding the dataset's files, when they moved")
    parser.add_argument("--out", default=HERE,
                        help="where metrics.jsonl and model.safetensors go (default: this folder)")
    parser.add_argument("--init-from", help="start from these weights (a LayerLab "
                        ".safetensors, e.g. checkpoint.safetensors) instead of afresh")
    parser.add_argument("--epochs", type=int, help="override the run's epochs")
    parser.add_argument("--device", help="cpu, cuda, cuda:1... (default: cuda when present)")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    return parser.parse_args()


def main():
    args = parse_args()
    with open(args.run) as f:
        run = json.load(f)
    if run.get("format") != "layerlab-torch-run":
        raise SystemExit(f"{args.run} is not a LayerLab run export")
    record, settings = run["record"], run["record"]["settings"]
    card = record["card"]
    epochs = args.epochs or settings["epochs"]

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if args.device:
        device = torch.device(args.device)
    elif torch.cuda.is_available():
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if world > 1:
        import torch.distributed as dist
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    writer = rank == 0
    torch.manual_seed(settings["seed"])

    sets = load_splits(run, args.data)
    transform = augmentation(settings)
    if transform is not None:
        sets["train"].transform = transform

    classes = len(card["task"].get("class_names", [])) or 1
    model = build_model(record["stack"]["layers"], input_shape_of(card))
    if args.init_from:
        from safetensors.torch import load_file
        model.load_state_dict(load_file(args.init_from), strict=True)
    model.to(device)
    net = model
    if world > 1:
        if device.type == "cuda":
            net = nn.SyncBatchNorm.convert_sync_batchnorm(net)
        net = nn.parallel.DistributedDataParallel(
            net, device_ids=[device.index] if device.type == "cuda" else None)
    optimizer = make_optimizer(settings["optimizer"], model.parameters())
    base_lr = settings["optimizer"]["lr"]

    batch = settings["batch_size"]
    if batch % world:
        raise SystemExit(f"the run's batch of {batch} does not divide among {world} processes")
    train_set = sets["train"]
    sampler = torch.utils.data.distributed.DistributedSampler(
        train_set, num_replicas=world, rank=rank, shuffle=True, seed=settings["seed"],
        drop_last=False) if world > 1 else None
    generator = torch.Generator().manual_seed(settings["seed"])
    loader = torch.utils.data.DataLoader(
        train_set, batch_size=batch // world, shuffle=sampler is None, sampler=sampler,
        generator=generator if sampler is None else None, num_workers=args.workers)
    steps_per_epoch = math.ceil(len(train_set) / batch)
    total_steps = steps_per_epoch * epochs
    schedule = settings.get("schedule") or {"schedule": {"kind": "constant"}}
    plateau = (Plateau(schedule["schedule"], base_lr)
               if schedule["schedule"]["kind"] == "plateau" else None)
    stopping = EarlyStopping(settings["early_stopping"]) if settings.get("early_stopping") else None
    regression = card["task"]["kind"] == "regression"
    loss_kind = settings["loss"]

    os.makedirs(args.out, exist_ok=True)
    if writer and os.path.exists(os.path.join(args.out, "imported.json")):
        os.remove(os.path.join(args.out, "imported.json"))  # a new result, not imported yet
    log = open(os.path.join(args.out, "metrics.jsonl"), "w") if writer else None

    def emit(event):
        if log:
            log.write(json.dumps(event) + "\n")
            log.flush()

    emit({"event": "started", "total_steps": total_steps, "first_step": 0,
          "steps_per_epoch": steps_per_epoch, "train_samples": len(train_set),
          "validation_samples": len(sets["validation"]), "test_samples": len(sets["test"]),
          "parameters": sum(p.numel() for p in model.parameters()),
          "torch": {"version": torch.__version__, "world_size": world,
                    "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
                    "backend": ("nccl" if device.type == "cuda" else "gloo") if world > 1 else None,
                    "run": run["run"]["id"]}})
    step, train_secs, epochs_done, stopped_early = 0, 0.0, 0, False
    started = time.monotonic()
    for epoch in range(epochs):
        if sampler is not None:
            sampler.set_epoch(epoch)
        epoch_start = time.monotonic()
        sums = torch.zeros(4, dtype=torch.float64)  # loss*n, correct, squared error, n
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            lr, momentum = scheduled(schedule, base_lr, step, epoch, total_steps, epochs,
                                     plateau.lr if plateau else base_lr)
            for group in optimizer.param_groups:
                group["lr"] = lr
                if momentum is not None:
                    if "betas" in group:
                        group["betas"] = (momentum, group["betas"][1])
                    else:
                        group["momentum"] = momentum
            out = net(x)
            loss = batch_loss(loss_kind, out, y, classes)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                stats = torch.zeros(4, dtype=torch.float64)
                stats[0] = loss.item() * len(y)
                if regression:
                    error = unscale(card, out[:, 0].detach().cpu()) - unscale(card, y.cpu())
                    stats[2] = (error ** 2).sum().item()
                else:
                    stats[1] = (out.argmax(1) == y).sum().item()
                stats[3] = len(y)
                if world > 1:
                    torch.distributed.all_reduce(stats)
            sums += stats
            step += 1
            train_secs = time.monotonic() - started
            event = {"event": "batch", "step": step, "epoch": epoch,
                     "loss": stats[0].item() / stats[3].item(), "learning_rate": lr,
                     "samples": int(stats[3].item()), "train_secs": train_secs}
            if not regression:
                event["accuracy"] = stats[1].item() / stats[3].item()
            emit(event)
        duration = time.monotonic() - epoch_start
        n = sums[3].item()
        metrics = {"event": "epoch", "epoch": epoch, "step": step, "train_loss": sums[0].item() / n}
        if regression:
            metrics["train_rmse"] = math.sqrt(sums[2].item() / n)
        else:
            metrics["train_accuracy"] = sums[1].item() / n
        validation = evaluate(model, sets["validation"], card, loss_kind, device, classes)
        metrics["validation_loss"] = validation["loss"] if validation else None
        if validation and "accuracy" in validation:
            metrics["validation_accuracy"] = validation["accuracy"]
        if validation and "regression" in validation:
            metrics["validation_rmse"] = validation["regression"]["rmse"]
            metrics["validation_mae"] = validation["regression"]["mae"]
        metrics["images_per_sec"] = n / duration if duration > 0 else 0.0
        metrics["duration_secs"] = duration
        emit(metrics)
        epochs_done = epoch + 1
        if writer:
            print(epoch_line(metrics), flush=True)
        if plateau:
            plateau.after_epoch(metrics.get(monitored_key(schedule["schedule"]["monitor"])))
        if stopping and stopping.after_epoch(epoch, metrics, model):
            stopped_early = True
            break

    summary = {"event": "finished", "steps": step, "epochs_completed": epochs_done,
               "stopped_early": stopped_early}
    if stopping:
        restored = stopping.best_state is not None
        if restored:
            model.load_state_dict(stopping.best_state)
        summary["early_stopping"] = stopping.describe(restored)
        if restored:
            summary["restored_epoch"] = stopping.best_epoch
        if stopping.stopped_after is not None:
            summary["stopped_after_epoch"] = stopping.stopped_after
        if writer:
            print(f"early stopping: {summary['early_stopping']}")
    test = evaluate(model, sets["test"], card, loss_kind, device, classes)
    summary["test"] = test
    summary["duration_secs"] = time.monotonic() - started
    emit(summary)
    if writer:
        save_model(model, record, os.path.join(args.out, "model.safetensors"))
        if test:
            print(metrics_line(test), flush=True)
    if log:
        log.close()
    if world > 1:
        torch.distributed.destroy_process_group()


def save_model(model, record, path):
    """The weights under LayerLab's names with LayerLab's metadata, written then renamed."""
    from safetensors.torch import save_file
    card = record["card"]
    shape = input_shape_of(card)
    metadata = {
        "layerlab.spec": json.dumps(record["stack"]),
        "layerlab.input_shape": json.dumps(shape if len(shape) == 3 else [1, 1, shape[0]]),
        "layerlab.classes": str(len(card["task"].get("class_names", [])) or 1),
        "layerlab.data": json.dumps(card),
        "layerlab.training": json.dumps(record["settings"]),
    }
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    partial = path + ".partial"
    save_file(state, partial, metadata=metadata)
    os.replace(partial, path)


if __name__ == "__main__":
    main()
