//! A run's curves for a chart: its epochs, and its steps' loss and learning rate thinned to
//! a fixed number of points (the minimum and maximum of equal stretches, so spikes stay),
//! read one step at a time: a run of a million steps costs the same memory as one of a
//! thousand.

use super::{RunRow, RunStore, StoreError};
use crate::train::{EpochMetrics, MinMaxSeries};

/// Points each curve of a run keeps at most: 20 runs of 100,000 steps draw as fast as one.
pub const MAX_CURVE_POINTS: usize = 2_000;

/// One run's curves, thinned for drawing.
#[derive(Clone, Debug, PartialEq)]
pub struct RunCurves {
    pub row: RunRow,
    pub epochs: Vec<EpochMetrics>,
    /// Training loss and learning rate against the step and against seconds of training.
    pub loss_by_step: Vec<[f64; 2]>,
    pub loss_by_secs: Vec<[f64; 2]>,
    pub lr_by_step: Vec<[f64; 2]>,
    pub lr_by_secs: Vec<[f64; 2]>,
}

impl RunStore {
    /// The curves of the run `row` lists (a loss that was not a number is left out).
    pub fn curves(&self, row: RunRow) -> Result<RunCurves, StoreError> {
        let epochs = self.epochs(&row.id)?;
        let mut series: [MinMaxSeries; 4] =
            std::array::from_fn(|_| MinMaxSeries::new(MAX_CURVE_POINTS));
        self.for_each_step(&row.id, |batch| {
            let (step, secs) = (batch.step as f64, batch.train_secs);
            if batch.loss.is_finite() {
                series[0].push([step, f64::from(batch.loss)]);
                series[1].push([secs, f64::from(batch.loss)]);
            }
            series[2].push([step, batch.learning_rate]);
            series[3].push([secs, batch.learning_rate]);
            Ok(())
        })?;
        let [loss_by_step, loss_by_secs, lr_by_step, lr_by_secs] =
            series.map(|s| s.points().collect::<Vec<_>>());
        Ok(RunCurves {
            row,
            epochs,
            loss_by_step,
            loss_by_secs,
            lr_by_step,
            lr_by_secs,
        })
    }
}
