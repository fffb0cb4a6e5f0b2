//! Training throughput and time left, from the worker's own clock.
//!
//! Every batch event carries the samples it trained on and the worker's training seconds
//! (pauses left out), so these figures do not depend on when a driver receives the events: a
//! window busy with a file dialog, or a backlog drained in one frame, changes nothing.

use std::collections::VecDeque;

/// Seconds of training time the moving average spans.
pub const THROUGHPUT_WINDOW_SECS: f64 = 5.0;

/// A moving average of samples per second over the last [`THROUGHPUT_WINDOW_SECS`] of the
/// worker's training time.
#[derive(Clone, Debug, PartialEq)]
pub struct Throughput {
    window_secs: f64,
    /// `(training seconds, samples trained so far)` at each recorded batch, oldest first,
    /// starting from `(0, 0)`: the run's start.
    marks: VecDeque<(f64, usize)>,
}

impl Default for Throughput {
    fn default() -> Self {
        Self::new(THROUGHPUT_WINDOW_SECS)
    }
}

impl Throughput {
    pub fn new(window_secs: f64) -> Self {
        Self {
            window_secs,
            marks: VecDeque::from([(0.0, 0)]),
        }
    }

    /// Samples trained so far.
    pub fn samples(&self) -> usize {
        self.marks.back().map_or(0, |m| m.1)
    }

    /// Records a batch of `samples` that ended at `train_secs` on the worker's clock.
    pub fn record(&mut self, train_secs: f64, samples: usize) {
        let total = self.samples() + samples;
        self.marks.push_back((train_secs, total));
        // Keep one mark at or before the window's start, so the window is always full.
        while self.marks.len() > 2 && train_secs - self.marks[1].0 >= self.window_secs {
            self.marks.pop_front();
        }
    }

    /// Samples per second over the window; `None` before any time has passed.
    pub fn samples_per_sec(&self) -> Option<f64> {
        let (&(t0, n0), &(t1, n1)) = (self.marks.front()?, self.marks.back()?);
        let secs = t1 - t0;
        (secs > 0.0 && n1 > n0).then(|| (n1 - n0) as f64 / secs)
    }

    /// Seconds left to train `total_samples` at the current rate. `running_for` is how long
    /// the run has been training since the last recorded batch (0 while paused), so the
    /// figure counts down between slow steps instead of freezing.
    pub fn eta_secs(&self, total_samples: usize, running_for: f64) -> Option<f64> {
        let rate = self.samples_per_sec()?;
        let left = total_samples.saturating_sub(self.samples()) as f64 / rate;
        Some((left - running_for.max(0.0)).max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_samples_over_worker_seconds_in_the_window() {
        let mut throughput = Throughput::new(5.0);
        assert_eq!(throughput.samples_per_sec(), None);
        // 32 samples every 0.1 s on the worker's clock, however late the events arrive.
        for step in 1..=10 {
            throughput.record(step as f64 * 0.1, 32);
        }
        let rate = throughput.samples_per_sec().unwrap();
        assert!((rate - 320.0).abs() < 1e-9, "{rate}");
        assert_eq!(throughput.samples(), 320);
    }

    #[test]
    fn a_one_sample_epoch_is_one_sample_not_a_batch_size() {
        // A 1-image subset with batch 4096 trains 1 sample per step.
        let mut throughput = Throughput::new(5.0);
        throughput.record(0.5, 1);
        throughput.record(1.0, 1);
        assert!((throughput.samples_per_sec().unwrap() - 2.0).abs() < 1e-9);
    }

    #[test]
    fn old_batches_leave_the_moving_average() {
        let mut throughput = Throughput::new(5.0);
        // 10 s at 100 samples/s, then 10 s at 1,000 samples/s.
        for s in 1..=10 {
            throughput.record(s as f64, 100);
        }
        for s in 11..=20 {
            throughput.record(s as f64, 1_000);
        }
        assert!((throughput.samples_per_sec().unwrap() - 1_000.0).abs() < 1e-9);
        assert!(
            throughput.marks.len() <= 7,
            "bounded: {}",
            throughput.marks.len()
        );
    }

    #[test]
    fn eta_counts_down_between_events_and_stops_at_zero() {
        let mut throughput = Throughput::new(5.0);
        throughput.record(1.0, 100); // 100 samples/s
        assert_eq!(throughput.eta_secs(1_100, 0.0), Some(10.0));
        // 4 s later with no event yet (slow steps): 6 s left, not a frozen 10.
        assert_eq!(throughput.eta_secs(1_100, 4.0), Some(6.0));
        assert_eq!(throughput.eta_secs(1_100, 60.0), Some(0.0));
        assert_eq!(Throughput::new(5.0).eta_secs(1_100, 1.0), None);
    }
}
