//! The run store from the command line: a run killed with SIGKILL and resumed ends exactly as
//! one never interrupted; forks continue their parent's step numbering; a damaged or unusable
//! store never stops training.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{assert_ok, assert_refused, command, layerlab, stderr};
use layerlab::export::SavedModel;
use layerlab::store::{RunFilter, RunStore};

const RUN: [&str; 14] = [
    "train",
    "--preset",
    "cnn",
    "--limit",
    "3000",
    "--validation-size",
    "500",
    "--test-limit",
    "500",
    "--epochs",
    "3",
    "--quiet",
    "--checkpoint-every",
    "20",
];

fn with(base: &[&str], more: &[&str]) -> Vec<String> {
    base.iter().chain(more).map(|s| s.to_string()).collect()
}

fn run(args: &[String]) -> std::process::Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    layerlab(&args)
}

/// The steps recorded for a run, from `runs show --metrics`.
fn recorded_steps(store: &Path, id: &str) -> Vec<usize> {
    let out = assert_ok(&layerlab(&[
        "runs",
        "show",
        id,
        "--metrics",
        "--store",
        store.to_str().unwrap(),
    ]));
    out.lines()
        .skip(1)
        .map(|line| line.split(',').next().unwrap().parse().unwrap())
        .collect()
}

/// A child process killed and reaped when the test ends, however it ends.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn weights(path: &Path) -> layerlab::model::Weights {
    SavedModel::load(path).unwrap().weights
}

#[test]
fn a_run_killed_mid_epoch_and_resumed_ends_as_one_never_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("runs.sqlite");
    let store_arg = store.to_str().unwrap();
    let whole = dir.path().join("whole.safetensors");
    let resumed = dir.path().join("resumed.safetensors");
    let out = run(&with(
        &RUN,
        &["--no-record", "--export", whole.to_str().unwrap()],
    ));
    let whole_line = common::last_line(&assert_ok(&out)).to_string();

    let args = with(&RUN, &["--store", store_arg]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut child = Killed(
        command(&args)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Kill it once a checkpoint past the first epoch's middle is written (94 steps an epoch).
    let started = Instant::now();
    let id = loop {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no checkpoint came"
        );
        std::thread::sleep(Duration::from_millis(20));
        let Ok(opened) = RunStore::open(&store) else {
            continue;
        };
        let Some(row) = opened.list(&RunFilter::default()).unwrap().pop() else {
            continue;
        };
        let latest = opened.checkpoints(&row.id).unwrap().last().map(|c| c.step);
        if latest.is_some_and(|step| step >= 120) {
            assert_eq!(
                row.status, "running",
                "the run ended before it could be killed"
            );
            child.0.kill().unwrap(); // SIGKILL
            child.0.wait().unwrap();
            break row.id;
        }
    };
    let listed = assert_ok(&layerlab(&["runs", "--store", store_arg]));
    assert!(listed.contains("interrupted at step"), "{listed}");
    // The newest checkpoint's file is lost: resume says so and takes the one before, with
    // the same end result.
    let opened = RunStore::open(&store).unwrap();
    let newest = opened.checkpoints(&id).unwrap().pop().unwrap();
    std::fs::remove_file(opened.checkpoint_path(&newest)).unwrap();
    drop(opened);
    let out = layerlab(&[
        "runs",
        "resume",
        &id[..6],
        "--store",
        store_arg,
        "--export",
        resumed.to_str().unwrap(),
    ]);
    assert!(
        stderr(&out).contains(&format!("checkpoint at step {} is missing", newest.step)),
        "{}",
        stderr(&out)
    );
    let resumed_out = assert_ok(&out);
    assert!(
        resumed_out.starts_with(&format!("run={id}")),
        "{resumed_out}"
    );
    assert_eq!(common::last_line(&resumed_out), whole_line);
    assert_eq!(weights(&resumed).tensors, weights(&whole).tensors);
    // No step repeated or missing in the record.
    assert_eq!(recorded_steps(&store, &id), (1..=282).collect::<Vec<_>>());
    let shown = assert_ok(&layerlab(&["runs", "show", &id, "--store", store_arg]));
    assert!(shown.contains("status: finished"), "{shown}");
    assert!(shown.contains("resumed from its checkpoint"), "{shown}");
    // A finished run is not resumed; changing a setting is a fork.
    assert_refused(
        &layerlab(&["runs", "resume", &id, "--store", store_arg]),
        "fork it",
    );
}

#[test]
fn a_fork_continues_its_parents_steps_with_new_settings_and_compare_shows_only_that() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("runs.sqlite");
    let store_arg = store.to_str().unwrap();
    let base = [
        "train",
        "--dataset",
        "iris",
        "--epochs",
        "6",
        "--batch-size",
        "10",
        "--quiet",
        "--store",
        store_arg,
    ];
    let out = assert_ok(&layerlab(&base));
    let parent = out
        .lines()
        .next()
        .unwrap()
        .strip_prefix("run=")
        .unwrap()
        .to_string();
    // 108 training samples in batches of 10: 11 steps an epoch, checkpoints at 11, 22, ...
    let out = assert_ok(&layerlab(&[
        "runs", "fork", &parent, "--step", "30", "--store", store_arg, "--lr", "0.01", "--epochs",
        "8", "--json",
    ]));
    let json: serde_json::Value = serde_json::from_str(common::last_line(&out)).unwrap();
    let child = json["run_id"].as_str().unwrap().to_string();
    assert_ne!(child, parent);
    assert_eq!(json["steps"], 88);
    assert_eq!(
        recorded_steps(&store, &child),
        (23..=88).collect::<Vec<_>>()
    );
    let opened = RunStore::open(&store).unwrap();
    let row = opened.row(&child).unwrap();
    assert_eq!(
        (row.parent_id.as_deref(), row.parent_step),
        (Some(parent.as_str()), Some(22))
    );
    drop(opened);
    let compared = assert_ok(&layerlab(&[
        "runs", "compare", &parent, &child, "--store", store_arg, "--json",
    ]));
    let compared: serde_json::Value = serde_json::from_str(&compared).unwrap();
    let paths: Vec<&str> = compared["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["settings.epochs", "settings.optimizer.lr"]);
    assert!(compared["layers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|op| op["op"] == "same"));
}

#[test]
fn a_damaged_or_unusable_store_never_stops_training() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("runs.sqlite");
    std::fs::write(
        &store,
        b"this is not a database, and it is long enough to be read as one........",
    )
    .unwrap();
    let train = [
        "train",
        "--dataset",
        "iris",
        "--epochs",
        "2",
        "--quiet",
        "--store",
    ];
    let out = layerlab(&[&train[..], &[store.to_str().unwrap()]].concat());
    assert_ok(&out);
    assert!(stderr(&out).contains("runs.sqlite.bad"), "{}", stderr(&out));
    assert!(dir.path().join("runs.sqlite.bad").exists());
    // A store that cannot be created: training goes on, the record is said to be missing.
    let blocked = dir.path().join("a-file");
    std::fs::write(&blocked, b"").unwrap();
    let inside = blocked.join("runs.sqlite");
    let out = layerlab(&[&train[..], &[inside.to_str().unwrap()]].concat());
    let printed = assert_ok(&out);
    assert!(printed.contains("test_accuracy="), "{printed}");
    assert!(
        stderr(&out).contains("this run is not recorded"),
        "{}",
        stderr(&out)
    );
    // Deleting without a terminal to ask on needs --yes.
    let listed = assert_ok(&layerlab(&[
        "runs",
        "--json",
        "--store",
        store.to_str().unwrap(),
    ]));
    let rows: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let id = rows[0]["id"].as_str().unwrap();
    assert_refused(
        &layerlab(&["runs", "delete", id, "--store", store.to_str().unwrap()]),
        "--yes",
    );
    assert_ok(&layerlab(&[
        "runs",
        "delete",
        id,
        "--yes",
        "--store",
        store.to_str().unwrap(),
    ]));
}
