//! `layerlab train`: a headless run with a progress bar, an optional export and event log.

use std::io::Write;
use std::sync::Arc;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use layerlab::data::{default_mnist_dir, Dataset};
use layerlab::export::SavedModel;
use layerlab::optim::OptimizerConfig;
use layerlab::spec::{preset, ModelSpec, PRESET_NAMES};
use layerlab::train::{LossKind, TrainCommand, TrainConfig, TrainEvent, TrainJob, TrainingHandle};

use super::args::TrainArgs;

pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let preset = preset(&args.preset).with_context(|| {
        format!(
            "unknown preset {:?}; choose one of {}",
            args.preset,
            PRESET_NAMES.join(", ")
        )
    })?;
    let mut initial_weights = None;
    let spec = match (&args.spec, &args.resume) {
        (Some(path), _) => {
            let json = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read layer stack {}", path.display()))?;
            ModelSpec::from_json(&json).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        (None, Some(path)) => {
            let saved = SavedModel::load(path)?;
            initial_weights = Some(Arc::new(saved.weights));
            saved.spec
        }
        (None, None) => preset.spec.clone(),
    };

    let mut optimizer = match &args.optimizer {
        Some(name) => OptimizerConfig::default_for(name).with_context(|| {
            format!("unknown optimizer {name:?}; choose one of sgd, adam, adamw, rmsprop")
        })?,
        None => preset.optimizer.clone(),
    };
    if let Some(lr) = args.lr {
        optimizer.set_learning_rate(lr);
    }
    apply_momentum_and_decay(&mut optimizer, args.momentum, args.weight_decay)?;
    let loss = match args.loss.as_str() {
        "cross-entropy" | "cross_entropy" | "ce" => LossKind::CrossEntropy,
        "mse" => LossKind::Mse,
        other => bail!("unknown loss {other:?}; choose cross-entropy or mse"),
    };
    let config = TrainConfig {
        optimizer,
        batch_size: args.batch_size.unwrap_or(preset.batch_size),
        epochs: args.epochs,
        seed: args.seed,
        loss,
        validation_size: args.validation_size,
        train_limit: args.limit,
        test_limit: args.test_limit,
        ..TrainConfig::default()
    };

    let data_dir = args.data_dir.clone().unwrap_or_else(default_mnist_dir);
    let dataset = Arc::new(Dataset::mnist(&data_dir)?);
    let classes = dataset.classes;
    let input_shape = SavedModel::input_shape_of(dataset.input_shape());
    let trained_spec = spec.clone();
    let prepared = TrainJob {
        spec,
        config,
        dataset,
        initial_weights,
    }
    .prepare()?;
    let mut log = match &args.log_jsonl {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => None,
    };

    let handle =
        TrainingHandle::spawn(prepared, None).context("cannot start the training thread")?;
    let bar = if args.quiet {
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
    let mut summary = None;
    for event in handle.events().iter() {
        if let Some(log) = &mut log {
            serde_json::to_writer(&mut *log, &event)?;
            writeln!(log)?;
        }
        match event {
            TrainEvent::Started {
                total_steps,
                train_samples,
                validation_samples,
                parameters,
                ..
            } => {
                bar.set_length(total_steps as u64);
                say(&bar, format!(
                    "training {parameters} parameters on {train_samples} images ({validation_samples} held out for validation)"
                ))?;
            }
            TrainEvent::Batch(batch) => {
                bar.set_position(batch.step as u64);
                if batch.step % 20 == 0 {
                    bar.set_message(format!("loss {:.4} acc {:.3}", batch.loss, batch.accuracy));
                }
            }
            TrainEvent::Epoch(epoch) => {
                let validation = match (epoch.validation_loss, epoch.validation_accuracy) {
                    (Some(loss), Some(acc)) => format!(" val_loss={loss:.4} val_accuracy={acc:.4}"),
                    _ => String::new(),
                };
                say(&bar, format!(
                    "epoch {} train_loss={:.4} train_accuracy={:.4}{validation} images_per_sec={:.0}",
                    epoch.epoch + 1,
                    epoch.train_loss,
                    epoch.train_accuracy,
                    epoch.images_per_sec
                ))?;
            }
            TrainEvent::Finished(done) => summary = Some(done),
            TrainEvent::Failed { message } => {
                bar.abandon();
                bail!(message);
            }
            TrainEvent::Snapshot { .. }
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
    if let Some(path) = &args.export {
        let saved = SavedModel {
            spec: trained_spec,
            input_shape,
            classes,
            weights: (*summary.weights).clone(),
        };
        saved.save(path)?;
        outln!("saved {}", path.display());
    }
    match &summary.test {
        Some(test) => outln!(
            "test_accuracy={:.4} test_loss={:.4}",
            test.accuracy,
            test.loss
        ),
        None => outln!("stopped at step {}: no test evaluation", summary.steps),
    }
    Ok(())
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
            other => bail!("--momentum does not apply to {}", other.name()),
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
