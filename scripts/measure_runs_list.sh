#!/usr/bin/env bash
# The Runs tab's list of 1,000 runs in the real window (Xvfb, software renderer): a store of
# 1,000 finished runs of 20 epochs (made by `layerlab bench --run-store --keep-store`), the
# window opened on it, the Runs tab clicked, the list scrolled down and up with the mouse
# wheel. Prints the window's frame times (LAYERLAB_FRAME_STATS) as they come: the lines
# after "scrolling" are the list's.
# Usage: scripts/measure_runs_list.sh [SECONDS] [WIDTHxHEIGHT]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
size=${2:-1440x900}
cargo build --release --quiet
source scripts/lib/desktop.sh
start_desktop :94 1440x900
kept="$state/kept"
./target/release/layerlab bench --run-store --runs 1 --keep-store "$kept" | grep "listing"
export LAYERLAB_DATA_DIR="$kept/listing"
start_app LAYERLAB_FRAME_STATS=1
find_window
place_window "${size%x*}" "${size#*x}"
sleep 4
xdotool mousemove "${RUNS_TAB_X:-655}" "${TAB_Y:-86}" click 1         # the Runs tab
sleep 3
xdotool mousemove "${LIST_X:-700}" "${LIST_Y:-230}"                    # over the list
echo "scrolling" >> "$state/app.log"
end=$((SECONDS + seconds))
while [ $SECONDS -lt $end ]; do
    xdotool click --repeat 40 --delay 15 5                              # down
    xdotool click --repeat 40 --delay 15 4                              # and up
done
import -window root "${LIST_SHOT:-/tmp/runs-list-measure.png}"
grep -E "frame_ms|scrolling" "$state/app.log"
