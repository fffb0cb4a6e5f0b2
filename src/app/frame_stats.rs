//! Frame times: a ring of recent CPU times per frame, with percentiles for the overlay.

use std::collections::VecDeque;

/// Frames kept (about ten seconds at 60 fps).
const WINDOW: usize = 600;

#[derive(Default)]
pub struct FrameStats {
    cpu_ms: VecDeque<f32>,
}

impl FrameStats {
    pub fn record(&mut self, ms: f32) {
        if self.cpu_ms.len() == WINDOW {
            self.cpu_ms.pop_front();
        }
        self.cpu_ms.push_back(ms);
    }

    pub fn len(&self) -> usize {
        self.cpu_ms.len()
    }

    /// The `q` quantile (0..=1) of recent frame times in milliseconds.
    pub fn percentile(&self, q: f32) -> Option<f32> {
        if self.cpu_ms.is_empty() {
            return None;
        }
        let mut sorted: Vec<f32> = self.cpu_ms.iter().copied().collect();
        sorted.sort_by(f32::total_cmp);
        let index = ((sorted.len() - 1) as f32 * q.clamp(0.0, 1.0)).round() as usize;
        Some(sorted[index])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_window() {
        let mut stats = FrameStats::default();
        for ms in 1..=100 {
            stats.record(ms as f32);
        }
        assert_eq!(stats.percentile(0.5), Some(51.0));
        assert_eq!(stats.percentile(0.99), Some(99.0));
        for _ in 0..WINDOW {
            stats.record(2.0);
        }
        assert_eq!(stats.len(), WINDOW);
        assert_eq!(stats.percentile(1.0), Some(2.0));
    }
}
