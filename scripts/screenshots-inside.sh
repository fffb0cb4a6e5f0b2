#!/usr/bin/env bash
# Captures the Inside tab's views from the real app under Xvfb with openbox, driven with
# xdotool (a 7 drawn with fast strokes, tabs clicked), while the cnn preset trains one
# epoch, and after; then again at the smallest window size, 1000x640. Prints the window's
# epoch img/s and frame times for a run with the Charts tab shown and one with the Inside
# tab shown, for comparing what looking inside costs.
# Debian packages: xvfb openbox xdotool imagemagick mesa-vulkan-drivers.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
out=screenshots
mkdir -p "$out"
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
app=
start_app() {
    LAYERLAB_FRAME_STATS=1 ./target/release/layerlab 2>"$state/app.log" &
    app=$!
    sleep 6
    window=$(xdotool search --name LayerLab | head -1)
    xdotool windowmove "$window" 0 0 windowsize "$window" "$1" "$2"
    sleep 1
}
trap 'kill $app $wm $xvfb 2>/dev/null || true' EXIT
shot() { sleep "${2:-1}"; import -window root -crop "${size}+0+0" "$out/$1.png"; echo "captured $out/$1.png"; }
# Lines of the log written since the run started ($mark lines were there before).
mark=0
since_mark() { tail -n +$((mark + 1)) "$state/app.log"; }
wait_for_run() {
    for _ in $(seq 1 120); do
        since_mark | grep -q "run_finished" && break
        sleep 1
    done
}
# A 7 with two fast strokes on the canvas at (cx, cy), 280 points square.
draw_seven() {
    xdotool mousemove $((cx + 40)) $((cy + 50)) mousedown 1 mousemove $((cx + 240)) $((cy + 45)) mouseup 1
    xdotool mousemove $((cx + 238)) $((cy + 50)) mousedown 1 mousemove $((cx + 110)) $((cy + 250)) mouseup 1
}

# 1440x900: the tabs' places in the central panel.
size=1440x900
start_app 1440 900
cx=1160; cy=95
inside=(599 86); activations=(470 118); why=(580 118); filters=(678 118); health=(764 118)
draw_seven
# First a run watched on the Charts tab, for the comparison.
xdotool mousemove 700 500 click 1 key space
wait_for_run
echo "charts tab: $(since_mark | grep -E '^epoch' | tail -n 1); $(since_mark | grep run_finished | tail -n 1)"
mark=$(wc -l <"$state/app.log")
# Then a run watched from inside.
xdotool mousemove "${inside[@]}" click 1
xdotool mousemove 700 500 key space
sleep 1
xdotool mousemove 702 499 click 1                    # "Train without saving"
shot inside-activations 6
xdotool mousemove "${why[@]}" click 1
shot inside-saliency 3
xdotool mousemove "${filters[@]}" click 1
shot inside-filters 2
xdotool mousemove "${health[@]}" click 1
wait_for_run
echo "inside tab: $(since_mark | grep -E '^epoch' | tail -n 1); $(since_mark | grep run_finished | tail -n 1)"
shot inside-health 2
# A map of the first convolution clicked: enlarged, with the training images it likes.
xdotool mousemove "${activations[@]}" click 1
sleep 2
xdotool mousemove 560 230 click 1
shot inside-unit 4
kill $app; wait $app 2>/dev/null || true

# 1000x640, the smallest size the window is made for, from a fresh state.
size=1000x640
state=$(mktemp -d)
export XDG_RUNTIME_DIR="$state/run" XDG_DATA_HOME="$state/data" LAYERLAB_DATA_DIR="$state/layerlab"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
mark=0
start_app 1000 640
cx=709; cy=95
draw_seven
xdotool mousemove 500 400 click 1 key space
sleep 3
xdotool mousemove 600 86 click 1                    # Inside
shot inside-activations-1000x640 4
xdotool mousemove 580 118 click 1                   # Why this prediction (tabs wrap)
shot inside-saliency-1000x640 3
wait_for_run
xdotool mousemove 540 141 click 1                   # Training health
shot inside-health-1000x640 2
