#!/usr/bin/env bash
# The run settings issue 21 added (schedule, Stop early, Augment), used in the real window
# under Xvfb and openbox with xdotool at 1000x640: turns each on, trains with them (Space),
# and captures screenshots/run-settings-1000x640.png and run-settings-training-1000x640.png.
# Debian packages: xvfb openbox xdotool imagemagick mesa-vulkan-drivers.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release
out=screenshots
export DISPLAY=:95
state=$(mktemp -d)
export XDG_RUNTIME_DIR="$state/run" XDG_DATA_HOME="$state/data" LAYERLAB_DATA_DIR="$state/layerlab"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
Xvfb "$DISPLAY" -screen 0 1440x900x24 >/dev/null 2>&1 &
xvfb=$!
sleep 2
openbox >/dev/null 2>&1 &
wm=$!
sleep 1
./target/release/layerlab 2>"$state/app.log" &
app=$!
trap 'kill $app $wm $xvfb 2>/dev/null || true' EXIT
sleep 6
window=$(xdotool search --name LayerLab | head -1)
xdotool windowmove "$window" 0 0 windowsize "$window" 1000 640
sleep 2
shot() { sleep 1; import -window root -crop 1000x640+0+0 "$out/$1.png"; echo "captured $out/$1.png"; }
xdotool mousemove 171 80 click 1           # the Optimizer tab
sleep 0.5
xdotool mousemove 16 351 click 1           # Stop early
xdotool mousemove 16 374 click 1           # Augment
xdotool mousemove 142 328 click 1          # the Schedule box
sleep 0.5
xdotool mousemove 142 374 click 1          # its second entry: onecycle
shot run-settings-1000x640
xdotool mousemove 560 250 key space        # Train
sleep 15
shot run-settings-training-1000x640
echo "app log:"; tail -n 3 "$state/app.log" || true
