//! `layerlab runs`: the run store from the command line: list, show, compare, resume, fork,
//! tag, rename, note and delete.

use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use anyhow::{bail, Context};
use clap::Parser;
use layerlab::display::format_secs;
use layerlab::store::tensorboard::export_run;
use layerlab::store::{
    compare_runs, CheckpointRow, Comparison, LayerOp, RunFilter, RunRow, RunStore,
};
use layerlab::train::TrainState;

use super::args::{Cli, Command, RunsArgs, RunsCommand, TrainArgs};
use super::record::{self, open_store};
use super::runs_torch as torch;
use super::train::{train, Continuation};

pub fn run(args: RunsArgs) -> anyhow::Result<()> {
    let path = record::store_path(args.store.as_ref())?;
    let mut store = open_store(&path)?;
    match args.command {
        None => list(&store, &args),
        Some(RunsCommand::Show { id, metrics }) => {
            let id = store.resolve(&id)?;
            if metrics {
                let mut out = std::io::stdout().lock();
                return Ok(store.steps_csv(&id, &mut out)?);
            }
            show(&store, &id, args.json)
        }
        Some(RunsCommand::Compare { ids }) => {
            let ids = ids
                .iter()
                .map(|id| store.resolve(id))
                .collect::<Result<Vec<_>, _>>()?;
            let comparison = compare_runs(&store, &ids)?;
            if args.json {
                outln!("{}", comparison_json(&comparison));
                return Ok(());
            }
            print_comparison(&comparison)
        }
        Some(RunsCommand::Resume { id, options }) => {
            let id = store.resolve(&id)?;
            resume(store, &path, &id, &options)
        }
        Some(RunsCommand::Fork { id, step, options }) => {
            let id = store.resolve(&id)?;
            fork(store, &path, &id, step, &options)
        }
        Some(RunsCommand::Tag { id, tags, remove }) => {
            let id = store.resolve(&id)?;
            for tag in &tags {
                if remove {
                    store.untag(&id, tag)?;
                } else {
                    store.tag(&id, tag)?;
                }
            }
            Ok(())
        }
        Some(RunsCommand::ExportTensorboard { ids, out }) => {
            for id in &ids {
                let id = store.resolve(id)?;
                let file = export_run(&store, &id, &out)?;
                outln!("{}", file.display());
            }
            Ok(())
        }
        Some(RunsCommand::ExportTorch { id, out }) => {
            let id = store.resolve(&id)?;
            torch::export(&store, &id, &out)
        }
        Some(RunsCommand::Import { dir }) => torch::import(&mut store, &dir, args.json),
        Some(RunsCommand::Rename { id, name }) => Ok(store.rename(&store.resolve(&id)?, &name)?),
        Some(RunsCommand::Note { id, note }) => Ok(store.set_note(&store.resolve(&id)?, &note)?),
        Some(RunsCommand::Delete { ids, yes }) => {
            let ids = ids
                .iter()
                .map(|id| store.resolve(id))
                .collect::<Result<Vec<_>, _>>()?;
            if !yes
                && !confirm(&format!(
                    "Delete {} run(s) and their checkpoints?",
                    ids.len()
                ))?
            {
                bail!("nothing deleted (answer y, or pass --yes)");
            }
            for id in &ids {
                store.delete(id)?;
                outln!("deleted {id}");
            }
            Ok(())
        }
    }
}

/// Asks on the terminal; without one, the answer is no.
fn confirm(question: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Ok(false);
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

fn list(store: &RunStore, args: &RunsArgs) -> anyhow::Result<()> {
    let rows = store.list(&RunFilter {
        dataset: args.dataset.clone(),
        tag: args.tag.clone(),
        status: args.status.clone(),
    })?;
    if args.json {
        outln!("{}", serde_json::to_string(&rows)?);
        return Ok(());
    }
    if rows.is_empty() {
        outln!(
            "no runs recorded in {} yet; `layerlab train` records one",
            store.path().display()
        );
        return Ok(());
    }
    outln!(
        "{:<12}  {:<28}  {:<22}  {:<14}  {:<28}  {:>6}  {:>9}  {:>9}  {:>8}",
        "id",
        "name",
        "status",
        "dataset",
        "stack",
        "epochs",
        "best val",
        "test",
        "time"
    );
    for row in &rows {
        outln!(
            "{:<12}  {:<28}  {:<22}  {:<14}  {:<28}  {:>6}  {:>9}  {:>9}  {:>8}",
            row.id,
            clip(&row.name, 28),
            clip(&status(row), 22),
            clip(&row.dataset, 14),
            clip(&row.stack, 28),
            format!("{}/{}", row.epochs_completed, row.epochs),
            metric(row.best_validation_accuracy, row.best_validation_rmse),
            metric(row.test_accuracy, row.test_rmse),
            format_secs(row.train_secs)
        );
    }
    Ok(())
}

fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut clipped: String = text.chars().take(width - 1).collect();
    clipped.push('…');
    clipped
}

/// "finished", "interrupted at step 412", "failed: why".
fn status(row: &RunRow) -> String {
    match (row.status.as_str(), &row.message) {
        ("interrupted", Some(message)) => message.clone(),
        ("failed", Some(message)) => format!("failed: {message}"),
        ("stopped", _) => format!("stopped at step {}", row.last_step),
        (status, _) => status.to_string(),
    }
}

/// "98.12%" for an accuracy, "rmse 0.42" for a regression, "-" for none.
fn metric(accuracy: Option<f64>, rmse: Option<f64>) -> String {
    match (accuracy, rmse) {
        (Some(a), _) => format!("{:.2}%", a * 100.0),
        (None, Some(r)) => format!("rmse {r:.4}"),
        (None, None) => "-".into(),
    }
}

fn when(secs: f64) -> String {
    let at = UNIX_EPOCH + Duration::from_secs_f64(secs.max(0.0));
    humantime::format_rfc3339_seconds(at).to_string()
}

fn show(store: &RunStore, id: &str, json: bool) -> anyhow::Result<()> {
    let details = store.details(id)?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&details)?);
        return Ok(());
    }
    let row = &details.row;
    outln!("run {}: {}", row.id, row.name);
    outln!("status: {}", status(row));
    outln!("created: {}", when(row.created_at));
    match (&row.parent_id, row.parent_step, &details.record.host.torch) {
        (Some(parent), _, Some(_)) => {
            outln!("exported from: {parent} (trained again by PyTorch, imported)");
        }
        (Some(parent), Some(step), None) => outln!("forked from: {parent} at step {step}"),
        _ => {}
    }
    outln!("dataset: {}", row.dataset);
    if let Some(preset) = &row.preset {
        outln!("preset: {preset}");
    }
    outln!(
        "stack: {}",
        serde_json::to_string(&details.record.stack.layers)?
    );
    outln!(
        "settings: {}",
        serde_json::to_string(&details.record.settings)?
    );
    outln!(
        "progress: {} of {} epochs, step {}, {} of training",
        row.epochs_completed,
        row.epochs,
        row.last_step,
        format_secs(row.train_secs)
    );
    outln!(
        "best validation: {}; test: {}",
        metric(row.best_validation_accuracy, row.best_validation_rmse),
        metric(row.test_accuracy, row.test_rmse)
    );
    let host = &details.record.host;
    match &host.torch {
        Some(torch) => outln!(
            "trained by {}; exported from LayerLab {}",
            torch.describe(),
            details.record.version
        ),
        None => outln!(
            "host: {} ({} threads, {}); LayerLab {}",
            host.cpu,
            host.threads,
            host.os,
            details.record.version
        ),
    }
    if !row.tags.is_empty() {
        outln!("tags: {}", row.tags.join(", "));
    }
    if !row.note.is_empty() {
        outln!("note: {}", row.note);
    }
    let steps: Vec<String> = details
        .checkpoints
        .iter()
        .map(|c| c.step.to_string())
        .collect();
    outln!(
        "checkpoints at steps: {}",
        if steps.is_empty() {
            "none".into()
        } else {
            steps.join(", ")
        }
    );
    for (step, kind, detail) in &details.events {
        outln!("step {step}: {kind} {detail}");
    }
    if !details.record.command.is_empty() {
        outln!(
            "command: layerlab train {}",
            details.record.command.join(" ")
        );
    }
    Ok(())
}

fn comparison_json(comparison: &Comparison) -> serde_json::Value {
    let layers = if comparison.layers.len() == 1 {
        serde_json::to_value(&comparison.layers[0])
    } else {
        serde_json::to_value(&comparison.layers)
    };
    serde_json::json!({
        "runs": comparison.runs.iter().map(|r| &r.id).collect::<Vec<_>>(),
        "differences": comparison.differences,
        "layers": layers.unwrap_or_default(),
        "metrics": comparison.runs.iter().map(|r| serde_json::json!({
            "run": r.id,
            "status": r.status,
            "epochs_completed": r.epochs_completed,
            "best_validation_accuracy": r.best_validation_accuracy,
            "best_validation_rmse": r.best_validation_rmse,
            "test_accuracy": r.test_accuracy,
            "test_rmse": r.test_rmse,
            "train_secs": r.train_secs,
        })).collect::<Vec<_>>(),
    })
}

fn print_comparison(comparison: &Comparison) -> anyhow::Result<()> {
    let ids: Vec<&str> = comparison.runs.iter().map(|r| r.id.as_str()).collect();
    outln!("runs: {}", ids.join(" | "));
    if comparison.differences.is_empty() {
        outln!("settings: the same");
    }
    for difference in &comparison.differences {
        let values: Vec<String> = difference.values.iter().map(short_json).collect();
        outln!("{} {}", difference.path, values.join(" -> "));
    }
    for (index, ops) in comparison.layers.iter().enumerate() {
        if comparison.layers.len() > 1 {
            outln!("layers, {} -> {}:", ids[0], ids[index + 1]);
        } else {
            outln!("layers:");
        }
        for op in ops {
            let line = match op {
                LayerOp::Same { a, layer, .. } => format!("  {a:>3}   {}", short(layer)),
                LayerOp::Insert { b, layer } => format!("  + {b:>2} {}", short(layer)),
                LayerOp::Delete { a, layer } => format!("  - {a:>2} {}", short(layer)),
                LayerOp::Change { a, b, kind, fields } => {
                    let changes: Vec<String> = fields
                        .iter()
                        .map(|f| {
                            let values: Vec<String> = f.values.iter().map(short_json).collect();
                            format!(
                                "{} {}",
                                f.path.rsplit('.').next().unwrap_or(&f.path),
                                values.join(" -> ")
                            )
                        })
                        .collect();
                    format!("  ~ {a:>2}→{b} {kind}: {}", changes.join(", "))
                }
            };
            outln!("{line}");
        }
    }
    outln!("metrics:");
    for row in &comparison.runs {
        outln!(
            "  {}  {:<22}  best val {:>9}  test {:>9}  {} epochs  {}",
            row.id,
            clip(&status(row), 22),
            metric(row.best_validation_accuracy, row.best_validation_rmse),
            metric(row.test_accuracy, row.test_rmse),
            row.epochs_completed,
            format_secs(row.train_secs)
        );
    }
    Ok(())
}

fn short(layer: &layerlab::spec::Layer) -> String {
    serde_json::to_string(layer).unwrap_or_default()
}

fn short_json(value: &serde_json::Value) -> String {
    let text = value.to_string();
    clip(&text, 60)
}

/// The newest checkpoint at or before `step` whose file exists (a missing one is named).
fn checkpoint_at(
    store: &RunStore,
    id: &str,
    step: Option<usize>,
) -> anyhow::Result<(CheckpointRow, TrainState)> {
    let mut skipped = Vec::new();
    let found = store.checkpoint_at(id, step, &mut skipped);
    for note in skipped {
        eprintln!("note: {note}");
    }
    Ok(found?)
}

/// Train's arguments: the recorded command, `options`, and this store.
pub(super) fn train_args(
    command: &[String],
    options: &[String],
    store: &Path,
) -> anyhow::Result<TrainArgs> {
    let argv = ["layerlab", "train"]
        .into_iter()
        .map(str::to_string)
        .chain(command.iter().cloned())
        .chain(options.iter().cloned())
        .chain(["--store".to_string(), store.display().to_string()]);
    let cli = Cli::try_parse_from(argv).context("the recorded command no longer parses")?;
    match cli.command {
        Some(Command::Train(args)) => Ok(*args),
        _ => bail!("the recorded command is not a train command"),
    }
}

fn resume(store: RunStore, path: &Path, id: &str, options: &[String]) -> anyhow::Result<()> {
    let row = store.row(id)?;
    match row.status.as_str() {
        "running" => bail!("run {id} is still training in another process"),
        "finished" => bail!(
            "run {id} finished; to train it further, fork it: `layerlab runs fork {id} --epochs N`"
        ),
        _ => {}
    }
    let changed = record::non_output_options(options);
    if !changed.is_empty() {
        bail!(
            "`runs resume` continues run {id} exactly as recorded; to change {}, fork it: `layerlab runs fork {id} {}`",
            changed.join(" "),
            changed.join(" ")
        );
    }
    let record = store.record(id)?;
    let (_, state) = checkpoint_at(&store, id, None)?;
    drop(store);
    let args = train_args(&record.command, options, path)?;
    let command = record.command.clone();
    train(
        args,
        command,
        Continuation::Resume {
            id: id.to_string(),
            record: Box::new(record),
            state: Box::new(state),
        },
    )
}

fn fork(
    store: RunStore,
    path: &Path,
    id: &str,
    step: Option<usize>,
    options: &[String],
) -> anyhow::Result<()> {
    let record = store.record(id)?;
    let (checkpoint, state) = checkpoint_at(&store, id, step)?;
    drop(store);
    if step.is_some_and(|s| s != checkpoint.step) {
        eprintln!(
            "note: forking from the checkpoint at step {}",
            checkpoint.step
        );
    }
    let command = record::merged(&record.command, &record::settings_only(options));
    let args = train_args(&command, &record::outputs_only(options), path)?;
    let own_stack = options
        .iter()
        .any(|o| o.starts_with("--spec") || o.starts_with("--preset"));
    train(
        args,
        command,
        Continuation::Fork {
            parent: id.to_string(),
            record: Box::new(record),
            state: Box::new(state),
            own_stack,
        },
    )
}
