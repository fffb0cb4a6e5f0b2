//! What a training run needs besides the layer stack, with the checks done before it starts.

use serde::{Deserialize, Serialize};

use super::early_stopping::check_monitor;
use super::{CheckpointPolicy, EarlyStopping};
use crate::config_error::ConfigError;
use crate::data::{
    Augmentation, Dataset, ImageFraming, ImageShape, InputPipeline, Task, DEFAULT_VALIDATION_SIZE,
};
use crate::optim::{LrSchedule, OptimizerConfig, Schedule};

/// The objective. Cross-entropy on logits for classification (MSE against one-hot targets
/// also works there); MSE, L1 or Huber on scaled targets for regression.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    #[default]
    CrossEntropy,
    Mse,
    /// Mean absolute error (PyTorch's `L1Loss`).
    L1,
    /// Quadratic for errors below [`HUBER_DELTA`], linear above: robust to outliers.
    Huber,
}

/// Where Huber loss turns from quadratic to linear, in standardised target units
/// (PyTorch's default `delta=1.0`).
pub const HUBER_DELTA: f32 = 1.0;

impl LossKind {
    /// The loss a task trains with unless the user chooses: cross-entropy for classes,
    /// MSE for regression (the seed recipe's).
    pub fn default_for(task: &Task) -> Self {
        if task.is_regression() {
            Self::Mse
        } else {
            Self::CrossEntropy
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::CrossEntropy => "cross-entropy",
            Self::Mse => "mse",
            Self::L1 => "l1",
            Self::Huber => "huber",
        }
    }
}

/// Steps between weight snapshots sent for live prediction.
pub const DEFAULT_SNAPSHOT_EVERY_STEPS: usize = 50;
pub const MAX_BATCH_SIZE: usize = 4_096;
pub const MAX_EPOCHS: usize = 1_000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    pub optimizer: OptimizerConfig,
    pub batch_size: usize,
    pub epochs: usize,
    pub seed: u64,
    pub loss: LossKind,
    /// Samples taken from the end of the training set for validation (0: none).
    pub validation_size: usize,
    /// Train on at most this many samples (quick runs and tests).
    pub train_limit: Option<usize>,
    /// Evaluate on at most this many test samples.
    pub test_limit: Option<usize>,
    pub snapshot_every_steps: usize,
    /// Steps between training-health reports ([`super::HealthReport`]); 0 turns them off.
    pub health_every_steps: usize,
    /// What a non-finite loss does to the run.
    pub on_divergence: OnDivergence,
    /// When the run sends its complete state as a checkpoint (off unless asked).
    pub checkpoints: CheckpointPolicy,
    /// The learning rate over the run; the optimizer's rate is its base.
    pub schedule: LrSchedule,
    /// Stop when the validation metric stops improving, keeping the best epoch (off: None).
    pub early_stopping: Option<EarlyStopping>,
    /// Random changes to each training image (image data only; off: None).
    pub augmentation: Option<Augmentation>,
}

/// The shape of the dataset's images, when its inputs are images.
pub fn image_shape(dataset: &Dataset) -> Option<ImageShape> {
    match &dataset.card.preprocessing.input {
        InputPipeline::Image {
            channels,
            height,
            width,
            ..
        } => Some(ImageShape {
            channels: *channels,
            height: *height,
            width: *width,
        }),
        InputPipeline::Table { .. } => None,
    }
}

/// Augmentation needs images, and never mirrors digits.
pub fn check_augmentation(
    augmentation: &Augmentation,
    dataset: &Dataset,
) -> Result<(), ConfigError> {
    let bad = |why: String| Err(ConfigError::Augmentation(why));
    if let Err(why) = augmentation.validate() {
        return bad(why.to_string());
    }
    match &dataset.card.preprocessing.input {
        InputPipeline::Table { .. } => bad(format!(
            "{} is not a set of images; augmentation changes pictures only",
            dataset.name
        )),
        InputPipeline::Image { framing, .. } => {
            if augmentation.flip && *framing == ImageFraming::Digit {
                return bad(format!(
                    "{} holds digits, and a mirrored digit is no digit; leave flip off",
                    dataset.name
                ));
            }
            Ok(())
        }
    }
}

/// What happens when the loss becomes NaN or infinite.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnDivergence {
    /// The run fails, naming the likely cause (scripts and the CLI: nobody is there to resume).
    #[default]
    Fail,
    /// The weights go back to the last snapshot, the optimizer starts afresh, and the run
    /// pauses with a message, so the person can lower the learning rate and resume (the
    /// window).
    RollBackAndPause,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            optimizer: OptimizerConfig::default_for("adam").unwrap_or(OptimizerConfig::Adam {
                lr: 1e-3,
                betas: [0.9, 0.999],
                eps: 1e-8,
                weight_decay: 0.0,
            }),
            batch_size: 32,
            epochs: 1,
            seed: 0,
            loss: LossKind::CrossEntropy,
            validation_size: DEFAULT_VALIDATION_SIZE,
            train_limit: None,
            test_limit: None,
            snapshot_every_steps: DEFAULT_SNAPSHOT_EVERY_STEPS,
            health_every_steps: super::health::DEFAULT_HEALTH_EVERY_STEPS,
            on_divergence: OnDivergence::Fail,
            checkpoints: CheckpointPolicy::default(),
            schedule: LrSchedule::default(),
            early_stopping: None,
            augmentation: None,
        }
    }
}

/// How the training set is divided, derived from a config and a dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    pub train: usize,
    pub validation: usize,
    pub test: usize,
}

impl Split {
    pub fn steps_per_epoch(&self, batch_size: usize) -> usize {
        self.train.div_ceil(batch_size)
    }
}

impl TrainConfig {
    /// Checks the settings against the data and says how it will be split.
    pub fn validate(&self, dataset: &Dataset) -> Result<Split, ConfigError> {
        self.optimizer.validate()?;
        self.schedule.validate()?;
        if self.batch_size == 0 || self.batch_size > MAX_BATCH_SIZE {
            return Err(ConfigError::BatchSize {
                value: self.batch_size,
                max: MAX_BATCH_SIZE,
            });
        }
        if self.epochs == 0 || self.epochs > MAX_EPOCHS {
            return Err(ConfigError::Epochs {
                value: self.epochs,
                max: MAX_EPOCHS,
            });
        }
        if dataset.task().is_regression() && self.loss == LossKind::CrossEntropy {
            return Err(ConfigError::LossNeedsClasses {
                dataset: dataset.name.clone(),
                task: dataset.task().describe(),
            });
        }
        for (name, set) in [("training", &dataset.train), ("test", &dataset.test)] {
            set.check(dataset.task())
                .map_err(|error| ConfigError::BrokenData {
                    split: name,
                    dataset: dataset.name.clone(),
                    reason: error.to_string(),
                })?;
        }
        let available = dataset.train.len();
        if self.validation_size >= available {
            return Err(ConfigError::NoTrainingData {
                validation: self.validation_size,
                available,
            });
        }
        let train = (available - self.validation_size).min(self.train_limit.unwrap_or(usize::MAX));
        if train == 0 {
            return Err(ConfigError::EmptyLimit);
        }
        if self.test_limit == Some(0) {
            return Err(ConfigError::EmptyTestLimit);
        }
        let regression = dataset.task().is_regression();
        if let Some(rule) = &self.early_stopping {
            rule.validate(self.validation_size, regression)?;
        }
        if let Schedule::Plateau(plateau) = &self.schedule.schedule {
            check_monitor(plateau.monitor, self.validation_size, regression)
                .map_err(|why| ConfigError::Schedule(format!("ReduceLROnPlateau: {why}")))?;
        }
        if let Some(augmentation) = &self.augmentation {
            check_augmentation(augmentation, dataset)?;
        }
        let test = dataset
            .test
            .len()
            .min(self.test_limit.unwrap_or(usize::MAX));
        Ok(Split {
            train,
            validation: self.validation_size,
            test,
        })
    }
}
