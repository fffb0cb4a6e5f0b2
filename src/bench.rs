//! `layerlab bench`: training throughput and single-image latency, measured the way
//! shared/bench/torch_reference.py measures PyTorch, so the two can be compared side by side.
//!
//! Training: the preset's optimizer and batch size, consecutive batches from the start of the
//! training set, 10 warm-up batches, then the median of `runs` timed runs of 300 (mlp) or 60
//! (cnn) batches. Prediction: one image, eval mode, softmax included, median of 1000 calls
//! after 50 warm-up calls.

use std::time::Instant;

use dfdx::prelude::*;
use serde::Serialize;

use crate::data::Dataset;
use crate::model::softmax;
use crate::model::{InferenceModel, Model};
use crate::ops::profile::{self, timed, OpKind};
use crate::optim::Optimizer;
use crate::presets::{preset, Preset};
use crate::spec::validate;
use crate::train::{train_step, LossKind};

const WARM_UP_BATCHES: usize = 10;
const PREDICT_WARM_UP: usize = 50;
const PREDICT_CALLS: usize = 1000;

#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    pub mlp_train_img_per_s: f64,
    pub cnn_train_img_per_s: f64,
    pub mlp_predict_us: f64,
    pub cnn_predict_us: f64,
    pub runs: usize,
}

/// One preset's figures (`layerlab bench --only NAME`, handy under `perf record`).
#[derive(Clone, Debug, Serialize)]
pub struct PresetReport {
    pub preset: String,
    pub train_img_per_s: f64,
    pub predict_us: f64,
    pub runs: usize,
}

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("no preset {0}")]
    NoPreset(String),
    #[error(transparent)]
    Stack(#[from] crate::spec::SpecError),
    #[error("the CPU tensor device failed ({0:?})")]
    Device(CpuError),
    #[error("cannot write a checkpoint: {0}")]
    Checkpoint(String),
}

// Written out: `#[from]` would also make the device error the `source`.
impl From<CpuError> for BenchError {
    fn from(error: CpuError) -> Self {
        Self::Device(error)
    }
}

/// Measures one preset: 60 batches per timed run (300 for the mlp presets, as the reference).
pub fn run_preset_bench(
    name: &str,
    dataset: &Dataset,
    runs: usize,
) -> Result<PresetReport, BenchError> {
    let runs = runs.max(1);
    let batches = if name.starts_with("mlp") { 300 } else { 60 };
    let (train, predict) = bench_preset(name, dataset, batches, runs)?;
    Ok(PresetReport {
        preset: name.to_string(),
        train_img_per_s: round1(train),
        predict_us: round1(predict),
        runs,
    })
}

/// Measures the `mlp` and `cnn` presets on `dataset`.
pub fn run_bench(dataset: &Dataset, runs: usize) -> Result<BenchReport, BenchError> {
    let runs = runs.max(1);
    let (mlp_train, mlp_predict) = bench_preset("mlp", dataset, 300, runs)?;
    let (cnn_train, cnn_predict) = bench_preset("cnn", dataset, 60, runs)?;
    Ok(BenchReport {
        mlp_train_img_per_s: round1(mlp_train),
        cnn_train_img_per_s: round1(cnn_train),
        mlp_predict_us: round1(mlp_predict),
        cnn_predict_us: round1(cnn_predict),
        runs,
    })
}

/// What a checkpoint of a preset costs: copying the state on the training thread, and
/// serialising and writing the file on the recording thread (milliseconds, medians).
#[derive(Clone, Debug, Serialize)]
pub struct CheckpointReport {
    pub preset: String,
    pub bytes: u64,
    pub copy_ms: f64,
    pub write_ms: f64,
    pub runs: usize,
}

/// Measures a checkpoint of `preset` (for MNIST, Adam's moments included) written into `dir`.
pub fn run_checkpoint_bench(
    preset_name: &str,
    dir: &std::path::Path,
    runs: usize,
) -> Result<CheckpointReport, BenchError> {
    let runs = runs.max(1);
    let preset =
        preset(preset_name).ok_or_else(|| BenchError::NoPreset(preset_name.to_string()))?;
    let input = crate::spec::ActivationShape::Spatial {
        channels: 1,
        height: 28,
        width: 28,
    };
    let plan = validate(&preset.spec, input, 10)?;
    let model = Model::initialise(preset.spec.clone(), plan, &Cpu::default(), 0);
    let optimizer = Optimizer::new(preset.optimizer.clone(), &model.params)?;
    let path = dir.join(format!("{preset_name}.safetensors"));
    let (mut copies, mut writes) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let started = Instant::now();
        let state = crate::train::TrainState {
            position: crate::train::Position::default(),
            weights: std::sync::Arc::new(model.weights()),
            optimizer: optimizer.state(),
            best_weights: None,
        };
        copies.push(started.elapsed().as_secs_f64() * 1e3);
        let started = Instant::now();
        crate::store::write_checkpoint(&path, &state)
            .map_err(|e| BenchError::Checkpoint(e.to_string()))?;
        writes.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
    Ok(CheckpointReport {
        preset: preset_name.to_string(),
        bytes,
        copy_ms: round1(median(copies) * 10.0) / 10.0,
        write_ms: round1(median(writes) * 10.0) / 10.0,
        runs,
    })
}

/// What recording costs per step: the training side's hand-over of a batch event (a channel
/// send) and the recording thread's rows per second.
#[derive(Clone, Debug, Serialize)]
pub struct RecordingReport {
    pub events: usize,
    /// Nanoseconds the driver spends per batch event it hands to the recorder.
    pub observe_ns_per_event: f64,
    /// Rows the recording thread wrote per second, from the first event to the last row.
    pub rows_per_sec: f64,
}

/// The record of a run the store benchmarks write: the tabular-mlp preset on iris.
fn iris_record() -> Result<crate::store::RunRecord, BenchError> {
    let data = crate::data::load_builtin("iris", &crate::data::DataOptions::default())
        .map_err(|e| BenchError::Checkpoint(e.to_string()))?;
    Ok(crate::store::RunRecord {
        stack: preset("tabular-mlp")
            .ok_or_else(|| BenchError::NoPreset("tabular-mlp".into()))?
            .spec,
        settings: crate::train::TrainConfig::default(),
        card: data.card,
        preset: None,
        command: Vec::new(),
        version: env!("CARGO_PKG_VERSION").into(),
        host: crate::store::Host::this_machine(),
    })
}

/// Hands `events` batch events to a recorder on a store in `dir` and times both sides.
pub fn run_recording_bench(
    dir: &std::path::Path,
    events: usize,
) -> Result<RecordingReport, BenchError> {
    use crate::store::{Recorder, RunEnd, RunStore};
    let fail = |e: crate::store::StoreError| BenchError::Checkpoint(e.to_string());
    let record = iris_record()?;
    let mut store = RunStore::open(&dir.join(crate::store::STORE_FILE)).map_err(fail)?;
    let lease = store.create_run(&record, None, None).map_err(fail)?;
    let recorder = Recorder::start(lease).map_err(fail)?;
    let started = Instant::now();
    let mut observing = std::time::Duration::ZERO;
    for step in 1..=events.max(1) {
        let event = crate::train::TrainEvent::Batch(crate::train::BatchMetrics {
            step,
            epoch: step / 1000,
            loss: 1.0 / step as f32,
            accuracy: Some(0.5),
            learning_rate: 1e-3,
            samples: 64,
            train_secs: step as f64 * 3e-4,
        });
        let handed = Instant::now();
        recorder.observe(&event);
        observing += handed.elapsed();
    }
    let report = recorder.finish(RunEnd::Finished { test: None });
    let total = started.elapsed().as_secs_f64();
    if let Some(problem) = report.problems.first() {
        return Err(BenchError::Checkpoint(problem.clone()));
    }
    Ok(RecordingReport {
        events,
        observe_ns_per_event: round1(observing.as_secs_f64() * 1e9 / events.max(1) as f64),
        rows_per_sec: round1(events as f64 / total),
    })
}

/// How long the Runs tab's read of a store takes: opening it and listing every run (with its
/// best validation metric, from its epochs) for a store of `runs` runs of `epochs` epochs.
#[derive(Clone, Debug, Serialize)]
pub struct ListingReport {
    pub runs: usize,
    pub epochs_per_run: usize,
    /// Median over `repeats` of opening the store and listing it, in milliseconds.
    pub open_and_list_ms: f64,
}

/// Fills a store in `dir` with `runs` finished runs of `epochs` epochs each, then times the
/// Runs tab's read of it (open, list) `repeats` times; the median.
pub fn run_listing_bench(
    dir: &std::path::Path,
    runs: usize,
    epochs: usize,
    repeats: usize,
) -> Result<ListingReport, BenchError> {
    use crate::store::{Recorder, RunEnd, RunFilter, RunStore};
    let fail = |e: crate::store::StoreError| BenchError::Checkpoint(e.to_string());
    let record = iris_record()?;
    let path = dir.join(crate::store::STORE_FILE);
    let mut store = RunStore::open(&path).map_err(fail)?;
    for _ in 0..runs {
        let recorder =
            Recorder::start(store.create_run(&record, None, None).map_err(fail)?).map_err(fail)?;
        for epoch in 0..epochs {
            recorder.observe(&crate::train::TrainEvent::Epoch(
                crate::train::EpochMetrics {
                    epoch,
                    step: (epoch + 1) * 100,
                    train_loss: 0.5,
                    train_accuracy: Some(0.8),
                    train_rmse: None,
                    validation_loss: Some(0.4),
                    validation_accuracy: Some(0.8 + epoch as f32 * 1e-3),
                    validation_rmse: None,
                    validation_mae: None,
                    images_per_sec: 1000.0,
                    duration_secs: 1.0,
                },
            ));
        }
        let report = recorder.finish(RunEnd::Finished { test: None });
        if let Some(problem) = report.problems.first() {
            return Err(BenchError::Checkpoint(problem.clone()));
        }
    }
    drop(store);
    let mut times = Vec::with_capacity(repeats.max(1));
    for _ in 0..repeats.max(1) {
        let started = Instant::now();
        let listed = RunStore::open(&path)
            .and_then(|store| store.list(&RunFilter::default()))
            .map_err(fail)?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
        if listed.len() != runs {
            return Err(BenchError::Checkpoint(format!(
                "listed {} runs of {runs}",
                listed.len()
            )));
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(ListingReport {
        runs,
        epochs_per_run: epochs,
        open_and_list_ms: round1(times[times.len() / 2]),
    })
}

/// How long the Runs tab's chart data takes: reading `runs` runs of `steps` steps each from
/// the store and thinning their curves, as the tab does off the UI thread when they are ticked.
#[derive(Clone, Debug, Serialize)]
pub struct OverlayReport {
    pub runs: usize,
    pub steps_per_run: usize,
    /// Median over `repeats` of opening the store and reading every run's curves.
    pub read_ms: f64,
    /// Points drawn per run and curve at most.
    pub points_per_curve: usize,
}

/// Fills a store at `path` (kept: the window can be pointed at it) with `runs` finished runs
/// of `steps` batch steps (a noisy falling loss, epochs of 1,000 steps), then times reading
/// their curves.
pub fn run_overlay_bench(
    path: &std::path::Path,
    runs: usize,
    steps: usize,
    repeats: usize,
) -> Result<OverlayReport, BenchError> {
    use crate::store::{Recorder, RunEnd, RunFilter, RunStore};
    let fail = |e: crate::store::StoreError| BenchError::Checkpoint(e.to_string());
    let record = iris_record()?;
    let mut store = RunStore::open(path).map_err(fail)?;
    for run in 0..runs {
        let recorder =
            Recorder::start(store.create_run(&record, None, None).map_err(fail)?).map_err(fail)?;
        for step in 1..=steps {
            let wobble = ((step * 7_919 + run * 104_729) % 1_000) as f32 / 4_000.0;
            let loss = 2.0 / (1.0 + step as f32 / 2_000.0) + wobble + run as f32 * 0.01;
            recorder.observe(&crate::train::TrainEvent::Batch(
                crate::train::BatchMetrics {
                    step,
                    epoch: (step - 1) / 1_000,
                    loss,
                    accuracy: Some(0.5),
                    learning_rate: 1e-3,
                    samples: 64,
                    train_secs: step as f64 * 2e-3,
                },
            ));
            if step % 1_000 == 0 {
                recorder.observe(&crate::train::TrainEvent::Epoch(
                    crate::train::EpochMetrics {
                        epoch: step / 1_000 - 1,
                        step,
                        train_loss: loss,
                        train_accuracy: Some(0.8),
                        train_rmse: None,
                        validation_loss: Some(loss * 0.9),
                        validation_accuracy: Some(0.8),
                        validation_rmse: None,
                        validation_mae: None,
                        images_per_sec: 1_000.0,
                        duration_secs: 2.0,
                    },
                ));
            }
        }
        let report = recorder.finish(RunEnd::Finished { test: None });
        if let Some(problem) = report.problems.first() {
            return Err(BenchError::Checkpoint(problem.clone()));
        }
    }
    drop(store);
    let mut times = Vec::with_capacity(repeats.max(1));
    let mut points = 0;
    for _ in 0..repeats.max(1) {
        let started = Instant::now();
        let store = RunStore::open(path).map_err(fail)?;
        let rows = store.list(&RunFilter::default()).map_err(fail)?;
        for row in rows {
            let curves = store.curves(row).map_err(fail)?;
            points = points.max(curves.loss_by_step.len());
        }
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok(OverlayReport {
        runs,
        steps_per_run: steps,
        read_ms: round1(times[times.len() / 2]),
        points_per_curve: points,
    })
}

/// A tiny tabular model's speed, where per-step overhead dominates: optimizer steps per second.
#[derive(Clone, Debug, Serialize)]
pub struct TabularReport {
    pub dataset: String,
    pub preset: String,
    pub batch_size: usize,
    pub train_steps_per_s: f64,
    pub predict_us: f64,
    pub runs: usize,
}

/// Measures `preset` (sized for the dataset's outputs) on `dataset`: 2,000 steps per timed run.
pub fn run_tabular_bench(
    preset_name: &str,
    dataset: &Dataset,
    runs: usize,
) -> Result<TabularReport, BenchError> {
    let runs = runs.max(1);
    let preset = preset(preset_name)
        .ok_or_else(|| BenchError::NoPreset(preset_name.to_string()))?
        .with_outputs(dataset.outputs());
    let batch_size = preset.batch_size;
    let (samples_per_s, predict) =
        crate::train::in_compute_pool(|| bench_preset_here(&preset, dataset, 2_000, runs))?;
    Ok(TabularReport {
        dataset: dataset.card.dataset.clone(),
        preset: preset_name.to_string(),
        batch_size,
        train_steps_per_s: round1(samples_per_s / batch_size as f64),
        predict_us: round1(predict),
        runs,
    })
}

fn bench_preset(
    name: &str,
    dataset: &Dataset,
    batches_per_run: usize,
    runs: usize,
) -> Result<(f64, f64), BenchError> {
    let preset = preset(name).ok_or_else(|| BenchError::NoPreset(name.to_string()))?;
    // Measured the way training runs: inside the compute pool (see `train::in_compute_pool`).
    crate::train::in_compute_pool(|| bench_preset_here(&preset, dataset, batches_per_run, runs))
}

fn bench_preset_here(
    preset: &Preset,
    dataset: &Dataset,
    batches_per_run: usize,
    runs: usize,
) -> Result<(f64, f64), BenchError> {
    let plan = validate(&preset.spec, dataset.input_shape(), dataset.outputs())?;
    let loss = preset
        .loss
        .unwrap_or_else(|| LossKind::default_for(dataset.task()));
    let scaling = dataset.card.preprocessing.target;
    let device = Cpu::seed_from_u64(0);
    let mut model = Model::initialise(preset.spec.clone(), plan, &device, 0);
    let mut optimizer = Optimizer::new(preset.optimizer.clone(), &model.params)?;
    let batch_size = preset.batch_size;
    let all: Vec<u32> = (0..dataset.train.len() as u32).collect();
    let mut position = 0;
    let mut inputs = Vec::new();
    let mut step = |model: &mut Model| -> Result<(), BenchError> {
        if position >= all.len() {
            position = 0;
        }
        let batch = &all[position..(position + batch_size).min(all.len())];
        position += batch_size;
        let targets = timed(OpKind::Batching, || {
            dataset.train.fill_inputs(batch, &mut inputs);
            dataset
                .train
                .fill_targets(batch, dataset.outputs(), scaling.as_ref())
        });
        train_step(model, &mut optimizer, inputs.clone(), targets, loss)
            .map(|_| ())
            .map_err(BenchError::from)
    };
    for _ in 0..WARM_UP_BATCHES {
        step(&mut model)?;
    }
    profile::reset();
    let mut rates = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        for _ in 0..batches_per_run {
            step(&mut model)?;
        }
        rates.push((batches_per_run * batch_size) as f64 / started.elapsed().as_secs_f64());
    }
    if profile::profiling() {
        print_profile(batches_per_run * runs);
    }

    let mut one = Vec::new();
    dataset.train.fill_inputs(&[0], &mut one);
    let inference = InferenceModel::new(&model);
    let predict = || softmax(&inference.predict(&one, 1));
    for _ in 0..PREDICT_WARM_UP {
        std::hint::black_box(predict());
    }
    let mut latencies = Vec::with_capacity(PREDICT_CALLS);
    for _ in 0..PREDICT_CALLS {
        let started = Instant::now();
        std::hint::black_box(predict());
        latencies.push(started.elapsed().as_secs_f64() * 1e6);
    }
    Ok((median(rates), median(latencies)))
}

/// Each kind of op's time per step, to stderr (`LAYERLAB_PROFILE_OPS=1`).
fn print_profile(steps: usize) {
    let totals = profile::totals();
    let step_total: f64 = totals
        .iter()
        .filter(|(k, _)| {
            matches!(
                k,
                OpKind::Forward | OpKind::Backward | OpKind::Optimizer | OpKind::Batching
            )
        })
        .map(|(_, s)| s)
        .sum();
    eprintln!("time per step by op ({steps} steps):");
    for (kind, seconds) in totals {
        eprintln!(
            "  {:<32} {:>8.1} us  {:>5.1}%",
            kind.label(),
            seconds / steps as f64 * 1e6,
            100.0 * seconds / step_total.max(1e-12)
        );
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}
