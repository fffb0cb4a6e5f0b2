//! The database's tables, its schema version, and the migrations that bring an older store
//! forward. Users may read it with `sqlite3` or pandas: one row per run, per step, per epoch.

use rusqlite::{Connection, TransactionBehavior};

use super::StoreError;

/// The schema this LayerLab writes. A store with a higher version was made by a newer
/// LayerLab and is refused (never downgraded); a lower one is migrated forward in place.
pub const SCHEMA_VERSION: i64 = 1;

/// Version 1. Times are Unix seconds (UTC; `datetime(created_at, 'unixepoch')` in SQL).
const CREATE_V1: &str = "
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    parent_id TEXT,
    parent_step INTEGER,
    -- running, finished, stopped, interrupted or failed
    status TEXT NOT NULL,
    -- why a run failed, or where it was interrupted
    message TEXT,
    created_at REAL NOT NULL,
    ended_at REAL,
    dataset TEXT NOT NULL,
    preset TEXT,
    stack_summary TEXT NOT NULL,
    -- the run's record as JSON: layer stack, train settings, data card, host, version
    stack_json TEXT NOT NULL,
    settings_json TEXT NOT NULL,
    card_json TEXT NOT NULL,
    command_json TEXT NOT NULL,
    version TEXT NOT NULL,
    host_json TEXT NOT NULL,
    epochs INTEGER NOT NULL,
    last_step INTEGER NOT NULL DEFAULT 0,
    epochs_completed INTEGER NOT NULL DEFAULT 0,
    train_secs REAL NOT NULL DEFAULT 0,
    test_json TEXT,
    test_accuracy REAL,
    test_rmse REAL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_by_created ON runs (created_at);
CREATE TABLE steps (
    run_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    loss REAL,
    accuracy REAL,
    learning_rate REAL NOT NULL,
    samples INTEGER NOT NULL,
    train_secs REAL NOT NULL,
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
CREATE TABLE epochs (
    run_id TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    step INTEGER NOT NULL,
    train_loss REAL,
    train_accuracy REAL,
    train_rmse REAL,
    val_loss REAL,
    val_accuracy REAL,
    val_rmse REAL,
    val_mae REAL,
    samples_per_sec REAL,
    duration_secs REAL,
    PRIMARY KEY (run_id, epoch)
) WITHOUT ROWID;
CREATE TABLE health (
    run_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    report_json TEXT NOT NULL,
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
-- learning-rate changes by hand, pauses, resumes, roll-backs, resumes from a checkpoint
CREATE TABLE run_events (
    run_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX run_events_by_run ON run_events (run_id, step);
CREATE TABLE tags (
    run_id TEXT NOT NULL,
    tag TEXT NOT NULL,
    PRIMARY KEY (run_id, tag)
) WITHOUT ROWID;
CREATE TABLE checkpoints (
    run_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    -- relative to the store's folder
    file TEXT NOT NULL,
    -- the validation metric of the epoch that ended at this step, higher is better
    -- (accuracy, or minus the RMSE); NULL mid-epoch
    validation_score REAL,
    created_at REAL NOT NULL,
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
";

/// Creates the tables in an empty database, or migrates an older one forward.
pub(super) fn create_or_migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let version = read_version(connection)?;
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    // Immediate: the write lock first, waiting for another process creating the same store,
    // then the version read again under it (a read lock upgraded to a write one would fail
    // at once instead of waiting).
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version = read_version(&transaction)?;
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    if version == 0 {
        let tables: i64 = transaction.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |row| row.get(0),
        )?;
        if tables > 0 {
            return Err(StoreError::NotAStore);
        }
        transaction.execute_batch(CREATE_V1)?;
    }
    // Migrations from version N to N + 1 go here, each in this one transaction.
    transaction.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    transaction.commit()?;
    Ok(())
}

/// The store's schema version; an error for one newer than this LayerLab reads.
fn read_version(connection: &Connection) -> Result<i64, StoreError> {
    let version: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(version)
}
