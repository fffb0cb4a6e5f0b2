//! Why training settings are refused: one type for the optimizer's hyperparameters and the
//! run's settings, each variant a sentence that names the field and the value.

/// A setting outside what training can use.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("learning rate must be greater than 0 and at most {max}, got {value}")]
    LearningRate { value: f64, max: f64 },
    #[error("{name} must be in [{low}, {high}), got {value}")]
    OutOfRange {
        name: &'static str,
        value: f64,
        low: f64,
        high: f64,
    },
    #[error("{name} must be 0 or more, got {value}")]
    Negative { name: &'static str, value: f64 },
    #[error("{name} must be greater than 0, got {value}")]
    NotPositive { name: &'static str, value: f64 },
    #[error("Nesterov momentum needs momentum > 0 and dampening = 0")]
    Nesterov,
    #[error("batch size must be between 1 and {max}, got {value}")]
    BatchSize { value: usize, max: usize },
    #[error("epochs must be between 1 and {max}, got {value}")]
    Epochs { value: usize, max: usize },
    #[error("cross-entropy needs classes, but {dataset} is a {task}: use mse, l1 or huber")]
    LossNeedsClasses { dataset: String, task: String },
    #[error("the {split} set of {dataset} is broken: {reason}")]
    BrokenData {
        split: &'static str,
        dataset: String,
        reason: String,
    },
    #[error("validation size {validation} leaves no training data ({available} samples in all)")]
    NoTrainingData { validation: usize, available: usize },
    #[error("the training limit leaves no training data")]
    EmptyLimit,
    #[error("a test limit of 0 evaluates nothing; leave it out to use the whole test set")]
    EmptyTestLimit,
    #[error("learning-rate schedule: {0}")]
    Schedule(String),
    #[error("early stopping: {0}")]
    EarlyStopping(String),
    #[error("augmentation: {0}")]
    Augmentation(String),
}
