"""Builds the PyTorch nn.Sequential equivalent of a LayerLab layer stack.

State-dict names match LayerLab's export ("0.weight", ...). A Linear that follows an image
without an explicit Flatten flattens its input first (LayerLab's rule), via FlatLinear, which
keeps the same parameter names.
"""
import torch
import torch.nn as nn


class FlatLinear(nn.Linear):
    def forward(self, x):
        return super().forward(x.flatten(1))


def build(spec, input_shape):
    layers = []
    shape = list(input_shape)  # [c, h, w] or [features]
    for layer in spec["layers"]:
        kind = layer["type"]
        if kind == "Linear":
            n_in = 1
            for d in shape:
                n_in *= d
            layers.append(FlatLinear(n_in, layer["out_features"]))
            shape = [layer["out_features"]]
        elif kind == "Conv2d":
            conv = nn.Conv2d(shape[0], layer["out_channels"], layer["kernel_size"],
                             stride=layer.get("stride", 1), padding=layer.get("padding", 0))
            layers.append(conv)
            shape = list(conv(torch.zeros(1, *shape)).shape[1:])
        elif kind in ("MaxPool2d", "AvgPool2d"):
            k = layer["kernel_size"]
            s = layer.get("stride") or k
            pool = nn.MaxPool2d(k, s) if kind == "MaxPool2d" else nn.AvgPool2d(k, s)
            layers.append(pool)
            shape = list(pool(torch.zeros(1, *shape)).shape[1:])
        elif kind == "Flatten":
            layers.append(nn.Flatten())
            n = 1
            for d in shape:
                n *= d
            shape = [n]
        elif kind == "ReLU":
            layers.append(nn.ReLU())
        elif kind == "LeakyReLU":
            layers.append(nn.LeakyReLU(layer.get("negative_slope", 0.01)))
        elif kind == "Sigmoid":
            layers.append(nn.Sigmoid())
        elif kind == "Tanh":
            layers.append(nn.Tanh())
        elif kind == "GELU":
            layers.append(nn.GELU())
        elif kind == "Dropout":
            layers.append(nn.Dropout(layer["p"]))
        elif kind in ("BatchNorm1d", "BatchNorm2d"):
            norm = nn.BatchNorm1d if kind == "BatchNorm1d" else nn.BatchNorm2d
            layers.append(norm(shape[0], eps=layer.get("eps", 1e-5),
                               momentum=layer.get("momentum", 0.1)))
        else:
            raise ValueError(f"unknown layer {kind}")
    return nn.Sequential(*layers)


def optimizer(config, params):
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
    raise ValueError(kind)
