//! Running the `layerlab` binary from the CLI tests: its output, and the checks every
//! refusal must pass.

// Each test crate uses its own part of these.
#![allow(dead_code, clippy::expect_used)]

use std::process::{Command, Output};

pub fn layerlab(args: &[&str]) -> Output {
    command(args).output().expect("the binary runs")
}

/// The binary with `args`, its data folder (models, the run store) a temporary folder of
/// this test process, never the user's.
pub fn command(args: &[&str]) -> Command {
    static DATA: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let data = DATA.get_or_init(|| tempfile::tempdir().expect("a temporary folder"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_layerlab"));
    command.args(args).env("LAYERLAB_DATA_DIR", data.path());
    command
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The run succeeded; its standard output.
#[track_caller]
pub fn assert_ok(output: &Output) -> String {
    assert!(output.status.success(), "{}", stderr(output));
    stdout(output)
}

/// Fails with a clear message, a non-zero exit and no panic trace.
#[track_caller]
pub fn assert_refused(output: &Output, expected: &str) {
    let err = stderr(output);
    assert!(
        !output.status.success(),
        "expected failure, got: {}",
        stdout(output)
    );
    assert!(err.contains(expected), "stderr lacks {expected:?}: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
}

pub fn last_line(text: &str) -> &str {
    text.lines().last().unwrap_or_default()
}

/// The value of `name=` on the last line (`test_accuracy=0.9811 test_loss=...`).
#[track_caller]
pub fn metric(text: &str, name: &str) -> f32 {
    last_line(text)
        .split(' ')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}
