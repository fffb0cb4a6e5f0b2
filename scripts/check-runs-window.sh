#!/usr/bin/env bash
# The Runs tab's checkpoint flow in the real app under Xvfb and openbox, driven with xdotool
# as a person uses it, at 1440x900 and at 1000x640: a run made with `layerlab train` (mlp, SGD 0.1, four
# epochs, a checkpoint at each end) is ticked in the Runs tab, its epoch-2 checkpoint tried,
# a "1" drawn on the canvas, the Right arrow pressed (the prediction follows epoch 3's
# weights), "Fork from here" and "Train fork" start a child run. The store is then read with
# `layerlab runs --json`: the fork must be there, named after its parent, with its parent and
# the checkpoint's step, and finished. Writes screenshots/runs-checkpoint.png (1440x900, the
# checkpoint being scrubbed) and /tmp/layerlab-runs-*.png for each step at both sizes; then
# runs "Find learning rate" at 1000x640 and writes screenshots/lr-finder-1000x640.png.
# Debian packages: xvfb openbox xdotool imagemagick mesa-vulkan-drivers.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release
source scripts/lib/desktop.sh
layerlab=./target/release/layerlab

# One size's flow. Arguments: the size, then the coordinates of the Runs tab, the first
# row's tick box, the "epoch 2" button, the canvas's column, "Fork from here" and Train.
flow() {
    local size=$1 runs_tab=$2 tick=$3 epoch2=$4 canvas_x=$5 fork=$6 train=$7
    local width=${size%x*} height=${size#*x}
    # A screen taller than the window, so the title bar does not push its bottom (where
    # messages show) off the screen.
    start_desktop "$DISPLAY_NUMBER" 1440x960
    "$layerlab" train --dataset mnist --preset mlp --lr 0.1 --epochs 4 --limit 6000 \
        --name "mnist mlp" --quiet >/dev/null
    start_app
    find_window
    place_window "$width" "$height"
    sleep 4
    shot() {
        xdotool mousemove 5 $((height - 5))
        sleep 1
        import -window root -crop "${width}x$((height + 40))+0+0" "/tmp/layerlab-runs-$size-$1.png"
        echo "captured /tmp/layerlab-runs-$size-$1.png"
    }
    click() { xdotool mousemove ${1/,/ } click 1; sleep "${2:-1.5}"; }
    click "$runs_tab"
    click "$tick" 2
    click "$epoch2"
    # A "1": one fast stroke down the canvas's middle.
    xdotool mousemove "$canvas_x" 130 mousedown 1
    for y in $(seq 130 10 340); do xdotool mousemove "$canvas_x" "$y"; sleep 0.01; done
    xdotool mouseup 1
    sleep 1
    xdotool key Right
    sleep 1.5
    shot scrubbed
    click "$fork"
    shot fork-prepared
    click "$train" 5
    shot fork-trained
    local json
    json=$("$layerlab" runs --json)
    python3 - "$json" <<'PY'
import json, sys
runs = json.loads(sys.argv[1])
runs = runs if isinstance(runs, list) else runs["runs"]
parent = next(r for r in runs if r["name"] == "mnist mlp")
forks = [r for r in runs if r.get("parent_id") == parent["id"]]
assert len(forks) == 1, f"expected one fork of {parent['id']}: {runs}"
fork = forks[0]
assert fork["name"].startswith("mnist mlp fork "), fork["name"]
assert fork["status"] == "finished", fork["status"]
# Forked from the checkpoint tried after the Right arrow: epoch 3, of 94 steps each.
assert fork["parent_step"] == 282, fork["parent_step"]
print(f"fork {fork['id']} '{fork['name']}' of {parent['id']} at step {fork['parent_step']}: {fork['status']}")
PY
    kill "$app" "$wm" "$xvfb" 2>/dev/null || true
    wait 2>/dev/null || true
}

DISPLAY_NUMBER=:97 flow 1440x900 655,86 436,200 703,317 1240 469,340 31,55
cp /tmp/layerlab-runs-1440x900-scrubbed.png screenshots/runs-checkpoint.png
echo "captured screenshots/runs-checkpoint.png"
DISPLAY_NUMBER=:98 flow 1000x640 575,86 357,210 622,327 850 400,373 31,55
echo "the checkpoint flow works at 1440x900 and 1000x640"

# "Find learning rate" at 1000x640: the Optimizer tab, the sweep (a progress bar and Cancel
# while it runs), its curve with the suggestions, scrolled into view.
start_desktop :99 1440x900
start_app
find_window
place_window 1000 640
sleep 4
xdotool mousemove 158 80 click 1                                       # the Optimizer tab
sleep 1
xdotool mousemove 67 520 click 1                                       # Find learning rate
sleep 1
import -window root -crop 1000x640+0+0 /tmp/layerlab-lr-find-sweeping.png
sleep 30
xdotool mousemove 170 400 click --repeat 10 --delay 30 5              # scroll to the result
xdotool mousemove 990 630
sleep 1
import -window root -crop 1000x640+0+0 screenshots/lr-finder-1000x640.png
echo "captured screenshots/lr-finder-1000x640.png"
