//! A run's inputs, checked before any thread starts: the stack against the data, the settings,
//! the memory a batch needs, and the starting weights.

use std::sync::Arc;

use dfdx::prelude::*;

use super::{Split, TrainConfig, TrainError};
use crate::data::Dataset;
use crate::model::{Model, Weights};
use crate::spec::{check_layers, check_training_memory, validate, ModelSpec};

/// Everything a run needs, checked before any thread starts.
pub struct TrainJob {
    pub spec: ModelSpec,
    pub config: TrainConfig,
    pub dataset: Arc<Dataset>,
    /// Start from these weights instead of a fresh initialisation.
    pub initial_weights: Option<Arc<Weights>>,
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
        let model = match &self.initial_weights {
            Some(weights) => Model::from_weights(self.spec, plan, weights, &device)?,
            None => Model::initialise(self.spec, plan, &device, self.config.seed),
        };
        Ok(PreparedJob {
            model,
            config: self.config,
            dataset: self.dataset,
            split,
        })
    }
}

/// A job whose stack, settings and weights have been checked.
pub struct PreparedJob {
    pub model: Model,
    pub config: TrainConfig,
    pub dataset: Arc<Dataset>,
    pub split: Split,
}
