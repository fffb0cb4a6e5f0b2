//! Everything a run reported, kept whole, plus the reductions charts draw from it.
//!
//! Plain data with no GUI types: the window's charts are a function over a [`MetricsHistory`],
//! and the smoothing and downsampling here are tested like any other numerics.

use super::{BatchMetrics, EpochMetrics, HealthReport, TrainEvent};

/// Health reports kept at most; beyond it every other one is dropped, so the kept ones still
/// span the whole run (a report every 100 steps of a 360,000-step run is 3,600).
pub const MAX_HEALTH_REPORTS: usize = 1_000;

/// Every batch and epoch metric of one run, in order. Nothing is dropped: charts downsample
/// what they draw with [`downsample_min_max`], not what is kept (a 10-epoch cnn run is
/// ~17,000 batches, well under a megabyte).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricsHistory {
    pub batches: Vec<BatchMetrics>,
    pub epochs: Vec<EpochMetrics>,
    pub steps_per_epoch: usize,
    pub total_steps: usize,
    /// Training-health reports, oldest first (thinned past [`MAX_HEALTH_REPORTS`]).
    pub health: Vec<HealthReport>,
    /// Steps the run wrote a checkpoint at.
    pub checkpoints: Vec<usize>,
    /// Early stopping's end: the epoch (0-based) whose weights it put back, and the one
    /// after which it stopped the run.
    pub restored_epoch: Option<usize>,
    pub stopped_after_epoch: Option<usize>,
}

impl MetricsHistory {
    /// Records what an event carries; other events are ignored.
    pub fn record(&mut self, event: &TrainEvent) {
        /// Batches reserved up front at most (about 60 MB); a longer run grows as needed.
        const MAX_RESERVED_BATCHES: usize = 1_000_000;
        match event {
            TrainEvent::Started {
                steps_per_epoch,
                total_steps,
                first_step,
                ..
            } => {
                // A run resumed or forked at `first_step` goes on from the metrics before it
                // (put here from the record); a new run starts empty.
                let mut batches = std::mem::take(&mut self.batches);
                batches.retain(|b| b.step <= *first_step);
                // Room for the whole run at once: growing by doubling copied a long run's
                // history (17 MB at 360,000 steps) inside a frame.
                batches.reserve((*total_steps).min(MAX_RESERVED_BATCHES));
                let mut epochs = std::mem::take(&mut self.epochs);
                epochs.retain(|e| e.step <= *first_step);
                let mut checkpoints = std::mem::take(&mut self.checkpoints);
                checkpoints.retain(|&step| step <= *first_step);
                *self = Self {
                    steps_per_epoch: *steps_per_epoch,
                    total_steps: *total_steps,
                    batches,
                    epochs,
                    checkpoints,
                    ..Self::default()
                };
            }
            TrainEvent::Batch(batch) => self.batches.push(batch.clone()),
            TrainEvent::Epoch(epoch) => self.epochs.push(epoch.clone()),
            TrainEvent::Health(report) => {
                if self.health.len() >= MAX_HEALTH_REPORTS {
                    let mut index = 0;
                    self.health.retain(|_| {
                        index += 1;
                        index % 2 == 0
                    });
                }
                self.health.push((**report).clone());
            }
            TrainEvent::Checkpoint { step, .. } => self.checkpoints.push(*step),
            TrainEvent::Finished(summary) => {
                self.restored_epoch = summary.restored_epoch;
                self.stopped_after_epoch = summary.stopped_after_epoch;
            }
            TrainEvent::Snapshot { .. }
            | TrainEvent::RolledBack { .. }
            | TrainEvent::Paused { .. }
            | TrainEvent::Resumed { .. }
            | TrainEvent::LearningRateChanged { .. }
            | TrainEvent::Evaluating { .. }
            | TrainEvent::Failed { .. } => {}
        }
    }

    /// Writes every batch and epoch as CSV rows (one header; empty cells where a row has no
    /// such figure), for a spreadsheet or pandas.
    pub fn write_csv(&self, out: impl std::io::Write) -> csv::Result<()> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record([
            "kind",
            "step",
            "epoch",
            "loss",
            "accuracy",
            "rmse",
            "validation_loss",
            "validation_accuracy",
            "validation_rmse",
            "learning_rate",
            "train_secs",
        ])?;
        let cell = |v: Option<f64>| v.map_or_else(String::new, |v| v.to_string());
        let f = |v: Option<f32>| v.map_or_else(String::new, |v| v.to_string());
        for b in &self.batches {
            writer.write_record([
                "batch".to_string(),
                b.step.to_string(),
                (b.epoch + 1).to_string(),
                b.loss.to_string(),
                f(b.accuracy),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                b.learning_rate.to_string(),
                b.train_secs.to_string(),
            ])?;
        }
        for e in &self.epochs {
            writer.write_record([
                "epoch".to_string(),
                e.step.to_string(),
                (e.epoch + 1).to_string(),
                e.train_loss.to_string(),
                f(e.train_accuracy),
                f(e.train_rmse),
                f(e.validation_loss),
                f(e.validation_accuracy),
                f(e.validation_rmse),
                String::new(),
                cell(Some(e.duration_secs)),
            ])?;
        }
        writer.flush()?;
        Ok(())
    }

    pub fn last_step(&self) -> usize {
        self.batches.last().map_or(0, |b| b.step)
    }
}

/// Exponential moving average, `smoothing` in [0, 1): 0 returns the values unchanged.
/// Debiased like TensorBoard's, so the first points are not pulled towards zero.
pub fn ema(values: &[f64], smoothing: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(values.len());
    ema_into(values.iter().copied(), smoothing, &mut out);
    out
}

/// [`ema`] of `values` written into `out` (cleared first), reusing its memory: the charts
/// smooth every step of a run on each refresh.
pub fn ema_into(values: impl Iterator<Item = f64>, smoothing: f64, out: &mut Vec<f64>) {
    let smoothing = smoothing.clamp(0.0, 0.999);
    let mut average = 0.0;
    let mut weight = 0.0;
    out.clear();
    out.extend(values.map(|v| {
        average = smoothing * average + (1.0 - smoothing) * v;
        weight = smoothing * weight + (1.0 - smoothing);
        average / weight
    }));
}

/// An exponential moving average fed one value at a time, bias-corrected like [`ema`]
/// (TensorBoard's debiased smoothing): `push` gives what `ema` gives at that position.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RunningEma {
    smoothing: f64,
    average: f64,
    weight: f64,
}

impl RunningEma {
    pub fn new(smoothing: f64) -> Self {
        Self {
            smoothing: smoothing.clamp(0.0, 0.999),
            average: 0.0,
            weight: 0.0,
        }
    }

    pub fn push(&mut self, value: f64) -> f64 {
        self.average = self.smoothing * self.average + (1.0 - self.smoothing) * value;
        self.weight = self.smoothing * self.weight + (1.0 - self.smoothing);
        self.average / self.weight
    }
}

/// Points in a bucket, and its lowest and highest point, each with its index.
type Bucket = (usize, (usize, [f64; 2]), (usize, [f64; 2]));

/// A series downsampled as it grows: points go into buckets of `bucket_len` consecutive
/// points, each keeping its lowest and highest (in order); when the buckets would exceed
/// half of `max_points`, neighbours merge and the buckets double in length. Each point costs
/// O(1) amortised, so a chart of a long run is not rebuilt from every step each frame, and
/// no extreme is ever lost (as with [`downsample_min_max`], buckets are only aligned
/// differently).
#[derive(Clone, Debug, PartialEq)]
pub struct MinMaxSeries {
    max_points: usize,
    bucket_len: usize,
    /// Full buckets, then the one being filled.
    buckets: Vec<Bucket>,
    len: usize,
    /// The newest point, always drawn (a live chart ends at the latest step).
    last: Option<[f64; 2]>,
}

impl Default for MinMaxSeries {
    /// Up to 1,000 points.
    fn default() -> Self {
        Self::new(1_000)
    }
}

impl MinMaxSeries {
    pub fn new(max_points: usize) -> Self {
        Self {
            max_points: max_points.max(4),
            bucket_len: 1,
            buckets: Vec::new(),
            len: 0,
            last: None,
        }
    }

    /// Points pushed so far.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn push(&mut self, point: [f64; 2]) {
        let index = self.len;
        self.len += 1;
        self.last = Some(point);
        match self.buckets.last_mut() {
            Some((count, low, high)) if *count < self.bucket_len => {
                *count += 1;
                if point[1] < low.1[1] {
                    *low = (index, point);
                }
                if point[1] > high.1[1] {
                    *high = (index, point);
                }
            }
            _ => self.buckets.push((1, (index, point), (index, point))),
        }
        if self.buckets.len() > self.max_points / 2 {
            self.merge();
        }
    }

    /// Pairs of buckets become one, twice as long.
    fn merge(&mut self) {
        let merged: Vec<_> = self
            .buckets
            .chunks(2)
            .map(|pair| {
                let mut bucket = pair[0];
                if let Some(&(count, low, high)) = pair.get(1) {
                    bucket.0 += count;
                    if low.1[1] < bucket.1 .1[1] {
                        bucket.1 = low;
                    }
                    if high.1[1] > bucket.2 .1[1] {
                        bucket.2 = high;
                    }
                }
                bucket
            })
            .collect();
        self.buckets = merged;
        self.bucket_len *= 2;
    }

    /// At most `max_points` + 1 points: each bucket's lowest and highest in the order they
    /// came, then the newest point unless it is one of those.
    pub fn points(&self) -> impl Iterator<Item = [f64; 2]> + '_ {
        let newest = self.len.checked_sub(1);
        let last_kept = self.buckets.last().map(|&(_, low, high)| low.0.max(high.0));
        let tail = match (self.last, newest) {
            (Some(point), Some(index)) if last_kept != Some(index) => Some(point),
            _ => None,
        };
        self.buckets
            .iter()
            .flat_map(|&(_, low, high)| {
                let (first, second) = if low.0 <= high.0 {
                    (low, high)
                } else {
                    (high, low)
                };
                std::iter::once(first.1).chain((second.0 != first.0).then_some(second.1))
            })
            .chain(tail)
    }
}

/// Reduces `points` (sorted by x) to at most `max_points` by keeping the minimum and maximum
/// of equal-width buckets, in x order, so spikes stay visible. Short series are returned as is.
pub fn downsample_min_max(points: &[[f64; 2]], max_points: usize) -> Vec<[f64; 2]> {
    downsample_by(points.len(), max_points, |i| points[i])
}

/// [`downsample_min_max`] of the `len` points `point(0)..point(len - 1)`, without building
/// them all: a long run's chart is redrawn from 100,000s of steps.
pub fn downsample_by(
    len: usize,
    max_points: usize,
    point: impl Fn(usize) -> [f64; 2],
) -> Vec<[f64; 2]> {
    let max_points = max_points.max(2);
    if len <= max_points {
        return (0..len).map(point).collect();
    }
    let buckets = max_points / 2;
    let bucket_len = len.div_ceil(buckets);
    let mut out = Vec::with_capacity(buckets * 2);
    let mut start = 0;
    while start < len {
        let end = (start + bucket_len).min(len);
        let (mut low, mut high) = (point(start), point(start));
        let (mut low_at, mut high_at) = (start, start);
        for i in start + 1..end {
            let p = point(i);
            if p[1] < low[1] {
                (low, low_at) = (p, i);
            }
            if p[1] > high[1] {
                (high, high_at) = (p, i);
            }
        }
        if low_at <= high_at {
            out.push(low);
            if high_at != low_at {
                out.push(high);
            }
        } else {
            out.push(high);
            out.push(low);
        }
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ema_without_smoothing_is_the_identity_and_with_it_is_debiased() {
        assert_eq!(ema(&[1.0, 5.0, 3.0], 0.0), [1.0, 5.0, 3.0]);
        let smoothed = ema(&[2.0, 2.0, 2.0], 0.9);
        assert!(
            smoothed.iter().all(|v| (v - 2.0).abs() < 1e-12),
            "{smoothed:?}"
        );
        // Second value: (0.9 * 0.1 * 1 + 0.1 * 3) / (1 - 0.81) = 0.39 / 0.19.
        let smoothed = ema(&[1.0, 3.0], 0.9);
        assert!((smoothed[1] - 0.39 / 0.19).abs() < 1e-12);
    }

    #[test]
    fn downsampling_keeps_spikes_and_order() {
        let mut points: Vec<[f64; 2]> = (0..10_000).map(|i| [i as f64, 1.0]).collect();
        points[4321][1] = 50.0;
        points[777][1] = -3.0;
        let drawn = downsample_min_max(&points, 200);
        assert!(drawn.len() <= 200);
        assert!(drawn.contains(&[4321.0, 50.0]));
        assert!(drawn.contains(&[777.0, -3.0]));
        assert!(drawn.windows(2).all(|w| w[0][0] < w[1][0]));
        assert_eq!(downsample_min_max(&points[..50], 200).len(), 50);
    }

    #[test]
    fn started_resets_and_batches_accumulate() {
        let mut history = MetricsHistory::default();
        history.record(&TrainEvent::Started {
            total_steps: 10,
            first_step: 0,
            steps_per_epoch: 5,
            train_samples: 160,
            validation_samples: 0,
            test_samples: 10,
            parameters: 1,
        });
        history.record(&TrainEvent::Batch(BatchMetrics {
            step: 1,
            epoch: 0,
            loss: 2.0,
            accuracy: Some(0.1),
            learning_rate: 0.1,
            samples: 32,
            train_secs: 0.5,
        }));
        assert_eq!(history.last_step(), 1);
        let mut csv = Vec::new();
        history.write_csv(&mut csv).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        assert_eq!(
            csv.lines().nth(1),
            Some("batch,1,1,2,0.1,,,,,0.1,0.5"),
            "{csv}"
        );
        assert_eq!(history.steps_per_epoch, 5);
    }

    #[test]
    fn a_run_started_at_a_later_step_keeps_the_metrics_before_it_only() {
        let batch = |step| {
            TrainEvent::Batch(BatchMetrics {
                step,
                epoch: (step - 1) / 5,
                loss: step as f32,
                accuracy: None,
                learning_rate: 0.1,
                samples: 32,
                train_secs: step as f64,
            })
        };
        let started = |first_step| TrainEvent::Started {
            total_steps: 20,
            first_step,
            steps_per_epoch: 5,
            train_samples: 160,
            validation_samples: 0,
            test_samples: 10,
            parameters: 1,
        };
        let mut history = MetricsHistory::default();
        for step in 1..=8 {
            history.record(&batch(step));
        }
        // Resumed (or forked) at step 5: steps 6 to 8 of the first try are forgotten.
        history.record(&started(5));
        assert_eq!(history.batches.len(), 5);
        history.record(&batch(6));
        let steps: Vec<usize> = history.batches.iter().map(|b| b.step).collect();
        assert_eq!(steps, [1, 2, 3, 4, 5, 6]);
        assert_eq!(history.total_steps, 20);
        // A new run starts empty.
        history.record(&started(0));
        assert!(history.batches.is_empty());
    }

    #[test]
    fn the_running_ema_matches_the_batch_one() {
        let values: Vec<f64> = (0..50).map(|i| ((i * 7) % 11) as f64).collect();
        let batch = ema(&values, 0.6);
        let mut running = RunningEma::new(0.6);
        for (v, expected) in values.iter().zip(&batch) {
            assert!((running.push(*v) - expected).abs() < 1e-12);
        }
    }

    #[test]
    fn a_growing_series_keeps_every_extreme_within_its_point_budget() {
        let mut series = MinMaxSeries::new(100);
        let y = |i: usize| ((i * 7919) % 1000) as f64 + if i == 31_337 { 1e6 } else { 0.0 };
        for i in 0..100_000 {
            series.push([i as f64, y(i)]);
            if i % 9_999 == 0 {
                assert!(
                    series.points().count() <= 101,
                    "{}",
                    series.points().count()
                );
                assert_eq!(series.points().last(), Some([i as f64, y(i)]));
            }
        }
        assert_eq!(series.len(), 100_000);
        let points: Vec<[f64; 2]> = series.points().collect();
        assert!(
            points.len() <= 101 && points.len() >= 50,
            "{}",
            points.len()
        );
        // In x order, the spike kept, the global minimum kept.
        assert!(points.windows(2).all(|w| w[0][0] < w[1][0]));
        assert!(points.contains(&[31_337.0, y(31_337)]));
        assert_eq!(
            points.iter().map(|p| p[1]).fold(f64::INFINITY, f64::min),
            0.0
        );
        // Fewer points than the budget: every point, in order.
        let mut short = MinMaxSeries::new(100);
        for i in 0..30 {
            short.push([i as f64, y(i)]);
        }
        assert_eq!(
            short.points().collect::<Vec<_>>(),
            (0..30).map(|i| [i as f64, y(i)]).collect::<Vec<_>>()
        );
    }
}
