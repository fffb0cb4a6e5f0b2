#!/usr/bin/env bash
# Every check in one place: formatting, lints (with and without the window), docs, tests.
# The last command is the test command README.md gives, so CI ends on the real tests.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
# The engine builds without any GUI crate and without clap; the CLI builds without the window.
cargo clippy --release --no-default-features --lib -- -D warnings
cargo clippy --release --no-default-features --features cli --lib --bins -- -D warnings
cargo clippy --release --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --release --no-deps --lib
# Every preset exported as ONNX and run by tract (a real ONNX runtime) against LayerLab's
# logits; behind a feature because tract adds minutes to a build.
cargo clippy --release --features onnx-check --test onnx -- -D warnings
cargo test --release --features onnx-check --test onnx
cargo test --release --all-targets
