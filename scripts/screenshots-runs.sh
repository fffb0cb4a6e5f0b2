#!/usr/bin/env bash
# The Runs tab in the real app under Xvfb, driven with xdotool: three runs of the same recipe
# made with `layerlab train` at three learning rates go into a fresh store, the window opens
# on it, the Runs tab is clicked and two runs are ticked: their curves overlaid and what
# differs. Writes screenshots/runs.png (1440x900) and screenshots/runs-1000x640.png.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release
source scripts/lib/desktop.sh
out=screenshots
start_desktop :93 1440x900
for lr in 0.03 0.01 0.003; do
    ./target/release/layerlab train --dataset spiral --preset playground --epochs 40 \
        --lr "$lr" --quiet >/dev/null
done
start_app
find_window
place_window 1440 900
sleep 4
shot() { sleep 1; import -window root "$out/$1.png"; echo "captured $out/$1.png"; }
xdotool mousemove "${RUNS_TAB_X:-655}" "${TAB_Y:-86}" click 1      # the Runs tab
sleep 2
# The first two rows' tick boxes, under the column titles.
xdotool mousemove "${TICK_X:-436}" "${ROW1_Y:-200}" click 1
sleep 1
xdotool mousemove "${TICK_X:-436}" "${ROW2_Y:-223}" click 1
sleep 2
xdotool mousemove 700 880                                             # the pointer out of the way
shot runs
place_window 1000 640
sleep 2
import -window root -crop 1000x640+0+0 "$out/runs-1000x640.png"
echo "captured $out/runs-1000x640.png"
