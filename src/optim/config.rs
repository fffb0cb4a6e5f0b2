//! Optimizer choices and their hyperparameters, with PyTorch's defaults and meanings.

use crate::config_error::ConfigError;
use serde::{Deserialize, Serialize};

/// An optimizer and its hyperparameters. Semantics follow `torch.optim` exactly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum OptimizerConfig {
    Sgd {
        lr: f64,
        #[serde(default)]
        momentum: f64,
        #[serde(default)]
        dampening: f64,
        #[serde(default)]
        nesterov: bool,
        #[serde(default)]
        weight_decay: f64,
    },
    Adam {
        lr: f64,
        #[serde(default = "default_betas")]
        betas: [f64; 2],
        #[serde(default = "default_eps")]
        eps: f64,
        #[serde(default)]
        weight_decay: f64,
    },
    AdamW {
        lr: f64,
        #[serde(default = "default_betas")]
        betas: [f64; 2],
        #[serde(default = "default_eps")]
        eps: f64,
        #[serde(default = "default_adamw_weight_decay")]
        weight_decay: f64,
    },
    RmsProp {
        lr: f64,
        #[serde(default = "default_alpha")]
        alpha: f64,
        #[serde(default = "default_eps")]
        eps: f64,
        #[serde(default)]
        weight_decay: f64,
        #[serde(default)]
        momentum: f64,
        #[serde(default)]
        centered: bool,
    },
}

/// `torch.optim.Adam`/`AdamW` default betas.
fn default_betas() -> [f64; 2] {
    [0.9, 0.999]
}
/// `torch.optim` default eps for Adam, AdamW and RMSprop.
fn default_eps() -> f64 {
    1e-8
}
/// `torch.optim.AdamW` default weight decay.
fn default_adamw_weight_decay() -> f64 {
    0.01
}
/// `torch.optim.RMSprop` default smoothing constant.
fn default_alpha() -> f64 {
    0.99
}

/// Learning rates above this are refused: they diverge on every model here.
pub const MAX_LEARNING_RATE: f64 = 10.0;

/// The optimizer names accepted on the command line and in the picker.
pub const OPTIMIZER_NAMES: [&str; 4] = ["sgd", "adam", "adamw", "rmsprop"];

impl OptimizerConfig {
    /// PyTorch's defaults for the optimizer called `name` (`sgd`, `adam`, `adamw`, `rmsprop`).
    /// SGD has no default learning rate in PyTorch; 0.01 is the seed recipe's.
    pub fn default_for(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "sgd" => Self::Sgd {
                lr: 0.01,
                momentum: 0.0,
                dampening: 0.0,
                nesterov: false,
                weight_decay: 0.0,
            },
            "adam" => Self::Adam {
                lr: 1e-3,
                betas: default_betas(),
                eps: default_eps(),
                weight_decay: 0.0,
            },
            "adamw" => Self::AdamW {
                lr: 1e-3,
                betas: default_betas(),
                eps: default_eps(),
                weight_decay: default_adamw_weight_decay(),
            },
            "rmsprop" => Self::RmsProp {
                lr: 0.01,
                alpha: default_alpha(),
                eps: default_eps(),
                weight_decay: 0.0,
                momentum: 0.0,
                centered: false,
            },
            _ => return None,
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Sgd { .. } => "sgd",
            Self::Adam { .. } => "adam",
            Self::AdamW { .. } => "adamw",
            Self::RmsProp { .. } => "rmsprop",
        }
    }

    /// PyTorch's names of the state the optimizer keeps per parameter (its `state_dict`'s
    /// keys), in the order of the optimizer's three buffers; `None` where it keeps none.
    pub fn state_names(&self) -> [Option<&'static str>; 3] {
        match self {
            Self::Sgd { .. } => [Some("momentum_buffer"), None, None],
            Self::Adam { .. } | Self::AdamW { .. } => [Some("exp_avg"), Some("exp_avg_sq"), None],
            Self::RmsProp { .. } => [
                Some("square_avg"),
                Some("grad_avg"),
                Some("momentum_buffer"),
            ],
        }
    }

    pub fn learning_rate(&self) -> f64 {
        match *self {
            Self::Sgd { lr, .. }
            | Self::Adam { lr, .. }
            | Self::AdamW { lr, .. }
            | Self::RmsProp { lr, .. } => lr,
        }
    }

    pub fn set_learning_rate(&mut self, new_lr: f64) {
        match self {
            Self::Sgd { lr, .. }
            | Self::Adam { lr, .. }
            | Self::AdamW { lr, .. }
            | Self::RmsProp { lr, .. } => *lr = new_lr,
        }
    }

    /// Sets SGD's and RMSprop's momentum, or Adam's and AdamW's beta1 (what OneCycle cycles,
    /// as PyTorch does).
    pub fn set_momentum(&mut self, value: f64) {
        match self {
            Self::Sgd { momentum, .. } | Self::RmsProp { momentum, .. } => *momentum = value,
            Self::Adam { betas, .. } | Self::AdamW { betas, .. } => betas[0] = value,
        }
    }

    /// Checks every hyperparameter, with PyTorch's own rules plus a sanity bound on the rate.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_learning_rate(self.learning_rate())?;
        match *self {
            Self::Sgd {
                momentum,
                dampening,
                nesterov,
                weight_decay,
                ..
            } => {
                check_range("momentum", momentum, 0.0, 1.0)?;
                check_range("dampening", dampening, 0.0, 1.0)?;
                check_non_negative("weight_decay", weight_decay)?;
                if nesterov && (momentum <= 0.0 || dampening != 0.0) {
                    return Err(ConfigError::Nesterov);
                }
            }
            Self::Adam {
                betas,
                eps,
                weight_decay,
                ..
            }
            | Self::AdamW {
                betas,
                eps,
                weight_decay,
                ..
            } => {
                check_range("beta1", betas[0], 0.0, 1.0)?;
                check_range("beta2", betas[1], 0.0, 1.0)?;
                check_positive("eps", eps)?;
                check_non_negative("weight_decay", weight_decay)?;
            }
            Self::RmsProp {
                alpha,
                eps,
                weight_decay,
                momentum,
                ..
            } => {
                check_range("alpha", alpha, 0.0, 1.0)?;
                check_positive("eps", eps)?;
                check_non_negative("weight_decay", weight_decay)?;
                check_range("momentum", momentum, 0.0, 1.0)?;
            }
        }
        Ok(())
    }
}

/// A learning rate must be a finite number in (0, MAX_LEARNING_RATE].
pub fn check_learning_rate(lr: f64) -> Result<(), ConfigError> {
    if !(lr.is_finite() && lr > 0.0 && lr <= MAX_LEARNING_RATE) {
        return Err(ConfigError::LearningRate {
            value: lr,
            max: MAX_LEARNING_RATE,
        });
    }
    Ok(())
}

/// `low <= value < high`.
fn check_range(name: &'static str, value: f64, low: f64, high: f64) -> Result<(), ConfigError> {
    if !(value.is_finite() && value >= low && value < high) {
        return Err(ConfigError::OutOfRange {
            name,
            value,
            low,
            high,
        });
    }
    Ok(())
}

fn check_non_negative(name: &'static str, value: f64) -> Result<(), ConfigError> {
    if !(value.is_finite() && value >= 0.0) {
        return Err(ConfigError::Negative { name, value });
    }
    Ok(())
}

fn check_positive(name: &'static str, value: f64) -> Result<(), ConfigError> {
    if !(value.is_finite() && value > 0.0) {
        return Err(ConfigError::NotPositive { name, value });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonsense_hyperparameters_are_refused_with_the_field_name() {
        let mut sgd = OptimizerConfig::default_for("sgd").unwrap();
        sgd.set_learning_rate(0.0);
        assert!(sgd
            .validate()
            .unwrap_err()
            .to_string()
            .contains("learning rate"));
        sgd.set_learning_rate(f64::NAN);
        assert!(sgd.validate().is_err());
        let adam = OptimizerConfig::Adam {
            lr: 1e-3,
            betas: [0.9, 1.5],
            eps: 1e-8,
            weight_decay: 0.0,
        };
        assert!(adam.validate().unwrap_err().to_string().contains("beta2"));
        let nesterov = OptimizerConfig::Sgd {
            lr: 0.1,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: true,
            weight_decay: 0.0,
        };
        assert!(nesterov
            .validate()
            .unwrap_err()
            .to_string()
            .contains("Nesterov"));
    }

    #[test]
    fn defaults_are_valid_and_round_trip_through_json() {
        for name in OPTIMIZER_NAMES {
            let config = OptimizerConfig::default_for(name).unwrap();
            config.validate().unwrap();
            let json = serde_json::to_string(&config).unwrap();
            assert_eq!(
                serde_json::from_str::<OptimizerConfig>(&json).unwrap(),
                config
            );
        }
    }
}
