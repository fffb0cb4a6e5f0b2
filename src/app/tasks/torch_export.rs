//! File > "Export as PyTorch training script…": the chosen run written, off the UI thread, as
//! a folder whose train.py trains it with PyTorch (`python train.py`, or `torchrun`).

use std::path::{Path, PathBuf};

use super::background::{take_answer, BackgroundTask, Waker};
use crate::store::torch::{export_builtin_run, ExportReport};
use crate::store::RunStore;

/// The export in progress, if any.
#[derive(Default)]
pub struct TorchExport {
    task: Option<BackgroundTask<Result<ExportReport, String>>>,
    /// The run asked for, waiting for its folder to be chosen.
    pub run: Option<String>,
}

/// The folder an export of run `id` goes to inside the folder chosen: its own, so the chosen
/// folder's files are never touched.
pub fn export_folder(chosen: &Path, id: &str) -> PathBuf {
    chosen.join(format!("layerlab-run-{id}-torch"))
}

impl TorchExport {
    /// Writes the run asked for into a folder of its own in `chosen`.
    pub fn start(&mut self, chosen: &Path, waker: Waker) -> Result<(), String> {
        let id = self
            .run
            .take()
            .ok_or("no run was chosen to export".to_string())?;
        let folder = export_folder(chosen, &id);
        let task = BackgroundTask::spawn("torch-export", waker, move || {
            let path = crate::store::default_store_path().map_err(|e| e.to_string())?;
            let store = RunStore::open(&path).map_err(|e| e.to_string())?;
            export_builtin_run(&store, &id, &folder).map_err(|e| e.to_string())
        })
        .map_err(|e| format!("cannot start a thread: {e}"))?;
        self.task = Some(task);
        Ok(())
    }

    pub fn is_busy(&self) -> bool {
        self.task.is_some()
    }

    /// The export's outcome, once, when it has one.
    pub fn poll(&mut self) -> Option<Result<ExportReport, String>> {
        take_answer(&mut self.task, "the export stopped before it finished")
    }
}
