#!/usr/bin/env bash
# The run controls and File > Quit in the real window, as a person uses them: the app under
# Xvfb and openbox at SIZE (default 1000x640), driven with xdotool. Space trains; Stop is
# clicked twice fast (the second click must not land on "Evaluate on test set"); File opens
# (Quit is there); Ctrl+Q closes the window. Screenshots go to OUT (default /tmp/window-check).
# Debian packages: xvfb openbox xdotool imagemagick mesa-vulkan-drivers.
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-1000x640}"
out="${2:-/tmp/window-check}"
width=${size%x*}
height=${size#*x}
cargo build --release
mkdir -p "$out"
export DISPLAY=:96
state=$(mktemp -d)
export XDG_RUNTIME_DIR="$state/run" XDG_DATA_HOME="$state/data" LAYERLAB_DATA_DIR="$state/layerlab"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
Xvfb "$DISPLAY" -screen 0 "${width}x${height}x24" >/dev/null 2>&1 &
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
xdotool windowmove "$window" 0 0 windowsize "$window" "$width" "$height"
sleep 2
shot() { sleep 1; import -window root "$out/$1.png"; echo "captured $out/$1.png"; }
# Where a button is: its label found in the screenshot would need OCR, so the run controls'
# places are read from the kittest snapshots at this size (they do not move any more).
# openbox adds a 20-pixel title bar above the window.
stop_x=265; row_y=55; menu_y=32
shot 1-designer
xdotool key space
sleep 4
shot 2-training
xdotool mousemove $stop_x $row_y click 1 sleep 0.3 click 1
sleep 3
shot 3-stopped-after-two-clicks
xdotool mousemove 20 $menu_y click 1
sleep 1
shot 4-file-menu
xdotool key Escape
sleep 1
xdotool key ctrl+q
for _ in $(seq 1 20); do
    kill -0 $app 2>/dev/null || { echo "the window closed on Ctrl+Q"; break; }
    sleep 0.5
done
kill -0 $app 2>/dev/null && echo "the window is still open after Ctrl+Q"
grep -iE "panic|error" "$state/app.log" || echo "no panic or error in the app's log"
