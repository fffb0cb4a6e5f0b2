//! A run handed to PyTorch and brought back. `export_run` writes a folder whose `train.py`
//! trains the run with PyTorch, on one process or under `torchrun` (DistributedDataParallel),
//! from `run.json` (the record, where the data is, the split's rows); `import_run` records
//! what that script wrote (`metrics.jsonl`, `model.safetensors`) as a run whose parent is the
//! exported one.
//!
//! `run_file.rs` (run.json and the split), `export.rs` (the folder), `import.rs` (the way
//! back), `train.py` (the script, the same for every run).

mod export;
mod import;
mod run_file;

use std::path::PathBuf;

pub use export::{export_builtin_run, export_run, ExportReport, TRAIN_PY};
pub use import::{import_run, ImportReport};
pub use run_file::{
    builtin_source, read_run_file, split_rows, DataFiles, DataSource, ExportedRun, Rows, RunFile,
    SplitPart, SplitRows, PREPARED_FILE, RUN_FILE_FORMAT, RUN_FILE_VERSION,
};

use super::StoreError;

/// Why a run could not be exported or imported.
#[derive(Debug, thiserror::Error)]
pub enum TorchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{what}: {cause}")]
    Io { what: String, cause: std::io::Error },
    #[error("{0}")]
    Data(String),
    #[error("the data of {dataset} no longer prepares as run {run} recorded it (its fitted preprocessing differs): the file changed since the run")]
    DataChanged { run: String, dataset: String },
    #[error("{} holds files an export does not write ({}); choose an empty folder", folder.display(), found.join(", "))]
    NotEmpty { folder: PathBuf, found: Vec<String> },
    #[error("{0}")]
    Import(String),
}

impl TorchError {
    fn io(what: String) -> impl FnOnce(std::io::Error) -> Self {
        move |cause| Self::Io { what, cause }
    }
}
