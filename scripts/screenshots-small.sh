#!/usr/bin/env bash
# The window at its smallest size, 1000x640, in the real app under Xvfb, driven with xdotool:
# the designer (every layer row's buttons inside the panel), one epoch of the cnn preset
# trained with Space, and the evaluation (all ten columns of the confusion matrix, the
# scores under it, the mistakes' labels whole). Writes screenshots/*-1000x640.png.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release
source scripts/lib/desktop.sh
out=screenshots
start_desktop :95 1000x640
start_app LAYERLAB_FRAME_STATS=1
find_window
place_window 1000 640
sleep 4
shot() { sleep 1; import -window root "$out/$1.png"; echo "captured $out/$1.png"; }
shot designer-1000x640
xdotool key space                          # Train (Space)
for _ in $(seq 1 90); do                   # until the run has finished and been evaluated
    grep -q "training=false" <(tail -n 1 "$state/app.log") && sleep 1 && \
        grep -q "training=false" <(tail -n 1 "$state/app.log") && break
    sleep 2
done
sleep 3
# The Evaluation tab: the centre's second tab, found from the title bar's height.
xdotool mousemove "${TAB_X:-447}" "${TAB_Y:-86}" click 1
shot evaluation-1000x640
grep -E "images_per_sec" "$state/app.log" | tail -n 1
