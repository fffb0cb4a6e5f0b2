//! Frame times: a ring of recent CPU times per frame, with percentiles for the overlay.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::LayerLabApp;

/// CPU time the calling thread has used (Unix), so a frame's own work can be told from the
/// time it waited for a core: on 2 cores, training and a software renderer leave the UI
/// thread half a core, and its wall time doubles.
pub fn thread_cpu_time() -> Option<Duration> {
    #[cfg(unix)]
    {
        let mut time = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime only writes one timespec through the pointer, which points
        // at a live, writable local.
        let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut time) };
        (status == 0).then(|| Duration::new(time.tv_sec as u64, time.tv_nsec as u32))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

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

    /// Forgets the frames so far (a run starts: its frames are measured on their own).
    pub fn clear(&mut self) {
        self.cpu_ms.clear();
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

impl LayerLabApp {
    pub(super) fn log_frame_stats(&mut self) {
        // LAYERLAB_FRAME_STATS=1 prints frame-time percentiles every 5 s (for measurements).
        if std::env::var_os("LAYERLAB_FRAME_STATS").is_some()
            && self.frame_log_at.elapsed() > Duration::from_secs(5)
        {
            self.frame_log_at = Instant::now();
            eprintln!(
                "{} training={}",
                self.frame_times_line(),
                self.training_active()
            );
        }
    }

    /// "frame_ms p50=… p99=… frame_cpu_ms p50=… p99=… frames=…": wall and CPU time of the
    /// recent frames, for the measurement lines.
    pub(super) fn frame_times_line(&self) -> String {
        let (wall, cpu) = (&self.frame_stats, &self.frame_cpu_stats);
        format!(
            "frame_ms p50={:.2} p99={:.2} frame_cpu_ms p50={:.2} p99={:.2} frames={}",
            wall.percentile(0.5).unwrap_or(0.0),
            wall.percentile(0.99).unwrap_or(0.0),
            cpu.percentile(0.5).unwrap_or(0.0),
            cpu.percentile(0.99).unwrap_or(0.0),
            wall.len(),
        )
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
