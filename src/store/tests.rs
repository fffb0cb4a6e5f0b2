//! The store end to end on a small real run: recording, interruption, damage, checkpoints.

#![allow(
    clippy::unwrap_used,
    clippy::wildcard_enum_match_arm,
    clippy::disallowed_methods
)]

use std::sync::Arc;

use super::*;
use crate::data::{load_builtin, DataOptions, Dataset};
use crate::spec::{Layer, ModelSpec};
use crate::train::{run_training, CheckpointPolicy, TrainConfig, TrainEvent, TrainJob};

fn iris() -> Arc<Dataset> {
    Arc::new(load_builtin("iris", &DataOptions::default()).unwrap())
}

fn stack() -> ModelSpec {
    ModelSpec::new(vec![
        Layer::Linear { out_features: 8 },
        Layer::ReLU,
        Layer::Linear { out_features: 3 },
    ])
}

fn config(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 16,
        validation_size: 20,
        checkpoints: CheckpointPolicy {
            enabled: true,
            every_steps: 0,
        },
        ..TrainConfig::default()
    }
}

fn record_of(dataset: &Dataset, config: &TrainConfig) -> RunRecord {
    RunRecord {
        stack: stack(),
        settings: config.clone(),
        card: dataset.card.clone(),
        preset: None,
        command: vec!["--dataset".into(), "iris".into()],
        version: env!("CARGO_PKG_VERSION").into(),
        host: Host::this_machine(),
    }
}

/// Trains `config` on iris, recording every event; returns the run's id and its events.
fn recorded_run(store: &mut RunStore, config: TrainConfig) -> (String, Vec<TrainEvent>) {
    let data = iris();
    let lease = store
        .create_run(&record_of(&data, &config), None, None)
        .unwrap();
    let id = lease.id.clone();
    let recorder = Recorder::start(lease).unwrap();
    let job = TrainJob {
        spec: stack(),
        config,
        dataset: data,
        initial_weights: None,
        resume_from: None,
    };
    let (_commands, receiver) = crossbeam_channel::unbounded();
    let mut events = Vec::new();
    let summary = run_training(job.prepare().unwrap(), &receiver, &mut |event| {
        recorder.observe(&event);
        events.push(event);
        true
    })
    .unwrap();
    let report = recorder.finish(RunEnd::Finished { test: summary.test });
    assert_eq!(report.problems, Vec::<String>::new());
    (id, events)
}

#[test]
fn a_recorded_run_has_every_step_its_epochs_checkpoints_and_test_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = RunStore::open(&dir.path().join(STORE_FILE)).unwrap();
    let (id, events) = recorded_run(&mut store, config(3));
    let batches = events
        .iter()
        .filter(|e| matches!(e, TrainEvent::Batch(_)))
        .count();
    let rows = store.list(&RunFilter::default()).unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(
        (row.id.as_str(), row.status.as_str()),
        (id.as_str(), "finished")
    );
    assert_eq!((row.epochs_completed, row.last_step), (3, batches));
    assert!(row.best_validation_accuracy.is_some() && row.test_accuracy.is_some());
    assert!(row.name.starts_with("iris custom "), "{}", row.name);
    let mut csv = Vec::new();
    store.steps_csv(&id, &mut csv).unwrap();
    assert_eq!(String::from_utf8(csv).unwrap().lines().count(), batches + 1);
    let details = store.details(&id).unwrap();
    assert_eq!(details.record.stack, stack());
    assert_eq!(details.checkpoints.len(), 3);
    // A checkpoint reads back as the state that was sent.
    let sent = events.iter().rev().find_map(|e| match e {
        TrainEvent::Checkpoint { state, .. } => Some(state.clone()),
        _ => None,
    });
    let last = details.checkpoints.last().unwrap();
    let read = read_checkpoint(&store.checkpoint_path(last)).unwrap();
    assert_eq!(Some(read), sent.map(|s| (*s).clone()));
    // Prefixes name runs; a filter that matches nothing lists nothing.
    assert_eq!(store.resolve(&id[..5]).unwrap(), id);
    let none = RunFilter {
        dataset: Some("wine".into()),
        ..RunFilter::default()
    };
    assert!(store.list(&none).unwrap().is_empty());
}

#[test]
fn a_run_whose_process_died_is_marked_interrupted_at_its_last_step() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(STORE_FILE);
    let mut store = RunStore::open(&path).unwrap();
    let data = iris();
    let lease = store
        .create_run(&record_of(&data, &config(1)), None, None)
        .unwrap();
    let id = lease.id.clone();
    // While its lease is held, another open leaves it running.
    assert!(RunStore::open(&path).unwrap().notes().is_empty());
    assert_eq!(store.row(&id).unwrap().status, "running");
    drop(lease); // what the OS does to the lock when a process dies
    let reopened = RunStore::open(&path).unwrap();
    assert_eq!(reopened.notes().len(), 1, "{:?}", reopened.notes());
    let row = reopened.row(&id).unwrap();
    assert_eq!(row.status, "interrupted");
    assert_eq!(row.message.as_deref(), Some("interrupted at step 0"));
}

#[test]
fn a_damaged_store_is_kept_aside_and_a_newer_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(STORE_FILE);
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    let store = RunStore::open(&path).unwrap();
    assert_eq!(store.notes().len(), 1);
    assert!(
        store.notes()[0].contains("runs.sqlite.bad"),
        "{:?}",
        store.notes()
    );
    assert_eq!(
        std::fs::read(path.with_extension("sqlite.bad")).unwrap(),
        vec![0x5a; 8192]
    );
    assert!(store.list(&RunFilter::default()).unwrap().is_empty());
    drop(store);
    // A store from a newer LayerLab is not touched.
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(connection);
    let error = RunStore::open(&path).err().unwrap();
    assert!(error.to_string().contains("newer LayerLab"), "{error}");
}

#[test]
fn a_truncated_store_is_kept_aside_and_an_earlier_bad_copy_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(STORE_FILE);
    let mut store = RunStore::open(&path).unwrap();
    for _ in 0..3 {
        recorded_run(&mut store, config(20));
    }
    drop(store);
    // Everything in the main file, then its second half cut off.
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(connection);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(path.with_extension("sqlite.bad"), b"an earlier bad copy").unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let store = RunStore::open(&path).unwrap();
    assert!(
        store.notes()[0].contains("runs.sqlite.bad.2"),
        "{:?}",
        store.notes()
    );
    assert_eq!(
        std::fs::read(path.with_extension("sqlite.bad")).unwrap(),
        b"an earlier bad copy"
    );
    assert_eq!(
        std::fs::read(path.with_extension("sqlite.bad.2")).unwrap(),
        &bytes[..bytes.len() / 2]
    );
    assert!(store.list(&RunFilter::default()).unwrap().is_empty());
}

#[test]
fn retention_keeps_the_first_the_best_the_last_and_at_most_twenty() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = RunStore::open(&dir.path().join(STORE_FILE)).unwrap();
    let (id, _) = recorded_run(&mut store, config(30));
    let kept = store.checkpoints(&id).unwrap();
    assert_eq!(kept.len(), MAX_CHECKPOINTS);
    let epochs: Vec<usize> = kept.iter().map(|c| c.epoch).collect();
    assert_eq!(epochs.first(), Some(&1));
    assert_eq!(epochs.last(), Some(&30));
    let best = kept
        .iter()
        .filter_map(|c| c.validation_score)
        .fold(f64::MIN, f64::max);
    let rows = store.list(&RunFilter::default()).unwrap();
    assert_eq!(rows[0].best_validation_accuracy, Some(best));
    // Only the kept files remain.
    let files = std::fs::read_dir(store.run_dir(&id))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "safetensors")
        })
        .count();
    assert_eq!(files, MAX_CHECKPOINTS);
}

#[test]
fn reopening_a_run_forgets_what_came_after_the_checkpoint_and_delete_removes_it_all() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = RunStore::open(&dir.path().join(STORE_FILE)).unwrap();
    let (id, _) = recorded_run(&mut store, config(3));
    let second = store.checkpoints(&id).unwrap()[0].step;
    let lease = store.reopen_run(&id, second).unwrap();
    let row = store.row(&id).unwrap();
    assert_eq!((row.status.as_str(), row.last_step), ("running", second));
    assert_eq!(row.epochs_completed, 1);
    assert_eq!(store.checkpoints(&id).unwrap().len(), 1);
    // While it is held, deleting it is refused.
    assert!(matches!(store.delete(&id), Err(StoreError::Busy(_))));
    drop(lease);
    store.tag(&id, "baseline").unwrap();
    store.rename(&id, "first try").unwrap();
    let tagged = RunFilter {
        tag: Some("baseline".into()),
        ..RunFilter::default()
    };
    assert_eq!(store.list(&tagged).unwrap()[0].name, "first try");
    store.delete(&id).unwrap();
    assert!(store.list(&RunFilter::default()).unwrap().is_empty());
    assert!(!store.run_dir(&id).exists());
    assert!(matches!(store.row(&id), Err(StoreError::NoSuchRun(_))));
}

#[test]
fn two_processes_recording_at_once_both_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(STORE_FILE);
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut store = RunStore::open(&path).unwrap();
                recorded_run(&mut store, config(4)).0
            })
        })
        .collect();
    let ids: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let store = RunStore::open(&path).unwrap();
    for id in ids {
        let row = store.row(&id).unwrap();
        assert_eq!((row.status.as_str(), row.epochs_completed), ("finished", 4));
    }
}

#[test]
fn a_run_exported_for_tensorboard_reads_back_with_its_scalars_and_hparams() {
    use prost::Message;
    use tensorboard::{export_run, read_events, HParamsPluginData};
    let dir = tempfile::tempdir().unwrap();
    let mut store = RunStore::open(&dir.path().join(STORE_FILE)).unwrap();
    let (id, events) = recorded_run(&mut store, config(3));
    let batches = events
        .iter()
        .filter(|e| matches!(e, TrainEvent::Batch(_)))
        .count();
    let file = export_run(&store, &id, &dir.path().join("tb")).unwrap();
    let read = read_events(&file).unwrap();
    assert_eq!(read[0].file_version.as_deref(), Some("brain.Event:2"));
    // (tag, step, scalar, plugin content) of every summary value.
    type Read = (String, i64, Option<f32>, Option<Vec<u8>>);
    let values: Vec<Read> = read
        .iter()
        .filter_map(|e| e.summary.as_ref().map(|s| (e.step, s)))
        .flat_map(|(step, s)| {
            s.value.iter().map(move |v| {
                let content = v
                    .metadata
                    .as_ref()
                    .and_then(|m| m.plugin_data.as_ref())
                    .map(|p| p.content.clone());
                (v.tag.clone(), step, v.simple_value, content)
            })
        })
        .collect();
    let count = |tag: &str| values.iter().filter(|v| v.0 == tag).count();
    assert_eq!(count("train/loss"), batches);
    assert_eq!(count("lr"), batches);
    assert_eq!(count("val/accuracy"), 3);
    assert_eq!(count("test/accuracy"), 1);
    let losses: Vec<(i64, f32)> = values
        .iter()
        .filter(|v| v.0 == "train/loss")
        .map(|v| (v.1, v.2.unwrap()))
        .collect();
    let sent: Vec<(i64, f32)> = events
        .iter()
        .filter_map(|e| match e {
            TrainEvent::Batch(b) => Some((b.step as i64, b.loss)),
            _ => None,
        })
        .collect();
    assert_eq!(losses, sent);
    let start = values
        .iter()
        .find(|v| v.0 == "_hparams_/session_start_info")
        .and_then(|v| v.3.clone())
        .unwrap();
    let start = HParamsPluginData::decode(start.as_slice()).unwrap();
    let hparams = start.session_start_info.unwrap().hparams;
    assert_eq!(hparams["batch_size"].number_value, Some(16.0));
    assert_eq!(hparams["optimizer"].string_value.as_deref(), Some("adam"));
    assert_eq!(hparams["dataset"].string_value.as_deref(), Some("iris"));
    let end = values
        .iter()
        .find(|v| v.0 == "_hparams_/session_end_info")
        .and_then(|v| v.3.clone())
        .unwrap();
    let end = HParamsPluginData::decode(end.as_slice()).unwrap();
    assert_eq!(end.session_end_info.unwrap().status, 1);
}

#[test]
fn a_long_run_reads_as_thinned_curves_that_keep_its_ends_and_spikes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = RunStore::open(&dir.path().join(STORE_FILE)).unwrap();
    let data = iris();
    let lease = store
        .create_run(&record_of(&data, &config(1)), None, None)
        .unwrap();
    let id = lease.id.clone();
    let recorder = Recorder::start(lease).unwrap();
    let steps = 30_000;
    for step in 1..=steps {
        let loss = match step {
            12_345 => 50.0,
            20_000 => f32::NAN,
            _ => 1.0 / step as f32,
        };
        recorder.observe(&TrainEvent::Batch(crate::train::BatchMetrics {
            step,
            epoch: 0,
            loss,
            accuracy: None,
            learning_rate: 0.1,
            samples: 16,
            train_secs: step as f64 / 100.0,
        }));
    }
    assert!(recorder
        .finish(RunEnd::Finished { test: None })
        .problems
        .is_empty());
    let curves = store.curves(store.row(&id).unwrap()).unwrap();
    for series in [
        &curves.loss_by_step,
        &curves.loss_by_secs,
        &curves.lr_by_step,
    ] {
        assert!(series.len() <= MAX_CURVE_POINTS, "{}", series.len());
        assert!(series.windows(2).all(|w| w[0][0] < w[1][0]));
    }
    // The first and last steps, the spike, and no NaN.
    assert_eq!(curves.loss_by_step.first(), Some(&[1.0, 1.0]));
    assert_eq!(curves.loss_by_step.last().map(|p| p[0]), Some(steps as f64));
    assert!(curves.loss_by_step.contains(&[12_345.0, 50.0]));
    assert!(curves.loss_by_secs.contains(&[123.45, 50.0]));
    assert!(curves.loss_by_step.iter().all(|p| p[1].is_finite()));
}

#[test]
fn a_forks_curves_start_on_its_parents_point() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = RunStore::open(&dir.path().join(STORE_FILE)).unwrap();
    let (parent, events) = recorded_run(&mut store, config(3));
    let epochs: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            TrainEvent::Epoch(m) => Some(m.clone()),
            _ => None,
        })
        .collect();
    let at = epochs[1].step;
    let parent_batch = events
        .iter()
        .find_map(|e| match e {
            TrainEvent::Batch(b) if b.step == at => Some(b.clone()),
            _ => None,
        })
        .unwrap();
    let data = iris();
    let lease = store
        .create_run(
            &record_of(&data, &config(3)),
            None,
            Some(Parent {
                run: parent.clone(),
                step: at,
            }),
        )
        .unwrap();
    let child = lease.id.clone();
    // Named after its parent (not "iris custom ..." like a run of its own).
    let parent_name = store.row(&parent).unwrap().name;
    assert_eq!(
        store.row(&child).unwrap().name,
        format!("{parent_name} fork {}", &child[..4])
    );
    // A fork of a fork is named after the first of its line; a name of a person's own with
    // "fork" in it stays whole.
    assert_eq!(
        super::first_of_line("mnist mlp fork 3f2a fork 9c01"),
        "mnist mlp"
    );
    assert_eq!(
        super::first_of_line("spoon fork handle"),
        "spoon fork handle"
    );
    assert_eq!(super::first_of_line("a fork b fork 3f2a"), "a fork b");
    let recorder = Recorder::start(lease).unwrap();
    recorder.observe(&TrainEvent::Batch(crate::train::BatchMetrics {
        step: at + 1,
        epoch: 2,
        loss: 0.125,
        accuracy: None,
        learning_rate: 0.5,
        samples: 16,
        train_secs: parent_batch.train_secs + 1.0,
    }));
    assert!(recorder.finish(RunEnd::Stopped).problems.is_empty());

    let curves = store.curves(store.row(&child).unwrap()).unwrap();
    let join = curves.join.clone().unwrap();
    assert_eq!(join.step, at);
    assert_eq!(join.epoch.as_ref().map(|e| e.epoch), Some(1));
    let loss = f64::from(parent_batch.loss);
    assert_eq!(
        curves.loss_by_step,
        vec![[at as f64, loss], [(at + 1) as f64, 0.125]]
    );
    assert_eq!(curves.loss_by_secs[0], [parent_batch.train_secs, loss]);
    assert_eq!(curves.lr_by_step[1], [(at + 1) as f64, 0.5]);
    // A first run starts nowhere else; a fork whose parent is gone starts on its own.
    assert_eq!(
        store.curves(store.row(&parent).unwrap()).unwrap().join,
        None
    );
    store.delete(&parent).unwrap();
    let orphan = store.curves(store.row(&child).unwrap()).unwrap();
    assert_eq!(orphan.join, None);
    assert_eq!(orphan.loss_by_step, vec![[(at + 1) as f64, 0.125]]);
}
