//! Optimizers with `torch.optim` semantics over flat dfdx parameter tensors.

mod config;
mod optimizer;
mod plateau;
mod schedule;

pub use config::{check_learning_rate, OptimizerConfig, MAX_LEARNING_RATE, OPTIMIZER_NAMES};
pub use optimizer::{Optimizer, OptimizerState, StateMismatch};
pub use plateau::{Mode, Monitor, Plateau, PlateauState, ThresholdMode};
pub use schedule::{Anneal, LrSchedule, Schedule, SchedulePoint, Scheduled};
