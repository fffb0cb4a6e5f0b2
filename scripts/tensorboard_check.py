#!/usr/bin/env python3
"""Reads LayerLab's TensorBoard event files with TensorBoard's own reader (opt-in check).

Usage:
    layerlab runs export-tensorboard ID... --out /tmp/tb     (or train --tensorboard /tmp/tb)
    ~/venv/bin/python scripts/tensorboard_check.py /tmp/tb

Needs `pip install tensorboard` (in a venv outside the repo). For each run folder it loads
the events with the `EventAccumulator` TensorBoard's server uses (its record reader checks
every CRC-32C), lists the scalar
tags with their counts and last values, and decodes the HParams plugin's session start and
end with TensorBoard's own protobuf messages. Exits non-zero when a folder has no scalars
or no session start.
"""
import pathlib
import sys

from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator
from tensorboard.util import tensor_util
from tensorboard.plugins.hparams import plugin_data_pb2


def check(folder: pathlib.Path) -> bool:
    events = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    events.Reload()
    scalars = sorted(events.PluginTagToContent("scalars"))
    print(f"{folder.name}:")
    for tag in scalars:
        values = events.Tensors(tag)
        last = tensor_util.make_ndarray(values[-1].tensor_proto).item()
        print(f"  {tag}: {len(values)} values, last {last:.6g} at step {values[-1].step}")
    metadata = events.PluginTagToContent("hparams")
    start = metadata.get("_hparams_/session_start_info")
    end = metadata.get("_hparams_/session_end_info")
    ok = bool(scalars) and start is not None
    if start is not None:
        data = plugin_data_pb2.HParamsPluginData.FromString(start)
        hparams = {k: v.WhichOneof("kind") and getattr(v, v.WhichOneof("kind"))
                   for k, v in data.session_start_info.hparams.items()}
        print(f"  hparams: {hparams}")
    if end is not None:
        data = plugin_data_pb2.HParamsPluginData.FromString(end)
        print(f"  session end: status {data.session_end_info.status}")
    print("  OK" if ok else "  FAILED: no scalars or no session start")
    return ok


def main() -> int:
    root = pathlib.Path(sys.argv[1])
    folders = sorted({p.parent for p in root.rglob("events.out.tfevents.*")})
    if not folders:
        print(f"no event files under {root}")
        return 1
    results = [check(folder) for folder in folders]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
