//! `ReduceLROnPlateau` as PyTorch has it: after each epoch the monitored validation metric is
//! compared with the best so far; after more than `patience` epochs without improvement the
//! rate is multiplied by `factor` (not below `min_lr`), then `cooldown` epochs pass before
//! counting again. Its state travels in the run's checkpoints, so a resumed run goes on
//! counting where it stood.

use serde::{Deserialize, Serialize};

use crate::config_error::ConfigError;

/// A validation metric watched between epochs (by ReduceLROnPlateau and early stopping).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Monitor {
    #[default]
    #[cfg_attr(feature = "cli", value(name = "val_loss"))]
    ValLoss,
    #[cfg_attr(feature = "cli", value(name = "val_accuracy"))]
    ValAccuracy,
    #[cfg_attr(feature = "cli", value(name = "val_rmse"))]
    ValRmse,
}

/// Whether a metric improves by going down or up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Min,
    Max,
}

impl Monitor {
    pub fn name(self) -> &'static str {
        match self {
            Self::ValLoss => "val_loss",
            Self::ValAccuracy => "val_accuracy",
            Self::ValRmse => "val_rmse",
        }
    }

    /// The mode follows from the metric: accuracy up, loss and error down.
    pub fn mode(self) -> Mode {
        match self {
            Self::ValAccuracy => Mode::Max,
            Self::ValLoss | Self::ValRmse => Mode::Min,
        }
    }
}

/// How `threshold` measures an improvement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdMode {
    /// Better than `best * (1 - threshold)` (mode min) or `best * (1 + threshold)` (max).
    #[default]
    Rel,
    /// Better than `best - threshold` (min) or `best + threshold` (max).
    Abs,
}

/// ReduceLROnPlateau's settings (PyTorch's defaults in [`Plateau::default`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Plateau {
    pub monitor: Monitor,
    pub factor: f64,
    pub patience: usize,
    pub threshold: f64,
    pub threshold_mode: ThresholdMode,
    pub cooldown: usize,
    pub min_lr: f64,
    /// Changes smaller than this are ignored (PyTorch's `eps`).
    pub eps: f64,
}

impl Default for Plateau {
    fn default() -> Self {
        Self {
            monitor: Monitor::ValLoss,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
        }
    }
}

/// Where ReduceLROnPlateau stands: part of a run's position, so checkpoints keep it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlateauState {
    /// The rate it has come to (the optimizer's base rate until the first reduction).
    pub lr: f64,
    /// The best metric so far: none before the first epoch (PyTorch starts from infinity,
    /// which any number improves on).
    pub best: Option<f64>,
    pub num_bad_epochs: usize,
    pub cooldown_counter: usize,
}

impl Plateau {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |what: String| Err(ConfigError::Schedule(what));
        if !(self.factor > 0.0 && self.factor < 1.0) {
            return bad(format!(
                "ReduceLROnPlateau's factor must be in (0, 1), not {}",
                self.factor
            ));
        }
        if !(self.threshold.is_finite() && self.threshold >= 0.0) {
            return bad(format!(
                "ReduceLROnPlateau's threshold must be 0 or more, not {}",
                self.threshold
            ));
        }
        if !(self.min_lr.is_finite() && self.min_lr >= 0.0) {
            return bad(format!(
                "ReduceLROnPlateau's min_lr must be 0 or more, not {}",
                self.min_lr
            ));
        }
        Ok(())
    }

    /// The state before the first epoch, for an optimizer whose rate is `lr`.
    pub fn start(&self, lr: f64) -> PlateauState {
        PlateauState {
            lr,
            best: None,
            num_bad_epochs: 0,
            cooldown_counter: 0,
        }
    }

    /// `is_better` of PyTorch: whether `value` improves on `best`. NaN never does; any
    /// other value improves on no best yet.
    pub fn is_better(&self, value: f64, best: Option<f64>) -> bool {
        let Some(best) = best else {
            return !value.is_nan();
        };
        match (self.monitor.mode(), self.threshold_mode) {
            (Mode::Min, ThresholdMode::Rel) => value < best * (1.0 - self.threshold),
            (Mode::Min, ThresholdMode::Abs) => value < best - self.threshold,
            (Mode::Max, ThresholdMode::Rel) => value > best * (1.0 + self.threshold),
            (Mode::Max, ThresholdMode::Abs) => value > best + self.threshold,
        }
    }

    /// `ReduceLROnPlateau.step(metric)` after an epoch; true when it lowered the rate.
    pub fn step(&self, state: &mut PlateauState, metric: f64) -> bool {
        if self.is_better(metric, state.best) {
            state.best = Some(metric);
            state.num_bad_epochs = 0;
        } else {
            state.num_bad_epochs += 1;
        }
        if state.cooldown_counter > 0 {
            state.cooldown_counter -= 1;
            state.num_bad_epochs = 0;
        }
        if state.num_bad_epochs > self.patience {
            state.cooldown_counter = self.cooldown;
            state.num_bad_epochs = 0;
            let lower = (state.lr * self.factor).max(self.min_lr);
            if state.lr - lower > self.eps {
                state.lr = lower;
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowers_after_more_than_patience_bad_epochs_then_cools_down() {
        let plateau = Plateau {
            patience: 1,
            cooldown: 1,
            factor: 0.5,
            ..Plateau::default()
        };
        let mut state = plateau.start(1.0);
        let lrs: Vec<f64> = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95]
            .iter()
            .map(|&metric| {
                plateau.step(&mut state, metric);
                state.lr
            })
            .collect();
        // Bad epochs at 3 and 4 (more than 1) lower it; epoch 5 cools down; 6 and 7 lower it.
        assert_eq!(lrs, [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]);
    }

    #[test]
    fn a_maximised_metric_and_min_lr() {
        let plateau = Plateau {
            monitor: Monitor::ValAccuracy,
            patience: 0,
            min_lr: 0.3,
            ..Plateau::default()
        };
        let mut state = plateau.start(1.0);
        assert!(!plateau.step(&mut state, 0.5));
        assert!(plateau.step(&mut state, 0.4));
        assert_eq!(state.lr, 0.3);
        // At min_lr already: no change counts as a reduction.
        assert!(!plateau.step(&mut state, 0.4));
        assert!(!plateau.step(&mut state, f64::NAN));
        assert_eq!(state.lr, 0.3);
    }

    #[test]
    fn the_state_survives_json_before_and_after_its_first_best() {
        let plateau = Plateau::default();
        let mut state = plateau.start(0.1);
        let json = serde_json::to_string(&state).unwrap();
        let back: PlateauState = serde_json::from_str(&json).unwrap();
        assert_eq!(back, state);
        plateau.step(&mut state, 0.5);
        let json = serde_json::to_string(&state).unwrap();
        assert_eq!(serde_json::from_str::<PlateauState>(&json).unwrap(), state);
    }
}
