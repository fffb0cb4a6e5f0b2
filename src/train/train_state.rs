//! A run's complete state between two steps: what a checkpoint holds, so that a run resumed
//! from it continues exactly as if it had never stopped.
//!
//! Nothing random lives outside it: the data order of an epoch is drawn from (seed, epoch)
//! and each dropout mask from (seed, step, layer), so the step and the settings are enough.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::early_stopping::EarlyStoppingState;
use super::epoch_accumulator::EpochAccumulator;
use crate::model::Weights;
use crate::optim::{OptimizerState, PlateauState};

/// Where a run stands: how far it got and everything it carries from step to step.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainState {
    pub position: Position,
    /// Every parameter and batch-norm buffer, under PyTorch's names.
    pub weights: Arc<Weights>,
    pub optimizer: OptimizerState,
    /// The best epoch's weights so far, when early stopping restores them.
    pub best_weights: Option<Arc<Weights>>,
}

/// How far a run got, and the sums of the epoch in progress.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// Steps taken in the whole run (the next step is `step + 1`).
    pub step: usize,
    /// The epoch in progress (0-based); equal to the epochs completed at an epoch's end.
    pub epoch: usize,
    /// Training samples of that epoch already trained on, in the epoch's seeded order.
    pub samples_done: usize,
    pub epochs_completed: usize,
    /// Seconds of training so far, so a resumed run's clock goes on from there.
    pub train_secs: f64,
    /// The epoch in progress's running sums (loss, correct, squared error).
    pub epoch_sums: EpochAccumulator,
    /// What a learning rate set by hand multiplies the schedule by from then on (1: none).
    #[serde(default = "one")]
    pub lr_factor: f64,
    /// ReduceLROnPlateau's count and rate, when the schedule is that one.
    #[serde(default)]
    pub plateau: Option<PlateauState>,
    /// Early stopping's best so far and its patience count, when it is on.
    #[serde(default)]
    pub early_stopping: Option<EarlyStoppingState>,
}

fn one() -> f64 {
    1.0
}

impl Default for Position {
    fn default() -> Self {
        Self {
            step: 0,
            epoch: 0,
            samples_done: 0,
            epochs_completed: 0,
            train_secs: 0.0,
            epoch_sums: EpochAccumulator::default(),
            lr_factor: 1.0,
            plateau: None,
            early_stopping: None,
        }
    }
}

/// When checkpoints are taken. A checkpoint is a [`TrainEvent::Checkpoint`](super::TrainEvent)
/// carrying a [`TrainState`]; the driver decides where it goes (the run store).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CheckpointPolicy {
    /// At the end of every epoch and when the run is stopped.
    pub enabled: bool,
    /// Also every this many steps (0: only at epoch ends and on Stop).
    pub every_steps: usize,
}

impl CheckpointPolicy {
    /// Whether a step-count checkpoint is due after `step` (one falling on an epoch's last
    /// batch waits for the epoch-end checkpoint right after it).
    pub fn due_after_step(&self, step: usize, last_in_epoch: bool) -> bool {
        self.enabled
            && self.every_steps > 0
            && step.is_multiple_of(self.every_steps)
            && !last_in_epoch
    }
}
