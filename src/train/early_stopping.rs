//! Early stopping as Keras' `EarlyStopping` callback does it (monitor, patience, min_delta,
//! start_from_epoch), with one difference users asked Keras for (keras #12511): the best
//! epoch's weights are restored whenever the option is on, also when the run ends by
//! reaching its last epoch, not only when early stopping ended it.

use serde::{Deserialize, Serialize};

use super::EpochMetrics;
use crate::config_error::ConfigError;
use crate::optim::{Mode, Monitor};

/// The settings, as the run's config carries them.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EarlyStopping {
    pub monitor: Monitor,
    /// Epochs without improvement after which training stops.
    pub patience: usize,
    /// The least change that counts as an improvement (in the metric's units).
    pub min_delta: f64,
    /// Epochs (from the first) not watched at all: a warm-up.
    pub start_from_epoch: usize,
    /// Put the best epoch's weights back at the end of the run, however it ends.
    pub restore_best: bool,
}

impl Default for EarlyStopping {
    fn default() -> Self {
        Self {
            monitor: Monitor::ValLoss,
            patience: 5,
            min_delta: 0.0,
            start_from_epoch: 0,
            restore_best: true,
        }
    }
}

/// Where early stopping stands: part of the run's position, so a checkpoint keeps it (the
/// best weights travel beside it in the checkpoint).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EarlyStoppingState {
    /// The best value so far (none before the first watched epoch).
    pub best: Option<f64>,
    /// The epoch (0-based) the best value came from.
    pub best_epoch: Option<usize>,
    /// Epochs watched since the best one.
    pub wait: usize,
    /// The epoch (0-based) after which it stopped the run, once it has.
    pub stopped_after: Option<usize>,
}

/// What an epoch's end means to early stopping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Not watched (before `start_from_epoch`, or no such metric), or no better, not done.
    Continue,
    /// A new best: keep these weights.
    Improved,
    /// Patience ran out: stop after this epoch.
    Stop,
}

impl EarlyStopping {
    pub fn validate(&self, validation_samples: usize, regression: bool) -> Result<(), ConfigError> {
        check_monitor(self.monitor, validation_samples, regression)
            .map_err(ConfigError::EarlyStopping)?;
        if !(self.min_delta.is_finite() && self.min_delta >= 0.0) {
            return Err(ConfigError::EarlyStopping(format!(
                "min_delta must be 0 or more, not {}",
                self.min_delta
            )));
        }
        Ok(())
    }

    pub fn start(&self) -> EarlyStoppingState {
        EarlyStoppingState {
            best: None,
            best_epoch: None,
            wait: 0,
            stopped_after: None,
        }
    }

    /// Keras' `_is_improvement`: better than `best` by more than `min_delta`; NaN never is.
    fn is_improvement(&self, value: f64, best: Option<f64>) -> bool {
        let Some(best) = best else {
            return !value.is_nan();
        };
        match self.monitor.mode() {
            Mode::Min => value + self.min_delta < best,
            Mode::Max => value - self.min_delta > best,
        }
    }

    /// Keras' `on_epoch_end` for `epoch` (0-based) with its metrics.
    pub fn after_epoch(
        &self,
        state: &mut EarlyStoppingState,
        epoch: usize,
        metrics: &EpochMetrics,
    ) -> Verdict {
        let Some(value) = monitored(self.monitor, metrics) else {
            return Verdict::Continue;
        };
        if epoch < self.start_from_epoch {
            return Verdict::Continue;
        }
        state.wait += 1;
        if self.is_improvement(value, state.best) {
            state.best = Some(value);
            state.best_epoch = Some(epoch);
            state.wait = 0;
            return Verdict::Improved;
        }
        if state.wait >= self.patience && epoch > 0 {
            state.stopped_after = Some(epoch);
            return Verdict::Stop;
        }
        Verdict::Continue
    }

    /// The run summary's sentence: "restored epoch 7 (best val_loss 0.0412); stopped after
    /// epoch 10: no improvement for 3 epochs" (epochs counted from 1).
    pub fn describe(&self, state: &EarlyStoppingState, restored: bool) -> String {
        let metric = self.monitor.name();
        let best = match (state.best_epoch, state.best) {
            (Some(epoch), Some(value)) if restored => {
                format!("restored epoch {} (best {metric} {value:.4})", epoch + 1)
            }
            (Some(epoch), Some(value)) => format!(
                "best epoch {} ({metric} {value:.4}), the last epoch's weights kept",
                epoch + 1
            ),
            _ => format!("no epoch had a {metric} to compare"),
        };
        let end = match state.stopped_after {
            Some(epoch) => format!(
                "stopped after epoch {}: no improvement for {} epoch{}",
                epoch + 1,
                state.wait,
                if state.wait == 1 { "" } else { "s" }
            ),
            None => "ran every epoch".to_string(),
        };
        format!("{best}; {end}")
    }
}

/// Why `monitor` cannot be watched in a run with this many validation samples and task, if
/// it cannot (ReduceLROnPlateau and early stopping both need it).
pub fn check_monitor(
    monitor: Monitor,
    validation_samples: usize,
    regression: bool,
) -> Result<(), String> {
    if validation_samples == 0 {
        return Err(format!(
            "{} needs a validation split; set validation samples above 0",
            monitor.name()
        ));
    }
    let fits = match monitor {
        Monitor::ValLoss => true,
        Monitor::ValAccuracy => !regression,
        Monitor::ValRmse => regression,
    };
    if fits {
        return Ok(());
    }
    let (task, other) = if regression {
        ("a regression", "val_rmse")
    } else {
        ("a classification", "val_accuracy")
    };
    Err(format!(
        "{task} run has no {}; watch val_loss or {other}",
        monitor.name()
    ))
}

/// The monitored value of an epoch's metrics, if it has one.
pub fn monitored(monitor: Monitor, metrics: &EpochMetrics) -> Option<f64> {
    let value = match monitor {
        Monitor::ValLoss => metrics.validation_loss,
        Monitor::ValAccuracy => metrics.validation_accuracy,
        Monitor::ValRmse => metrics.validation_rmse,
    };
    value.map(f64::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(loss: f32) -> EpochMetrics {
        EpochMetrics {
            epoch: 0,
            step: 0,
            train_loss: 1.0,
            train_accuracy: None,
            train_rmse: None,
            validation_loss: Some(loss),
            validation_accuracy: None,
            validation_rmse: None,
            validation_mae: None,
            images_per_sec: 0.0,
            duration_secs: 0.0,
        }
    }

    /// Keras' sequence: best at epoch 7 (index 6), three worse epochs, stop after epoch 10.
    #[test]
    fn stops_when_patience_runs_out_and_names_the_best_epoch() {
        let rule = EarlyStopping {
            patience: 3,
            ..EarlyStopping::default()
        };
        let mut state = rule.start();
        let losses = [
            0.9, 0.5, 0.3, 0.2, 0.1, 0.06, 0.0412, 0.05, 0.045, 0.0413, 0.01,
        ];
        let mut verdicts = Vec::new();
        for (index, loss) in losses.iter().enumerate() {
            let verdict = rule.after_epoch(&mut state, index, &epoch(*loss));
            verdicts.push(verdict);
            if verdict == Verdict::Stop {
                break;
            }
        }
        assert_eq!(verdicts.len(), 10);
        assert_eq!(verdicts[6], Verdict::Improved);
        assert_eq!(state.best_epoch, Some(6));
        assert_eq!(
            rule.describe(&state, true),
            "restored epoch 7 (best val_loss 0.0412); stopped after epoch 10: no improvement for 3 epochs"
        );
    }

    #[test]
    fn min_delta_start_from_epoch_and_nan() {
        let rule = EarlyStopping {
            patience: 1,
            min_delta: 0.1,
            start_from_epoch: 2,
            ..EarlyStopping::default()
        };
        let mut state = rule.start();
        // Epochs 0 and 1 are not watched, however bad.
        assert_eq!(
            rule.after_epoch(&mut state, 0, &epoch(5.0)),
            Verdict::Continue
        );
        assert_eq!(
            rule.after_epoch(&mut state, 1, &epoch(9.0)),
            Verdict::Continue
        );
        assert_eq!(
            rule.after_epoch(&mut state, 2, &epoch(1.0)),
            Verdict::Improved
        );
        // 0.95 is better, but not by more than min_delta: patience 1 runs out.
        assert_eq!(rule.after_epoch(&mut state, 3, &epoch(0.95)), Verdict::Stop);
        let mut state = rule.start();
        rule.after_epoch(&mut state, 2, &epoch(1.0));
        assert_eq!(
            rule.after_epoch(&mut state, 3, &epoch(f32::NAN)),
            Verdict::Stop
        );
    }

    #[test]
    fn refuses_a_run_without_validation_or_the_wrong_metric() {
        let rule = EarlyStopping::default();
        assert!(rule.validate(0, false).is_err());
        assert!(rule.validate(100, false).is_ok());
        let accuracy = EarlyStopping {
            monitor: Monitor::ValAccuracy,
            ..rule
        };
        assert!(accuracy.validate(100, true).is_err());
    }
}
