//! `layerlab runs export-torch` and `runs import`: a run handed to PyTorch and brought back.

use std::path::Path;

use anyhow::Context;
use layerlab::data::builtin;
use layerlab::store::torch::{export_builtin_run, export_run, import_run, DataSource};
use layerlab::store::RunStore;

use super::runs::train_args;

/// Writes run `id` as a PyTorch training folder in `out`, loading its data again to check
/// that it is still what the run trained on.
pub fn export(store: &RunStore, id: &str, out: &Path) -> anyhow::Result<()> {
    let record = store.record(id)?;
    let own_data = train_args(&record.command, &[], store.path())
        .ok()
        .map(|args| args.data)
        .filter(|data| !record.command.is_empty() && builtin(&data.source()).is_none());
    let report = match own_data {
        None => export_builtin_run(store, id, out)?,
        Some(data) => {
            let log_target = record
                .card
                .preprocessing
                .target
                .is_some_and(|scaling| scaling.log);
            let loaded = data
                .load(log_target)
                .with_context(|| format!("loading run {id}'s data again"))?;
            let name = data.source();
            let source = if Path::new(&name).is_dir() {
                DataSource::prepared(&loaded.dataset)
            } else {
                let target = loaded
                    .target_column
                    .clone()
                    .context("the CSV's target column is not known")?;
                let rows = loaded.dataset.train.len() + loaded.dataset.test.len();
                DataSource::seeded_csv(name.into(), target, rows, data.split_seed)
            };
            export_run(store, id, &loaded.dataset, source, out)?
        }
    };
    outln!(
        "wrote {} ({}) for run {id}",
        report.folder.display(),
        report.files.join(", ")
    );
    outln!("  cd {} && python train.py", report.folder.display());
    outln!(
        "  cd {} && torchrun --nproc_per_node 2 train.py",
        report.folder.display()
    );
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
