//! The training loop itself: synchronous, driven by commands, reporting through a callback.
//!
//! [`super::TrainingHandle`] runs this on a named thread; tests and benchmarks may call it
//! directly. It checks for commands between batches, so pause and stop answer within one batch.

use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Receiver, TryRecvError};
use dfdx::prelude::*;

use super::diagnosis::{likely_cause, no_learning_warning};
use super::evaluate::{argmax_rows, evaluate, evaluate_with_progress};
use super::health::{dead_units, HealthReport, SpikeWatch, HEALTH_BATCH};
use super::step::train_step_observed;
use super::{
    BatchMetrics, EpochMetrics, OnDivergence, RunSummary, Split, TrainCommand, TrainConfig,
    TrainEvent,
};
use crate::data::Task;
use crate::data::{shuffled_indices, Dataset};
use crate::model::{Model, Weights};
use crate::optim::{check_learning_rate, Optimizer};
use crate::spec::{check_layers, check_training_memory, validate, ModelSpec};

/// Why a run ended without a result.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The stack does not fit the data; the message names the layer, and the task when the
    /// outputs are what does not fit.
    #[error("{error}{task}")]
    InvalidStack {
        error: crate::spec::SpecError,
        /// " (iris is a 3-class classification)", or empty.
        task: String,
    },
    #[error(transparent)]
    InvalidSettings(#[from] crate::config_error::ConfigError),
    #[error("the weights do not fit the layer stack: {0}")]
    WeightsMismatch(crate::model::WeightsMismatch),
    #[error("training diverged: the loss became {loss} at step {step} (epoch {epoch}); {cause}")]
    Diverged {
        step: usize,
        epoch: usize,
        loss: f32,
        /// The setting most likely to blame, as advice.
        cause: String,
    },
    #[error("the CPU tensor device failed ({0:?})")]
    Device(CpuError),
    #[error("training was cancelled")]
    Cancelled,
}

// Written out instead of `#[from]`, which would also make the inner error the `source` and
// print its message twice in a cause chain.
impl From<crate::model::WeightsMismatch> for TrainError {
    fn from(error: crate::model::WeightsMismatch) -> Self {
        Self::WeightsMismatch(error)
    }
}

impl From<CpuError> for TrainError {
    fn from(error: CpuError) -> Self {
        Self::Device(error)
    }
}

/// Everything a run needs, checked before any thread starts.
pub struct TrainJob {
    pub spec: ModelSpec,
    pub config: TrainConfig,
    pub dataset: Arc<Dataset>,
    /// Start from these weights instead of a fresh initialisation.
    pub initial_weights: Option<Arc<Weights>>,
}

impl TrainJob {
    /// Validates the stack against the data and the settings, and builds the model.
    pub fn prepare(self) -> Result<PreparedJob, TrainError> {
        let split = self.config.validate(&self.dataset)?;
        let plan = validate(
            &self.spec,
            self.dataset.input_shape(),
            self.dataset.outputs(),
        )
        .map_err(|error| {
            let shapes_fit = check_layers(&self.spec, self.dataset.input_shape())
                .1
                .is_none();
            TrainError::InvalidStack {
                error,
                task: if shapes_fit && !self.spec.layers.is_empty() {
                    format!(
                        " ({} is a {})",
                        self.dataset.name,
                        self.dataset.task().describe()
                    )
                } else {
                    String::new()
                },
            }
        })?;
        check_training_memory(&plan, self.config.batch_size).map_err(|error| {
            TrainError::InvalidStack {
                error,
                task: String::new(),
            }
        })?;
        let device = Cpu::seed_from_u64(self.config.seed);
        let model = match &self.initial_weights {
            Some(weights) => Model::from_weights(self.spec, plan, weights, &device)?,
            None => Model::initialise(self.spec, plan, &device, self.config.seed),
        };
        Ok(PreparedJob {
            model,
            config: self.config,
            dataset: self.dataset,
            split,
        })
    }
}

/// A job whose stack, settings and weights have been checked.
pub struct PreparedJob {
    pub model: Model,
    pub config: TrainConfig,
    pub dataset: Arc<Dataset>,
    pub split: Split,
}

/// Runs the whole training; `emit` returns false when nobody listens any more (the run stops).
pub fn run_training(
    job: PreparedJob,
    commands: &Receiver<TrainCommand>,
    emit: &mut (dyn FnMut(TrainEvent) -> bool + Send),
) -> Result<RunSummary, TrainError> {
    let PreparedJob {
        mut model,
        config,
        dataset,
        split,
    } = job;
    let outputs = dataset.outputs();
    let card = &dataset.card;
    let scaling = card.preprocessing.target;
    let started = Instant::now();
    let mut clock = TrainClock::start();
    let steps_per_epoch = split.steps_per_epoch(config.batch_size);
    let mut optimizer = Optimizer::new(config.optimizer.clone(), &model.params)?;
    let validation_indices: Vec<u32> =
        ((dataset.train.len() - split.validation) as u32..dataset.train.len() as u32).collect();
    let mut listening = emit(TrainEvent::Started {
        total_steps: steps_per_epoch * config.epochs,
        steps_per_epoch,
        train_samples: split.train,
        validation_samples: split.validation,
        test_samples: split.test,
        parameters: model.plan.total_parameters(),
    });
    // The initial weights, so a driver predicts with this run's model from the start. A
    // diverged run goes back to the newest snapshot whose next batch loss was calm (a
    // snapshot taken while the loss was already exploding is no place to resume from).
    let mut last_good = (0, Arc::new(model.weights()));
    let mut candidate: Option<(usize, Arc<Weights>)> = None;
    if config.snapshot_every_steps > 0 {
        listening &= emit(TrainEvent::Snapshot {
            step: 0,
            weights: last_good.1.clone(),
        });
    }
    // Health: the same first training samples at every report.
    let health_batch: Vec<u32> = (0..split.train.min(HEALTH_BATCH) as u32).collect();
    let mut health_inputs = Vec::new();
    if config.health_every_steps > 0 {
        dataset.train.fill_inputs(&health_batch, &mut health_inputs);
    }
    let mut spikes = SpikeWatch::default();

    let mut inputs = Vec::new();
    let mut step = 0;
    let mut losses = Vec::new();
    let mut epochs_completed = 0;
    let mut paused = false;
    let mut stop_requested = false;
    'epochs: for epoch in 0..config.epochs {
        let epoch_started = Instant::now();
        // A different order every epoch, the same for the same seed.
        let order = shuffled_indices(split.train, config.seed.wrapping_add(epoch as u64));
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
        let mut squared_error = 0.0f64;
        for batch in order.chunks(config.batch_size) {
            // Commands, between batches; block while paused.
            loop {
                let command = if paused {
                    commands.recv().map_err(|_| TryRecvError::Disconnected)
                } else {
                    commands.try_recv()
                };
                match command {
                    Ok(TrainCommand::Pause) if !paused => {
                        paused = true;
                        clock.pause();
                        listening &= emit(TrainEvent::Paused { step });
                    }
                    Ok(TrainCommand::Resume) if paused => {
                        paused = false;
                        clock.resume();
                        listening &= emit(TrainEvent::Resumed { step });
                    }
                    Ok(TrainCommand::Pause | TrainCommand::Resume) => {}
                    Ok(TrainCommand::Stop) => {
                        stop_requested = true;
                        break 'epochs;
                    }
                    Ok(TrainCommand::Cancel) | Err(TryRecvError::Disconnected) => {
                        return Err(TrainError::Cancelled)
                    }
                    Ok(TrainCommand::SetLearningRate(lr)) => {
                        // Drivers check first; a bad value here is ignored rather than fatal.
                        if check_learning_rate(lr).is_ok() {
                            optimizer.set_learning_rate(lr);
                            listening &= emit(TrainEvent::LearningRateChanged {
                                step,
                                learning_rate: lr,
                            });
                        }
                    }
                    Err(TryRecvError::Empty) => break,
                }
                if !listening {
                    return Err(TrainError::Cancelled);
                }
            }

            dataset.train.fill_inputs(batch, &mut inputs);
            let targets = dataset.train.fill_targets(batch, outputs, scaling.as_ref());
            let observe =
                config.health_every_steps > 0 && (step + 1) % config.health_every_steps == 0;
            let outcome = train_step_observed(
                &mut model,
                &mut optimizer,
                inputs.clone(),
                targets,
                config.loss,
                observe,
            )?;
            let (loss_value, output_values) = (outcome.loss, outcome.outputs);
            step += 1;
            if !loss_value.is_finite() {
                let cause = likely_cause(&config, &model.spec);
                if config.on_divergence == OnDivergence::Fail {
                    return Err(TrainError::Diverged {
                        step,
                        epoch,
                        loss: loss_value,
                        cause,
                    });
                }
                // Back to the last snapshot, a fresh optimizer (its moments saw the blow-up),
                // and wait for the person.
                model = Model::from_weights(
                    model.spec.clone(),
                    model.plan.clone(),
                    &last_good.1,
                    &model.device().clone(),
                )?;
                optimizer = Optimizer::new(optimizer.config().clone(), &model.params)?;
                listening &= emit(TrainEvent::RolledBack {
                    step,
                    restored_step: last_good.0,
                    loss: loss_value,
                    cause,
                });
                paused = true;
                clock.pause();
                listening &= emit(TrainEvent::Paused { step });
                if !listening {
                    return Err(TrainError::Cancelled);
                }
                continue;
            }
            losses.push(loss_value);
            if spikes.is_calm(loss_value) {
                if let Some(snapshot) = candidate.take() {
                    last_good = snapshot;
                }
            } else {
                candidate = None;
            }
            spikes.record(step, loss_value);
            if observe {
                let dead = super::pool::with_helpers_polling(|| {
                    dead_units(&model, &health_inputs, health_batch.len())
                })?;
                let report = HealthReport::new(step, outcome.health, dead, spikes.take());
                listening &= emit(TrainEvent::Health(Box::new(report)));
            }
            let accuracy = match &card.task {
                Task::Classification { .. } => {
                    let labels = dataset.train.labels();
                    let batch_correct = argmax_rows(&output_values, outputs)
                        .zip(batch)
                        .filter(|(p, &i)| *p == labels[i as usize])
                        .count();
                    correct += batch_correct;
                    Some(batch_correct as f32 / batch.len() as f32)
                }
                Task::Regression { .. } => {
                    let values = dataset.train.values();
                    for (&output, &i) in output_values.iter().zip(batch) {
                        let predicted = scaling.map_or(output, |s| s.unscale(output));
                        squared_error += f64::from(predicted - values[i as usize]).powi(2);
                    }
                    None
                }
            };
            loss_sum += loss_value as f64 * batch.len() as f64;
            seen += batch.len();
            listening &= emit(TrainEvent::Batch(BatchMetrics {
                step,
                epoch,
                loss: loss_value,
                accuracy,
                learning_rate: optimizer.config().learning_rate(),
                samples: batch.len(),
                train_secs: clock.seconds(),
            }));
            if config.snapshot_every_steps > 0 && step % config.snapshot_every_steps == 0 {
                let weights = Arc::new(model.weights());
                candidate = Some((step, weights.clone()));
                listening &= emit(TrainEvent::Snapshot { step, weights });
            }
            if !listening {
                return Err(TrainError::Cancelled);
            }
        }
        let duration_secs = epoch_started.elapsed().as_secs_f64();
        let validation = (!validation_indices.is_empty()).then(|| {
            evaluate(
                &model,
                card,
                &dataset.train,
                &validation_indices,
                config.loss,
            )
        });
        let regression = card.task.is_regression();
        epochs_completed += 1;
        listening &= emit(TrainEvent::Epoch(EpochMetrics {
            epoch,
            step,
            train_loss: (loss_sum / seen.max(1) as f64) as f32,
            train_accuracy: (!regression).then(|| correct as f32 / seen.max(1) as f32),
            train_rmse: regression.then(|| (squared_error / seen.max(1) as f64).sqrt() as f32),
            validation_loss: validation.as_ref().map(|v| v.loss),
            validation_accuracy: validation.as_ref().and_then(|v| v.accuracy),
            validation_rmse: validation
                .as_ref()
                .and_then(|v| v.regression.map(|r| r.rmse)),
            validation_mae: validation
                .as_ref()
                .and_then(|v| v.regression.map(|r| r.mae)),
            images_per_sec: seen as f64 / duration_secs.max(1e-9),
            duration_secs,
        }));
        let weights = Arc::new(model.weights());
        candidate = Some((step, weights.clone()));
        listening &= emit(TrainEvent::Snapshot { step, weights });
        if !listening {
            return Err(TrainError::Cancelled);
        }
    }

    // A stopped run ends now, with its weights; the driver may evaluate it separately.
    let test = if stop_requested {
        None
    } else {
        let test_indices: Vec<u32> = (0..split.test as u32).collect();
        let mut cancelled = false;
        let test = evaluate_with_progress(
            &model,
            card,
            &dataset.test,
            &test_indices,
            config.loss,
            &mut |done, total| {
                listening &= emit(TrainEvent::Evaluating { done, total });
                match commands.try_recv() {
                    Ok(TrainCommand::Stop) => false,
                    Ok(TrainCommand::Cancel) | Err(TryRecvError::Disconnected) => {
                        cancelled = true;
                        false
                    }
                    // Pause, resume and learning rates mean nothing once training is over.
                    Ok(_) | Err(TryRecvError::Empty) => listening,
                }
            },
        );
        if cancelled || !listening {
            return Err(TrainError::Cancelled);
        }
        test
    };
    Ok(RunSummary {
        steps: step,
        epochs_completed,
        stopped_early: stop_requested,
        test,
        duration_secs: started.elapsed().as_secs_f64(),
        warning: no_learning_warning(&losses, &config, &model.spec),
        weights: Arc::new(model.weights()),
    })
}

/// Seconds of training on a monotonic clock, time spent paused left out.
struct TrainClock {
    started: Instant,
    paused_at: Option<Instant>,
    paused_for: std::time::Duration,
}

impl TrainClock {
    fn start() -> Self {
        Self {
            started: Instant::now(),
            paused_at: None,
            paused_for: std::time::Duration::ZERO,
        }
    }

    fn pause(&mut self) {
        self.paused_at.get_or_insert_with(Instant::now);
    }

    fn resume(&mut self) {
        if let Some(at) = self.paused_at.take() {
            self.paused_for += at.elapsed();
        }
    }

    fn seconds(&self) -> f64 {
        (self.started.elapsed().saturating_sub(self.paused_for)).as_secs_f64()
    }
}
