#!/usr/bin/env bash
# Times the same run in the real window (Xvfb, openbox, Space pressed with xdotool) and in
# the CLI, back to back, and prints the window's frame times: how much the live views cost
# training. Default: the spiral set with the playground preset, whose decision regions are
# redrawn at every training snapshot. Usage: scripts/measure_window_training.sh [EPOCHS [POINTS]]
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-1000}
points=${2:-5000}
cargo build --release --quiet
export DISPLAY=:97
Xvfb "$DISPLAY" -screen 0 1440x900x24 >/dev/null 2>&1 &
xvfb=$!
sleep 2
openbox >/dev/null 2>&1 &
wm=$!
trap 'kill $wm $xvfb 2>/dev/null || true' EXIT
sleep 1

window_run() {
    local state
    state=$(mktemp -d)
    mkdir -p "$state/data/layerlab" "$state/run" && chmod 700 "$state/run"
    local stack='(type:"Linear",out_features:8),(type:"Tanh"),(type:"Linear",out_features:8),(type:"Tanh"),(type:"Linear",out_features:2)'
    local adam='(kind:"Adam",lr:0.01,betas:(0.9,0.999),eps:1e-8,weight_decay:0.0)'
    local app="(dataset:\"spiral\",toy:(samples:$points,noise:0.1,seed:0),stack:(version:1,layers:[$stack]),training:(optimizer:$adam,batch_size:10,epochs:$epochs,seed:0,loss:cross_entropy,validation_size:$((points / 10)),train_limit:None,test_limit:None,snapshot_every_steps:50))"
    python3 -c 'import json,sys; print(json.dumps({"app": sys.argv[1]}))' "$app" > "$state/data/layerlab/app.ron"
    XDG_RUNTIME_DIR="$state/run" XDG_DATA_HOME="$state/data" LAYERLAB_DATA_DIR="$state/layerlab" \
        LAYERLAB_FRAME_STATS=1 ./target/release/layerlab 2>"$state/app.log" &
    local pid=$!
    sleep 6
    local window
    window=$(xdotool search --name LayerLab | head -1)
    xdotool windowmove "$window" 0 0 windowsize "$window" 1440 900
    sleep 2
    xdotool mousemove 700 500 click 1 key space
    for _ in $(seq 1 300); do
        sleep 1
        grep -q "run_finished" "$state/app.log" && break
    done
    sleep 6 # one more frame-stats line after the run
    echo "window: $(grep run_finished "$state/app.log")"
    grep "training=true" "$state/app.log" | tail -n 2 | sed 's/^/window during training: /' || true
    kill $pid 2>/dev/null || true
    wait $pid 2>/dev/null || true
}

cli_run() {
    ./target/release/layerlab train --dataset spiral --preset playground --epochs "$epochs" \
        --samples "$points" --split-seed 0 --validation-size $((points / 10)) --json 2>/dev/null | tail -n 1 \
        | python3 -c 'import json,sys; r=json.load(sys.stdin); print("cli: duration_secs=%.3f steps=%d" % (r["duration_secs"], r["steps"]))'
}

window_run
cli_run
window_run
cli_run
