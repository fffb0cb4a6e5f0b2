#!/usr/bin/env bash
# The Runs tab's frame budget in the real window (Xvfb, software renderer): a store of 20
# runs of 100,000 steps (made by `layerlab bench --run-store --keep-store`), all 20 ticked
# with the header's box and overlaid as training loss by step, while the window trains MNIST
# (Space). Prints the window's frame times (LAYERLAB_FRAME_STATS) as they come: the lines
# after "ticked" are the overlay's.
# Usage: scripts/measure_runs_overlay.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
cargo build --release --quiet
source scripts/lib/desktop.sh
start_desktop :95 1440x900
./target/release/layerlab bench --run-store --runs 1 --keep-store "$LAYERLAB_DATA_DIR" \
    | grep "reading the curves"
# The window's settings: the cnn preset on all of MNIST for 3 epochs (about 40 s here), so
# it trains through the measurement.
conv='stride:1,padding:0),(type:"ReLU"),(type:"MaxPool2d",kernel_size:2,stride:None)'
stack="(type:\"Conv2d\",out_channels:32,kernel_size:3,$conv,(type:\"Conv2d\",out_channels:64,kernel_size:3,$conv,(type:\"Flatten\"),(type:\"Linear\",out_features:128),(type:\"ReLU\"),(type:\"Linear\",out_features:10)"
adam='(kind:"Adam",lr:0.001,betas:(0.9,0.999),eps:1e-8,weight_decay:0.0)'
settings="(dataset:\"mnist\",stack:(version:1,layers:[$stack]),training:(optimizer:$adam,batch_size:32,epochs:3,seed:0,loss:cross_entropy,validation_size:1000,train_limit:None,test_limit:Some(1000),snapshot_every_steps:50))"
mkdir -p "$XDG_DATA_HOME/layerlab"
python3 -c 'import json,sys; print(json.dumps({"app": sys.argv[1]}))' "$settings" \
    > "$XDG_DATA_HOME/layerlab/app.ron"
start_app LAYERLAB_FRAME_STATS=1
find_window
place_window 1440 900
sleep 4
xdotool key --window "$window" space                                   # train MNIST
sleep 2
xdotool mousemove "${RUNS_TAB_X:-655}" "${TAB_Y:-86}" click 1           # the Runs tab
sleep 2
xdotool mousemove "${TICK_X:-436}" "${HEADER_Y:-177}" click 1           # tick all 20
sleep 3
xdotool mousemove "${LOSS_X:-472}" "${METRIC_Y:-492}" click 1           # training loss
sleep 1
echo "ticked" >> "$state/app.log"
# The pointer sweeps the chart (each run's value under it is looked up every frame).
end=$((SECONDS + seconds))
while [ $SECONDS -lt $end ]; do
    for x in $(seq 500 10 950); do
        xdotool mousemove "$x" 640
        sleep 0.02
    done
done
import -window root "$state/overlay.png"
cp "$state/overlay.png" "${OVERLAY_SHOT:-/tmp/runs-overlay-measure.png}"
grep -E "frame_ms|ticked" "$state/app.log"
