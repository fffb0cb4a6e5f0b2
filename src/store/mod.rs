//! The run store: every run recorded in one SQLite database (`runs.sqlite` in LayerLab's data
//! folder) with its checkpoints in files beside it (`runs/<id>/`).
//!
//! Why SQLite: a real embedded database that survives a kill (transactions, WAL), that the
//! command line and the window can write at the same time, and that a user can open with
//! `sqlite3` or pandas. The store is a client of the engine: a driver hands it the run's
//! events ([`Recorder`]), and it writes them from a thread of its own.
//!
//! One file, one job: `schema.rs` (tables, version, migrations), `record.rs` (what a run
//! is), `liveness.rs` (a killed run becomes "interrupted"), `recorder.rs` (the writing
//! thread), `checkpoint_file.rs` (checkpoints as safetensors, retention), `queries.rs`
//! (list, show, delete, tag, rename, note), `compare.rs` (what differs between runs), `curves.rs` (a run's curves thinned for a
//! chart) and
//! `tensorboard/` (runs as TensorBoard event files) and `torch/` (a run as a PyTorch training
//! script for `torchrun`, and its result brought back).

mod checkpoint_file;
mod compare;
mod curves;
mod error;
mod liveness;
mod queries;
mod record;
mod recorder;
mod schema;
pub mod tensorboard;
pub mod torch;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, ErrorCode, TransactionBehavior};

pub use checkpoint_file::{read_checkpoint, write_checkpoint, CheckpointRow, MAX_CHECKPOINTS};
pub use compare::{compare_runs, diff_layers, diff_settings, Comparison, Difference, LayerOp};
pub use curves::{RunCurves, MAX_CURVE_POINTS};
pub use error::StoreError;
pub use queries::{RunDetails, RunFilter, RunRow};
pub use record::{stack_summary, Host, Parent, RunRecord, RunTarget, TorchHost};
pub use recorder::{recording_observer, RecordReport, Recorder, RunEnd, RunIdSlot};
pub use schema::SCHEMA_VERSION;

/// The database's file name in the data folder.
pub const STORE_FILE: &str = "runs.sqlite";
/// How long a write waits for another process's transaction before it gives up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// LayerLab's data folder: `$LAYERLAB_DATA_DIR`, else the platform's data directory
/// (`~/.local/share/layerlab` on Linux).
pub fn data_dir() -> Result<PathBuf, StoreError> {
    match std::env::var_os("LAYERLAB_DATA_DIR") {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => dirs::data_dir()
            .map(|d| d.join("layerlab"))
            .ok_or(StoreError::NoDataDir),
    }
}

/// The default store: `runs.sqlite` in the data folder.
pub fn default_store_path() -> Result<PathBuf, StoreError> {
    Ok(data_dir()?.join(STORE_FILE))
}

/// An open run store.
pub struct RunStore {
    connection: Connection,
    path: PathBuf,
    /// What opening found and did, to be said to the user ("run 3f2a... was interrupted at
    /// step 412", "the store was unreadable: kept as runs.sqlite.bad").
    notes: Vec<String>,
}

impl RunStore {
    /// Opens (or creates) the store at `path`; runs whose process died are marked
    /// interrupted. A file that is not a database, or a damaged one, is moved aside to
    /// `<name>.bad` and a new store is started (a note says so).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(StoreError::io(format!("cannot create {}", dir.display())))?;
        }
        let mut notes = Vec::new();
        // Damage shows when the header, the schema or the runs table is read.
        let open_and_sweep = || -> Result<(Connection, Vec<String>), StoreError> {
            let connection = connect(path)?;
            let swept = liveness::mark_interrupted(&connection, &runs_dir_of(path))?;
            Ok((connection, swept))
        };
        let (connection, swept) = match open_and_sweep() {
            Err(StoreError::Open { cause, .. } | StoreError::Sql(cause)) if is_damaged(&cause) => {
                let aside = set_aside(path)?;
                notes.push(format!(
                    "the run store {} was unreadable ({cause}); it is kept as {} and a new store is started",
                    path.display(),
                    aside.display()
                ));
                open_and_sweep()?
            }
            other => other?,
        };
        notes.extend(swept);
        Ok(Self {
            connection,
            path: path.to_path_buf(),
            notes,
        })
    }

    /// Where the database is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What opening found and did, for the user.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The folder of every run's files: `runs/` beside the database.
    pub fn runs_dir(&self) -> PathBuf {
        runs_dir_of(&self.path)
    }

    /// One run's folder (checkpoints, its liveness lock).
    pub fn run_dir(&self, id: &str) -> PathBuf {
        self.runs_dir().join(id)
    }

    /// Records a new run as running and returns its lease: its id and the lock that says
    /// its process is alive (hand it to a [`Recorder`]).
    pub fn create_run(
        &mut self,
        record: &RunRecord,
        name: Option<String>,
        parent: Option<Parent>,
    ) -> Result<RunLease, StoreError> {
        let id = self.new_id()?;
        let lock = liveness::hold(&self.run_dir(&id))?;
        let name = match (name, &parent) {
            (Some(name), _) => name,
            // A fork is named after its parent ("mnist mlp fork 3f2a"), a fork of a fork
            // after the first name in its line rather than "... fork 3f2a fork 9c01".
            (None, Some(parent)) => match self.row(&parent.run) {
                Ok(row) => format!("{} fork {}", first_of_line(&row.name), &id[..4]),
                Err(_) => format!("{} fork {}", record.card.dataset, &id[..4]),
            },
            (None, None) => {
                let from = record.preset.as_deref().unwrap_or("custom");
                format!("{} {from} {}", record.card.dataset, &id[..4])
            }
        };
        self.connection.execute(
            "INSERT INTO runs (id, name, parent_id, parent_step, status, created_at, dataset,
                preset, stack_summary, stack_json, settings_json, card_json, command_json,
                version, host_json, epochs)
             VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            params![
                id,
                name,
                parent.as_ref().map(|p| p.run.clone()),
                parent.as_ref().map(|p| p.step as i64),
                now(),
                record.card.dataset,
                record.preset,
                stack_summary(&record.stack),
                to_json(&record.stack),
                to_json(&record.settings),
                to_json(&record.card),
                to_json(&record.command),
                record.version,
                to_json(&record.host),
                record.settings.epochs as i64,
            ],
        )?;
        Ok(RunLease {
            id,
            _lock: lock,
            store: self.path.clone(),
        })
    }

    /// Takes over a stopped or interrupted run to continue it from `step`: what was recorded
    /// after that step (steps, epochs, health, checkpoints) is removed so the record has no
    /// repeated steps, and the run is running again.
    pub fn reopen_run(&mut self, id: &str, step: usize) -> Result<RunLease, StoreError> {
        let lock = liveness::try_hold(&self.run_dir(id))?.ok_or(StoreError::Busy(id.into()))?;
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let step = step as i64;
        for table in ["steps", "health", "checkpoints"] {
            transaction.execute(
                &format!("DELETE FROM {table} WHERE run_id = ?1 AND step > ?2"),
                params![id, step],
            )?;
        }
        transaction.execute(
            "DELETE FROM epochs WHERE run_id = ?1 AND step > ?2",
            params![id, step],
        )?;
        transaction.execute(
            "UPDATE runs SET status = 'running', message = NULL, ended_at = NULL,
                last_step = ?2, test_json = NULL, test_accuracy = NULL, test_rmse = NULL,
                epochs_completed = (SELECT count(*) FROM epochs WHERE run_id = ?1)
             WHERE id = ?1",
            params![id, step],
        )?;
        transaction.execute(
            "INSERT INTO run_events (run_id, step, kind, detail) VALUES (?1, ?2, 'resumed', 'from its checkpoint')",
            params![id, step],
        )?;
        transaction.commit()?;
        Ok(RunLease {
            id: id.to_string(),
            _lock: lock,
            store: self.path.clone(),
        })
    }

    /// Starts recording `record` where `target` says: a new run or one continued.
    pub fn lease(&mut self, record: &RunRecord, target: RunTarget) -> Result<RunLease, StoreError> {
        match target {
            RunTarget::New { name, parent } => self.create_run(record, name, parent),
            RunTarget::Continue { id, step } => self.reopen_run(&id, step),
        }
    }

    /// A fresh id: 12 hex digits, unused in this store.
    fn new_id(&self) -> Result<String, StoreError> {
        loop {
            let id = format!("{:012x}", rand::random::<u64>() >> 16);
            let taken: bool = self.connection.query_row(
                "SELECT EXISTS (SELECT 1 FROM runs WHERE id = ?1)",
                [&id],
                |row| row.get(0),
            )?;
            if !taken {
                return Ok(id);
            }
        }
    }
}

/// A run this process is recording: its id, and the lock whose holder is alive.
#[derive(Debug)]
pub struct RunLease {
    pub id: String,
    /// Held for as long as the lease lives; the OS lets go of it when the process dies.
    _lock: std::fs::File,
    store: PathBuf,
}

/// `runs/` beside the database at `store`.
fn runs_dir_of(store: &Path) -> PathBuf {
    store
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
        .join("runs")
}

/// A connection with the store's settings, its schema created or migrated.
fn connect(path: &Path) -> Result<Connection, StoreError> {
    let open = |cause| StoreError::Open {
        path: path.display().to_string(),
        cause,
    };
    let mut connection = Connection::open(path).map_err(open)?;
    connection.busy_timeout(BUSY_TIMEOUT).map_err(open)?;
    // WAL: readers never block the writer, and a kill loses at most the last transaction.
    // Switching a new file to WAL answers "busy" at once, without the busy timeout, while
    // another process opens the same new store (the CLI and the window, or two CLIs): it is
    // tried again until the timeout, as any other busy statement waits.
    let started = std::time::Instant::now();
    loop {
        match connection.query_row("PRAGMA journal_mode = WAL", [], |row| {
            row.get::<_, String>(0)
        }) {
            Ok(_) => break,
            Err(error)
                if error.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
                    && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(error) => return Err(open(error)),
        }
    }
    connection
        .pragma_update(None, "synchronous", "NORMAL")
        .map_err(open)?;
    schema::create_or_migrate(&mut connection)?;
    Ok(connection)
}

/// Whether SQLite says the file is not a database or is damaged.
fn is_damaged(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
    )
}

/// Moves a damaged store (and its WAL files) aside to `<name>.bad` (`.bad.2`, ... when that
/// is taken: an earlier damaged store is never overwritten); returns the new name.
fn set_aside(path: &Path) -> Result<PathBuf, StoreError> {
    let first = path.with_extension("sqlite.bad");
    let aside = std::iter::once(first.clone())
        .chain((2..).map(|n| first.with_extension(format!("bad.{n}"))))
        .find(|candidate| !candidate.exists())
        .unwrap_or(first);
    std::fs::rename(path, &aside).map_err(StoreError::io(format!(
        "cannot move the damaged store {} aside",
        path.display()
    )))?;
    for suffix in ["-wal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(side));
    }
    Ok(aside)
}

/// Unix seconds now.
pub(crate) fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// JSON text of a record part (serialising these plain types cannot fail; `null` stands in
/// if it ever did).
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

/// The name a line of forks started from: "mnist mlp" for "mnist mlp fork 3f2a fork 9c01".
/// Only the " fork " and four hex digits that naming adds are taken off, so a person's own
/// name with "fork" in it ("spoon fork handle") stays whole.
fn first_of_line(name: &str) -> &str {
    let mut name = name;
    while let Some((base, id)) = name.rsplit_once(" fork ") {
        if id.len() == 4 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
            name = base;
        } else {
            break;
        }
    }
    name
}

#[cfg(test)]
mod tests;
