//! Whether a run's process is alive: the process that records a run holds an exclusive lock
//! on `runs/<id>/lock` (the OS releases it when the process dies, however it dies). Opening
//! the store marks every "running" run whose lock is free as interrupted at its last
//! recorded step, so no run stays "running" forever.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use rusqlite::{params, Connection};

use super::StoreError;

const LOCK_FILE: &str = "lock";

/// Takes the run's lock, waiting for nobody: a new run's folder is its own.
pub(super) fn hold(run_dir: &Path) -> Result<File, StoreError> {
    try_hold(run_dir)?.ok_or_else(|| StoreError::Io {
        what: format!("cannot lock {}", run_dir.display()),
        cause: std::io::Error::other("another process holds it"),
    })
}

/// The run's lock, or `None` when a live process holds it.
pub(super) fn try_hold(run_dir: &Path) -> Result<Option<File>, StoreError> {
    std::fs::create_dir_all(run_dir).map_err(StoreError::io(format!(
        "cannot create {}",
        run_dir.display()
    )))?;
    let path = run_dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(StoreError::io(format!("cannot open {}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(cause)) => Err(StoreError::Io {
            what: format!("cannot lock {}", path.display()),
            cause,
        }),
    }
}

/// Marks the runs whose process is gone as interrupted; returns a note for each.
pub(super) fn mark_interrupted(
    connection: &Connection,
    runs_dir: &Path,
) -> Result<Vec<String>, StoreError> {
    let mut statement =
        connection.prepare("SELECT id, last_step FROM runs WHERE status = 'running'")?;
    let running = statement
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut notes = Vec::new();
    for (id, step) in running {
        // A folder that cannot be locked (read-only, say) is left as it is.
        let Ok(Some(lock)) = try_hold(&runs_dir.join(&id)) else {
            continue;
        };
        let message = format!("interrupted at step {step}");
        let changed = connection.execute(
            "UPDATE runs SET status = 'interrupted', message = ?2, ended_at = ?3
             WHERE id = ?1 AND status = 'running'",
            params![id, message, super::now()],
        )?;
        drop(lock);
        if changed > 0 {
            notes.push(format!(
                "run {id} was {message} (its process ended without finishing); `layerlab runs resume {id}` continues it"
            ));
        }
    }
    Ok(notes)
}
