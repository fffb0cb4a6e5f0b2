//! A run's inputs, checked before any thread starts: the stack against the data, the settings,
//! the memory a batch needs, and the starting weights.

use std::sync::Arc;

use dfdx::prelude::*;

use super::{Position, Split, TrainConfig, TrainError, TrainState};
use crate::data::Dataset;
use crate::model::{Model, Weights};
use crate::optim::OptimizerState;
use crate::spec::{check_layers, check_training_memory, validate, ModelSpec};

/// Everything a run needs, checked before any thread starts.
pub struct TrainJob {
    pub spec: ModelSpec,
    pub config: TrainConfig,
    pub dataset: Arc<Dataset>,
    /// Start from these weights instead of a fresh initialisation.
    pub initial_weights: Option<Arc<Weights>>,
    /// Continue from a checkpoint: its weights, optimizer state and position (the weights
    /// win over `initial_weights`).
    pub resume_from: Option<TrainState>,
}

impl TrainJob {
    /// Validates the stack against the data and the settings, and builds the model.
    pub fn prepare(self) -> Result<PreparedJob, TrainError> {
        let split = self.config.validate(&self.dataset)?;
        let plan = validate(
            &self.spec,
            self.dataset.input_shape(),
            self.dataset.outputs(),
        )
        .map_err(|error| {
            let shapes_fit = check_layers(&self.spec, self.dataset.input_shape())
                .1
                .is_none();
            TrainError::InvalidStack {
                error,
                task: if shapes_fit && !self.spec.layers.is_empty() {
                    format!(
                        " ({} is a {})",
                        self.dataset.name,
                        self.dataset.task().describe()
                    )
                } else {
                    String::new()
                },
            }
        })?;
        check_training_memory(&plan, self.config.batch_size).map_err(|error| {
            TrainError::InvalidStack {
                error,
                task: String::new(),
            }
        })?;
        let device = Cpu::seed_from_u64(self.config.seed);
        let weights = self.resume_from.as_ref().map(|state| &state.weights);
        let model = match weights.or(self.initial_weights.as_ref()) {
            Some(weights) => Model::from_weights(self.spec, plan, weights, &device)?,
            None => Model::initialise(self.spec, plan, &device, self.config.seed),
        };
        let start = match self.resume_from {
            Some(state) => {
                check_position(&state.position, &self.config, &split)?;
                // Another optimizer (a fork that changed it) starts afresh; the same one
                // continues with its moments.
                let same_kind = state.optimizer.config.name() == self.config.optimizer.name();
                // Early stopping's best weights must fit the stack they would replace.
                if let Some(best) = &state.best_weights {
                    Model::from_weights(model.spec.clone(), model.plan.clone(), best, &device)?;
                }
                StartPoint {
                    position: state.position,
                    optimizer: same_kind.then_some(state.optimizer),
                    best_weights: state.best_weights,
                }
            }
            None => StartPoint::default(),
        };
        Ok(PreparedJob {
            model,
            config: self.config,
            dataset: self.dataset,
            split,
            start,
        })
    }
}

/// A job whose stack, settings and weights have been checked.
pub struct PreparedJob {
    pub model: Model,
    pub config: TrainConfig,
    pub dataset: Arc<Dataset>,
    pub split: Split,
    /// Where the loop starts: the beginning, or a checkpoint's position and optimizer state.
    pub start: StartPoint,
}

/// Where a prepared run starts.
#[derive(Clone, Debug, Default)]
pub struct StartPoint {
    pub position: Position,
    /// The optimizer's state to continue from; `None` starts it afresh.
    pub optimizer: Option<OptimizerState>,
    /// Early stopping's best weights so far, when resuming a run that keeps them.
    pub best_weights: Option<Arc<Weights>>,
}

/// A checkpoint's position must lie inside the run it resumes.
fn check_position(
    position: &Position,
    config: &TrainConfig,
    split: &Split,
) -> Result<(), TrainError> {
    if position.samples_done > split.train {
        return Err(TrainError::Resume(format!(
            "the checkpoint stands {} samples into an epoch of {}",
            position.samples_done, split.train
        )));
    }
    if position.epoch > config.epochs {
        return Err(TrainError::Resume(format!(
            "the checkpoint is at epoch {}, past the run's {} epochs",
            position.epoch, config.epochs
        )));
    }
    Ok(())
}
