#!/usr/bin/env bash
# Captures the designer holding the cnn-bn preset (BatchNorm2d after each convolution, with
# its eps and momentum fields and 2 parameters a channel) from the real app under Xvfb, at
# 1440x900 and at the smallest window, 1000x640, then trains it briefly in the window (Space)
# and captures the charts. Debian packages: xvfb openbox xdotool imagemagick.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
out=screenshots
mkdir -p "$out"
export DISPLAY=:94
Xvfb "$DISPLAY" -screen 0 1440x900x24 >/dev/null 2>&1 &
xvfb=$!
sleep 2
openbox >/dev/null 2>&1 &
wm=$!
app=
trap 'kill $app $wm $xvfb 2>/dev/null || true' EXIT
sleep 1
state=$(mktemp -d)
mkdir -p "$state/data/layerlab" "$state/run" && chmod 700 "$state/run"
conv='(type:"Conv2d",out_channels:CH,kernel_size:3,stride:1,padding:0),(type:"BatchNorm2d",eps:1e-5,momentum:0.1),(type:"ReLU"),(type:"MaxPool2d",kernel_size:2,stride:None)'
stack="${conv//CH/32},${conv//CH/64},(type:\"Flatten\"),(type:\"Linear\",out_features:128),(type:\"ReLU\"),(type:\"Linear\",out_features:10)"
adam='(kind:"Adam",lr:0.001,betas:(0.9,0.999),eps:1e-8,weight_decay:0.0)'
app_state="(dataset:\"mnist\",stack:(version:1,layers:[$stack]),training:(optimizer:$adam,batch_size:32,epochs:1,seed:0,loss:cross_entropy,validation_size:1000,train_limit:Some(20000),test_limit:Some(2000),snapshot_every_steps:50))"
python3 -c 'import json,sys; print(json.dumps({"app": sys.argv[1]}))' "$app_state" >"$state/data/layerlab/app.ron"
export XDG_RUNTIME_DIR="$state/run" XDG_DATA_HOME="$state/data" LAYERLAB_DATA_DIR="$state/layerlab"
./target/release/layerlab 2>"$state/app.log" &
app=$!
sleep 6
window=$(xdotool search --name LayerLab | head -1)
shot() { sleep 1; import -window root -crop "$2+0+0" "$out/$1.png"; echo "captured $out/$1.png"; }
xdotool windowmove "$window" 0 0 windowsize "$window" 1000 640
sleep 2
shot designer-cnn-bn-1000x640 1000x640
xdotool windowsize "$window" 1440 900
sleep 2
shot designer-cnn-bn 1440x900
xdotool mousemove 700 500 click 1 key space
sleep 8
shot training-cnn-bn 1440x900
