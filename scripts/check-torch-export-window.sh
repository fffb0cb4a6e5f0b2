#!/usr/bin/env bash
# The scale-out round trip in the real app under Xvfb and openbox, driven with xdotool as a
# person uses it, at 1440x900 and at 1000x640. A run made with `layerlab train` (cnn, 6,000
# MNIST images, 2 epochs) is exported with `layerlab runs export-torch`, trained by PyTorch
# (`python train.py`, with $PYTHON: ~/venv/bin/python by default) and imported back. In the
# window: the Runs tab, both runs ticked (their curves overlaid, "trained_by" the one thing
# that differs), the imported run alone (who trained it, its weights tried on a drawn "1"),
# then File > Export as PyTorch training script… through the in-window picker (no desktop
# portal here), after which the exported folder must hold run.json and train.py.
# Writes screenshots/runs-torch-import.png (1440x900) and /tmp/layerlab-torch-*.png.
# Debian packages: xvfb openbox xdotool imagemagick mesa-vulkan-drivers.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release
source scripts/lib/desktop.sh
layerlab=./target/release/layerlab
python=${PYTHON:-$HOME/venv/bin/python}

# One size's flow. Arguments: the size, then the coordinates of the Runs tab, the first and
# second rows' tick boxes, the tried checkpoint's button, the canvas's column, the File menu,
# its "Export as PyTorch training script…" item and the picker's folder field.
flow() {
    local size=$1 runs_tab=$2 row1=$3 row2=$4 try=$5 canvas_x=$6 file=$7 item=$8 field=$9
    local width=${size%x*} height=${size#*x}
    start_desktop "$DISPLAY_NUMBER" 1440x960
    "$layerlab" train --dataset mnist --preset cnn --epochs 2 --limit 6000 --name "mnist cnn" \
        --quiet >/dev/null
    local id
    id=$("$layerlab" runs --json | "$python" -c "import json,sys; print(json.load(sys.stdin)[0]['id'])")
    "$layerlab" runs export-torch "$id" --out "$state/cnn-run" >/dev/null
    (cd "$state/cnn-run" && "$python" train.py | tail -1)
    "$layerlab" runs import "$state/cnn-run"
    start_app
    find_window
    place_window "$width" "$height"
    sleep 4
    shot() {
        xdotool mousemove 5 $((height - 5))
        sleep 1
        import -window root -crop "${width}x$((height + 40))+0+0" "/tmp/layerlab-torch-$size-$1.png"
        echo "captured /tmp/layerlab-torch-$size-$1.png"
    }
    click() { xdotool mousemove ${1/,/ } click 1; sleep "${2:-1.5}"; }
    click "$runs_tab" 2
    click "$row1"
    click "$row2" 2.5
    shot overlay
    click "$row2" 2.5                                  # the imported run alone
    click "$try" 2
    xdotool mousemove "$canvas_x" 130 mousedown 1
    for y in $(seq 130 10 340); do xdotool mousemove "$canvas_x" "$y"; sleep 0.01; done
    xdotool mouseup 1
    sleep 1.5
    shot imported-tried
    # No desktop portal here: the in-window picker opens (at home); the folder is typed.
    mkdir -p "$state/home-export"
    click "$file"
    click "$item" 4
    shot picker
    click "$field" 0.5
    xdotool key ctrl+a
    xdotool type --delay 5 "$state/home-export"
    xdotool key Return
    sleep 4
    shot exported
    local folder
    folder=$(ls -d "$state"/home-export/layerlab-run-*-torch 2>/dev/null | head -1)
    if [ -z "$folder" ] || [ ! -f "$folder/run.json" ] || [ ! -f "$folder/train.py" ]; then
        echo "$size: File > Export as PyTorch training script… wrote nothing in $state/home-export" >&2
        ls -R "$state/home-export" >&2 || true
        exit 1
    fi
    echo "$size: exported $(basename "$folder") ($(ls "$folder" | tr '\n' ' '))"
    kill "$app" "$wm" "$xvfb" 2>/dev/null || true
    wait 2>/dev/null || true
}

DISPLAY_NUMBER=:93 flow 1440x900 655,86 436,199 436,222 578,375 1240 20,31 115,197 315,86
cp /tmp/layerlab-torch-1440x900-overlay.png screenshots/runs-torch-import.png
echo "captured screenshots/runs-torch-import.png"
DISPLAY_NUMBER=:94 flow 1000x640 575,86 357,210 357,233 496,400 850 20,32 116,197 320,86
echo "the scale-out round trip works at 1440x900 and 1000x640"
