//! Optimizers with `torch.optim` semantics over flat dfdx parameter tensors.

mod config;
mod optimizer;

pub use config::{check_learning_rate, OptimizerConfig, MAX_LEARNING_RATE, OPTIMIZER_NAMES};
pub use optimizer::{Optimizer, OptimizerState, StateMismatch};
