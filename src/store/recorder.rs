//! Records a run from a thread of its own: the driver hands over each event (a channel send,
//! nothing more on the training side) and the thread writes them in one transaction at most
//! every second, checkpoints as they come. A kill loses at most the last second.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{unbounded, Receiver, RecvTimeoutError, Sender};
use rusqlite::{params, Connection, Transaction};

use super::checkpoint_file::CheckpointWriter;
use super::{connect, RunLease, StoreError};
use crate::train::{BatchMetrics, EpochMetrics, Evaluation, TrainEvent, TrainState};

/// The longest a recorded event waits before it is written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Rows written in one transaction at most.
const FLUSH_ROWS: usize = 8_192;

/// How a recorded run ended.
#[derive(Clone, Debug, PartialEq)]
pub enum RunEnd {
    /// Trained all its epochs; the test evaluation, when there was one.
    Finished {
        test: Option<Evaluation>,
    },
    /// Stopped by the user at a step (resumable from its last checkpoint).
    Stopped,
    Failed {
        message: String,
    },
    /// The driver went away without saying how the run ended.
    Interrupted,
}

/// What recording did not manage to write, for the user ("not recorded: ...").
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecordReport {
    pub problems: Vec<String>,
}

enum Message {
    Batch(BatchMetrics),
    Epoch(EpochMetrics),
    Health {
        step: usize,
        json: String,
    },
    Event {
        step: usize,
        kind: &'static str,
        detail: String,
    },
    Checkpoint(Arc<TrainState>),
    End(RunEnd),
}

/// The id of the run a [`recording_observer`] records, once the store has made it (empty
/// until then, and for good when the run could not be recorded).
pub type RunIdSlot = Arc<std::sync::OnceLock<String>>;

/// Records runs on the worker thread ([`crate::train::TrainingHandle::spawn_observed`]): the
/// store is opened, the host read and the run created (or continued, as `target` says) at its
/// first event, off the driver's thread (`record.host` is filled in then); the run's id is put
/// in the slot returned. A store that cannot be used is said on standard error and the run
/// trains unrecorded.
pub fn recording_observer(
    store: std::path::PathBuf,
    record: super::RunRecord,
    target: super::RunTarget,
) -> (crate::train::Observer, RunIdSlot) {
    let slot = RunIdSlot::default();
    let id = slot.clone();
    let mut pending = Some((store, record, target));
    let mut recorder: Option<Recorder> = None;
    let observer = Box::new(move |event: &TrainEvent| {
        if let Some((store, mut record, target)) = pending.take() {
            // Read here, on the worker thread (a file read on Linux).
            record.host = super::Host::this_machine();
            let started = super::RunStore::open(&store)
                .and_then(|mut opened| opened.lease(&record, target))
                .and_then(Recorder::start);
            match started {
                Ok(started) => {
                    let _ = id.set(started.id().to_string());
                    recorder = Some(started);
                }
                Err(error) => eprintln!("warning: this run is not recorded: {error}"),
            }
        }
        if let Some(recorder) = &recorder {
            recorder.observe(event);
        }
    });
    (observer, slot)
}

/// Hands a run's events to the recording thread.
pub struct Recorder {
    id: String,
    sender: Sender<Message>,
    thread: Option<JoinHandle<RecordReport>>,
}

impl Recorder {
    /// Starts recording the run of `lease` into its store.
    pub fn start(lease: RunLease) -> Result<Self, StoreError> {
        let connection = connect(&lease.store)?;
        let checkpoints = CheckpointWriter::new(&lease.store, &lease.id);
        let (sender, receiver) = unbounded();
        let id = lease.id.clone();
        let thread = std::thread::Builder::new()
            .name("layerlab-record".into())
            .spawn(move || {
                let mut writer = Writer {
                    connection,
                    lease,
                    checkpoints,
                    pending: Vec::new(),
                    report: RecordReport::default(),
                    last_validation: None,
                };
                writer.run(&receiver);
                writer.report
            })
            .map_err(StoreError::io("cannot start the recording thread"))?;
        Ok(Self {
            id,
            sender,
            thread: Some(thread),
        })
    }

    /// The run's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Records what `event` says about the run (batches, epochs, health, checkpoints,
    /// learning-rate changes, pauses, and how it ended: `Finished`, stopped or not, or
    /// `Failed`); the rest is for the driver alone.
    pub fn observe(&self, event: &TrainEvent) {
        let message = match event {
            TrainEvent::Batch(batch) => Message::Batch(batch.clone()),
            TrainEvent::Epoch(epoch) => Message::Epoch(epoch.clone()),
            TrainEvent::Health(report) => Message::Health {
                step: report.step,
                json: super::to_json(report),
            },
            TrainEvent::Checkpoint { state, .. } => Message::Checkpoint(state.clone()),
            TrainEvent::LearningRateChanged {
                step,
                learning_rate,
            } => Message::Event {
                step: *step,
                kind: "learning_rate",
                detail: learning_rate.to_string(),
            },
            TrainEvent::Paused { step } => Message::Event {
                step: *step,
                kind: "paused",
                detail: String::new(),
            },
            TrainEvent::Resumed { step } => Message::Event {
                step: *step,
                kind: "resumed",
                detail: String::new(),
            },
            TrainEvent::RolledBack {
                step,
                restored_step,
                loss,
                ..
            } => Message::Event {
                step: *step,
                kind: "rolled_back",
                detail: format!("loss {loss} at step {step}; back to step {restored_step}"),
            },
            TrainEvent::Finished(summary) => Message::End(if summary.stopped_early {
                RunEnd::Stopped
            } else {
                RunEnd::Finished {
                    test: summary.test.clone(),
                }
            }),
            TrainEvent::Failed { message } => Message::End(RunEnd::Failed {
                message: message.clone(),
            }),
            TrainEvent::Started { .. }
            | TrainEvent::Snapshot { .. }
            | TrainEvent::Evaluating { .. } => return,
        };
        // The thread only ends after `End`; a send cannot fail before `finish`.
        let _ = self.sender.send(message);
    }

    /// Waits for everything to be written and says what could not be. A run whose end was
    /// not observed (the driver gave up) is recorded as `end`.
    pub fn finish(mut self, end: RunEnd) -> RecordReport {
        let _ = self.sender.send(Message::End(end));
        self.join()
    }

    fn join(&mut self) -> RecordReport {
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(report)) => report,
            Some(Err(_)) => RecordReport {
                problems: vec!["the recording thread failed".into()],
            },
            None => RecordReport::default(),
        }
    }
}

impl Drop for Recorder {
    /// A driver that goes away without `finish` (an error on its side) leaves the run
    /// interrupted at its last step, everything before written.
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.sender.send(Message::End(RunEnd::Interrupted));
            self.join();
        }
    }
}

/// The recording thread's state.
struct Writer {
    connection: Connection,
    lease: RunLease,
    checkpoints: CheckpointWriter,
    pending: Vec<Message>,
    report: RecordReport,
    /// (step, score) of the newest epoch's validation metric, higher better.
    last_validation: Option<(usize, f64)>,
}

impl Writer {
    fn run(&mut self, receiver: &Receiver<Message>) {
        let mut last_flush = Instant::now();
        loop {
            let wait = FLUSH_EVERY.saturating_sub(last_flush.elapsed());
            match receiver.recv_timeout(wait) {
                Ok(Message::Checkpoint(state)) => {
                    self.flush();
                    last_flush = Instant::now();
                    self.checkpoint(&state);
                }
                Ok(Message::End(end)) => {
                    self.flush();
                    self.end(&end);
                    return;
                }
                Ok(message) => {
                    if let Message::Epoch(epoch) = &message {
                        self.last_validation = validation_score(epoch).map(|s| (epoch.step, s));
                    }
                    self.pending.push(message);
                    if self.pending.len() >= FLUSH_ROWS {
                        self.flush();
                        last_flush = Instant::now();
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    self.flush();
                    return;
                }
            }
            if last_flush.elapsed() >= FLUSH_EVERY {
                self.flush();
                last_flush = Instant::now();
            }
        }
    }

    fn problem(&mut self, what: &str, error: impl std::fmt::Display) {
        // The same failure every second is said once.
        let line = format!("{what}: {error}");
        if !self.report.problems.contains(&line) {
            self.report.problems.push(line);
        }
    }

    /// Writes the pending rows in one transaction.
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        let id = self.lease.id.clone();
        let result = self
            .connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(StoreError::from)
            .and_then(|transaction| {
                write_rows(&transaction, &id, &pending)?;
                transaction.commit()?;
                Ok(())
            });
        if let Err(error) = result {
            self.problem("metrics not recorded", error);
        }
    }

    fn checkpoint(&mut self, state: &TrainState) {
        let score = self
            .last_validation
            .filter(|(step, _)| *step == state.position.step)
            .map(|(_, score)| score);
        if let Err(error) = self.checkpoints.write(&self.connection, state, score) {
            // The previous checkpoint stays valid.
            self.problem("checkpoint not written", error);
        }
    }

    fn end(&mut self, end: &RunEnd) {
        let (status, message, test) = match end {
            RunEnd::Finished { test } => ("finished", None, test.as_ref()),
            RunEnd::Stopped => ("stopped", None, None),
            RunEnd::Failed { message } => ("failed", Some(message.clone()), None),
            RunEnd::Interrupted => {
                let last: Option<i64> = self
                    .connection
                    .query_row(
                        "SELECT last_step FROM runs WHERE id = ?1",
                        [&self.lease.id],
                        |row| row.get(0),
                    )
                    .ok();
                let message = format!("interrupted at step {}", last.unwrap_or(0));
                ("interrupted", Some(message), None)
            }
        };
        let result = self.connection.execute(
            "UPDATE runs SET status = ?2, message = ?3, ended_at = ?4, test_json = ?5,
                test_accuracy = ?6, test_rmse = ?7
             WHERE id = ?1",
            params![
                self.lease.id,
                status,
                message,
                super::now(),
                test.map(super::to_json),
                test.and_then(|t| t.accuracy),
                test.and_then(|t| t.regression.map(|r| r.rmse)),
            ],
        );
        if let Err(error) = result {
            self.problem("the run's end not recorded", error);
        }
    }
}

/// Higher is better: accuracy, or minus the RMSE, or minus the loss.
fn validation_score(epoch: &EpochMetrics) -> Option<f64> {
    epoch
        .validation_accuracy
        .map(f64::from)
        .or(epoch.validation_rmse.map(|r| -f64::from(r)))
        .or(epoch.validation_loss.map(|l| -f64::from(l)))
        .filter(|s| s.is_finite())
}

fn write_rows(transaction: &Transaction, id: &str, pending: &[Message]) -> Result<(), StoreError> {
    let mut steps = transaction.prepare_cached(
        "INSERT OR REPLACE INTO steps (run_id, step, epoch, loss, accuracy, learning_rate, samples, train_secs)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut epochs = transaction.prepare_cached(
        "INSERT OR REPLACE INTO epochs (run_id, epoch, step, train_loss, train_accuracy, train_rmse,
            val_loss, val_accuracy, val_rmse, val_mae, samples_per_sec, duration_secs)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    let mut health = transaction.prepare_cached(
        "INSERT OR REPLACE INTO health (run_id, step, report_json) VALUES (?1, ?2, ?3)",
    )?;
    let mut events = transaction.prepare_cached(
        "INSERT INTO run_events (run_id, step, kind, detail) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let (mut last_step, mut last_secs, mut epochs_done) = (None, None, None);
    for message in pending {
        match message {
            Message::Batch(b) => {
                // A loss that is not a number is stored as NULL, never as a result.
                steps.execute(params![
                    id,
                    b.step as i64,
                    b.epoch as i64,
                    finite(b.loss),
                    b.accuracy.and_then(finite),
                    b.learning_rate,
                    b.samples as i64,
                    b.train_secs,
                ])?;
                last_step = Some(b.step);
                last_secs = Some(b.train_secs);
            }
            Message::Epoch(e) => {
                epochs.execute(params![
                    id,
                    e.epoch as i64,
                    e.step as i64,
                    finite(e.train_loss),
                    e.train_accuracy.and_then(finite),
                    e.train_rmse.and_then(finite),
                    e.validation_loss.and_then(finite),
                    e.validation_accuracy.and_then(finite),
                    e.validation_rmse.and_then(finite),
                    e.validation_mae.and_then(finite),
                    e.images_per_sec,
                    e.duration_secs,
                ])?;
                epochs_done = Some(e.epoch + 1);
            }
            Message::Health { step, json } => {
                health.execute(params![id, *step as i64, json])?;
            }
            Message::Event { step, kind, detail } => {
                events.execute(params![id, *step as i64, kind, detail])?;
            }
            Message::Checkpoint(_) | Message::End(_) => {}
        }
    }
    if let Some(step) = last_step {
        transaction.execute(
            "UPDATE runs SET last_step = ?2, train_secs = ?3 WHERE id = ?1",
            params![id, step as i64, last_secs.unwrap_or(0.0)],
        )?;
    }
    if let Some(done) = epochs_done {
        transaction.execute(
            "UPDATE runs SET epochs_completed = ?2 WHERE id = ?1",
            params![id, done as i64],
        )?;
    }
    Ok(())
}

fn finite(value: f32) -> Option<f32> {
    value.is_finite().then_some(value)
}
