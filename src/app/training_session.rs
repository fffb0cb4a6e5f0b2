//! One training run as the window sees it: the engine's worker handle, its status and progress.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::train::{PreparedJob, TrainCommand, TrainEvent, TrainingHandle, Waker};

#[derive(Clone, Debug, PartialEq)]
pub enum RunStatus {
    Running,
    Paused,
    Stopping,
    Finished,
    Failed(String),
}

/// Progress shown in the top bar.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Progress {
    pub step: usize,
    pub total_steps: usize,
    pub steps_per_epoch: usize,
    pub images_per_sec: f64,
    pub eta_secs: Option<f64>,
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
}

/// Seconds of recent batches the live images/s figure averages over.
const RATE_WINDOW: Duration = Duration::from_secs(3);

pub struct TrainingSession {
    handle: TrainingHandle,
    pub status: RunStatus,
    pub progress: Progress,
    pub batch_size: usize,
    recent_steps: VecDeque<(Instant, usize)>,
}

impl TrainingSession {
    pub fn start(job: PreparedJob, waker: Waker) -> std::io::Result<Self> {
        let batch_size = job.config.batch_size;
        Ok(Self {
            handle: TrainingHandle::spawn(job, Some(waker))?,
            status: RunStatus::Running,
            progress: Progress::default(),
            batch_size,
            recent_steps: VecDeque::new(),
        })
    }

    pub fn is_active(&self) -> bool {
        matches!(
            self.status,
            RunStatus::Running | RunStatus::Paused | RunStatus::Stopping
        )
    }

    pub fn send(&mut self, command: TrainCommand) {
        if command == TrainCommand::Stop && self.is_active() {
            self.status = RunStatus::Stopping;
        }
        let _ = self.handle.send(command);
    }

    /// Takes the events that arrived, for at most `budget`, keeping the frame short.
    pub fn drain(&mut self, budget: Duration) -> Vec<TrainEvent> {
        let started = Instant::now();
        let mut events = Vec::new();
        while started.elapsed() < budget {
            let Ok(event) = self.handle.events().try_recv() else {
                break;
            };
            self.observe(&event);
            events.push(event);
        }
        events
    }

    fn observe(&mut self, event: &TrainEvent) {
        match event {
            TrainEvent::Started {
                total_steps,
                steps_per_epoch,
                ..
            } => {
                self.progress.total_steps = *total_steps;
                self.progress.steps_per_epoch = *steps_per_epoch;
            }
            TrainEvent::Batch(batch) => {
                self.progress.step = batch.step;
                let now = Instant::now();
                self.recent_steps.push_back((now, batch.step));
                while self
                    .recent_steps
                    .front()
                    .is_some_and(|(t, _)| now.duration_since(*t) > RATE_WINDOW)
                {
                    self.recent_steps.pop_front();
                }
                if let (Some((t0, s0)), Some((t1, s1))) =
                    (self.recent_steps.front(), self.recent_steps.back())
                {
                    let secs = t1.duration_since(*t0).as_secs_f64();
                    if secs > 0.0 && s1 > s0 {
                        let steps_per_sec = (s1 - s0) as f64 / secs;
                        self.progress.images_per_sec = steps_per_sec * self.batch_size as f64;
                        let remaining = self.progress.total_steps.saturating_sub(batch.step);
                        self.progress.eta_secs = Some(remaining as f64 / steps_per_sec);
                    }
                }
            }
            TrainEvent::Paused { .. } => self.status = RunStatus::Paused,
            TrainEvent::Resumed { .. } => self.status = RunStatus::Running,
            TrainEvent::Finished(_) => {
                self.status = RunStatus::Finished;
                self.progress.eta_secs = None;
            }
            TrainEvent::Failed { message } => self.status = RunStatus::Failed(message.clone()),
            _ => {}
        }
    }
}
