#!/usr/bin/env bash
# Issue 24's comparison: PAIRS back-to-back pairs of LayerLab and PyTorch on this machine
# (cnn, mlp and predict from ../shared/bench/torch_reference.py; cnn-bn from
# scripts/torch_cnn_bn_reference.py), each pair printed as one line of ratios.
#
# Usage: scripts/bench_pairs.sh [PAIRS]   (default 3; needs a release build and a Python
#        with torch: PYTHON=~/venv/bin/python by default)
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-3}
python=${PYTHON:-$HOME/venv/bin/python}
reference=${TORCH_REFERENCE:-../shared/bench/torch_reference.py}
layerlab=target/release/layerlab
[ -x "$layerlab" ] || cargo build --release
for pair in $(seq 1 "$pairs"); do
    ours=$("$layerlab" bench --json)
    ours_bn=$("$layerlab" bench --only cnn-bn --json)
    torch=$("$python" "$reference" --threads 2 --mnist assets/mnist)
    torch_bn=$("$python" scripts/torch_cnn_bn_reference.py --threads 2)
    "$python" - "$pair" "$ours" "$ours_bn" "$torch" "$torch_bn" <<'PY'
import json, sys
pair, ours, ours_bn, torch, torch_bn = sys.argv[1], *map(json.loads, sys.argv[2:])
def ratio(a, b): return f"{a:,.0f} / {b:,.0f} = {a / b:.2f}x"
print(f"pair {pair}: cnn {ratio(ours['cnn_train_img_per_s'], torch['cnn_train_img_per_s'])}; "
      f"cnn-bn {ratio(ours_bn['train_img_per_s'], torch_bn['cnn_bn_train_img_per_s'])}; "
      f"mlp {ratio(ours['mlp_train_img_per_s'], torch['mlp_train_img_per_s'])} img/s; "
      f"predict cnn {ours['cnn_predict_us']} / {torch['cnn_predict_us']} us, "
      f"mlp {ours['mlp_predict_us']} / {torch['mlp_predict_us']} us")
PY
done
