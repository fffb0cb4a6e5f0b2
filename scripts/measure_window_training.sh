#!/usr/bin/env bash
# Times the same run in the real window (Xvfb, openbox, Space pressed with xdotool) and in
# the CLI, back to back, and prints the window's frame times: how much the live views cost
# training. Default: the spiral set with the playground preset, whose decision regions are
# redrawn at every training snapshot. The cnn mode trains the cnn preset on MNIST instead
# (one epoch over LIMIT images) and compares the epoch's img/s.
# Usage: scripts/measure_window_training.sh [EPOCHS [POINTS]]
#        scripts/measure_window_training.sh cnn [LIMIT]
set -euo pipefail
cd "$(dirname "$0")/.."
mode=spiral
if [ "${1:-}" = cnn ]; then
    mode=cnn
    limit=${2:-20000}
else
    epochs=${1:-1000}
    points=${2:-5000}
fi
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
    local app
    if [ "$mode" = cnn ]; then
        local conv='stride:1,padding:0),(type:"ReLU"),(type:"MaxPool2d",kernel_size:2,stride:None)'
        local stack="(type:\"Conv2d\",out_channels:32,kernel_size:3,$conv,(type:\"Conv2d\",out_channels:64,kernel_size:3,$conv,(type:\"Flatten\"),(type:\"Linear\",out_features:128),(type:\"ReLU\"),(type:\"Linear\",out_features:10)"
        local adam='(kind:"Adam",lr:0.001,betas:(0.9,0.999),eps:1e-8,weight_decay:0.0)'
        app="(dataset:\"mnist\",stack:(version:1,layers:[$stack]),training:(optimizer:$adam,batch_size:32,epochs:1,seed:0,loss:cross_entropy,validation_size:1000,train_limit:Some($limit),test_limit:Some(1000),snapshot_every_steps:50))"
    else
        local stack='(type:"Linear",out_features:8),(type:"Tanh"),(type:"Linear",out_features:8),(type:"Tanh"),(type:"Linear",out_features:2)'
        local adam='(kind:"Adam",lr:0.01,betas:(0.9,0.999),eps:1e-8,weight_decay:0.0)'
        app="(dataset:\"spiral\",toy:(samples:$points,noise:0.1,seed:0),stack:(version:1,layers:[$stack]),training:(optimizer:$adam,batch_size:10,epochs:$epochs,seed:0,loss:cross_entropy,validation_size:$((points / 10)),train_limit:None,test_limit:None,snapshot_every_steps:50))"
    fi
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
    echo "window: $(grep -E '^epoch' "$state/app.log" | tail -n 1)"
    echo "window: $(grep run_finished "$state/app.log")"
    grep "training=true" "$state/app.log" | tail -n 2 | sed 's/^/window during training: /' || true
    kill $pid 2>/dev/null || true
    wait $pid 2>/dev/null || true
}

cli_run() {
    if [ "$mode" = cnn ]; then
        ./target/release/layerlab train --preset cnn --epochs 1 --limit "$limit" --test-limit 1000 \
            --validation-size 1000 --seed 0 2>/dev/null | grep -E '^epoch' | sed 's/^/cli: /'
        return
    fi
    ./target/release/layerlab train --dataset spiral --preset playground --epochs "$epochs" \
        --samples "$points" --split-seed 0 --validation-size $((points / 10)) --json 2>/dev/null | tail -n 1 \
        | python3 -c 'import json,sys; r=json.load(sys.stdin); print("cli: duration_secs=%.3f steps=%d" % (r["duration_secs"], r["steps"]))'
}

window_run
cli_run
window_run
cli_run
