//! The training loop itself: synchronous, driven by commands, reporting through a callback.
//!
//! [`super::TrainingHandle`] runs this on a named thread; tests and benchmarks may call it
//! directly. Its parts live beside it, one job a file: `commands.rs` (pause, resume, stop,
//! a learning-rate change), `epoch_accumulator.rs`, `divergence.rs`, `snapshots.rs`,
//! `health_monitor.rs`, and `event_sink.rs`, the one place every event leaves the loop.

use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::Receiver;

use super::commands::{command_after_training, AfterTraining, Controls, Flow};
use super::config::image_shape;
use super::diagnosis::{likely_cause, no_learning_warning};
use super::divergence::{on_divergence, Diverged};
use super::early_stopping::{monitored, Verdict};
use super::epoch_accumulator::EpochAccumulator;
use super::evaluate::{evaluate, evaluate_with_progress};
use super::event_sink::EventSink;
use super::health_monitor::HealthMonitor;
use super::snapshots::SnapshotKeeper;
use super::step::{train_step_observed, StepOptions};
use super::train_state::{Position, TrainState};
use super::{
    BatchMetrics, EpochMetrics, Evaluation, PreparedJob, RunSummary, Split, TrainCommand,
    TrainConfig, TrainError, TrainEvent,
};
use crate::data::{shuffled_indices, Augmentation, Dataset, ImageShape};
use crate::model::{DropoutSeed, Model, Weights};
use crate::optim::{Optimizer, Schedule, SchedulePoint};

/// Runs the whole training; `emit` returns false when nobody listens any more (the run stops).
pub fn run_training(
    job: PreparedJob,
    commands: &Receiver<TrainCommand>,
    emit: &mut (dyn FnMut(TrainEvent) -> bool + Send),
) -> Result<RunSummary, TrainError> {
    let started = Instant::now();
    let mut run = TrainingLoop::start(job, commands, EventSink::new(emit))?;
    let first_step = run.position.step;
    let mut stopped_early = false;
    for epoch in run.position.epoch..run.config.epochs {
        if run.train_epoch(epoch)? == Flow::Stop {
            run.checkpoint();
            stopped_early = true;
            break;
        }
        if run.early_stopped() {
            break;
        }
    }
    let (early_stopping, restored_epoch) = run.restore_best()?;
    let stopped_after_epoch = run
        .position
        .early_stopping
        .and_then(|state| state.stopped_after);
    // However short the run, weights or metrics that are not numbers are no result.
    let weights = Arc::new(run.model.weights());
    run.check_finite_result(&weights)?;
    // A stopped run ends now, with its weights; the driver may evaluate it separately.
    let test = if stopped_early { None } else { run.test()? };
    if let Some(test) = &test {
        run.check_finite_metrics("test", test)?;
    }
    Ok(RunSummary {
        steps: run.position.step,
        epochs_completed: run.position.epochs_completed,
        stopped_early,
        test,
        duration_secs: started.elapsed().as_secs_f64(),
        warning: no_learning_warning(&run.losses, first_step, &run.config, &run.model.spec),
        early_stopping,
        restored_epoch,
        stopped_after_epoch,
        weights,
    })
}

/// A run in progress: the model and optimizer, and the parts of the loop around them.
struct TrainingLoop<'a> {
    model: Model,
    optimizer: Optimizer,
    config: TrainConfig,
    dataset: Arc<Dataset>,
    split: Split,
    commands: &'a Receiver<TrainCommand>,
    events: EventSink<'a>,
    controls: Controls,
    snapshots: SnapshotKeeper,
    health: HealthMonitor,
    validation_indices: Vec<u32>,
    /// Steps taken, the epoch in progress, how far into it, and its sums.
    position: Position,
    /// Every finite batch loss, for the "did it learn" warning at the end.
    losses: Vec<f32>,
    /// The newest epoch's validation metric that is not a number, if any.
    validation_not_finite: Option<String>,
    /// The batch's inputs, a buffer reused from batch to batch.
    inputs: Vec<f32>,
    /// Early stopping's best weights so far (when it restores them).
    best_weights: Option<Arc<Weights>>,
}

impl<'a> TrainingLoop<'a> {
    /// Announces the run (`Started`, the initial snapshot) and sets up its parts; a job
    /// resumed from a checkpoint starts where that one stood.
    fn start(
        job: PreparedJob,
        commands: &'a Receiver<TrainCommand>,
        mut events: EventSink<'a>,
    ) -> Result<Self, TrainError> {
        let PreparedJob {
            model,
            config,
            dataset,
            split,
            start,
        } = job;
        let mut position = start.position;
        if let Schedule::Plateau(plateau) = &config.schedule.schedule {
            let base = config.optimizer.learning_rate();
            position.plateau.get_or_insert_with(|| plateau.start(base));
        }
        if let Some(rule) = &config.early_stopping {
            position.early_stopping.get_or_insert_with(|| rule.start());
        }
        let controls = Controls::start_at(position.train_secs);
        let steps_per_epoch = split.steps_per_epoch(config.batch_size);
        let optimizer = match start.optimizer {
            Some(state) => Optimizer::restore(state, &model.params)
                .map_err(|error| TrainError::Resume(error.to_string()))?,
            None => Optimizer::new(config.optimizer.clone(), &model.params)?,
        };
        let train = dataset.train.len() as u32;
        let validation_indices: Vec<u32> = (train - split.validation as u32..train).collect();
        events.send(TrainEvent::Started {
            total_steps: steps_per_epoch * config.epochs,
            first_step: position.step,
            steps_per_epoch,
            train_samples: split.train,
            validation_samples: split.validation,
            test_samples: split.test,
            parameters: model.plan.total_parameters(),
        });
        let snapshots = SnapshotKeeper::start(&model, config.snapshot_every_steps, &mut events);
        let health = HealthMonitor::new(&config, &dataset, &split);
        Ok(Self {
            model,
            optimizer,
            config,
            dataset,
            split,
            commands,
            events,
            controls,
            snapshots,
            health,
            validation_indices,
            position,
            losses: Vec::new(),
            validation_not_finite: None,
            inputs: Vec::new(),
            best_weights: start.best_weights,
        })
    }

    /// One pass over the training split in a seeded order (the rest of it, for an epoch
    /// resumed part-way), then validation; `Flow::Stop` when the driver asked to stop.
    fn train_epoch(&mut self, epoch: usize) -> Result<Flow, TrainError> {
        let started = Instant::now();
        if epoch != self.position.epoch {
            self.position.epoch = epoch;
            self.position.samples_done = 0;
            self.position.epoch_sums = EpochAccumulator::default();
        }
        // A different order every epoch, the same for the same seed.
        let order = shuffled_indices(
            self.split.train,
            self.config.seed.wrapping_add(epoch as u64),
        );
        let first = self.position.samples_done.min(order.len());
        let rest = &order[first..];
        let flow = match self.augmentation() {
            None => self.train_batches(epoch, rest, &mut |_| None)?,
            Some((augmentation, shape)) => {
                // Augmented batches are assembled one or two ahead on a thread of their own
                // (each sample's draws depend only on the seed, the epoch and its index).
                std::thread::scope(|scope| {
                    let (sender, receiver) = crossbeam_channel::bounded(2);
                    let dataset = self.dataset.clone();
                    let (seed, batch_size) = (self.config.seed, self.config.batch_size);
                    scope.spawn(move || {
                        for batch in rest.chunks(batch_size) {
                            let mut inputs = Vec::new();
                            dataset.train.fill_inputs(batch, &mut inputs);
                            augmentation.apply_batch(&mut inputs, shape, seed, epoch, batch);
                            if sender.send(inputs).is_err() {
                                return;
                            }
                        }
                    });
                    // The receiver goes when this returns, which ends the feeder early.
                    self.train_batches(epoch, rest, &mut |_| receiver.recv().ok())
                })?
            }
        };
        if flow == Flow::Stop {
            return Ok(Flow::Stop);
        }
        // The throughput counts only the samples this process trained in this epoch.
        let timed = self.position.samples_done - first;
        self.end_epoch(epoch, started, timed)?;
        Ok(Flow::Continue)
    }

    /// The run's augmentation and image shape, when it has one that does anything.
    fn augmentation(&self) -> Option<(Augmentation, ImageShape)> {
        let augmentation = self.config.augmentation.filter(Augmentation::is_active)?;
        Some((augmentation, image_shape(&self.dataset)?))
    }

    /// Trains on `batches` of the epoch's order, the commands answered between them;
    /// `inputs` gives a batch's assembled inputs, or `None` to assemble them here.
    fn train_batches(
        &mut self,
        epoch: usize,
        order: &[u32],
        inputs: &mut dyn FnMut(&[u32]) -> Option<Vec<f32>>,
    ) -> Result<Flow, TrainError> {
        for batch in order.chunks(self.config.batch_size) {
            let before = self.optimizer.config().learning_rate();
            let flow = self.controls.between_batches(
                self.commands,
                &mut self.optimizer,
                self.position.step,
                &mut self.events,
            )?;
            if flow == Flow::Stop {
                return Ok(Flow::Stop);
            }
            let set_by_hand = self.optimizer.config().learning_rate() != before;
            self.apply_schedule(epoch, set_by_hand);
            let ready = inputs(batch);
            self.train_batch(epoch, batch, ready)?;
        }
        Ok(Flow::Continue)
    }

    /// Sets the next step's learning rate (and momentum) from the schedule. A rate just set by
    /// hand is kept for this step and multiplies the schedule from now on. Without a schedule
    /// the optimizer's rate is left as it is.
    fn apply_schedule(&mut self, epoch: usize, set_by_hand: bool) {
        let schedule = &self.config.schedule;
        if schedule.schedule == Schedule::Constant && schedule.warmup_steps == 0 {
            return;
        }
        let steps_per_epoch = self.split.steps_per_epoch(self.config.batch_size);
        let point = SchedulePoint {
            step: self.position.step,
            epoch,
            total_steps: steps_per_epoch * self.config.epochs,
            epochs: self.config.epochs,
            plateau_lr: self.position.plateau.map(|state| state.lr),
        };
        let scheduled = schedule.at(self.config.optimizer.learning_rate(), point);
        if set_by_hand && scheduled.lr > 0.0 {
            self.position.lr_factor = self.optimizer.config().learning_rate() / scheduled.lr;
        }
        self.optimizer
            .set_learning_rate(scheduled.lr * self.position.lr_factor);
        if let Some(momentum) = scheduled.momentum {
            self.optimizer.set_momentum(momentum);
        }
    }

    /// Sends the run's state as a checkpoint, when the config asks for checkpoints.
    fn checkpoint(&mut self) {
        if !self.config.checkpoints.enabled {
            return;
        }
        self.position.train_secs = self.controls.train_secs();
        let step = self.position.step;
        let state = TrainState {
            position: self.position.clone(),
            weights: Arc::new(self.model.weights()),
            optimizer: self.optimizer.state(),
            best_weights: self.best_weights.clone(),
        };
        self.events.send(TrainEvent::Checkpoint {
            step,
            state: Arc::new(state),
        });
    }

    /// One optimizer step on `batch` (its inputs given, or assembled here), its metrics,
    /// and what follows from its loss.
    fn train_batch(
        &mut self,
        epoch: usize,
        batch: &[u32],
        ready: Option<Vec<f32>>,
    ) -> Result<(), TrainError> {
        let scaling = self.dataset.card.preprocessing.target;
        let inputs = match ready {
            Some(inputs) => inputs,
            None => {
                self.dataset.train.fill_inputs(batch, &mut self.inputs);
                self.inputs.clone()
            }
        };
        let targets =
            self.dataset
                .train
                .fill_targets(batch, self.dataset.outputs(), scaling.as_ref());
        let observe = self.health.reports_at(self.position.step + 1);
        let outcome = train_step_observed(
            &mut self.model,
            &mut self.optimizer,
            inputs,
            targets,
            self.config.loss,
            StepOptions {
                observe,
                dropout: Some(DropoutSeed {
                    seed: self.config.seed,
                    step: self.position.step + 1,
                }),
            },
        )?;
        self.position.step += 1;
        let (step, loss) = (self.position.step, outcome.loss);
        if !loss.is_finite() {
            let at = Diverged { step, epoch, loss };
            return on_divergence(
                at,
                &self.config,
                &mut self.model,
                &mut self.optimizer,
                &self.snapshots,
                &mut self.controls,
                &mut self.events,
            );
        }
        self.losses.push(loss);
        self.snapshots.after_loss(self.health.is_calm(loss));
        self.health.record_loss(step, loss);
        if observe {
            self.health
                .report(step, &self.model, outcome.health, &mut self.events)?;
        }
        let accuracy =
            self.position
                .epoch_sums
                .add_batch(&self.dataset, batch, &outcome.outputs, loss);
        self.position.samples_done += batch.len();
        self.events.send(TrainEvent::Batch(BatchMetrics {
            step,
            epoch,
            loss,
            accuracy,
            learning_rate: self.optimizer.config().learning_rate(),
            samples: batch.len(),
            train_secs: self.controls.train_secs(),
        }));
        self.snapshots
            .after_step(step, &self.model, &mut self.events);
        let last_in_epoch = self.position.samples_done >= self.split.train;
        if self.config.checkpoints.due_after_step(step, last_in_epoch) {
            self.checkpoint();
        }
        self.events.still_listening()
    }

    /// Validation, the epoch's metrics, its snapshot and its checkpoint.
    fn end_epoch(
        &mut self,
        epoch: usize,
        started: Instant,
        samples_timed: usize,
    ) -> Result<(), TrainError> {
        let duration_secs = started.elapsed().as_secs_f64();
        let card = &self.dataset.card;
        let validation = (!self.validation_indices.is_empty()).then(|| {
            let indices = &self.validation_indices;
            evaluate(
                &self.model,
                card,
                &self.dataset.train,
                indices,
                self.config.loss,
            )
        });
        self.position.epochs_completed += 1;
        self.validation_not_finite = validation
            .as_ref()
            .and_then(Evaluation::non_finite_metric)
            .map(|(metric, value)| format!("a validation {metric} of {value}"));
        let regression = card.task.is_regression();
        let metrics = self.position.epoch_sums.finish(
            epoch,
            self.position.step,
            regression,
            validation.as_ref(),
            duration_secs,
            samples_timed,
        );
        self.after_validation(epoch, &metrics);
        self.events.send(TrainEvent::Epoch(metrics));
        self.snapshots
            .after_epoch(self.position.step, &self.model, &mut self.events);
        self.position.epoch = epoch + 1;
        self.position.samples_done = 0;
        self.position.epoch_sums = EpochAccumulator::default();
        self.checkpoint();
        self.events.still_listening()
    }

    /// What the epoch's validation metric means to ReduceLROnPlateau and early stopping.
    fn after_validation(&mut self, epoch: usize, metrics: &EpochMetrics) {
        if let (Schedule::Plateau(plateau), Some(state)) =
            (&self.config.schedule.schedule, &mut self.position.plateau)
        {
            if let Some(value) = monitored(plateau.monitor, metrics) {
                plateau.step(state, value);
            }
        }
        if let (Some(rule), Some(state)) = (
            &self.config.early_stopping,
            &mut self.position.early_stopping,
        ) {
            let verdict = rule.after_epoch(state, epoch, metrics);
            if verdict == Verdict::Improved && rule.restore_best {
                self.best_weights = Some(Arc::new(self.model.weights()));
            }
        }
    }

    /// Whether early stopping ended the run after the epoch just finished.
    fn early_stopped(&self) -> bool {
        self.position
            .early_stopping
            .is_some_and(|state| state.stopped_after.is_some())
    }

    /// Puts the best epoch's weights back when early stopping is on and keeps them, however
    /// the run ended; the summary's sentence on what it kept and why it stopped, and the
    /// epoch restored.
    fn restore_best(&mut self) -> Result<(Option<String>, Option<usize>), TrainError> {
        let (Some(rule), Some(state)) =
            (&self.config.early_stopping, &self.position.early_stopping)
        else {
            return Ok((None, None));
        };
        let restored = match (&self.best_weights, rule.restore_best) {
            (Some(best), true) => {
                let model = &self.model;
                self.model = Model::from_weights(
                    model.spec.clone(),
                    model.plan.clone(),
                    best,
                    &model.device().clone(),
                )?;
                true
            }
            _ => false,
        };
        let restored_epoch = state.best_epoch.filter(|_| restored);
        Ok((Some(rule.describe(state, restored)), restored_epoch))
    }

    /// `Err(NotFinite)` naming the first tensor that holds a value that is not a number, or
    /// when the last validation had a metric that is not one.
    fn check_finite_result(&self, weights: &Weights) -> Result<(), TrainError> {
        let broken = weights
            .tensors
            .iter()
            .find(|tensor| tensor.values.iter().any(|v| !v.is_finite()));
        if let Some(tensor) = broken {
            let what = format!("weights that are not numbers ({})", tensor.name);
            return Err(self.not_finite(what));
        }
        match &self.validation_not_finite {
            None => Ok(()),
            Some(what) => Err(self.not_finite(what.clone())),
        }
    }

    /// `Err(NotFinite)` when an evaluation's metric is not a number.
    fn check_finite_metrics(&self, split: &str, evaluation: &Evaluation) -> Result<(), TrainError> {
        match evaluation.non_finite_metric() {
            None => Ok(()),
            Some((metric, value)) => Err(self.not_finite(format!("a {split} {metric} of {value}"))),
        }
    }

    fn not_finite(&self, what: String) -> TrainError {
        TrainError::NotFinite {
            what,
            step: self.position.step,
            cause: likely_cause(&self.config, &self.model.spec),
        }
    }

    /// The test split's evaluation, with progress; a Stop skips the rest of it.
    fn test(&mut self) -> Result<Option<Evaluation>, TrainError> {
        let test_indices: Vec<u32> = (0..self.split.test as u32).collect();
        let (commands, events) = (self.commands, &mut self.events);
        let mut cancelled = false;
        let test = evaluate_with_progress(
            &self.model,
            &self.dataset.card,
            &self.dataset.test,
            &test_indices,
            self.config.loss,
            &mut |done, total| {
                events.send(TrainEvent::Evaluating { done, total });
                match command_after_training(commands) {
                    AfterTraining::Continue => events.listening(),
                    AfterTraining::Stop => false,
                    AfterTraining::Cancel => {
                        cancelled = true;
                        false
                    }
                }
            },
        );
        if cancelled {
            return Err(TrainError::Cancelled);
        }
        self.events.still_listening()?;
        Ok(test)
    }
}
