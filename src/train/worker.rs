//! Runs a training job on its own named thread, talking over crossbeam channels.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::thread::JoinHandle;

use crossbeam_channel::{bounded, unbounded, Receiver, Sender};

use super::pool::in_compute_pool;
use super::{run_training, PreparedJob, TrainError};
use super::{TrainCommand, TrainEvent};

/// Events buffered before the worker waits for the driver (backpressure, bounded memory:
/// at most 64 Ki events of at most 128 bytes, 8 MiB). A small model on 2-D points reports
/// 30,000 steps a second, and a window on a software renderer drains the channel once a
/// frame, a frame every 0.1-1 s: with 4,096 the worker waited for the window for 2 of the
/// 2.7 s a run took in the window, against 0.8 s in the CLI.
pub const EVENT_CAPACITY: usize = 65_536;

/// Called when a worker has something to show, so a window can wake up and repaint: after
/// each training event here, and by every background task of the window (one type for all
/// of them; shared, so one waker serves many tasks). Keeps the engine free of any GUI type.
pub type Waker = std::sync::Arc<dyn Fn() + Send + Sync + 'static>;

/// Sees every event on the worker thread before the driver does (a run recorder): whatever
/// it does happens off the driver's thread, which for a window is the UI thread.
pub type Observer = Box<dyn FnMut(&TrainEvent) + Send + 'static>;

/// A running training job. Dropping it cancels the run and joins the thread.
pub struct TrainingHandle {
    commands: Sender<TrainCommand>,
    /// The event channel, made by the worker: setting up its 64 Ki slots touches 9 MB, a
    /// 15 ms stall of the frame that pressed Train when the window made it.
    events: std::sync::OnceLock<Receiver<TrainEvent>>,
    /// Where the worker hands the event channel over.
    handover: Receiver<Receiver<TrainEvent>>,
    thread: Option<JoinHandle<()>>,
}

impl TrainingHandle {
    /// Starts `job` on a thread called "layerlab-train".
    pub fn spawn(job: PreparedJob, waker: Option<Waker>) -> std::io::Result<Self> {
        Self::spawn_observed(job, waker, None)
    }

    /// [`Self::spawn`], with `observer` seeing each event on the worker thread first; it is
    /// dropped when the worker ends (after the last event, or on a cancel without one).
    pub fn spawn_observed(
        job: PreparedJob,
        waker: Option<Waker>,
        mut observer: Option<Observer>,
    ) -> std::io::Result<Self> {
        let (command_tx, command_rx) = unbounded();
        let (handover_tx, handover_rx) = bounded(1);
        let thread = std::thread::Builder::new()
            .name("layerlab-train".into())
            .spawn(move || {
                let (event_tx, event_rx) = bounded(EVENT_CAPACITY);
                if handover_tx.send(event_rx).is_err() {
                    return; // the handle is gone already
                }
                let mut emit = move |event: TrainEvent| {
                    if let Some(observer) = &mut observer {
                        observer(&event);
                    }
                    let delivered = event_tx.send(event).is_ok();
                    if let Some(waker) = &waker {
                        waker();
                    }
                    delivered
                };
                let outcome = catch_unwind(AssertUnwindSafe(|| {
                    in_compute_pool(|| run_training(job, &command_rx, &mut emit))
                }));
                let last = match outcome {
                    Ok(Ok(summary)) => Some(TrainEvent::Finished(Box::new(summary))),
                    Ok(Err(TrainError::Cancelled)) => None,
                    Ok(Err(error)) => Some(TrainEvent::Failed {
                        message: error.to_string(),
                    }),
                    Err(panic) => Some(TrainEvent::Failed {
                        message: format!(
                            "internal error in the training thread: {}",
                            panic_message(&panic)
                        ),
                    }),
                };
                if let Some(event) = last {
                    emit(event);
                }
            })?;
        Ok(Self {
            commands: command_tx,
            events: std::sync::OnceLock::new(),
            handover: handover_rx,
            thread: Some(thread),
        })
    }

    /// Sends a command; false if the worker has already finished.
    pub fn send(&self, command: TrainCommand) -> bool {
        self.commands.send(command).is_ok()
    }

    /// The events, waiting for the worker to set the channel up if it has not yet (a
    /// moment, at the start).
    pub fn events(&self) -> &Receiver<TrainEvent> {
        self.events.get_or_init(|| {
            // A worker that ended before handing over leaves a closed, empty channel.
            self.handover.recv().unwrap_or_else(|_| bounded(0).1)
        })
    }

    /// The events if the worker has set the channel up, without waiting (for a UI thread).
    pub fn try_events(&self) -> Option<&Receiver<TrainEvent>> {
        if let Some(events) = self.events.get() {
            return Some(events);
        }
        let events = self.handover.try_recv().ok()?;
        Some(self.events.get_or_init(|| events))
    }

    /// Whether the worker thread has ended (its last event may still be queued).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }
}

impl Drop for TrainingHandle {
    fn drop(&mut self) {
        let _ = self.commands.send(TrainCommand::Cancel);
        // Drain so a worker blocked on a full channel can see the cancel, then join.
        while self.events().recv().is_ok() {}
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_event_channel_stays_small() {
        // The bound on the channel's memory in EVENT_CAPACITY's note.
        assert!(
            std::mem::size_of::<TrainEvent>() <= 128,
            "{} bytes",
            std::mem::size_of::<TrainEvent>()
        );
    }
}
