#!/usr/bin/env bash
# The run store's costs, measured (issue "Every run is kept"):
#   1. recording overhead: `train` with and without --no-record, back to back, three pairs,
#      for the mlp (the most steps a second) and the cnn preset;
#   2. checkpoints: cnn and cnn-bn with a checkpoint every 10 steps against none (the
#      training thread only copies the state; the file is written on the recording thread),
#      and `bench --run-store` (the copy and the write, timed);
#   3. `runs --json` with 1,000 runs in the store;
#   4. the store's size per 100,000 recorded steps.
# Usage: scripts/bench_run_store.sh   (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/layerlab
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LAYERLAB_DATA_DIR="$work/data"

# Samples a second of one `train`: trained samples / training seconds, from --json.
rate() {
    local samples=$1; shift
    "$bin" train "$@" --quiet --json | tail -1 |
        python3 -c "import json,sys; r=json.load(sys.stdin); print(round($samples*r['epochs_completed']/r['duration_secs']))"
}

pairs() {
    local name=$1 samples=$2; shift 2
    for pair in 1 2 3; do
        local off on
        off=$(rate "$samples" "$@" --no-record)
        on=$(rate "$samples" "$@" --store "$work/bench.sqlite")
        python3 -c "print(f'$name pair $pair: {$off:>7} samples/s unrecorded, {$on:>7} recorded ({($on-$off)/$off*100:+.1f}%)')"
    done
}

echo "== recording overhead (3 pairs, back to back)"
pairs mlp 55000 --preset mlp --epochs 3
pairs cnn 20000 --preset cnn --limit 20000 --test-limit 1000 --epochs 1

echo "== checkpoints every 10 steps against none"
for preset in cnn cnn-bn; do
    for pair in 1 2; do
        none=$(rate 10000 --preset "$preset" --limit 10000 --test-limit 500 --store "$work/ck.sqlite")
        every=$(rate 10000 --preset "$preset" --limit 10000 --test-limit 500 --store "$work/ck.sqlite" --checkpoint-every 10)
        python3 -c "print(f'$preset pair $pair: {$none:>6} samples/s at epoch ends only, {$every:>6} with one every 10 steps ({($every-$none)/$none*100:+.1f}%)')"
    done
done
"$bin" bench --run-store --runs 9

echo "== runs --json with 1,000 runs"
"$bin" train --dataset iris --epochs 20 --quiet --store "$work/many.sqlite" > /dev/null
python3 - "$work/many.sqlite" <<'PY'
import sqlite3, sys, random
db = sqlite3.connect(sys.argv[1])
(source,) = db.execute("SELECT id FROM runs").fetchone()
columns = [r[1] for r in db.execute("PRAGMA table_info(runs)")]
for n in range(999):
    new = f"{random.getrandbits(48):012x}"
    picks = ", ".join("?" if c == "id" else c for c in columns)
    db.execute(f"INSERT INTO runs ({', '.join(columns)}) SELECT {picks} FROM runs WHERE id = ?", (new, source))
    for table in ("steps", "epochs"):
        cols = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
        picks = ", ".join("?" if c == "run_id" else c for c in cols)
        db.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {picks} FROM {table} WHERE run_id = ?", (new, source))
db.commit()
print("runs in the store:", db.execute("SELECT count(*) FROM runs").fetchone()[0])
PY
for attempt in 1 2 3; do
    /usr/bin/time -f "runs --json: %e s, %M KB peak" "$bin" runs --json --store "$work/many.sqlite" > /dev/null
done

echo "== store size per 100,000 steps"
"$bin" train --dataset iris --batch-size 1 --epochs 926 --validation-size 12 --quiet --store "$work/size.sqlite" > /dev/null
python3 - "$work/size.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
steps = db.execute("SELECT count(*) FROM steps").fetchone()[0]
pages = db.execute("PRAGMA page_count").fetchone()[0] * db.execute("PRAGMA page_size").fetchone()[0]
print(f"{steps} steps recorded: {pages/1e6:.1f} MB ({pages/steps*100000/1e6:.1f} MB per 100,000 steps)")
PY
