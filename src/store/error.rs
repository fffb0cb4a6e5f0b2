//! What can go wrong with the run store, in words a user can act on.

/// Why the store could not be opened, read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the run store {path} cannot be opened: {cause}")]
    Open {
        path: String,
        cause: rusqlite::Error,
    },
    #[error("this run store was made by a newer LayerLab (schema {found}; this one reads up to {supported}); update LayerLab or choose another store with --store")]
    NewerSchema { found: i64, supported: i64 },
    #[error("this file is an SQLite database, but not a LayerLab run store")]
    NotAStore,
    #[error("the run store's database failed: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("{what}: {cause}")]
    Io { what: String, cause: std::io::Error },
    #[error("no run {0:?} in the store (see `layerlab runs`)")]
    NoSuchRun(String),
    #[error("{prefix:?} matches {count} runs; give more of the id")]
    AmbiguousRun { prefix: String, count: usize },
    #[error("run {id}'s record is damaged: {reason}")]
    BadRecord { id: String, reason: String },
    #[error("{0}")]
    Checkpoint(String),
    #[error("no data folder for LayerLab on this system (is HOME set?); give --store PATH")]
    NoDataDir,
    #[error("run {0} is training in another process; stop it there first")]
    Busy(String),
}

impl StoreError {
    pub(super) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |cause| Self::Io { what, cause }
    }
}
