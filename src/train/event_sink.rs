//! The one place every event leaves the training loop. Whoever drives the run (the worker
//! thread's channel, a test's closure, a future run recorder) sees exactly what passes here.

use super::{TrainError, TrainEvent};

/// Sends the loop's events to its driver and remembers whether the driver still listens.
pub(super) struct EventSink<'a> {
    emit: &'a mut (dyn FnMut(TrainEvent) -> bool + Send),
    listening: bool,
}

impl<'a> EventSink<'a> {
    /// `emit` returns false once nobody listens any more; the run then stops.
    pub(super) fn new(emit: &'a mut (dyn FnMut(TrainEvent) -> bool + Send)) -> Self {
        Self {
            emit,
            listening: true,
        }
    }

    /// Hands `event` to the driver (also after it stopped listening: the loop ends at its
    /// next check, not in the middle of a step).
    pub(super) fn send(&mut self, event: TrainEvent) {
        self.listening &= (self.emit)(event);
    }

    pub(super) fn listening(&self) -> bool {
        self.listening
    }

    /// `Err(Cancelled)` once the driver has gone away.
    pub(super) fn still_listening(&self) -> Result<(), TrainError> {
        if self.listening {
            Ok(())
        } else {
            Err(TrainError::Cancelled)
        }
    }
}
