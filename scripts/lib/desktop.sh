# Sourced by the scripts that drive the real window: a virtual desktop (Xvfb with openbox,
# so keys reach the window) and the app on it, with fresh settings, data and models folders
# so a person's own are never touched. Debian packages: xvfb openbox xdotool imagemagick
# mesa-vulkan-drivers.
#
#   start_desktop DISPLAY [SCREEN]   # SCREEN like 1440x900 (the default)
#   start_app [ENV=VALUE...]         # sets $app; stderr goes to $state/app.log
#   find_window                      # sets $window once the app's window is mapped
#   place_window WIDTH HEIGHT        # moves it to the screen's corner and sizes it
# Everything started is stopped when the script exits.

start_desktop() {
    export DISPLAY="$1"
    local screen="${2:-1440x900}"
    state=$(mktemp -d)
    export XDG_RUNTIME_DIR="$state/run" XDG_DATA_HOME="$state/data"
    export LAYERLAB_DATA_DIR="$state/layerlab"
    mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
    Xvfb "$DISPLAY" -screen 0 "${screen}x24" >/dev/null 2>&1 &
    xvfb=$!
    app="" wm=""
    trap 'kill $app $wm $xvfb 2>/dev/null || true' EXIT
    sleep 2
    openbox >/dev/null 2>&1 &
    wm=$!
    sleep 1
}

start_app() {
    env "$@" ./target/release/layerlab 2>>"$state/app.log" &
    app=$!
}

find_window() {
    for _ in $(seq 1 60); do
        window=$(xdotool search --name '^LayerLab$' 2>/dev/null | head -1 || true)
        [ -n "$window" ] && return 0
        sleep 0.5
    done
    echo "the LayerLab window never appeared; app log:" >&2
    tail -n 20 "$state/app.log" >&2
    return 1
}

place_window() {
    xdotool windowmove "$window" 0 0 windowsize "$window" "$1" "$2"
    sleep 1
}
