//! Training: settings, the loop, the worker thread and the messages it exchanges.

mod clock;
mod commands;
mod config;
mod diagnosis;
mod divergence;
mod early_stopping;
mod epoch_accumulator;
mod error;
mod evaluate;
mod event_sink;
mod events;
mod health;
mod health_monitor;
mod history;
mod job;
mod lr_find;
mod pool;
mod run;
mod snapshots;
mod step;
mod throughput;
mod train_state;
mod worker;

pub use crate::data::DEFAULT_VALIDATION_SIZE;
pub use clock::TrainClock;
pub use config::{
    check_augmentation, image_shape, LossKind, OnDivergence, Split, TrainConfig,
    DEFAULT_SNAPSHOT_EVERY_STEPS, HUBER_DELTA, MAX_BATCH_SIZE, MAX_EPOCHS,
};
pub use diagnosis::{likely_cause, no_learning_warning};
pub use early_stopping::{monitored, EarlyStopping, EarlyStoppingState, Verdict};
pub use epoch_accumulator::EpochAccumulator;
pub use error::TrainError;
pub use evaluate::{
    confusion_matrix, evaluate, evaluate_with_progress, precision_recall, regression_metrics,
    Evaluation, RegressionMetrics,
};
pub use events::{BatchMetrics, EpochMetrics, RunSummary, TrainCommand, TrainEvent};
pub use health::{
    dead_units, DeadUnits, HealthReport, HealthWarning, Histogram, LayerHealth, LossSpike,
    WarningKind, DEFAULT_HEALTH_EVERY_STEPS, HEALTH_BATCH, MAX_SPIKES,
};
pub use history::{
    downsample_by, downsample_min_max, ema, ema_into, MetricsHistory, MinMaxSeries, RunningEma,
    MAX_HEALTH_REPORTS,
};
pub use job::{PreparedJob, TrainJob};
pub use lr_find::{
    lr_find, lr_find_observed, steepest, valley, LrFindError, LrFindPoint, LrFindResult,
    LrFindSettings, Suggestion,
};
pub use pool::in_compute_pool;
pub use run::run_training;
pub use step::{train_step, train_step_observed, StepOptions, StepOutcome};
pub use throughput::{Throughput, THROUGHPUT_WINDOW_SECS};
pub use train_state::{CheckpointPolicy, Position, TrainState};
pub use worker::{Observer, TrainingHandle, Waker, EVENT_CAPACITY};
