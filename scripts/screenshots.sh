#!/usr/bin/env bash
# Captures screenshots/ from the real app under Xvfb with openbox (so keys reach the window),
# driven with xdotool as a person would: fast strokes (press, one big move, release), clicks
# and keys. Debian packages: xvfb openbox xdotool imagemagick mesa-vulkan-drivers.
# Trains the cnn preset for one epoch in the window, so it takes a minute or two; prints
# the window's epoch img/s and frame times, for comparing with `layerlab train`.
# Coordinates are for the 1440x900 window the app opens, moved to the screen's corner.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release
out=screenshots
mkdir -p "$out"
export DISPLAY=:97
state=$(mktemp -d)
export XDG_RUNTIME_DIR="$state/run" XDG_DATA_HOME="$state/data" LAYERLAB_DATA_DIR="$state/layerlab"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
Xvfb "$DISPLAY" -screen 0 1440x900x24 >/dev/null 2>&1 &
xvfb=$!
sleep 2
openbox >/dev/null 2>&1 &
wm=$!
sleep 1
LAYERLAB_FRAME_STATS=1 ./target/release/layerlab 2>"$state/app.log" &
app=$!
trap 'kill $app $wm $xvfb 2>/dev/null || true' EXIT
sleep 6
window=$(xdotool search --name LayerLab | head -1)
# Undecorated at the origin, full screen, so the coordinates below are the window's.
xdotool windowmove "$window" 0 0 windowsize "$window" 1440 900
sleep 1
shot() { sleep 1; import -window root "$out/$1.png"; echo "captured $out/$1.png"; }
# The canvas, found from its place at the right edge: 280 points square, under the heading.
cx=$((1440 - 300 + 20)); cy=95

shot designer
xdotool key space                          # Train (Space)
sleep 12
shot training
for _ in $(seq 1 120); do                  # until the run has finished and been evaluated
    grep -q "training=false" <(tail -n 1 "$state/app.log") && break
    sleep 2
done
sleep 3
# A 7 drawn fast: each stroke is press, one big move, release.
xdotool mousemove $((cx + 40)) $((cy + 50)) mousedown 1 mousemove $((cx + 240)) $((cy + 45)) mouseup 1
xdotool mousemove $((cx + 238)) $((cy + 50)) mousedown 1 mousemove $((cx + 110)) $((cy + 250)) mouseup 1
sleep 2
shot canvas
xdotool key ctrl+z                         # undo the last stroke (canvas has focus)
sleep 1
# A 0 drawn as a few quick moves: the spline keeps it round.
xdotool mousemove $((cx + 140)) $((cy + 40)) mousedown 1 \
    mousemove $((cx + 70)) $((cy + 90)) mousemove $((cx + 80)) $((cy + 200)) \
    mousemove $((cx + 150)) $((cy + 240)) mousemove $((cx + 210)) $((cy + 170)) \
    mousemove $((cx + 200)) $((cy + 70)) mousemove $((cx + 140)) $((cy + 40)) mouseup 1
sleep 2
shot canvas-fast-zero
xdotool key Delete
# Draw the 7 again for the evaluation shot's prediction panel.
xdotool mousemove $((cx + 40)) $((cy + 50)) mousedown 1 mousemove $((cx + 240)) $((cy + 45)) mouseup 1
xdotool mousemove $((cx + 238)) $((cy + 50)) mousedown 1 mousemove $((cx + 110)) $((cy + 250)) mouseup 1
xdotool mousemove 529 86 click 1           # Evaluation tab
shot evaluation
xdotool mousemove "${CELL_X:-603}" "${CELL_Y:-270}" click 1   # a confusion-matrix cell
shot evaluation-cell
grep -E "frame_ms|images_per_sec" "$state/app.log" | tail -n 6
