//! The run's clock: seconds of training, time spent paused left out. The worker stamps its
//! batches with it; the window shows a run's elapsed time with it.

use std::time::{Duration, Instant};

/// Seconds of training on a monotonic clock, time spent paused left out.
#[derive(Clone, Debug)]
pub struct TrainClock {
    started: Instant,
    paused_at: Option<Instant>,
    paused_for: Duration,
}

impl TrainClock {
    pub fn start() -> Self {
        Self {
            started: Instant::now(),
            paused_at: None,
            paused_for: Duration::ZERO,
        }
    }

    /// A clock that already shows `secs` of training (a run resumed from a checkpoint).
    pub fn start_at(secs: f64) -> Self {
        let mut clock = Self::start();
        let ahead = Duration::try_from_secs_f64(secs).unwrap_or(Duration::ZERO);
        // Moving the start back; where the monotonic clock cannot go that far back, from now.
        clock.started = clock.started.checked_sub(ahead).unwrap_or(clock.started);
        clock
    }

    pub fn pause(&mut self) {
        self.paused_at.get_or_insert_with(Instant::now);
    }

    pub fn resume(&mut self) {
        if let Some(at) = self.paused_at.take() {
            self.paused_for += at.elapsed();
        }
    }

    /// Time trained so far; while paused, the time up to the pause (it stands still).
    pub fn elapsed(&self) -> Duration {
        let until = match self.paused_at {
            Some(at) => at.duration_since(self.started),
            None => self.started.elapsed(),
        };
        until.saturating_sub(self.paused_for)
    }

    pub fn seconds(&self) -> f64 {
        self.elapsed().as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_stands_still_while_paused() {
        let mut clock = TrainClock::start();
        clock.pause();
        let at_pause = clock.elapsed();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(clock.elapsed(), at_pause);
        clock.resume();
        assert!(clock.elapsed() >= at_pause);
    }
}
