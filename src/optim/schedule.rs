//! Learning-rate schedules with `torch.optim.lr_scheduler`'s meanings and defaults, as
//! pure functions of where the run is (the step, the epoch), so a resumed run continues the
//! same schedule: StepLR, MultiStepLR, ExponentialLR and CosineAnnealingLR change once an
//! epoch, OneCycleLR every step (with its momentum, or Adam's beta1, cycling the other way),
//! and a linear warm-up (LinearLR in front, as SequentialLR puts it) may come first.
//!
//! PyTorch steps these schedulers recursively; the closed forms here are the same functions
//! (PyTorch's own `_get_closed_form_lr`), equal to its values within float rounding, which
//! `scripts/make_fixtures.py` and tests/torch_parity.rs check against torch.

use serde::{Deserialize, Serialize};

use super::Plateau;
use crate::config_error::ConfigError;

/// How OneCycle anneals between its phases.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anneal {
    #[default]
    Cos,
    Linear,
}

/// A learning-rate schedule; the optimizer's learning rate is its base (OneCycle's max_lr).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// The optimizer's rate throughout.
    #[default]
    Constant,
    /// `StepLR`: times `gamma` every `step_size` epochs.
    Step { step_size: usize, gamma: f64 },
    /// `MultiStepLR`: times `gamma` at each milestone epoch.
    MultiStep { milestones: Vec<usize>, gamma: f64 },
    /// `ExponentialLR`: times `gamma` every epoch.
    Exponential { gamma: f64 },
    /// `CosineAnnealingLR`: half a cosine from the rate down to `eta_min` over `t_max`
    /// epochs (0: the run's epochs).
    Cosine { t_max: usize, eta_min: f64 },
    /// `OneCycleLR` over the run's steps: the rate is `max_lr`.
    OneCycle {
        pct_start: f64,
        anneal: Anneal,
        div_factor: f64,
        final_div_factor: f64,
        three_phase: bool,
        cycle_momentum: bool,
        base_momentum: f64,
        max_momentum: f64,
    },
    /// `ReduceLROnPlateau`: lowered when the validation metric stops improving; its rate
    /// at any step is the one its state ([`super::PlateauState`]) has come to.
    Plateau(Plateau),
}

impl Schedule {
    /// `OneCycleLR` with PyTorch's defaults.
    pub fn one_cycle() -> Self {
        Self::OneCycle {
            pct_start: 0.3,
            anneal: Anneal::Cos,
            div_factor: 25.0,
            final_div_factor: 1e4,
            three_phase: false,
            cycle_momentum: true,
            base_momentum: 0.85,
            max_momentum: 0.95,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Constant => "constant",
            Self::Step { .. } => "step",
            Self::MultiStep { .. } => "multistep",
            Self::Exponential { .. } => "exponential",
            Self::Cosine { .. } => "cosine",
            Self::OneCycle { .. } => "onecycle",
            Self::Plateau(_) => "plateau",
        }
    }
}

/// A schedule with its optional warm-up: what a run's settings carry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LrSchedule {
    pub schedule: Schedule,
    /// Steps of linear warm-up before the schedule (0: none).
    pub warmup_steps: usize,
    /// The warm-up's first factor of the rate (`LinearLR`'s `start_factor`, 1/3 by default),
    /// rising linearly to 1.
    pub warmup_start_factor: f64,
}

impl Default for LrSchedule {
    fn default() -> Self {
        Self {
            schedule: Schedule::Constant,
            warmup_steps: 0,
            warmup_start_factor: 1.0 / 3.0,
        }
    }
}

/// Where a run is when a step's rate is asked for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SchedulePoint {
    /// Steps taken before this one (0 for the run's first).
    pub step: usize,
    /// The epoch this step belongs to (0-based).
    pub epoch: usize,
    /// The run's steps in all (OneCycle spans them).
    pub total_steps: usize,
    /// The run's epochs (Cosine's default span).
    pub epochs: usize,
    /// The rate ReduceLROnPlateau has come to (only that schedule reads it).
    pub plateau_lr: Option<f64>,
}

/// A step's learning rate, and the momentum (or Adam's beta1) when the schedule sets it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scheduled {
    pub lr: f64,
    pub momentum: Option<f64>,
}

impl LrSchedule {
    /// Checks the settings as PyTorch's constructors do.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |what: String| Err(ConfigError::Schedule(what));
        if !(self.warmup_start_factor > 0.0 && self.warmup_start_factor <= 1.0) {
            return bad(format!(
                "the warm-up's start factor must be in (0, 1], not {}",
                self.warmup_start_factor
            ));
        }
        match &self.schedule {
            Schedule::Constant => Ok(()),
            Schedule::Step { step_size, gamma } => {
                if *step_size == 0 {
                    return bad("StepLR's step size must be at least 1 epoch".into());
                }
                check_gamma(*gamma)
            }
            Schedule::MultiStep { milestones, gamma } => {
                if milestones.windows(2).any(|w| w[0] > w[1]) {
                    return bad("MultiStepLR's milestones must be in increasing order".into());
                }
                check_gamma(*gamma)
            }
            Schedule::Exponential { gamma } => check_gamma(*gamma),
            Schedule::Cosine { eta_min, .. } => {
                if !(eta_min.is_finite() && *eta_min >= 0.0) {
                    return bad(format!("eta_min must be 0 or more, not {eta_min}"));
                }
                Ok(())
            }
            Schedule::OneCycle {
                pct_start,
                div_factor,
                final_div_factor,
                base_momentum,
                max_momentum,
                ..
            } => {
                if !(*pct_start > 0.0 && *pct_start < 1.0) {
                    return bad(format!(
                        "OneCycle's pct_start must be in (0, 1), not {pct_start}"
                    ));
                }
                if !(*div_factor > 0.0 && *final_div_factor > 0.0) {
                    return bad("OneCycle's div factors must be positive".into());
                }
                if !(0.0..1.0).contains(base_momentum) || !(0.0..1.0).contains(max_momentum) {
                    return bad("OneCycle's momenta must be in [0, 1)".into());
                }
                Ok(())
            }
            Schedule::Plateau(plateau) => plateau.validate(),
        }
    }

    /// The rate (and momentum) of the step at `at`, for an optimizer whose rate is `base`.
    ///
    /// A warm-up rises linearly to where the schedule starts (OneCycle's first rate,
    /// max_lr / div_factor, as PyTorch's SequentialLR of LinearLR and OneCycleLR does), with
    /// the schedule's first momentum.
    pub fn at(&self, base: f64, at: SchedulePoint) -> Scheduled {
        let warmup = self.warmup_steps;
        if at.step < warmup {
            // LinearLR: start + (1 - start) * step / total_iters.
            let factor = self.warmup_start_factor
                + (1.0 - self.warmup_start_factor) * at.step as f64 / warmup as f64;
            let start = self.after_warmup(base, SchedulePoint { step: warmup, ..at });
            return Scheduled {
                lr: start.lr * factor,
                momentum: start.momentum,
            };
        }
        self.after_warmup(base, at)
    }

    /// The learning rate over a whole run of `epochs` epochs of `steps_per_epoch` steps, at
    /// no more than `points` steps spread evenly (the first and last always): (epoch as a
    /// fraction, rate). ReduceLROnPlateau depends on the validation loss, so its preview is
    /// its base rate.
    pub fn preview(
        &self,
        base: f64,
        steps_per_epoch: usize,
        epochs: usize,
        points: usize,
    ) -> Vec<[f64; 2]> {
        let per_epoch = steps_per_epoch.max(1);
        let total_steps = per_epoch * epochs.max(1);
        let points = points.clamp(2, total_steps.max(2));
        (0..points)
            .map(|i| {
                let step = (i * (total_steps - 1)) / (points - 1).max(1);
                let at = SchedulePoint {
                    step,
                    epoch: step / per_epoch,
                    total_steps,
                    epochs: epochs.max(1),
                    plateau_lr: None,
                };
                [step as f64 / per_epoch as f64, self.at(base, at).lr]
            })
            .collect()
    }

    /// The schedule itself, at a step past the warm-up.
    fn after_warmup(&self, base: f64, at: SchedulePoint) -> Scheduled {
        let warmup = self.warmup_steps;
        match &self.schedule {
            Schedule::Constant => constant(base),
            Schedule::Step { step_size, gamma } => {
                constant(base * gamma.powi((at.epoch / step_size.max(&1)) as i32))
            }
            Schedule::MultiStep { milestones, gamma } => {
                let passed = milestones.iter().filter(|m| **m <= at.epoch).count();
                constant(base * gamma.powi(passed as i32))
            }
            Schedule::Exponential { gamma } => constant(base * gamma.powi(at.epoch as i32)),
            Schedule::Cosine { t_max, eta_min } => {
                let t_max = if *t_max == 0 { at.epochs } else { *t_max }.max(1) as f64;
                let cosine = (std::f64::consts::PI * at.epoch as f64 / t_max).cos();
                constant(eta_min + (base - eta_min) * (1.0 + cosine) / 2.0)
            }
            Schedule::Plateau(_) => constant(at.plateau_lr.unwrap_or(base)),
            Schedule::OneCycle { .. } => {
                // After a warm-up, OneCycle starts at its own step 0 (SequentialLR).
                one_cycle(
                    &self.schedule,
                    base,
                    at.step - warmup,
                    at.total_steps - warmup,
                )
            }
        }
    }
}

fn constant(lr: f64) -> Scheduled {
    Scheduled { lr, momentum: None }
}

fn check_gamma(gamma: f64) -> Result<(), ConfigError> {
    if gamma.is_finite() && gamma > 0.0 {
        Ok(())
    } else {
        Err(ConfigError::Schedule(format!(
            "gamma must be a positive number, not {gamma}"
        )))
    }
}

/// `OneCycleLR.get_lr` at `step` of `total` (PyTorch's phases and annealing, step by step).
fn one_cycle(schedule: &Schedule, max_lr: f64, step: usize, total: usize) -> Scheduled {
    let Schedule::OneCycle {
        pct_start,
        anneal,
        div_factor,
        final_div_factor,
        three_phase,
        cycle_momentum,
        base_momentum,
        max_momentum,
    } = *schedule
    else {
        return constant(max_lr);
    };
    let initial = max_lr / div_factor;
    let min = initial / final_div_factor;
    let total = total as f64;
    // (end step, start lr, end lr, start momentum, end momentum)
    let phases: Vec<(f64, f64, f64, f64, f64)> = if three_phase {
        vec![
            (
                pct_start * total - 1.0,
                initial,
                max_lr,
                max_momentum,
                base_momentum,
            ),
            (
                2.0 * pct_start * total - 2.0,
                max_lr,
                initial,
                base_momentum,
                max_momentum,
            ),
            (total - 1.0, initial, min, max_momentum, max_momentum),
        ]
    } else {
        vec![
            (
                pct_start * total - 1.0,
                initial,
                max_lr,
                max_momentum,
                base_momentum,
            ),
            (total - 1.0, max_lr, min, base_momentum, max_momentum),
        ]
    };
    let anneal = |start: f64, end: f64, pct: f64| match anneal {
        Anneal::Cos => end + (start - end) / 2.0 * ((std::f64::consts::PI * pct).cos() + 1.0),
        Anneal::Linear => (end - start) * pct + start,
    };
    let step = step as f64;
    let mut start_step = 0.0;
    for (index, &(end_step, start_lr, end_lr, start_m, end_m)) in phases.iter().enumerate() {
        if step <= end_step || index == phases.len() - 1 {
            let pct = (step - start_step) / (end_step - start_step);
            return Scheduled {
                lr: anneal(start_lr, end_lr, pct),
                momentum: cycle_momentum.then(|| anneal(start_m, end_m, pct)),
            };
        }
        start_step = end_step;
    }
    constant(max_lr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(step: usize, epoch: usize) -> SchedulePoint {
        SchedulePoint {
            step,
            epoch,
            total_steps: 100,
            epochs: 10,
            plateau_lr: None,
        }
    }

    #[test]
    fn the_preview_is_the_schedule_at_evenly_spread_steps() {
        let schedule = LrSchedule {
            schedule: Schedule::one_cycle(),
            warmup_steps: 5,
            ..LrSchedule::default()
        };
        // 10 epochs of 10 steps, at most 12 points: steps 0, 9, 18, ... 99.
        let preview = schedule.preview(0.1, 10, 10, 12);
        assert_eq!(preview.len(), 12);
        assert_eq!(preview[0][0], 0.0);
        assert_eq!(preview[11][0], 9.9);
        for [x, lr] in &preview {
            let step = (x * 10.0).round() as usize;
            assert_eq!(*lr, schedule.at(0.1, point(step, step / 10)).lr);
        }
        // A short run is drawn at every step.
        assert_eq!(schedule.preview(0.1, 3, 1, 400).len(), 3);
    }

    #[test]
    fn epoch_schedules_follow_their_closed_forms() {
        let step = LrSchedule {
            schedule: Schedule::Step {
                step_size: 3,
                gamma: 0.1,
            },
            ..LrSchedule::default()
        };
        let lrs: Vec<f64> = (0..7).map(|e| step.at(1.0, point(e * 10, e)).lr).collect();
        let expected = [1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.01];
        for (got, want) in lrs.iter().zip(expected) {
            assert!((got - want).abs() < 1e-12, "{lrs:?}");
        }
        let multi = LrSchedule {
            schedule: Schedule::MultiStep {
                milestones: vec![2, 5],
                gamma: 0.5,
            },
            ..LrSchedule::default()
        };
        assert_eq!(multi.at(0.1, point(0, 1)).lr, 0.1);
        assert_eq!(multi.at(0.1, point(0, 2)).lr, 0.05);
        assert_eq!(multi.at(0.1, point(0, 5)).lr, 0.025);
        let cosine = LrSchedule {
            schedule: Schedule::Cosine {
                t_max: 0,
                eta_min: 0.0,
            },
            ..LrSchedule::default()
        };
        assert!((cosine.at(1.0, point(0, 5)).lr - 0.5).abs() < 1e-12);
        assert!(cosine.at(1.0, point(0, 10)).lr.abs() < 1e-12);
    }

    #[test]
    fn one_cycle_rises_to_max_lr_then_falls_to_max_over_div_factors() {
        let schedule = LrSchedule {
            schedule: Schedule::one_cycle(),
            ..LrSchedule::default()
        };
        let first = schedule.at(0.01, point(0, 0));
        assert!((first.lr - 0.01 / 25.0).abs() < 1e-15);
        assert_eq!(first.momentum, Some(0.95));
        // The peak at pct_start * total - 1 = step 29.
        let peak = schedule.at(0.01, point(29, 2));
        assert!((peak.lr - 0.01).abs() < 1e-15);
        assert!((peak.momentum.unwrap() - 0.85).abs() < 1e-15);
        let last = schedule.at(0.01, point(99, 9));
        assert!((last.lr - 0.01 / 25.0 / 1e4).abs() < 1e-18);
    }

    #[test]
    fn a_warm_up_rises_linearly_then_hands_over() {
        let schedule = LrSchedule {
            schedule: Schedule::one_cycle(),
            warmup_steps: 10,
            warmup_start_factor: 0.1,
        };
        // Up to OneCycle's first rate, 1/25, with its first momentum.
        let first = schedule.at(1.0, point(0, 0));
        assert!((first.lr - 0.1 / 25.0).abs() < 1e-15);
        assert_eq!(first.momentum, Some(0.95));
        assert!((schedule.at(1.0, point(5, 0)).lr - 0.55 / 25.0).abs() < 1e-15);
        // OneCycle then starts from its own step 0, over the 90 steps left.
        assert!((schedule.at(1.0, point(10, 1)).lr - 1.0 / 25.0).abs() < 1e-15);
        let constant = LrSchedule {
            warmup_steps: 10,
            warmup_start_factor: 0.1,
            ..LrSchedule::default()
        };
        assert!((constant.at(1.0, point(5, 0)).lr - 0.55).abs() < 1e-15);
        assert!(LrSchedule {
            warmup_start_factor: 0.0,
            ..LrSchedule::default()
        }
        .validate()
        .is_err());
    }
}
