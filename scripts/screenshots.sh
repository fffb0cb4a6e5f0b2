#!/usr/bin/env bash
# Captures screenshots/ from the real app under Xvfb, driven with xdotool (Debian packages:
# xvfb xdotool imagemagick mesa-vulkan-drivers). Trains the cnn preset for one epoch, so it
# takes about a minute. Coordinates are for the 1440x900 window the app opens.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release
out=screenshots
mkdir -p "$out"
export DISPLAY=:97
state=$(mktemp -d)
export XDG_RUNTIME_DIR="$state/run" XDG_DATA_HOME="$state/data"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
Xvfb "$DISPLAY" -screen 0 1440x900x24 >/dev/null 2>&1 &
xvfb=$!
sleep 2
LAYERLAB_FRAME_STATS=1 ./target/release/layerlab 2>"$state/app.log" &
app=$!
trap 'kill $app $xvfb 2>/dev/null || true' EXIT
sleep 6
window=$(xdotool search --name LayerLab | head -1)
xdotool windowmove "$window" 0 0
shot() { sleep 1; import -window root "$out/$1.png"; echo "captured $out/$1.png"; }

shot designer
xdotool mousemove 30 35 click 1            # Train
sleep 12
shot training
# Wait for the epoch to finish (the progress bar says Finished).
for _ in $(seq 1 90); do
    grep -q "training=false" <(tail -n 1 "$state/app.log") && break
    sleep 2
done
sleep 3
# Draw a 7 on the canvas (1118..1398 x 75..355).
xdotool mousemove 1175 125 mousedown 1
for p in "1215 123" "1265 121" "1320 120" "1335 124" "1318 170" "1300 215" "1282 262" "1265 310" "1258 330"; do
    xdotool mousemove $p
    sleep 0.05
done
xdotool mouseup 1
sleep 2
shot canvas
xdotool mousemove 546 65 click 1           # Evaluation tab
shot evaluation
grep frame_ms "$state/app.log" | tail -n 5
