//! `layerlab runs export-torch` and `runs import`: a run handed to PyTorch and brought back.

use std::path::Path;

use anyhow::{bail, Context};
use layerlab::data::{builtin, load_builtin, DataOptions};
use layerlab::store::torch::{builtin_source, export_run, import_run, DataSource};
use layerlab::store::RunStore;

use super::runs::train_args;

/// Writes run `id` as a PyTorch training folder in `out`, loading its data again to check
/// that it is still what the run trained on.
pub fn export(store: &RunStore, id: &str, out: &Path) -> anyhow::Result<()> {
    let record = store.record(id)?;
    let log_target = record
        .card
        .preprocessing
        .target
        .is_some_and(|scaling| scaling.log);
    let (dataset, source) = if record.command.is_empty() {
        // Made in the window: a built-in dataset is found again by name.
        let name = &record.card.dataset;
        if builtin(name).is_none() {
            bail!(
                "run {id} was trained in the window on {name}, whose path its record does not keep; export runs on data of your own that were trained with `layerlab train --dataset PATH`"
            );
        }
        let options = record
            .card
            .builtin_options
            .clone()
            .unwrap_or_else(DataOptions::default);
        let dataset = load_builtin(name, &options)?;
        let source = builtin_source(name, &options, &dataset)?;
        (dataset, source)
    } else {
        let args = train_args(&record.command, &[], store.path())?;
        let loaded = args
            .data
            .load(log_target)
            .with_context(|| format!("loading run {id}'s data again"))?;
        let name = args.data.source();
        let source = if builtin(&name).is_some() {
            builtin_source(&name, &args.data.options(), &loaded.dataset)?
        } else if Path::new(&name).is_dir() {
            DataSource::prepared(&loaded.dataset)
        } else {
            let target = loaded
                .target_column
                .clone()
                .context("the CSV's target column is not known")?;
            let rows = loaded.dataset.train.len() + loaded.dataset.test.len();
            DataSource::seeded_csv(name.into(), target, rows, args.data.split_seed)
        };
        (loaded.dataset, source)
    };
    let report = export_run(store, id, &dataset, source, out)?;
    outln!(
        "wrote {} ({}) for run {id}",
        report.folder.display(),
        report.files.join(", ")
    );
    outln!("  cd {} && python train.py", report.folder.display());
    outln!("  cd {} && torchrun --nproc_per_node 2 train.py", report.folder.display());
    outln!("then: layerlab runs import {}", report.folder.display());
    Ok(())
}

/// Records the PyTorch run in `dir` and says what it was.
pub fn import(store: &mut RunStore, dir: &Path, json: bool) -> anyhow::Result<()> {
    let report = import_run(store, dir)?;
    if json {
        outln!(
            "{}",
            serde_json::json!({
                "id": report.id,
                "name": report.name,
                "parent": report.parent,
                "steps": report.steps,
                "epochs": report.epochs,
                "torch": report.torch,
                "test": report.test_line,
            })
        );
        return Ok(());
    }
    outln!(
        "imported run {} '{}' (parent {}): {} epochs, {} steps, trained by {}",
        report.id,
        report.name,
        report.parent,
        report.epochs,
        report.steps,
        report.torch.describe()
    );
    if let Some(line) = &report.test_line {
        outln!("{line}");
    }
    Ok(())
}
