//! A run's curves for a chart: its epochs, and its steps' loss and learning rate thinned to
//! a fixed number of points (the minimum and maximum of equal stretches, so spikes stay),
//! read one step at a time: a run of a million steps costs the same memory as one of a
//! thousand.

use rusqlite::OptionalExtension;

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
    /// Where a fork or a continuation leaves its parent's line (none for a first run, or
    /// when the parent is gone): its line starts there.
    pub join: Option<JoinPoint>,
}

/// A parent's point a child's line starts from: its last recorded step at or before the
/// fork, and its last epoch there.
#[derive(Clone, Debug, PartialEq)]
pub struct JoinPoint {
    pub step: usize,
    /// Seconds of training at that step.
    pub secs: f64,
    /// Not a number is left out.
    pub loss: Option<f64>,
    pub learning_rate: f64,
    pub epoch: Option<EpochMetrics>,
    /// The parent's epochs' durations up to and with that epoch (where its epoch points
    /// sit on a seconds axis).
    pub epoch_secs: f64,
}

impl RunStore {
    /// The curves of the run `row` lists (a loss that was not a number is left out).
    pub fn curves(&self, row: RunRow) -> Result<RunCurves, StoreError> {
        let epochs = self.epochs(&row.id)?;
        let join = self.join_point(&row)?;
        let mut series: [MinMaxSeries; 4] =
            std::array::from_fn(|_| MinMaxSeries::new(MAX_CURVE_POINTS));
        if let Some(join) = &join {
            if let Some(loss) = join.loss {
                series[0].push([join.step as f64, loss]);
                series[1].push([join.secs, loss]);
            }
            series[2].push([join.step as f64, join.learning_rate]);
            series[3].push([join.secs, join.learning_rate]);
        }
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
            join,
        })
    }

    /// The parent's point a fork or continuation starts from, if the parent is still kept.
    fn join_point(&self, row: &RunRow) -> Result<Option<JoinPoint>, StoreError> {
        let (Some(parent), Some(at)) = (&row.parent_id, row.parent_step) else {
            return Ok(None);
        };
        let step = self
            .connection
            .query_row(
                "SELECT step, loss, learning_rate, train_secs FROM steps
                 WHERE run_id = ?1 AND step <= ?2 ORDER BY step DESC LIMIT 1",
                rusqlite::params![parent, at as i64],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?.max(0) as usize,
                        r.get::<_, Option<f64>>(1)?,
                        r.get::<_, f64>(2)?,
                        r.get::<_, f64>(3)?,
                    ))
                },
            )
            .optional()?;
        let Some((step, loss, learning_rate, secs)) = step else {
            return Ok(None);
        };
        let mut epoch_secs = 0.0;
        let mut epoch = None;
        for e in self.epochs(parent)?.into_iter().filter(|e| e.step <= at) {
            epoch_secs += e.duration_secs;
            epoch = Some(e);
        }
        Ok(Some(JoinPoint {
            step,
            secs,
            loss: loss.filter(|l| l.is_finite()),
            learning_rate,
            epoch,
            epoch_secs,
        }))
    }
}
