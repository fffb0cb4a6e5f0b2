//! The messages between a training run and whoever drives it (CLI, window, tests).

use std::sync::Arc;

use serde::Serialize;

use super::{Evaluation, HealthReport, TrainState};
use crate::model::Weights;

/// Driver -> worker.
#[derive(Clone, Debug, PartialEq)]
pub enum TrainCommand {
    Pause,
    Resume,
    /// End the run after the current batch and finish with the weights so far, without the
    /// test evaluation (the driver can evaluate separately). Sent while the automatic test
    /// evaluation at the end of a run is going on, it skips the rest of that evaluation.
    Stop,
    /// Stop after the current batch without evaluating (the driver is going away).
    Cancel,
    SetLearningRate(f64),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BatchMetrics {
    /// 1-based count of optimizer steps so far.
    pub step: usize,
    /// 0-based epoch the step belongs to.
    pub epoch: usize,
    pub loss: f32,
    /// Fraction of the batch classified correctly (classification only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f32>,
    pub learning_rate: f64,
    /// Samples this step really trained on (the last batch of an epoch may be smaller).
    pub samples: usize,
    /// Seconds of training on the worker's monotonic clock when the step ended, time spent
    /// paused left out. Throughput and ETA are computed from this, never from when a driver
    /// happened to receive the event.
    pub train_secs: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpochMetrics {
    pub epoch: usize,
    pub step: usize,
    pub train_loss: f32,
    /// Classification only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub train_accuracy: Option<f32>,
    /// Regression only: RMSE of the epoch's batches in the target's units (before each
    /// step's update, as Keras reports training metrics).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub train_rmse: Option<f32>,
    pub validation_loss: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_accuracy: Option<f32>,
    /// Regression only: RMSE and MAE on the validation samples, in the target's units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_rmse: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_mae: Option<f32>,
    pub images_per_sec: f64,
    pub duration_secs: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunSummary {
    pub steps: usize,
    pub epochs_completed: usize,
    pub stopped_early: bool,
    /// The test evaluation at the end of a normal run; `None` when the run was stopped
    /// (or the evaluation skipped) before it completed.
    pub test: Option<Evaluation>,
    pub duration_secs: f64,
    /// Set when the loss at the end was no lower than at the start, with the likely cause.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// What early stopping kept and why the run ended, when it was on: "restored epoch 7
    /// (best val_loss 0.0412); stopped after epoch 10: no improvement for 3 epochs".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<String>,
    /// The epoch (0-based) whose weights early stopping put back, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restored_epoch: Option<usize>,
    /// The epoch (0-based) after which early stopping ended the run, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_after_epoch: Option<usize>,
    #[serde(skip)]
    pub weights: Arc<Weights>,
}

/// Worker -> driver. Serialises to one JSON object per event (`--log-jsonl`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TrainEvent {
    Started {
        total_steps: usize,
        /// Steps already taken: 0 for a new run, the checkpoint's step for a resumed one.
        first_step: usize,
        steps_per_epoch: usize,
        train_samples: usize,
        validation_samples: usize,
        test_samples: usize,
        parameters: usize,
    },
    Batch(BatchMetrics),
    Epoch(EpochMetrics),
    /// The latest weights, for live prediction while training.
    Snapshot {
        step: usize,
        #[serde(skip)]
        weights: Arc<Weights>,
    },
    /// The run's complete state, to be written as a checkpoint
    /// ([`TrainConfig::checkpoints`](super::TrainConfig::checkpoints) says when).
    Checkpoint {
        step: usize,
        #[serde(skip)]
        state: Arc<TrainState>,
    },
    /// Training health every `health_every_steps` steps.
    Health(Box<HealthReport>),
    /// The loss became non-finite: the weights went back to the snapshot of
    /// `restored_step` and the run paused (followed by `Paused`).
    RolledBack {
        step: usize,
        restored_step: usize,
        loss: f32,
        /// The setting most likely to blame, as advice.
        cause: String,
    },
    Paused {
        step: usize,
    },
    Resumed {
        step: usize,
    },
    LearningRateChanged {
        step: usize,
        learning_rate: f64,
    },
    /// Progress of the test evaluation that ends a normal run: `done` of `total` samples.
    Evaluating {
        done: usize,
        total: usize,
    },
    Finished(Box<RunSummary>),
    Failed {
        message: String,
    },
}
