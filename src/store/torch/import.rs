//! `runs import DIR`: a PyTorch run of an exported folder brought back as a run of the store,
//! its parent the exported run. Everything is read and checked first (run.json, every line of
//! metrics.jsonl, the weights against the stack); only then is anything written.

use std::io::{BufRead, Read};
use std::path::Path;
use std::sync::Arc;

use dfdx::prelude::Cpu;
use serde::Deserialize;

use super::run_file::read_run_file;
use super::TorchError;
use crate::export::SavedModel;
use crate::optim::Optimizer;
use crate::store::{Parent, Recorder, RunEnd, RunStore, TorchHost};
use crate::train::{
    BatchMetrics, EpochMetrics, Evaluation, Position, RegressionMetrics, TrainEvent, TrainState,
};

/// Written into the folder by an import: the run it became and in which store, so the same
/// result is not imported twice.
pub const IMPORTED_FILE: &str = "imported.json";

#[derive(serde::Serialize, Deserialize)]
struct ImportedMark {
    run: String,
    store: std::path::PathBuf,
}

/// The run this folder was imported as into `store`, if it was and that run is still there.
fn imported_before(store: &RunStore, dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(IMPORTED_FILE)).ok()?;
    let mark: ImportedMark = serde_json::from_str(&text).ok()?;
    let same_store =
        std::fs::canonicalize(&mark.store).ok()? == std::fs::canonicalize(store.path()).ok()?;
    (same_store && store.row(&mark.run).is_ok()).then_some(mark.run)
}

/// A metrics line longer than this is refused (the longest real one is a few hundred bytes).
const MAX_LINE_BYTES: usize = 1 << 16;

/// What an import recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportReport {
    pub id: String,
    pub name: String,
    pub parent: String,
    pub torch: TorchHost,
    /// "test_accuracy=0.9812 test_loss=0.0601", when the run was tested.
    pub test_line: Option<String>,
    pub steps: usize,
    pub epochs: usize,
}

/// The events of a finished PyTorch run, as read from metrics.jsonl.
struct TorchMetrics {
    torch: TorchHost,
    batches: Vec<BatchMetrics>,
    epochs: Vec<EpochMetrics>,
    test: Option<Evaluation>,
    train_secs: f64,
}

#[derive(Deserialize)]
struct StartedLine {
    torch: StartedTorch,
}

#[derive(Deserialize)]
struct StartedTorch {
    version: String,
    world_size: usize,
    device: String,
    backend: Option<String>,
}

#[derive(Deserialize)]
struct BatchLine {
    step: usize,
    epoch: usize,
    loss: f32,
    accuracy: Option<f32>,
    learning_rate: f64,
    samples: usize,
    train_secs: f64,
}

#[derive(Deserialize)]
struct EpochLine {
    epoch: usize,
    step: usize,
    train_loss: f32,
    train_accuracy: Option<f32>,
    train_rmse: Option<f32>,
    validation_loss: Option<f32>,
    validation_accuracy: Option<f32>,
    validation_rmse: Option<f32>,
    validation_mae: Option<f32>,
    images_per_sec: f64,
    duration_secs: f64,
}

#[derive(Deserialize)]
struct FinishedLine {
    steps: usize,
    test: Option<TestLine>,
    duration_secs: f64,
}

#[derive(Deserialize)]
struct TestLine {
    loss: f32,
    accuracy: Option<f32>,
    regression: Option<RegressionMetrics>,
}

/// Brings the PyTorch run in `dir` (an export folder after `train.py` ran) into `store`.
pub fn import_run(store: &mut RunStore, dir: &Path) -> Result<ImportReport, TorchError> {
    let run_file = read_run_file(&dir.join("run.json")).map_err(TorchError::Import)?;
    if let Some(run) = imported_before(store, dir) {
        return Err(TorchError::Import(format!(
            "{} was imported already, as run {run}; train it again (python train.py) or delete that run to import it again",
            dir.display()
        )));
    }
    let metrics = read_metrics(&dir.join("metrics.jsonl"))?;
    let model_path = dir.join("model.safetensors");
    let saved = SavedModel::load(&model_path).map_err(|e| TorchError::Import(e.to_string()))?;
    if saved.spec != run_file.record.stack {
        return Err(TorchError::Import(format!(
            "{} holds another layer stack than the exported run's; nothing imported",
            model_path.display()
        )));
    }
    let model = saved
        .into_model(&Cpu::default(), &model_path.display().to_string())
        .map_err(|e| TorchError::Import(format!("{e}; nothing imported")))?;
    let optimizer = Optimizer::new(run_file.record.settings.optimizer.clone(), &model.params)
        .map_err(|e| TorchError::Import(format!("cannot make the optimizer's state: {e:?}")))?;
    let parent = store.row(&run_file.run.id).map_err(|_| {
        TorchError::Import(format!(
            "the exported run {} is not in this store ({}); import into the store it was exported from, with --store",
            run_file.run.id,
            store.path().display()
        ))
    })?;

    let mut record = run_file.record.clone();
    record.host.torch = Some(metrics.torch.clone());
    record.settings.epochs = metrics.epochs.len().max(record.settings.epochs);
    let name = format!("{} torch {}", parent.name, &metrics.torch.describe_short());
    let lease = store.create_run(
        &record,
        Some(name.clone()),
        Some(Parent {
            run: run_file.run.id.clone(),
            step: 0,
        }),
    )?;
    let recorder = Recorder::start(lease)?;
    let id = recorder.id().to_string();
    for batch in &metrics.batches {
        recorder.observe(&TrainEvent::Batch(batch.clone()));
    }
    for epoch in &metrics.epochs {
        recorder.observe(&TrainEvent::Epoch(epoch.clone()));
    }
    let steps = metrics.batches.last().map_or(0, |b| b.step);
    let state = TrainState {
        position: Position {
            step: steps,
            epoch: metrics.epochs.len(),
            epochs_completed: metrics.epochs.len(),
            train_secs: metrics.train_secs,
            ..Position::default()
        },
        weights: Arc::new(model.weights()),
        optimizer: optimizer.state(),
        best_weights: None,
    };
    recorder.observe(&TrainEvent::Checkpoint {
        step: steps,
        state: Arc::new(state),
    });
    let test_line = metrics.test.as_ref().map(|t| t.metrics_line("test"));
    let mark = ImportedMark {
        run: id.clone(),
        store: store.path().to_path_buf(),
    };
    let report = recorder.finish(RunEnd::Finished { test: metrics.test });
    if let Some(problem) = report.problems.first() {
        return Err(TorchError::Import(format!(
            "run {id} was imported in part: {problem}"
        )));
    }
    // Without the mark the run is still imported; only a second import goes unnoticed.
    if let Ok(text) = serde_json::to_string(&mark) {
        let _ = crate::export::write_atomically(&dir.join(IMPORTED_FILE), text.as_bytes());
    }
    Ok(ImportReport {
        id,
        name,
        parent: run_file.run.id,
        torch: metrics.torch,
        test_line,
        steps,
        epochs: metrics.epochs.len(),
    })
}

impl TorchHost {
    /// "2x gloo" or "cpu": what the run's name says of it.
    fn describe_short(&self) -> String {
        match &self.backend {
            Some(backend) => format!("{}x {backend}", self.world_size),
            None => self.device.clone(),
        }
    }
}

/// The lines of metrics.jsonl read so far.
#[derive(Default)]
struct Collected {
    torch: Option<TorchHost>,
    batches: Vec<BatchMetrics>,
    epochs: Vec<EpochMetrics>,
    finished: Option<FinishedLine>,
}

fn event<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
    kind: &str,
) -> Result<T, String> {
    serde_json::from_value(value)
        .map_err(|e| format!("not a {kind} event as train.py writes it ({e})"))
}

impl Collected {
    /// Takes one event; events LayerLab has and train.py does not write are passed over.
    fn take(&mut self, value: serde_json::Value) -> Result<(), String> {
        match value.get("event").and_then(|e| e.as_str()).unwrap_or("") {
            "started" => {
                let line: StartedLine = event(value, "started")?;
                self.torch = Some(TorchHost {
                    version: line.torch.version,
                    world_size: line.torch.world_size,
                    device: line.torch.device,
                    backend: line.torch.backend,
                });
            }
            "batch" => {
                let b: BatchLine = event(value, "batch")?;
                if !b.loss.is_finite() {
                    return Err(format!(
                        "the loss at step {} is {}: the run diverged",
                        b.step, b.loss
                    ));
                }
                self.batches.push(BatchMetrics {
                    step: b.step,
                    epoch: b.epoch,
                    loss: b.loss,
                    accuracy: b.accuracy,
                    learning_rate: b.learning_rate,
                    samples: b.samples,
                    train_secs: b.train_secs,
                });
            }
            "epoch" => {
                let e: EpochLine = event(value, "epoch")?;
                self.epochs.push(EpochMetrics {
                    epoch: e.epoch,
                    step: e.step,
                    train_loss: e.train_loss,
                    train_accuracy: e.train_accuracy,
                    train_rmse: e.train_rmse,
                    validation_loss: e.validation_loss,
                    validation_accuracy: e.validation_accuracy,
                    validation_rmse: e.validation_rmse,
                    validation_mae: e.validation_mae,
                    images_per_sec: e.images_per_sec,
                    duration_secs: e.duration_secs,
                });
            }
            "finished" => self.finished = Some(event(value, "finished")?),
            _ => {}
        }
        Ok(())
    }

    /// The whole run, once every line is read: a start, an end that counts the steps read,
    /// a finite test result.
    fn finish(self, lines: usize) -> Result<TorchMetrics, (usize, String)> {
        let torch = self.torch.ok_or((1, "the file is empty".to_string()))?;
        let finished = self.finished.ok_or((
            lines,
            "the file ends before the run's `finished` event: train.py did not finish, or the file was cut"
                .to_string(),
        ))?;
        let steps = self.batches.last().map_or(0, |b| b.step);
        if steps != finished.steps {
            return Err((
                lines,
                format!(
                    "the run's end counts {} steps but the file has {steps}",
                    finished.steps
                ),
            ));
        }
        let test = match finished.test {
            Some(t) => {
                let evaluation = Evaluation {
                    loss: t.loss,
                    accuracy: t.accuracy,
                    regression: t.regression,
                    predictions: Vec::new(),
                    confidences: Vec::new(),
                    predicted_values: Vec::new(),
                };
                if let Some((metric, value)) = evaluation.non_finite_metric() {
                    return Err((lines, format!("the test {metric} is {value}")));
                }
                Some(evaluation)
            }
            None => None,
        };
        Ok(TorchMetrics {
            torch,
            batches: self.batches,
            epochs: self.epochs,
            test,
            train_secs: finished.duration_secs,
        })
    }
}

/// One line as JSON. Python's json writes a diverged loss as NaN or Infinity, which JSON
/// has not: said as such rather than as a broken file.
fn parse_line(text: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(text).map_err(|e| {
        if ["NaN", "Infinity"].iter().any(|word| text.contains(word)) {
            "a value is not a number (NaN or Infinity): the PyTorch run diverged".to_string()
        } else {
            format!("not JSON ({e}); an edited file?")
        }
    })
}

/// Reads every line of metrics.jsonl: a `started` line first, a `finished` line last, every
/// number finite.
fn read_metrics(path: &Path) -> Result<TorchMetrics, TorchError> {
    let file = std::fs::File::open(path).map_err(|e| {
        TorchError::Import(format!(
            "cannot read {} ({e}); run train.py in the folder first",
            path.display()
        ))
    })?;
    let at = |line: usize, why: String| {
        TorchError::Import(format!(
            "{} line {line}: {why}; nothing imported",
            path.display()
        ))
    };
    let mut reader = std::io::BufReader::new(file);
    let mut collected = Collected::default();
    let mut text = String::new();
    let mut number = 0;
    loop {
        text.clear();
        let read = (&mut reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_line(&mut text)
            .map_err(|e| at(number + 1, format!("cannot read ({e})")))?;
        if read == 0 {
            break;
        }
        number += 1;
        let problem = if text.len() > MAX_LINE_BYTES {
            Some("a line longer than 64 KB".to_string())
        } else if text.trim().is_empty() {
            continue;
        } else if collected.finished.is_some() {
            Some("a line after the run's end".to_string())
        } else if !text.ends_with('\n') {
            Some("the file ends mid-line (truncated?)".to_string())
        } else {
            parse_line(&text)
                .and_then(|value| collected.take(value))
                .err()
        };
        if let Some(why) = problem {
            return Err(at(number, why));
        }
        if collected.torch.is_none() {
            return Err(at(
                number,
                "the first line is not the run's `started` event".into(),
            ));
        }
    }
    collected
        .finish(number)
        .map_err(|(line, why)| at(line, why))
}
