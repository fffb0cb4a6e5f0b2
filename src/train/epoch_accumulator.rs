//! An epoch's training metrics, summed batch by batch: mean loss, and accuracy or RMSE in
//! the target's units (before each step's update, as Keras reports training metrics).

use serde::{Deserialize, Serialize};

use super::{EpochMetrics, Evaluation};
use crate::data::{Dataset, Task};
use crate::model::argmax_rows;

/// The sums of the epoch in progress (a checkpoint keeps them, so a run resumed mid-epoch
/// reports the same epoch metrics).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochAccumulator {
    loss_sum: f64,
    correct: usize,
    seen: usize,
    squared_error: f64,
}

impl EpochAccumulator {
    /// Adds one batch (`outputs` are the model's, before the step); returns the batch's
    /// accuracy for a classification.
    pub(super) fn add_batch(
        &mut self,
        dataset: &Dataset,
        batch: &[u32],
        outputs: &[f32],
        loss: f32,
    ) -> Option<f32> {
        let accuracy = match &dataset.card.task {
            Task::Classification { .. } => {
                let labels = dataset.train.labels();
                let batch_correct = argmax_rows(outputs, dataset.outputs())
                    .zip(batch)
                    .filter(|(p, &i)| *p == labels[i as usize])
                    .count();
                self.correct += batch_correct;
                Some(batch_correct as f32 / batch.len() as f32)
            }
            Task::Regression { .. } => {
                let values = dataset.train.values();
                let scaling = dataset.card.preprocessing.target;
                for (&output, &i) in outputs.iter().zip(batch) {
                    let predicted = scaling.map_or(output, |s| s.unscale(output));
                    self.squared_error += f64::from(predicted - values[i as usize]).powi(2);
                }
                None
            }
        };
        self.loss_sum += loss as f64 * batch.len() as f64;
        self.seen += batch.len();
        accuracy
    }

    /// The epoch's metrics, with the validation split's evaluation when there is one;
    /// throughput is `samples_timed` over `duration_secs` (an epoch resumed part-way timed
    /// only the part trained since).
    pub(super) fn finish(
        &self,
        epoch: usize,
        step: usize,
        regression: bool,
        validation: Option<&Evaluation>,
        duration_secs: f64,
        samples_timed: usize,
    ) -> EpochMetrics {
        let seen = self.seen.max(1) as f64;
        EpochMetrics {
            epoch,
            step,
            train_loss: (self.loss_sum / seen) as f32,
            train_accuracy: (!regression).then(|| self.correct as f32 / self.seen.max(1) as f32),
            train_rmse: regression.then(|| (self.squared_error / seen).sqrt() as f32),
            validation_loss: validation.map(|v| v.loss),
            validation_accuracy: validation.and_then(|v| v.accuracy),
            validation_rmse: validation.and_then(|v| v.regression.map(|r| r.rmse)),
            validation_mae: validation.and_then(|v| v.regression.map(|r| r.mae)),
            images_per_sec: samples_timed as f64 / duration_secs.max(1e-9),
            duration_secs,
        }
    }
}
