//! A run handed to PyTorch and brought back: `runs export-torch` writes the run.json the
//! golden file holds and a train.py that compiles; `runs import` checks metrics.jsonl and the
//! weights before it writes anything. (Training the export with torch itself is
//! scripts/check_torch_export.py's job: CI has no PyTorch.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{assert_ok, assert_refused, layerlab};

/// Runs `layerlab` with `--store store` after the arguments.
fn in_store(store: &Path, args: &[&str]) -> std::process::Output {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--store", store.to_str().unwrap()]);
    layerlab(&all)
}

/// The id of the store's only run named `name`.
fn run_id(store: &Path, name: &str) -> String {
    let listed = assert_ok(&in_store(store, &["runs", "--json"]));
    let runs: serde_json::Value = serde_json::from_str(&listed).unwrap();
    runs.as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no run {name} in {listed}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn run_count(store: &Path) -> usize {
    let listed = assert_ok(&in_store(store, &["runs", "--json"]));
    serde_json::from_str::<serde_json::Value>(&listed)
        .unwrap()
        .as_array()
        .unwrap()
        .len()
}

/// A small table of every column kind: numbers (one missing), a category, text, a class.
fn tiny_csv() -> String {
    let mut csv = String::from("size,colour,review,label\n");
    let colours = ["red", "green", "blue"];
    let words = [
        "great tea",
        "bad coffee",
        "good good tea",
        "awful taste",
        "lovely",
    ];
    for i in 0..40 {
        let size = if i == 7 {
            "NA".to_string()
        } else {
            format!("{}", i % 9)
        };
        let label = if i % 3 == 0 { "yes" } else { "no" };
        csv.push_str(&format!(
            "{size},{},\"{} {i}\",{label}\n",
            colours[i % 3],
            words[i % 5]
        ));
    }
    csv
}

/// run.json with what changes from machine to machine replaced by names.
fn normalised(run_json: &str, dir: &Path) -> serde_json::Value {
    let text = run_json.replace(dir.to_str().unwrap(), "<dir>");
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["run"]["id"] = "<id>".into();
    value["record"]["host"] = "<host>".into();
    value["record"]["version"] = "<version>".into();
    value
}

#[test]
fn an_exported_run_json_matches_the_golden_file_and_train_py_compiles() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("tiny.csv");
    std::fs::write(&csv, tiny_csv()).unwrap();
    let store = dir.path().join("runs.sqlite");
    assert_ok(&in_store(
        &store,
        &[
            "train",
            "--dataset",
            csv.to_str().unwrap(),
            "--target",
            "label",
            "--column",
            "review=text",
            "--epochs",
            "2",
            "--batch-size",
            "8",
            "--validation-size",
            "5",
            "--name",
            "tiny",
            "--quiet",
        ],
    ));
    let id = run_id(&store, "tiny");
    let out = dir.path().join("export");
    let said = assert_ok(&in_store(
        &store,
        &["runs", "export-torch", &id, "--out", out.to_str().unwrap()],
    ));
    assert!(
        said.contains("torchrun --nproc_per_node 2 train.py"),
        "{said}"
    );
    let run_json = std::fs::read_to_string(out.join("run.json")).unwrap();
    let ours = normalised(&run_json, dir.path());
    let golden_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/torch_run.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let text = serde_json::to_string_pretty(&ours).unwrap() + "\n";
        std::fs::write(&golden_path, text).unwrap();
    }
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&golden_path).unwrap()).unwrap();
    assert_eq!(
        ours, golden,
        "run.json changed; if on purpose, UPDATE_GOLDEN=1 cargo test --test torch_export"
    );
    // The split: 32 training rows of the seeded 80/20 (8 test), the last 5 for validation.
    assert_eq!(ours["split"]["train"]["rows"].as_array().unwrap().len(), 27);
    assert_eq!(
        ours["split"]["validation"]["rows"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(ours["split"]["test"]["rows"].as_array().unwrap().len(), 8);
    assert!(out.join("checkpoint.safetensors").is_file());
    assert!(std::fs::read_to_string(out.join("README.md"))
        .unwrap()
        .contains("python train.py"));

    let compiled = std::process::Command::new("python3")
        .args(["-m", "py_compile"])
        .arg(out.join("train.py"))
        .output()
        .expect("python3 is needed to check the generated script (.ci/run installs it)");
    assert!(
        compiled.status.success(),
        "{}",
        String::from_utf8_lossy(&compiled.stderr)
    );

    // An export never overwrites files it did not write.
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    assert_refused(
        &in_store(
            &store,
            &["runs", "export-torch", &id, "--out", out.to_str().unwrap()],
        ),
        "notes.txt",
    );
}

/// metrics.jsonl as train.py writes it for a run of `steps` steps in one epoch.
fn metrics_lines(steps: usize) -> Vec<String> {
    let mut lines = vec![serde_json::json!({
        "event": "started", "total_steps": steps, "first_step": 0, "steps_per_epoch": steps,
        "train_samples": steps * 64, "validation_samples": 100, "test_samples": 100,
        "parameters": 101_770,
        "torch": {"version": "2.5.1", "world_size": 2, "device": "cpu", "backend": "gloo",
                  "run": "x"}
    })
    .to_string()];
    for step in 1..=steps {
        lines.push(
            serde_json::json!({"event": "batch", "step": step, "epoch": 0,
                "loss": 2.0 / step as f64, "accuracy": 0.5, "learning_rate": 0.01,
                "samples": 64, "train_secs": step as f64 * 0.1})
            .to_string(),
        );
    }
    lines.push(
        serde_json::json!({"event": "epoch", "epoch": 0, "step": steps, "train_loss": 0.9,
            "train_accuracy": 0.7, "validation_loss": 0.6, "validation_accuracy": 0.81,
            "images_per_sec": 900.0, "duration_secs": 1.5})
        .to_string(),
    );
    lines.push(
        serde_json::json!({"event": "finished", "steps": steps, "epochs_completed": 1,
            "stopped_early": false, "test": {"loss": 0.55, "accuracy": 0.8125},
            "duration_secs": 1.6})
        .to_string(),
    );
    lines
}

#[test]
fn an_import_checks_everything_first_and_brings_the_run_back_with_its_parent() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("runs.sqlite");
    let quick = [
        "--limit",
        "300",
        "--validation-size",
        "100",
        "--test-limit",
        "100",
        "--epochs",
        "1",
        "--quiet",
    ];
    let mut train = vec!["train", "--preset", "mlp", "--name", "exported"];
    train.extend(quick);
    assert_ok(&in_store(&store, &train));
    let mut other = vec![
        "train", "--preset", "mlp-deep", "--name", "other", "--export",
    ];
    let other_model = dir.path().join("other.safetensors");
    other.push(other_model.to_str().unwrap());
    other.extend(quick);
    assert_ok(&in_store(&store, &other));
    let id = run_id(&store, "exported");
    let out = dir.path().join("export");
    assert_ok(&in_store(
        &store,
        &["runs", "export-torch", &id, "--out", out.to_str().unwrap()],
    ));
    let import = || in_store(&store, &["runs", "import", out.to_str().unwrap()]);

    // Nothing trained yet.
    assert_refused(&import(), "run train.py in the folder first");
    // The LayerLab weights of the same stack stand in for what torch would write.
    std::fs::copy(
        out.join("checkpoint.safetensors"),
        out.join("model.safetensors"),
    )
    .unwrap();
    let lines = metrics_lines(5);
    let write = |text: String| std::fs::write(out.join("metrics.jsonl"), text).unwrap();
    let refusals: [(String, &str); 4] = [
        // Cut mid-line, as a killed process leaves it.
        (
            lines.join("\n")[..lines.join("\n").len() - 20].to_string(),
            "truncated",
        ),
        // Cut after a whole line: no end.
        (
            lines[..4].join("\n") + "\n",
            "ends before the run's `finished` event",
        ),
        // Python writes a diverged loss as NaN, which is not JSON.
        (
            lines.join("\n").replace("\"loss\":1.0", "\"loss\":NaN") + "\n",
            "not a number",
        ),
        (
            lines[1..].join("\n") + "\n",
            "the first line is not the run's `started` event",
        ),
    ];
    for (text, expected) in refusals {
        write(text);
        assert_refused(&import(), expected);
        assert_refused(&import(), "nothing imported");
        assert_eq!(run_count(&store), 2, "a refused import wrote a run");
    }
    write(lines.join("\n") + "\n");
    std::fs::copy(&other_model, out.join("model.safetensors")).unwrap();
    assert_refused(&import(), "another layer stack");
    assert_eq!(run_count(&store), 2);

    std::fs::copy(
        out.join("checkpoint.safetensors"),
        out.join("model.safetensors"),
    )
    .unwrap();
    let said = assert_ok(&import());
    assert!(said.contains(&format!("(parent {id})")), "{said}");
    assert!(said.contains("test_accuracy=0.8125"), "{said}");
    assert_eq!(run_count(&store), 3);
    // The same result twice would be two runs of one training.
    assert_refused(&import(), "was imported already");
    assert_eq!(run_count(&store), 3);
    let listed = assert_ok(&in_store(&store, &["runs", "--json"]));
    let runs: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let imported = runs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["parent_id"] == id.as_str())
        .unwrap_or_else(|| panic!("no imported run in {listed}"));
    assert_eq!(imported["last_step"], 5);
    assert_eq!(imported["status"], "finished");
    let imported_id = imported["id"].as_str().unwrap();
    let shown = assert_ok(&in_store(&store, &["runs", "show", imported_id]));
    assert!(
        shown.contains("trained by PyTorch 2.5.1, 2 processes (gloo) on cpu"),
        "{shown}"
    );
    assert!(shown.contains("checkpoints at steps: 5"), "{shown}");
    // Compared with the run it came from, what differs is who trained it.
    let compared = assert_ok(&in_store(
        &store,
        &["runs", "compare", &id, imported_id, "--json"],
    ));
    let compared: serde_json::Value = serde_json::from_str(&compared).unwrap();
    let differences = compared["differences"].to_string();
    assert!(
        differences.contains("trained_by")
            && differences.contains("LayerLab")
            && differences.contains("PyTorch 2.5.1, 2 processes (gloo) on cpu"),
        "{differences}"
    );
    let steps = assert_ok(&in_store(
        &store,
        &["runs", "show", imported_id, "--metrics"],
    ));
    assert_eq!(steps.lines().count(), 6, "{steps}");
    // Its weights fork in LayerLab like any run's.
    let forked = layerlab(&[
        "runs",
        "--store",
        store.to_str().unwrap(),
        "fork",
        imported_id,
        "--epochs",
        "2",
        "--quiet",
    ]);
    assert_ok(&forked);
    assert_eq!(run_count(&store), 4);

    // Exporting again clears what training the earlier export left, so no old metrics are
    // imported with the new run.json.
    assert_ok(&in_store(
        &store,
        &["runs", "export-torch", &id, "--out", out.to_str().unwrap()],
    ));
    for stale in ["metrics.jsonl", "model.safetensors", "imported.json"] {
        assert!(
            !out.join(stale).exists(),
            "{stale} left by an earlier export"
        );
    }
    assert!(out.join("checkpoint.safetensors").is_file());
}
