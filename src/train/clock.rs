//! The run's clock: seconds of training, time spent paused left out.

use std::time::{Duration, Instant};

/// Seconds of training on a monotonic clock, time spent paused left out.
pub(super) struct TrainClock {
    started: Instant,
    paused_at: Option<Instant>,
    paused_for: Duration,
}

impl TrainClock {
    pub(super) fn start() -> Self {
        Self {
            started: Instant::now(),
            paused_at: None,
            paused_for: Duration::ZERO,
        }
    }

    pub(super) fn pause(&mut self) {
        self.paused_at.get_or_insert_with(Instant::now);
    }

    pub(super) fn resume(&mut self) {
        if let Some(at) = self.paused_at.take() {
            self.paused_for += at.elapsed();
        }
    }

    pub(super) fn seconds(&self) -> f64 {
        (self.started.elapsed().saturating_sub(self.paused_for)).as_secs_f64()
    }
}
