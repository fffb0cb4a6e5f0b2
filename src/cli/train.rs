//! `layerlab train`: a headless run with a progress bar, an optional export and event log.

use std::io::Write;
use std::sync::Arc;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use layerlab::data::{Augmentation, Dataset};
use layerlab::display::thousands;
use layerlab::export::SavedModel;
use layerlab::model::Weights;
use layerlab::optim::{
    Anneal, LrSchedule, Monitor, OptimizerConfig, Plateau, Schedule, ThresholdMode,
};
use layerlab::presets::{preset, presets_for, Preset};
use layerlab::spec::{ActivationShape, Layer, ModelSpec};
use layerlab::store::tensorboard::LiveLog;
use layerlab::store::{Host, Parent, RunEnd, RunRecord};
use layerlab::train::{
    CheckpointPolicy, EarlyStopping, LossKind, TrainCommand, TrainConfig, TrainEvent, TrainJob,
    TrainState, TrainingHandle,
};

use super::args::{ScheduleArgs, ScheduleKind, TrainArgs};
use super::dataset::LoadedData;
use super::record::{self, Recording, Target};

pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    // `layerlab train ARGS...`: the run is recorded with ARGS (outputs left out).
    let raw: Vec<String> = std::env::args().skip(2).collect();
    let command = record::settings_only(&raw);
    train(args, command, Continuation::New)
}

/// How a `train` relates to the runs in the store.
pub enum Continuation {
    /// A new run.
    New,
    /// `runs resume`: the run `id` continues from its checkpoint `state`, with the settings
    /// and stack it was recorded with.
    Resume {
        id: String,
        record: Box<RunRecord>,
        state: Box<TrainState>,
    },
    /// `runs fork`: a new run, child of `parent`, starting from its checkpoint `state`.
    Fork {
        parent: String,
        record: Box<RunRecord>,
        state: Box<TrainState>,
        /// The fork named its own stack (`--spec`, `--preset`) instead of the parent's.
        own_stack: bool,
    },
}

/// Trains as `args` say, recorded with `command`, continuing a run or not.
pub fn train(
    args: TrainArgs,
    command: Vec<String>,
    continuation: Continuation,
) -> anyhow::Result<()> {
    let planned = plan(&args)?;
    let Planned {
        dataset,
        mut spec,
        mut config,
        preset,
        initial_weights,
    } = planned;
    let (target, resume_from) =
        starting_point(continuation, &args, &dataset, &mut spec, &mut config)?;
    config.checkpoints = CheckpointPolicy {
        enabled: !args.no_record,
        every_steps: args.checkpoint_every,
    };
    let card = dataset.card.clone();
    let record = RunRecord {
        stack: spec.clone(),
        settings: config.clone(),
        card: card.clone(),
        preset,
        command,
        version: env!("CARGO_PKG_VERSION").to_string(),
        host: Host::this_machine(),
    };
    let recording = if args.no_record {
        None
    } else {
        let path = record::store_path(args.store.as_ref())?;
        Recording::start(&path, &record, target)
    };
    if let Some(recording) = &recording {
        outln!("run={}", recording.id());
    }
    let tensorboard = match &args.tensorboard {
        Some(dir) => {
            let id = recording.as_ref().map_or("unrecorded", |r| r.id());
            let name = args.name.as_deref().unwrap_or(&card.dataset);
            Some(LiveLog::start(dir, name, id, &record)?)
        }
        None => None,
    };
    // Found out now, not after an hour of training.
    for path in args.export.iter().chain(&args.export_onnx) {
        SavedModel::check_writable(path)?;
    }
    let trained_spec = spec.clone();
    let trained_with = config.clone();
    let prepared = TrainJob {
        spec,
        config,
        dataset,
        initial_weights,
        resume_from,
    }
    .prepare()?;
    let run_id = recording.as_ref().map(|r| r.id().to_string());
    let summary = drive(prepared, &args, recording, tensorboard)?;
    let saved = SavedModel {
        spec: trained_spec,
        input_shape: SavedModel::input_shape_of(card.input_shape()),
        classes: card.task.outputs(),
        weights: (*summary.weights).clone(),
        card: Some(card.clone()),
        training: Some(trained_with),
    };
    export(&saved, &args)?;
    if let Some(warning) = &summary.warning {
        eprintln!("warning: {warning}");
    }
    print_summary(&summary, &card, run_id.as_deref(), args.json)
}

/// Where the run starts: a new run from scratch, a recorded run's checkpoint (with the
/// record's own stack and settings), or a fork of one (`spec` and `config` updated to match).
fn starting_point(
    continuation: Continuation,
    args: &TrainArgs,
    dataset: &Dataset,
    spec: &mut ModelSpec,
    config: &mut TrainConfig,
) -> anyhow::Result<(Target, Option<TrainState>)> {
    Ok(match continuation {
        Continuation::New => (
            Target::New {
                name: args.name.clone(),
                parent: None,
            },
            None,
        ),
        Continuation::Resume { id, record, state } => {
            if record.card != dataset.card {
                bail!(
                    "the data is not what run {id} trained on (its files or options changed since); use `runs fork` to train on it"
                );
            }
            *config = record.settings.clone();
            *spec = record.stack.clone();
            let step = state.position.step;
            (Target::Continue { id, step }, Some(*state))
        }
        Continuation::Fork {
            parent,
            record,
            mut state,
            own_stack,
        } => {
            if !own_stack {
                *spec = record.stack.clone();
            }
            // The fork's optimizer settings; its moments too when it is the same optimizer.
            if state.optimizer.config.name() == config.optimizer.name() {
                state.optimizer.config = config.optimizer.clone();
            }
            let step = state.position.step;
            let target = Target::New {
                name: args.name.clone(),
                parent: Some(Parent { run: parent, step }),
            };
            (target, Some(*state))
        }
    })
}

/// The run's outcome: one JSON object, or the early stopping and test lines.
fn print_summary(
    summary: &layerlab::train::RunSummary,
    card: &layerlab::data::DataCard,
    run_id: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    if json {
        outln!(
            "{}",
            serde_json::json!({
                "run_id": run_id,
                "warning": summary.warning,
                "dataset": card.dataset,
                "task": card.task,
                "steps": summary.steps,
                "epochs_completed": summary.epochs_completed,
                "duration_secs": summary.duration_secs,
                "early_stopping": summary.early_stopping,
                "test": summary.test,
            })
        );
        return Ok(());
    }
    if let Some(early_stopping) = &summary.early_stopping {
        outln!("early stopping: {early_stopping}");
    }
    match &summary.test {
        Some(test) => outln!("{}", test.metrics_line("test")),
        None => outln!("stopped at step {}: no test evaluation", summary.steps),
    }
    Ok(())
}

/// What `args` ask to train: the data, the stack, the settings, the recipe's name.
pub(super) struct Planned {
    pub(super) dataset: Arc<Dataset>,
    pub(super) spec: ModelSpec,
    pub(super) config: TrainConfig,
    pub(super) preset: Option<String>,
    pub(super) initial_weights: Option<Arc<Weights>>,
}

/// Loads the data and works out the stack and settings from the options, the preset and
/// the dataset (notes printed as they come).
pub(super) fn plan(args: &TrainArgs) -> anyhow::Result<Planned> {
    let source = args.data.source();
    // The recipe: the one named, else the first made for this dataset.
    let named = match args.preset {
        Some(name) => Some(preset(name.as_str()).context("preset table is inconsistent")?),
        None if args.spec.is_none() && args.resume.is_none() => {
            presets_for(&source).into_iter().next()
        }
        None => None,
    };
    let LoadedData { dataset, notes, .. } = args
        .data
        .load(named.as_ref().is_some_and(|p| p.log_target))?;
    for note in &notes {
        outln!("{note}");
    }
    let recipe = recipe_for(named, args, &dataset)?;
    let resumed = args.resume.as_deref().map(SavedModel::load).transpose()?;
    let initial_weights = resumed
        .as_ref()
        .map(|saved| Arc::new(saved.weights.clone()));
    let spec = match (&args.spec, &resumed, &recipe) {
        (Some(path), _, _) => {
            let json = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read layer stack {}", path.display()))?;
            ModelSpec::from_json(&json).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        (None, Some(saved), _) => saved.spec.clone(),
        (None, None, Some(recipe)) => recipe.spec.clone(),
        (None, None, None) => unreachable!("a recipe is chosen when there is no stack"),
    };
    for warning in layerlab::spec::stack_warnings(&spec) {
        eprintln!("warning: {warning}");
    }
    let base = recipe.clone().or_else(|| default_recipe(&dataset).ok());
    let config = settings(args, base.as_ref(), &dataset)?;
    Ok(Planned {
        dataset: Arc::new(dataset),
        spec,
        config,
        preset: recipe.map(|r| r.name.to_string()),
        initial_weights,
    })
}

/// The preset, its last layer sized for the data; or a default recipe when none was named
/// and no stack was given.
fn recipe_for(
    named: Option<Preset>,
    args: &TrainArgs,
    dataset: &Dataset,
) -> anyhow::Result<Option<Preset>> {
    let outputs = dataset.outputs();
    Ok(match named {
        Some(p)
            if p.spec.layers.last().is_some_and(|l| {
                *l != Layer::Linear {
                    out_features: outputs,
                }
            }) =>
        {
            outln!(
                "preset {}: last Linear sized {outputs} for {} ({})",
                p.name,
                dataset.name,
                dataset.task().describe()
            );
            Some(p.with_outputs(outputs))
        }
        Some(p) => Some(p),
        None if args.spec.is_none() && args.resume.is_none() => {
            let fallback = default_recipe(dataset)?;
            outln!(
                "no preset is made for {}; using: {}",
                dataset.name,
                fallback.description
            );
            Some(fallback)
        }
        None => None,
    })
}

/// The train settings: the options given, else the recipe's, else the defaults.
fn settings(
    args: &TrainArgs,
    base: Option<&Preset>,
    dataset: &Dataset,
) -> anyhow::Result<TrainConfig> {
    let mut optimizer = match (args.optimizer, base) {
        (Some(kind), _) => {
            OptimizerConfig::default_for(kind.name()).context("optimizer table is inconsistent")?
        }
        (None, Some(base)) => base.optimizer.clone(),
        (None, None) => OptimizerConfig::default_for("adam").context("no adam")?,
    };
    if let Some(lr) = args.lr {
        optimizer.set_learning_rate(lr);
    }
    apply_momentum_and_decay(&mut optimizer, args.momentum, args.weight_decay)?;
    let loss = args
        .loss
        .or_else(|| base.and_then(|b| b.loss))
        .unwrap_or_else(|| LossKind::default_for(dataset.task()));
    Ok(TrainConfig {
        optimizer,
        batch_size: args.batch_size.or(base.map(|b| b.batch_size)).unwrap_or(32),
        epochs: args.epochs.or(base.map(|b| b.epochs)).unwrap_or(1),
        seed: args.seed,
        loss,
        validation_size: args
            .validation_size
            .unwrap_or_else(|| dataset.default_validation_size()),
        train_limit: args.limit,
        test_limit: args.test_limit,
        health_every_steps: args.health_every,
        schedule: match (&args.schedule.schedule, base) {
            (None, Some(base)) if args.schedule.warmup_steps == 0 => base.schedule.clone(),
            _ => schedule(&args.schedule, args.early_stop.monitor)?,
        },
        augmentation: augmentation(args.augment.as_deref(), base)?,
        early_stopping: args.early_stop.early_stop.map(|patience| EarlyStopping {
            monitor: args.early_stop.monitor,
            patience,
            min_delta: args.early_stop.min_delta,
            start_from_epoch: args.early_stop.start_from_epoch,
            restore_best: !args.early_stop.no_restore_best,
        }),
        ..TrainConfig::default()
    })
}

/// The augmentation `--augment` asks for, else the recipe's.
fn augmentation(spec: Option<&str>, base: Option<&Preset>) -> anyhow::Result<Option<Augmentation>> {
    match spec {
        None => Ok(base.and_then(|b| b.augmentation)),
        Some("none") => Ok(None),
        Some(spec) => Augmentation::parse(spec)
            .map(Some)
            .map_err(|why| anyhow::anyhow!("--augment: {why}")),
    }
}

/// The schedule the options ask for.
fn schedule(args: &ScheduleArgs, monitor: Monitor) -> anyhow::Result<LrSchedule> {
    let gamma = |default: Option<f64>, name: &str| {
        args.gamma
            .or(default)
            .with_context(|| format!("--schedule {name} needs --gamma (the factor of each decay)"))
    };
    let schedule = match args.schedule.unwrap_or(ScheduleKind::Constant) {
        ScheduleKind::Constant => Schedule::Constant,
        ScheduleKind::Step => Schedule::Step {
            step_size: args.step_size,
            gamma: gamma(Some(0.1), "step")?,
        },
        ScheduleKind::Multistep => {
            if args.milestones.is_empty() {
                bail!("--schedule multistep needs --milestones (epochs, comma-separated)");
            }
            Schedule::MultiStep {
                milestones: args.milestones.clone(),
                gamma: gamma(Some(0.1), "multistep")?,
            }
        }
        ScheduleKind::Exponential => Schedule::Exponential {
            gamma: gamma(None, "exponential")?,
        },
        ScheduleKind::Cosine => Schedule::Cosine {
            t_max: args.t_max,
            eta_min: args.eta_min,
        },
        ScheduleKind::Onecycle => Schedule::OneCycle {
            pct_start: args.pct_start,
            anneal: match args.anneal.as_str() {
                "cos" => Anneal::Cos,
                "linear" => Anneal::Linear,
                other => bail!("--anneal is cos or linear, not {other:?}"),
            },
            div_factor: args.div_factor,
            final_div_factor: args.final_div_factor,
            three_phase: args.three_phase,
            cycle_momentum: !args.no_cycle_momentum,
            base_momentum: 0.85,
            max_momentum: 0.95,
        },
        ScheduleKind::Plateau => Schedule::Plateau(Plateau {
            monitor,
            factor: args.factor,
            patience: args.patience,
            threshold: args.threshold,
            threshold_mode: match args.threshold_mode.as_str() {
                "rel" => ThresholdMode::Rel,
                "abs" => ThresholdMode::Abs,
                other => bail!("--threshold-mode is rel or abs, not {other:?}"),
            },
            cooldown: args.cooldown,
            min_lr: args.min_lr,
            ..Plateau::default()
        }),
    };
    let schedule = LrSchedule {
        schedule,
        warmup_steps: args.warmup_steps,
        warmup_start_factor: args.warmup_start_factor,
    };
    schedule.validate()?;
    Ok(schedule)
}

/// Runs the prepared job on its thread with a progress bar, recording and logging its
/// events; the summary, or the run's failure.
/// The steps bar on stderr (hidden with `--quiet`).
fn progress_bar(quiet: bool) -> ProgressBar {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} {pos}/{len} steps {elapsed_precise} eta {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// "training 225,034 parameters on 55,000 samples (5,000 held out for validation)".
fn started_line(
    parameters: usize,
    train_samples: usize,
    validation_samples: usize,
    first_step: usize,
) -> String {
    let from = if first_step > 0 {
        format!(", from step {}", thousands(first_step))
    } else {
        String::new()
    };
    format!(
        "training {} parameters on {} samples ({} held out for validation){from}",
        thousands(parameters),
        thousands(train_samples),
        thousands(validation_samples)
    )
}

fn drive(
    prepared: layerlab::train::PreparedJob,
    args: &TrainArgs,
    recording: Option<Recording>,
    mut tensorboard: Option<LiveLog>,
) -> anyhow::Result<layerlab::train::RunSummary> {
    let mut log = match &args.log_jsonl {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => None,
    };
    let handle =
        TrainingHandle::spawn(prepared, None).context("cannot start the training thread")?;
    let bar = progress_bar(args.quiet);
    let mut summary = None;
    let mut warned = std::collections::HashSet::new();
    for event in handle.events().iter() {
        if let Some(recording) = &recording {
            recording.observe(&event);
        }
        if let Some(log) = &mut log {
            serde_json::to_writer(&mut *log, &event)?;
            writeln!(log)?;
        }
        if let Some(live) = &mut tensorboard {
            if let Err(error) = live.observe(&event) {
                // The training goes on; only the TensorBoard files stop.
                say(&bar, format!("warning: TensorBoard files stopped: {error}"))?;
                tensorboard = None;
            }
        }
        match event {
            TrainEvent::Started {
                total_steps,
                first_step,
                train_samples,
                validation_samples,
                parameters,
                ..
            } => {
                bar.set_length(total_steps as u64);
                bar.set_position(first_step as u64);
                say(
                    &bar,
                    started_line(parameters, train_samples, validation_samples, first_step),
                )?;
            }
            TrainEvent::Batch(batch) => {
                bar.set_position(batch.step as u64);
                if batch.step % 20 == 0 {
                    bar.set_message(match batch.accuracy {
                        Some(accuracy) => format!("loss {:.4} acc {accuracy:.3}", batch.loss),
                        None => format!("loss {:.4}", batch.loss),
                    });
                }
            }
            TrainEvent::Epoch(epoch) => {
                say(&bar, epoch_line(&epoch))?;
            }
            TrainEvent::Finished(done) => summary = Some(done),
            TrainEvent::Failed { message } => {
                bar.abandon();
                if let Some(recording) = recording {
                    recording.finish(RunEnd::Failed {
                        message: message.clone(),
                    });
                }
                bail!(message);
            }
            TrainEvent::Health(report) => {
                // Each kind of warning once per layer ("layer 3: 62% ..." again at every
                // report would drown the progress bar).
                for warning in &report.warnings {
                    if warned.insert((warning.kind, warning.layer)) {
                        say(&bar, format!("warning at step {}: {warning}", report.step))?;
                    }
                }
            }
            TrainEvent::Snapshot { .. }
            | TrainEvent::Checkpoint { .. }
            | TrainEvent::RolledBack { .. }
            | TrainEvent::Paused { .. }
            | TrainEvent::Resumed { .. }
            | TrainEvent::LearningRateChanged { .. }
            | TrainEvent::Evaluating { .. } => {}
        }
    }
    bar.finish_and_clear();
    let _ = handle.send(TrainCommand::Cancel);
    if let Some(log) = &mut log {
        log.flush()?;
    }
    let summary = summary.context("the training thread ended without a result")?;
    if let Some(recording) = recording {
        recording.finish(if summary.stopped_early {
            RunEnd::Stopped
        } else {
            RunEnd::Finished {
                test: summary.test.clone(),
            }
        });
    }
    Ok(*summary)
}

/// Writes the model where `--export-onnx` and `--export` say; a path that fails keeps the
/// training: the weights go to the models folder instead, and the message says where.
fn export(saved: &SavedModel, args: &TrainArgs) -> anyhow::Result<()> {
    if let Some(path) = &args.export_onnx {
        match layerlab::onnx::save_onnx(saved, path) {
            Ok(()) => outln!("saved {}", path.display()),
            // The training is not lost: the weights file below, or one in the models folder.
            Err(error) if args.export.is_some() => eprintln!("error: {error}"),
            Err(error) => {
                let fallback = fallback_export_path(path).with_extension("safetensors");
                saved.save(&fallback).with_context(|| {
                    format!(
                        "{error}; saving the weights to {} failed too",
                        fallback.display()
                    )
                })?;
                outln!(
                    "{error}; the weights are saved to {} instead",
                    fallback.display()
                );
            }
        }
    }
    if let Some(path) = &args.export {
        match saved.save(path) {
            Ok(()) => outln!("saved {}", path.display()),
            Err(error) => {
                // The training is not lost: keep it in the models folder and say where.
                let fallback = fallback_export_path(path);
                saved.save(&fallback).with_context(|| {
                    format!("{error}; saving to {} failed too", fallback.display())
                })?;
                outln!("{error}; saved to {} instead", fallback.display());
            }
        }
    }
    Ok(())
}

/// Where a model goes when its export path fails at the end: the platform data folder's
/// models folder, under the same file name.
fn fallback_export_path(path: &std::path::Path) -> std::path::PathBuf {
    let dir = dirs::data_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("layerlab/models");
    let _ = std::fs::create_dir_all(&dir);
    dir.join(
        path.file_name()
            .unwrap_or_else(|| std::ffi::OsStr::new("model.safetensors")),
    )
}

/// "epoch 3 train_loss=0.1234 train_accuracy=0.9612 val_loss=... samples_per_sec=...".
fn epoch_line(epoch: &layerlab::train::EpochMetrics) -> String {
    let mut line = format!(
        "epoch {} train_loss={:.4}",
        epoch.epoch + 1,
        epoch.train_loss
    );
    let mut add = |name: &str, value: Option<f32>| {
        if let Some(value) = value {
            line.push_str(&format!(" {name}={value:.4}"));
        }
    };
    add("train_accuracy", epoch.train_accuracy);
    add("train_rmse", epoch.train_rmse);
    add("val_loss", epoch.validation_loss);
    add("val_accuracy", epoch.validation_accuracy);
    add("val_rmse", epoch.validation_rmse);
    add("val_mae", epoch.validation_mae);
    line.push_str(&format!(" samples_per_sec={:.0}", epoch.images_per_sec));
    line
}

/// A sensible recipe for data no preset was made for: a small MLP for features, the deeper
/// MLP for images; the last layer sized for the task.
fn default_recipe(dataset: &Dataset) -> anyhow::Result<Preset> {
    let name = match dataset.input_shape() {
        ActivationShape::Flat { .. } => "tabular-mlp",
        ActivationShape::Spatial { .. } => "mlp-deep",
    };
    let mut recipe = preset(name)
        .context("preset table is inconsistent")?
        .with_outputs(dataset.outputs());
    if dataset.task().is_regression() {
        recipe.loss = Some(LossKind::Mse);
    }
    if matches!(dataset.input_shape(), ActivationShape::Flat { .. }) {
        recipe.epochs = 20;
    }
    Ok(recipe)
}

fn apply_momentum_and_decay(
    optimizer: &mut OptimizerConfig,
    new_momentum: Option<f64>,
    new_weight_decay: Option<f64>,
) -> anyhow::Result<()> {
    if let Some(value) = new_momentum {
        match optimizer {
            OptimizerConfig::Sgd { momentum, .. } | OptimizerConfig::RmsProp { momentum, .. } => {
                *momentum = value
            }
            other @ (OptimizerConfig::Adam { .. } | OptimizerConfig::AdamW { .. }) => {
                bail!("--momentum does not apply to {}", other.name())
            }
        }
    }
    if let Some(value) = new_weight_decay {
        match optimizer {
            OptimizerConfig::Sgd { weight_decay, .. }
            | OptimizerConfig::Adam { weight_decay, .. }
            | OptimizerConfig::AdamW { weight_decay, .. }
            | OptimizerConfig::RmsProp { weight_decay, .. } => *weight_decay = value,
        }
    }
    Ok(())
}

/// Prints above the progress bar, or plainly when there is none (--quiet, not a terminal).
fn say(bar: &ProgressBar, line: String) -> std::io::Result<()> {
    if bar.is_hidden() {
        outln!("{line}");
    } else {
        bar.println(line);
    }
    Ok(())
}
