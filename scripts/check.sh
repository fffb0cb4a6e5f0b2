#!/usr/bin/env bash
# Every check in one place: formatting, lints (with and without the window), docs, tests.
# The last command is the test command README.md gives, so CI ends on the real tests.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
# The engine builds without any GUI crate and without clap; the CLI builds without the window.
cargo clippy --release --no-default-features --lib -- -D warnings
cargo clippy --release --no-default-features --features cli --lib --bins -- -D warnings
# onnx-check adds tract (a real ONNX runtime) so tests/onnx.rs runs every preset's export
# against LayerLab's logits. Lints and tests both take it, so the crate is built once for
# each instead of once with and once without it (that second build cost CI 3 minutes).
cargo clippy --release --all-targets --features onnx-check -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --release --no-deps --lib
cargo test --release --all-targets --features onnx-check
