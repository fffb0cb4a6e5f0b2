#!/usr/bin/env bash
# Captures the dataset screenshots from the real app under Xvfb with openbox, driven with
# xdotool: for each dataset the window starts on it (its saved state names the dataset and
# the preset's stack), Space trains, the Evaluation tab is clicked, and for the text set a
# review is typed into the try panel. Debian packages: xvfb openbox xdotool imagemagick
# mesa-vulkan-drivers. Run scripts/screenshots.sh for the MNIST shots.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release
out=screenshots
mkdir -p "$out"
export DISPLAY=:96
Xvfb "$DISPLAY" -screen 0 1440x900x24 >/dev/null 2>&1 &
xvfb=$!
sleep 2
openbox >/dev/null 2>&1 &
wm=$!
trap 'kill $wm $xvfb 2>/dev/null || true' EXIT
sleep 1
shot() { sleep 1; import -window root "$out/$1.png"; echo "captured $out/$1.png"; }

# run NAME DATASET STACK OPTIMIZER BATCH EPOCHS LOSS VALIDATION [TEXT]
run() {
    local name=$1 dataset=$2 stack=$3 optimizer=$4 batch=$5 epochs=$6 loss=$7 validation=$8 text=${9:-}
    local state
    state=$(mktemp -d)
    mkdir -p "$state/data/layerlab" "$state/run" && chmod 700 "$state/run"
    local app="(dataset:\"$dataset\",stack:(version:1,layers:[$stack]),training:(optimizer:$optimizer,batch_size:$batch,epochs:$epochs,seed:0,loss:$loss,validation_size:$validation,train_limit:None,test_limit:None,snapshot_every_steps:50))"
    python3 -c 'import json,sys; print(json.dumps({"app": sys.argv[1]}))' "$app" > "$state/data/layerlab/app.ron"
    XDG_RUNTIME_DIR="$state/run" XDG_DATA_HOME="$state/data" LAYERLAB_DATA_DIR="$state/layerlab" \
        LAYERLAB_FRAME_STATS=1 ./target/release/layerlab 2>"$state/app.log" &
    local pid=$!
    sleep 6
    local window
    window=$(xdotool search --name LayerLab | head -1)
    xdotool windowmove "$window" 0 0 windowsize "$window" 1440 900
    sleep 2
    xdotool mousemove 700 500 click 1 key space          # focus the window, then Train
    for _ in $(seq 1 150); do
        sleep 2
        grep -q "training=false" <(tail -n 1 "$state/app.log") && grep -q "epoch" "$state/app.log" && break
    done
    sleep 3
    if [ -n "$text" ]; then
        xdotool mousemove 1260 130 click 1 type --delay 20 "$text"
        sleep 2
        shot "$name-try"
    fi
    xdotool mousemove 529 86 click 1                     # Evaluation tab
    shot "$name-evaluation"
    grep -E "images_per_sec|frame_ms" "$state/app.log" | tail -n 3 || true
    kill $pid 2>/dev/null || true
    wait $pid 2>/dev/null || true
}

adam='(kind:"Adam",lr:0.001,betas:(0.9,0.999),eps:1e-8,weight_decay:0.0)'
sgd='(kind:"Sgd",lr:0.01,momentum:0.0,dampening:0.0,nesterov:false,weight_decay:0.0)'
cnn='(type:"Conv2d",out_channels:32,kernel_size:3,stride:1,padding:0),(type:"ReLU"),(type:"MaxPool2d",kernel_size:2,stride:None),(type:"Conv2d",out_channels:64,kernel_size:3,stride:1,padding:0),(type:"ReLU"),(type:"MaxPool2d",kernel_size:2,stride:None),(type:"Flatten"),(type:"Linear",out_features:128),(type:"ReLU"),(type:"Linear",out_features:10)'
regressor='(type:"Linear",out_features:64),(type:"ReLU"),(type:"Linear",out_features:1)'
bow='(type:"Linear",out_features:64),(type:"ReLU"),(type:"Dropout",p:0.5),(type:"Linear",out_features:2)'

run fashion fashion-mnist "$cnn" "$adam" 32 1 cross_entropy 5000
run ames ames-housing "$regressor" "$sgd" 32 100 mse 234
run reviews fine-food-reviews "$bow" "$adam" 32 3 cross_entropy 400 \
    "The coffee was fresh, rich and delicious. I love it and will buy it again!"
playground='(type:"Linear",out_features:8),(type:"Tanh"),(type:"Linear",out_features:8),(type:"Tanh"),(type:"Linear",out_features:2)'
run spiral spiral "$playground" '(kind:"Adam",lr:0.01,betas:(0.9,0.999),eps:1e-8,weight_decay:0.0)' 10 100 cross_entropy 80
