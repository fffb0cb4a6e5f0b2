//! Smith's learning-rate range test, as fastai's `lr_find` and Lightning's `Tuner.lr_find` do
//! it: the rate grows exponentially from `start_lr` to `end_lr` over `steps` batches, the loss
//! is smoothed by a bias-corrected moving average (beta 0.98), the sweep stops once the
//! smoothed loss passes 4 times its best, and the model's weights are put back afterwards.
//!
//! Two suggestions come from the curve, both fastai's, on the curve with its first tenth and
//! last 5 points cut as fastai cuts it: `steep` (the steepest fall against log(rate)) and
//! `valley` (the longest decreasing stretch, a little past its middle). Lightning's
//! suggestion, the steepest fall against the rate itself, was left out: on curves with a
//! little noise it picks the flat start (9e-7 to 2e-6 on every curve of the fixture).

use serde::{Deserialize, Serialize};

use super::step::{train_step_observed, StepOptions};
use super::{PreparedJob, TrainError};
use crate::data::shuffled_indices;
use crate::model::{DropoutSeed, Model};
use crate::optim::Optimizer;

/// The sweep's settings (fastai's and Lightning's defaults).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LrFindSettings {
    pub start_lr: f64,
    pub end_lr: f64,
    pub steps: usize,
    /// The smoothing's beta.
    pub beta: f64,
    /// Stop once the smoothed loss is this many times its best.
    pub diverge_factor: f64,
}

impl Default for LrFindSettings {
    fn default() -> Self {
        Self {
            start_lr: 1e-7,
            end_lr: 10.0,
            steps: 100,
            beta: 0.98,
            diverge_factor: 4.0,
        }
    }
}

/// One batch of the sweep.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LrFindPoint {
    pub lr: f64,
    pub loss: f32,
    pub smoothed: f64,
}

/// A suggested rate and where on the curve it lies.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Suggestion {
    pub lr: f64,
    pub index: usize,
}

/// The curve and what it suggests.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LrFindResult {
    pub points: Vec<LrFindPoint>,
    /// True when the loss blew up before the last step.
    pub diverged: bool,
    pub steepest: Option<Suggestion>,
    pub valley: Option<Suggestion>,
}

/// Why range-test settings were refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct LrFindError(pub String);

impl LrFindSettings {
    pub fn validate(&self) -> Result<(), LrFindError> {
        if !(self.start_lr > 0.0 && self.end_lr > self.start_lr && self.end_lr.is_finite()) {
            return Err(LrFindError(format!(
                "the sweep goes from a positive rate up to a larger one, not {} to {}",
                self.start_lr, self.end_lr
            )));
        }
        if !(2..=100_000).contains(&self.steps) {
            return Err(LrFindError(format!(
                "the sweep takes 2 to 100000 steps, not {}",
                self.steps
            )));
        }
        if !(0.0..1.0).contains(&self.beta) || self.diverge_factor <= 1.0 {
            return Err(LrFindError(
                "beta must be in [0, 1) and the divergence factor above 1".into(),
            ));
        }
        Ok(())
    }

    /// The rate of sweep step `index`: `start * (end / start) ^ (index / steps)`.
    pub fn lr_at(&self, index: usize) -> f64 {
        self.start_lr * (self.end_lr / self.start_lr).powf(index as f64 / self.steps as f64)
    }
}

/// Runs the range test on `job`'s model and data (its optimizer kind and settings, the rate
/// swept), then puts the model's weights back as they were, so the job can still train.
pub fn lr_find(
    job: &mut PreparedJob,
    settings: LrFindSettings,
) -> Result<LrFindResult, TrainError> {
    lr_find_observed(job, settings, &mut |_| true)
}

/// [`lr_find`], with `each` told every point as it is measured (a progress bar); the sweep
/// ends with [`TrainError::Cancelled`] (the weights put back) when it returns false.
pub fn lr_find_observed(
    job: &mut PreparedJob,
    settings: LrFindSettings,
    each: &mut dyn FnMut(&LrFindPoint) -> bool,
) -> Result<LrFindResult, TrainError> {
    settings.validate().map_err(TrainError::LrFind)?;
    let saved = job.model.weights();
    let result = sweep(job, settings, each);
    let model = &job.model;
    job.model = Model::from_weights(
        model.spec.clone(),
        model.plan.clone(),
        &saved,
        &model.device().clone(),
    )?;
    result
}

fn sweep(
    job: &mut PreparedJob,
    settings: LrFindSettings,
    each: &mut dyn FnMut(&LrFindPoint) -> bool,
) -> Result<LrFindResult, TrainError> {
    let config = &job.config;
    let mut optimizer = Optimizer::new(config.optimizer.clone(), &job.model.params)?;
    let scaling = job.dataset.card.preprocessing.target;
    let mut points = Vec::with_capacity(settings.steps);
    let (mut average, mut best) = (0.0f64, f64::INFINITY);
    let mut inputs = Vec::new();
    let mut diverged = false;
    let mut epoch = 0u64;
    'sweep: loop {
        let order = shuffled_indices(job.split.train, config.seed.wrapping_add(epoch));
        for batch in order.chunks(config.batch_size) {
            let index = points.len();
            if index == settings.steps {
                break 'sweep;
            }
            let lr = settings.lr_at(index);
            optimizer.set_learning_rate(lr);
            job.dataset.train.fill_inputs(batch, &mut inputs);
            let targets =
                job.dataset
                    .train
                    .fill_targets(batch, job.dataset.outputs(), scaling.as_ref());
            let options = StepOptions {
                observe: false,
                dropout: Some(DropoutSeed {
                    seed: config.seed,
                    step: index + 1,
                }),
            };
            let outcome = train_step_observed(
                &mut job.model,
                &mut optimizer,
                inputs.clone(),
                targets,
                config.loss,
                options,
            )?;
            let loss = outcome.loss;
            average = settings.beta * average + (1.0 - settings.beta) * f64::from(loss);
            let smoothed = average / (1.0 - settings.beta.powi(index as i32 + 1));
            let point = LrFindPoint { lr, loss, smoothed };
            if !each(&point) {
                return Err(TrainError::Cancelled);
            }
            points.push(point);
            if !smoothed.is_finite() || (index > 0 && smoothed > settings.diverge_factor * best) {
                diverged = true;
                break 'sweep;
            }
            best = best.min(smoothed);
        }
        epoch += 1;
    }
    let lrs: Vec<f64> = points.iter().map(|p| p.lr).collect();
    let losses: Vec<f64> = points.iter().map(|p| p.smoothed).collect();
    Ok(LrFindResult {
        steepest: steepest(&lrs, &losses, settings.steps),
        valley: valley(&lrs, &losses, settings.steps),
        diverged,
        points,
    })
}

/// fastai's cut of the curve before suggesting (`[num_it // 10 : -5]`, then up to the first
/// NaN), in float32 as fastai's tensors are, with the index of its first point.
fn fastai_cut(lrs: &[f64], losses: &[f64], steps: usize) -> Option<(Vec<f32>, Vec<f32>, usize)> {
    let begin = steps / 10;
    let end = losses.len().checked_sub(5)?;
    let mut losses: Vec<f32> = losses.get(begin..end)?.iter().map(|&l| l as f32).collect();
    let mut lrs: Vec<f32> = lrs[begin..end].iter().map(|&l| l as f32).collect();
    if let Some(nan) = losses.iter().position(|l| l.is_nan()) {
        let keep = nan.min(losses.len() - 1);
        losses.truncate(keep);
        lrs.truncate(keep);
    }
    (!losses.is_empty()).then_some((lrs, losses, begin))
}

/// fastai's `steep`: the rate at the start of the steepest fall of the loss against
/// log(rate), on fastai's cut of the curve.
pub fn steepest(lrs: &[f64], losses: &[f64], steps: usize) -> Option<Suggestion> {
    let (cut_lrs, cut, begin) = fastai_cut(lrs, losses, steps)?;
    let mut best: Option<(usize, f32)> = None;
    for i in 0..cut.len().saturating_sub(1) {
        let slope = (cut[i + 1] - cut[i]) / (cut_lrs[i + 1].ln() - cut_lrs[i].ln());
        // argmin, the first of equals (as torch.argmin); NaN never wins.
        if best.is_none_or(|(_, b)| slope < b) {
            best = Some((i, slope));
        }
    }
    let (index, _) = best?;
    Some(Suggestion {
        lr: lrs[begin + index],
        index: begin + index,
    })
}

/// fastai's `valley` on fastai's cut of the curve: the longest run of decreasing losses (as
/// a longest decreasing subsequence), and the point a third plus a sixth of the way along it.
pub fn valley(lrs: &[f64], losses: &[f64], steps: usize) -> Option<Suggestion> {
    let (_, cut, begin) = fastai_cut(lrs, losses, steps)?;
    let n = cut.len();
    // Signed, as in Python: a valley from the very first point starts at -1.
    let (mut max_start, mut max_end) = (0i64, 0usize);
    let mut lds = vec![1i64; n];
    for i in 1..n {
        for j in 0..i {
            if cut[i] < cut[j] && lds[i] < lds[j] + 1 {
                lds[i] = lds[j] + 1;
            }
            if lds[max_end] < lds[i] {
                max_end = i;
                max_start = max_end as i64 - lds[max_end];
            }
        }
    }
    let sections = (max_end as i64 - max_start) as f64 / 3.0;
    let index = max_start + sections as i64 + (sections / 2.0) as i64;
    // A negative index counts from the end, as Python's does.
    let index = usize::try_from(index.rem_euclid(n as i64)).ok()?;
    Some(Suggestion {
        lr: lrs[begin + index],
        index: begin + index,
    })
}
