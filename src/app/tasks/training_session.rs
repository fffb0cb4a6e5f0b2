//! One training run as the window sees it: the engine's worker handle, the run's own stack
//! and settings, its status and progress.

use crossbeam_channel::Receiver;
use std::time::{Duration, Instant};

use crate::data::DataCard;
use crate::display::{format_secs, thousands};
use crate::spec::ModelSpec;
use crate::train::{
    PreparedJob, Throughput, TrainClock, TrainCommand, TrainEvent, TrainingHandle, Waker,
};

#[derive(Clone, Debug, PartialEq)]
pub enum RunStatus {
    Running,
    Paused,
    /// Stop was pressed; the worker ends after its current batch.
    Stopping,
    /// The test evaluation that ends a normal run.
    Evaluating {
        done: usize,
        total: usize,
    },
    /// Trained every epoch (and evaluated, unless that was skipped).
    Finished,
    /// Ended early by Stop, with the weights it had.
    Stopped,
    Failed(String),
}

/// Progress shown in the top bar: counts from the run itself, rates from the worker's clock.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Progress {
    pub step: usize,
    pub total_steps: usize,
    pub steps_per_epoch: usize,
    /// Samples the whole run trains on (train samples x epochs).
    pub total_samples: usize,
    pub throughput: Throughput,
}

impl Progress {
    pub fn fraction(&self) -> f32 {
        if self.total_steps == 0 {
            0.0
        } else {
            self.step as f32 / self.total_steps as f32
        }
    }

    /// 1-based epoch the current step belongs to.
    pub fn epoch(&self) -> usize {
        self.step
            .saturating_sub(1)
            .checked_div(self.steps_per_epoch)
            .map_or(0, |epoch| epoch + 1)
    }

    /// Epochs of the run (not of the settings panel, which may have changed since).
    pub fn epochs(&self) -> usize {
        self.total_steps
            .checked_div(self.steps_per_epoch)
            .unwrap_or(0)
    }
}

/// The line in the top bar's progress bar. `running_for` is the time since the last batch
/// arrived while the run trains (for an ETA that counts down between slow steps).
pub fn status_line(status: &RunStatus, progress: &Progress, running_for: f64) -> String {
    let steps = format!(
        "step {} of {}",
        thousands(progress.step),
        thousands(progress.total_steps)
    );
    let epoch = format!("epoch {}/{}", progress.epoch().max(1), progress.epochs());
    let rate = progress
        .throughput
        .samples_per_sec()
        .map_or(String::new(), |r| {
            format!(" · {} img/s", thousands(r.round() as usize))
        });
    match status {
        RunStatus::Running => {
            let eta = progress
                .throughput
                .eta_secs(progress.total_samples, running_for)
                .map_or(String::new(), |s| format!(" · ETA {}", format_secs(s)));
            format!("Training · {epoch} · {steps}{rate}{eta}")
        }
        RunStatus::Paused => format!("Paused · {epoch} · {steps}{rate}"),
        RunStatus::Stopping => format!("Stopping after {steps}…"),
        RunStatus::Evaluating { done, total } => format!(
            "Evaluating on the test set: {} of {} images",
            thousands(*done),
            thousands(*total)
        ),
        RunStatus::Finished => format!("Finished · {epoch} · {steps}"),
        RunStatus::Stopped => format!("Stopped at {steps}"),
        RunStatus::Failed(_) => format!("Failed at {steps}"),
    }
}

pub struct TrainingSession {
    /// `None` once the run was cancelled: the worker is being shut down elsewhere.
    handle: Option<TrainingHandle>,
    /// The stack the run trains (snapshots are weights for it), whatever the designer does.
    pub spec: ModelSpec,
    /// The data the run trains on, saved with its weights.
    pub card: DataCard,
    /// The run's settings, saved with its weights for the record.
    pub config: crate::train::TrainConfig,
    pub status: RunStatus,
    pub progress: Progress,
    /// When the newest batch event arrived, for the ETA between events.
    last_batch_at: Option<Instant>,
    /// The run's time, pauses left out (the "elapsed" of the status line).
    clock: TrainClock,
    /// Time the run trained (pauses left out), once it ended.
    ended_after: Option<Duration>,
    /// The run's id in the store, once its recorder has made it.
    run_id: crate::store::RunIdSlot,
}

impl TrainingSession {
    /// Starts `job`; `recorder` (the run recorder and the slot of the id it records under)
    /// sees its events on the worker thread.
    pub fn start(
        job: PreparedJob,
        spec: ModelSpec,
        waker: Waker,
        recorder: Option<(crate::train::Observer, crate::store::RunIdSlot)>,
    ) -> std::io::Result<Self> {
        let (observer, run_id) = recorder.unzip();
        let card = job.dataset.card.clone();
        let config = job.config.clone();
        Ok(Self {
            handle: Some(TrainingHandle::spawn_observed(job, Some(waker), observer)?),
            spec,
            card,
            config,
            status: RunStatus::Running,
            progress: Progress::default(),
            last_batch_at: None,
            clock: TrainClock::start(),
            ended_after: None,
            run_id: run_id.unwrap_or_default(),
        })
    }

    /// The run's id in the store (`None` before its recorder made it, or unrecorded).
    pub fn run_id(&self) -> Option<&str> {
        self.run_id.get().map(String::as_str)
    }

    pub fn is_active(&self) -> bool {
        matches!(
            self.status,
            RunStatus::Running
                | RunStatus::Paused
                | RunStatus::Stopping
                | RunStatus::Evaluating { .. }
        )
    }

    /// Wall time since the run started, or that it took once it ended.
    pub fn elapsed(&self) -> Duration {
        self.ended_after.unwrap_or_else(|| self.clock.elapsed())
    }

    pub fn send(&mut self, command: TrainCommand) {
        if command == TrainCommand::Stop {
            match self.status {
                // A second Stop while the worker finishes a long batch: do not wait for it.
                RunStatus::Stopping => return self.cancel(),
                RunStatus::Running | RunStatus::Paused => self.status = RunStatus::Stopping,
                RunStatus::Evaluating { .. }
                | RunStatus::Finished
                | RunStatus::Stopped
                | RunStatus::Failed(_) => {}
            }
        }
        if let Some(handle) = &self.handle {
            let _ = handle.send(command);
        }
    }

    /// Ends the run now without waiting for the worker: it is cancelled and joined on a
    /// thread of its own, so the window never blocks on a long batch.
    pub fn cancel(&mut self) {
        if let Some(handle) = self.handle.take() {
            // Dropping the handle cancels and joins; if no thread can start, the worker
            // still sees its channels close and ends on its own.
            let _ = std::thread::Builder::new()
                .name("layerlab-cancel".into())
                .spawn(move || drop(handle));
        }
        if self.is_active() {
            self.status = RunStatus::Stopped;
            self.ended_after = Some(self.clock.elapsed());
        }
    }

    /// Seconds the run has trained since its newest batch arrived (0 unless running).
    pub fn running_for(&self) -> f64 {
        match (&self.status, self.last_batch_at) {
            (RunStatus::Running, Some(at)) => at.elapsed().as_secs_f64(),
            (RunStatus::Running, None)
            | (
                RunStatus::Paused
                | RunStatus::Stopping
                | RunStatus::Evaluating { .. }
                | RunStatus::Finished
                | RunStatus::Stopped
                | RunStatus::Failed(_),
                _,
            ) => 0.0,
        }
    }

    pub fn status_line(&self) -> String {
        status_line(&self.status, &self.progress, self.running_for())
    }

    /// Events waiting in the channel.
    pub fn backlog(&self) -> usize {
        self.handle
            .as_ref()
            .and_then(TrainingHandle::try_events)
            .map_or(0, Receiver::len)
    }

    /// Moves waiting events into `events` for at most `budget`, and at most `limit` of them.
    pub fn drain(&mut self, budget: Duration, limit: usize, events: &mut Vec<TrainEvent>) {
        let started = Instant::now();
        while events.len() < limit && started.elapsed() < budget {
            let Some(Ok(event)) = self
                .handle
                .as_ref()
                .and_then(TrainingHandle::try_events)
                .map(Receiver::try_recv)
            else {
                break;
            };
            self.observe(&event);
            events.push(event);
        }
    }

    fn observe(&mut self, event: &TrainEvent) {
        match event {
            TrainEvent::Started {
                total_steps,
                steps_per_epoch,
                train_samples,
                ..
            } => {
                self.progress.total_steps = *total_steps;
                self.progress.steps_per_epoch = *steps_per_epoch;
                self.progress.total_samples =
                    train_samples * total_steps.checked_div(*steps_per_epoch).unwrap_or(0);
            }
            TrainEvent::Batch(batch) => {
                self.progress.step = batch.step;
                self.progress
                    .throughput
                    .record(batch.train_secs, batch.samples);
                self.last_batch_at = Some(Instant::now());
            }
            TrainEvent::Paused { .. } => {
                self.status = RunStatus::Paused;
                self.clock.pause();
            }
            TrainEvent::Resumed { .. } => {
                self.status = RunStatus::Running;
                self.clock.resume();
                self.last_batch_at = Some(Instant::now());
            }
            TrainEvent::Evaluating { done, total } => {
                self.status = RunStatus::Evaluating {
                    done: *done,
                    total: *total,
                }
            }
            TrainEvent::Finished(summary) => {
                self.ended_after = Some(self.clock.elapsed());
                self.status = if summary.stopped_early {
                    RunStatus::Stopped
                } else {
                    RunStatus::Finished
                };
            }
            TrainEvent::Failed { message } => {
                self.ended_after = Some(self.clock.elapsed());
                self.status = RunStatus::Failed(message.clone());
            }
            TrainEvent::Epoch(_)
            | TrainEvent::Snapshot { .. }
            | TrainEvent::Checkpoint { .. }
            | TrainEvent::Health(_)
            | TrainEvent::RolledBack { .. }
            | TrainEvent::LearningRateChanged { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(step: usize) -> Progress {
        let mut throughput = Throughput::new(5.0);
        throughput.record(2.0, step * 32); // 32 samples a step, 2 s so far
        Progress {
            step,
            total_steps: 1_719,
            steps_per_epoch: 1_719,
            total_samples: 55_000,
            throughput,
        }
    }

    #[test]
    fn the_status_line_uses_the_runs_own_counts() {
        let p = progress(14);
        assert_eq!(
            status_line(&RunStatus::Stopped, &p, 0.0),
            "Stopped at step 14 of 1,719"
        );
        // 448 samples in 2 s = 224 img/s; (55,000 - 448) / 224 = 243.5 s left.
        assert_eq!(
            status_line(&RunStatus::Running, &p, 0.0),
            "Training · epoch 1/1 · step 14 of 1,719 · 224 img/s · ETA 4m04s"
        );
        // Ten seconds without a batch: the ETA keeps counting down.
        assert!(status_line(&RunStatus::Running, &p, 10.0).ends_with("ETA 3m54s"));
        // Paused: no ETA at all.
        assert_eq!(
            status_line(&RunStatus::Paused, &p, 10.0),
            "Paused · epoch 1/1 · step 14 of 1,719 · 224 img/s"
        );
        assert_eq!(
            status_line(
                &RunStatus::Evaluating {
                    done: 2_500,
                    total: 10_000
                },
                &p,
                0.0
            ),
            "Evaluating on the test set: 2,500 of 10,000 images"
        );
    }
}
