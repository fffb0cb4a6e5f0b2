#!/usr/bin/env bash
# Real captures of TensorBoard showing LayerLab runs: two mlp runs (SGD live with
# --tensorboard, Adam exported from the run store), TensorBoard's Scalars and HParams tabs
# in headless Chromium. Needs `tensorboard` in ~/venv (pip install tensorboard) and
# Debian's chromium.
# Usage: scripts/screenshots-tensorboard.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/layerlab
work=$(mktemp -d)
export LAYERLAB_DATA_DIR="$work/data"
common=(--preset mlp --limit 5000 --test-limit 1000 --validation-size 1000 --epochs 3 --quiet)
"$bin" train "${common[@]}" --name "mlp sgd" --tensorboard "$work/tb" > /dev/null
id=$("$bin" train "${common[@]}" --optimizer adam --name "mlp adam" | head -1 | cut -d= -f2)
"$bin" runs export-tensorboard "$id" --out "$work/tb"
~/venv/bin/tensorboard --logdir "$work/tb" --port 6016 > "$work/tb.log" 2>&1 &
server=$!
trap 'kill $server; rm -rf "$work"' EXIT
sleep 8
shot() {
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1440,900 \
        --virtual-time-budget=30000 --screenshot="$1" "$2"
}
shot screenshots/tensorboard-scalars.png \
    "http://localhost:6016/#scalars&tagFilter=train%2Floss%7Cval%2Faccuracy&_smoothingWeight=0.6"
shot screenshots/tensorboard-hparams.png "http://localhost:6016/#hparams"
