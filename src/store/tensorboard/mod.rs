//! Runs as TensorBoard event files, one folder per run: scalars per step (`train/loss`,
//! `train/accuracy`, `lr`) and per epoch (`epoch/train_loss`, `val/accuracy`, ...), the test
//! metrics, and the HParams plugin's session start and end, so TensorBoard's HParams tab
//! lists the runs with their settings and final metrics. Written from the store
//! (`runs export-tensorboard`) or live while training (`train --tensorboard DIR`).

mod proto;
mod record_io;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use prost::Message;

pub use proto::{Event, HParamsPluginData, ProtoValue, SummaryValue};
pub use record_io::records;

use super::{RunRecord, RunStore, StoreError};
use crate::train::{BatchMetrics, EpochMetrics, Evaluation, TrainEvent};
use proto::{PluginData, SessionEndInfo, SessionStartInfo, Summary, SummaryMetadata};

/// How a session (a run) ended, as the HParams plugin says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionStatus {
    /// Stopped or interrupted: neither a success nor a failure.
    Unknown = 0,
    Success = 1,
    Failure = 2,
    Running = 3,
}

/// One event file being written.
pub struct EventFile {
    out: std::io::BufWriter<std::fs::File>,
    path: PathBuf,
    framed: Vec<u8>,
}

impl EventFile {
    /// Creates `dir` and an event file in it, starting with the file-version event.
    pub fn create(dir: &Path, wall_time: f64) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(StoreError::io(format!("cannot create {}", dir.display())))?;
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
        let path = dir.join(format!(
            "events.out.tfevents.{}.{host}.layerlab",
            wall_time as u64
        ));
        let file = std::fs::File::create(&path)
            .map_err(StoreError::io(format!("cannot create {}", path.display())))?;
        let mut events = Self {
            out: std::io::BufWriter::new(file),
            path,
            framed: Vec::new(),
        };
        events.write(&Event {
            wall_time,
            step: 0,
            file_version: Some("brain.Event:2".into()),
            summary: None,
        })?;
        Ok(events)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write(&mut self, event: &Event) -> Result<(), StoreError> {
        self.framed.clear();
        record_io::frame(&event.encode_to_vec(), &mut self.framed);
        self.out
            .write_all(&self.framed)
            .map_err(StoreError::io(format!(
                "cannot write {}",
                self.path.display()
            )))
    }

    fn summary(
        &mut self,
        step: usize,
        wall_time: f64,
        value: SummaryValue,
    ) -> Result<(), StoreError> {
        self.write(&Event {
            wall_time,
            step: step as i64,
            file_version: None,
            summary: Some(Summary { value: vec![value] }),
        })
    }

    /// One scalar; a value that is not a number is left out.
    pub fn scalar(
        &mut self,
        tag: &str,
        step: usize,
        value: f64,
        wall_time: f64,
    ) -> Result<(), StoreError> {
        if !value.is_finite() {
            return Ok(());
        }
        let value = SummaryValue {
            tag: tag.into(),
            simple_value: Some(value as f32),
            metadata: None,
        };
        self.summary(step, wall_time, value)
    }

    fn hparams(
        &mut self,
        tag: &str,
        data: HParamsPluginData,
        wall_time: f64,
    ) -> Result<(), StoreError> {
        let value = SummaryValue {
            tag: tag.into(),
            simple_value: None,
            metadata: Some(SummaryMetadata {
                plugin_data: Some(PluginData {
                    plugin_name: "hparams".into(),
                    content: data.encode_to_vec(),
                }),
            }),
        };
        self.summary(0, wall_time, value)
    }

    /// The HParams plugin's session start: the run's settings.
    pub fn session_start(&mut self, record: &RunRecord, start: f64) -> Result<(), StoreError> {
        let data = HParamsPluginData {
            version: 0,
            session_start_info: Some(SessionStartInfo {
                hparams: hparams_of(record),
                group_name: String::new(),
                start_time_secs: start,
            }),
            session_end_info: None,
        };
        self.hparams("_hparams_/session_start_info", data, start)
    }

    /// The HParams plugin's session end.
    pub fn session_end(&mut self, status: SessionStatus, end: f64) -> Result<(), StoreError> {
        let data = HParamsPluginData {
            version: 0,
            session_start_info: None,
            session_end_info: Some(SessionEndInfo {
                status: status as i32,
                end_time_secs: end,
            }),
        };
        self.hparams("_hparams_/session_end_info", data, end)
    }

    pub fn flush(&mut self) -> Result<(), StoreError> {
        self.out.flush().map_err(StoreError::io(format!(
            "cannot write {}",
            self.path.display()
        )))
    }

    fn batch(&mut self, batch: &BatchMetrics, wall_time: f64) -> Result<(), StoreError> {
        self.scalar("train/loss", batch.step, f64::from(batch.loss), wall_time)?;
        if let Some(accuracy) = batch.accuracy {
            self.scalar("train/accuracy", batch.step, f64::from(accuracy), wall_time)?;
        }
        self.scalar("lr", batch.step, batch.learning_rate, wall_time)
    }

    fn epoch(&mut self, epoch: &EpochMetrics, wall_time: f64) -> Result<(), StoreError> {
        let step = epoch.step;
        let scalars = [
            ("epoch/train_loss", Some(epoch.train_loss)),
            ("epoch/train_accuracy", epoch.train_accuracy),
            ("epoch/train_rmse", epoch.train_rmse),
            ("val/loss", epoch.validation_loss),
            ("val/accuracy", epoch.validation_accuracy),
            ("val/rmse", epoch.validation_rmse),
            ("val/mae", epoch.validation_mae),
        ];
        for (tag, value) in scalars {
            if let Some(value) = value {
                self.scalar(tag, step, f64::from(value), wall_time)?;
            }
        }
        self.scalar(
            "epoch/samples_per_sec",
            step,
            epoch.images_per_sec,
            wall_time,
        )
    }

    fn test(&mut self, test: &Evaluation, step: usize, wall_time: f64) -> Result<(), StoreError> {
        self.scalar("test/loss", step, f64::from(test.loss), wall_time)?;
        if let Some(accuracy) = test.accuracy {
            self.scalar("test/accuracy", step, f64::from(accuracy), wall_time)?;
        }
        if let Some(regression) = test.regression {
            self.scalar("test/rmse", step, f64::from(regression.rmse), wall_time)?;
            self.scalar("test/mae", step, f64::from(regression.mae), wall_time)?;
        }
        Ok(())
    }
}

/// A run's settings as HParams: the optimizer and its hyperparameters, the loss, batch
/// size, epochs, seed, the dataset, the preset and the stack's summary.
pub fn hparams_of(record: &RunRecord) -> BTreeMap<String, ProtoValue> {
    let mut out = BTreeMap::new();
    let number = |v: f64| ProtoValue {
        number_value: Some(v),
        ..ProtoValue::default()
    };
    let text = |v: &str| ProtoValue {
        string_value: Some(v.to_string()),
        ..ProtoValue::default()
    };
    let settings = &record.settings;
    out.insert("optimizer".into(), text(settings.optimizer.name()));
    if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(&settings.optimizer) {
        for (key, value) in fields {
            match value {
                serde_json::Value::Number(n) => {
                    out.insert(
                        format!("optimizer.{key}"),
                        number(n.as_f64().unwrap_or(0.0)),
                    );
                }
                serde_json::Value::Bool(b) => {
                    out.insert(
                        format!("optimizer.{key}"),
                        ProtoValue {
                            bool_value: Some(b),
                            ..ProtoValue::default()
                        },
                    );
                }
                serde_json::Value::Null
                | serde_json::Value::String(_)
                | serde_json::Value::Array(_)
                | serde_json::Value::Object(_) => {}
            }
        }
    }
    out.insert("loss".into(), text(settings.loss.name()));
    out.insert("batch_size".into(), number(settings.batch_size as f64));
    out.insert("epochs".into(), number(settings.epochs as f64));
    out.insert("seed".into(), number(settings.seed as f64));
    out.insert("dataset".into(), text(&record.card.dataset));
    out.insert(
        "preset".into(),
        text(record.preset.as_deref().unwrap_or("custom")),
    );
    out.insert("stack".into(), text(&super::stack_summary(&record.stack)));
    out
}

/// A run's folder name: its name made safe for a path, then the start of its id.
pub fn run_folder(name: &str, id: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}_{}", &id[..id.len().min(6)])
}

/// Writes run `id` from the store into `out/<its folder>/`; returns the event file.
pub fn export_run(store: &RunStore, id: &str, out: &Path) -> Result<PathBuf, StoreError> {
    let row = store.row(id)?;
    let record = store.record(id)?;
    let mut file = EventFile::create(&out.join(run_folder(&row.name, id)), row.created_at)?;
    file.session_start(&record, row.created_at)?;
    let at = |secs: f64| row.created_at + secs;
    store.for_each_step(id, |batch| file.batch(&batch, at(batch.train_secs)))?;
    // An epoch's wall time: the run's start plus the epochs' durations so far.
    let mut elapsed = 0.0;
    for epoch in store.epochs(id)? {
        elapsed += epoch.duration_secs;
        file.epoch(&epoch, at(elapsed))?;
    }
    let details = store.details(id)?;
    if let Some(test) = details
        .test
        .and_then(|t| serde_json::from_value::<TestJson>(t).ok())
    {
        let end = row.created_at + row.train_secs;
        file.scalar("test/loss", row.last_step, f64::from(test.loss), end)?;
        if let Some(accuracy) = test.accuracy {
            file.scalar("test/accuracy", row.last_step, f64::from(accuracy), end)?;
        }
        if let Some(regression) = test.regression {
            file.scalar("test/rmse", row.last_step, f64::from(regression.rmse), end)?;
            file.scalar("test/mae", row.last_step, f64::from(regression.mae), end)?;
        }
    }
    let status = match row.status.as_str() {
        "finished" => Some(SessionStatus::Success),
        "failed" => Some(SessionStatus::Failure),
        "running" => None,
        _ => Some(SessionStatus::Unknown),
    };
    if let Some(status) = status {
        file.session_end(status, row.created_at + row.train_secs)?;
    }
    file.flush()?;
    Ok(file.path().to_path_buf())
}

/// The test evaluation as the store keeps it (JSON of [`Evaluation`]'s metrics).
#[derive(serde::Deserialize)]
struct TestJson {
    loss: f32,
    accuracy: Option<f32>,
    regression: Option<crate::train::RegressionMetrics>,
}

/// `train --tensorboard DIR`: a run's event file written as it trains.
pub struct LiveLog {
    file: EventFile,
    started: f64,
}

impl LiveLog {
    pub fn start(dir: &Path, name: &str, id: &str, record: &RunRecord) -> Result<Self, StoreError> {
        let started = super::now();
        let mut file = EventFile::create(&dir.join(run_folder(name, id)), started)?;
        file.session_start(record, started)?;
        file.flush()?;
        Ok(Self { file, started })
    }

    /// Writes what `event` says (batches, epochs, the end).
    pub fn observe(&mut self, event: &TrainEvent) -> Result<(), StoreError> {
        match event {
            TrainEvent::Batch(batch) => self.file.batch(batch, self.started + batch.train_secs),
            TrainEvent::Epoch(epoch) => {
                self.file.epoch(epoch, super::now())?;
                self.file.flush()
            }
            TrainEvent::Finished(summary) => {
                if let Some(test) = &summary.test {
                    self.file.test(test, summary.steps, super::now())?;
                }
                self.file
                    .session_end(SessionStatus::Success, super::now())?;
                self.file.flush()
            }
            TrainEvent::Failed { .. } => {
                self.file
                    .session_end(SessionStatus::Failure, super::now())?;
                self.file.flush()
            }
            TrainEvent::Started { .. }
            | TrainEvent::Snapshot { .. }
            | TrainEvent::Checkpoint { .. }
            | TrainEvent::Health(_)
            | TrainEvent::RolledBack { .. }
            | TrainEvent::Paused { .. }
            | TrainEvent::Resumed { .. }
            | TrainEvent::LearningRateChanged { .. }
            | TrainEvent::Evaluating { .. } => Ok(()),
        }
    }
}

/// Every event of an event file, its framing and CRCs checked.
pub fn read_events(path: &Path) -> Result<Vec<Event>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    records(&bytes)?
        .into_iter()
        .map(|data| Event::decode(data).map_err(|e| e.to_string()))
        .collect()
}
