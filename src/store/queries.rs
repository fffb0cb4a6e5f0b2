//! Reading and editing the record: list runs, show one, rename, tag, note, delete.

use rusqlite::{params, params_from_iter, OptionalExtension, Row};
use serde::Serialize;

use super::checkpoint_file::{list_checkpoints, CheckpointRow};
use super::{RunRecord, RunStore, StoreError};
use crate::train::{BatchMetrics, EpochMetrics};

/// One line of `layerlab runs`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunRow {
    pub id: String,
    pub name: String,
    pub status: String,
    /// Why it failed, or where it was interrupted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub dataset: String,
    pub preset: Option<String>,
    pub stack: String,
    pub parent_id: Option<String>,
    pub parent_step: Option<usize>,
    pub created_at: f64,
    pub epochs: usize,
    pub epochs_completed: usize,
    pub last_step: usize,
    /// Seconds of training (paused time left out).
    pub train_secs: f64,
    /// Best validation accuracy (classification) or lowest validation RMSE (regression).
    pub best_validation_accuracy: Option<f64>,
    pub best_validation_rmse: Option<f64>,
    pub test_accuracy: Option<f64>,
    pub test_rmse: Option<f64>,
    pub tags: Vec<String>,
    pub note: String,
}

/// Which runs `list` returns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunFilter {
    pub dataset: Option<String>,
    pub tag: Option<String>,
    pub status: Option<String>,
}

/// Everything recorded about a run.
#[derive(Clone, Debug, Serialize)]
pub struct RunDetails {
    #[serde(flatten)]
    pub row: RunRow,
    pub record: RunRecord,
    pub test: Option<serde_json::Value>,
    pub checkpoints: Vec<CheckpointRow>,
    /// (step, kind, detail): learning-rate changes, pauses, resumes, roll-backs.
    pub events: Vec<(usize, String, String)>,
}

const ROW_COLUMNS: &str = "r.id, r.name, r.status, r.message, r.dataset, r.preset, r.stack_summary,
    r.parent_id, r.parent_step, r.created_at, r.epochs, r.epochs_completed, r.last_step,
    r.train_secs,
    (SELECT max(val_accuracy) FROM epochs e WHERE e.run_id = r.id),
    (SELECT min(val_rmse) FROM epochs e WHERE e.run_id = r.id),
    r.test_accuracy, r.test_rmse,
    (SELECT group_concat(tag, char(31)) FROM tags t WHERE t.run_id = r.id),
    r.note";

fn run_row(row: &Row) -> rusqlite::Result<RunRow> {
    let count = |i: usize| -> rusqlite::Result<usize> { Ok(row.get::<_, i64>(i)?.max(0) as usize) };
    let tags: Option<String> = row.get(18)?;
    Ok(RunRow {
        id: row.get(0)?,
        name: row.get(1)?,
        status: row.get(2)?,
        message: row.get(3)?,
        dataset: row.get(4)?,
        preset: row.get(5)?,
        stack: row.get(6)?,
        parent_id: row.get(7)?,
        parent_step: row.get::<_, Option<i64>>(8)?.map(|s| s.max(0) as usize),
        created_at: row.get(9)?,
        epochs: count(10)?,
        epochs_completed: count(11)?,
        last_step: count(12)?,
        train_secs: row.get(13)?,
        best_validation_accuracy: row.get(14)?,
        best_validation_rmse: row.get(15)?,
        test_accuracy: row.get(16)?,
        test_rmse: row.get(17)?,
        tags: tags
            .map(|t| t.split('\u{1f}').map(str::to_string).collect())
            .unwrap_or_default(),
        note: row.get(19)?,
    })
}

impl RunStore {
    /// Runs newest first, filtered.
    pub fn list(&self, filter: &RunFilter) -> Result<Vec<RunRow>, StoreError> {
        let mut conditions = Vec::new();
        let mut values: Vec<String> = Vec::new();
        if let Some(dataset) = &filter.dataset {
            conditions.push("r.dataset = ?");
            values.push(dataset.clone());
        }
        if let Some(status) = &filter.status {
            conditions.push("r.status = ?");
            values.push(status.clone());
        }
        if let Some(tag) = &filter.tag {
            conditions.push("EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND t.tag = ?)");
            values.push(tag.clone());
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql =
            format!("SELECT {ROW_COLUMNS} FROM runs r {filter} ORDER BY r.created_at DESC, r.id");
        let mut statement = self.connection.prepare(&sql)?;
        let rows = statement
            .query_map(params_from_iter(values), run_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The full id of the run whose id starts with `prefix` (ids are long; a few letters do).
    pub fn resolve(&self, prefix: &str) -> Result<String, StoreError> {
        let pattern = format!("{}%", prefix.replace(['%', '_'], ""));
        let mut statement = self
            .connection
            .prepare_cached("SELECT id FROM runs WHERE id LIKE ?1 LIMIT 2")?;
        let ids = statement
            .query_map([&pattern], |row| row.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        match ids.as_slice() {
            [id] => Ok(id.clone()),
            [] => Err(StoreError::NoSuchRun(prefix.into())),
            _ if ids.contains(&prefix.to_string()) => Ok(prefix.into()),
            _ => Err(StoreError::AmbiguousRun {
                prefix: prefix.into(),
                count: ids.len(),
            }),
        }
    }

    /// The run's line of the list.
    pub fn row(&self, id: &str) -> Result<RunRow, StoreError> {
        let sql = format!("SELECT {ROW_COLUMNS} FROM runs r WHERE r.id = ?1");
        self.connection
            .query_row(&sql, [id], run_row)
            .optional()?
            .ok_or_else(|| StoreError::NoSuchRun(id.into()))
    }

    /// What the run is: its stack, settings, data card, command, version and host.
    pub fn record(&self, id: &str) -> Result<RunRecord, StoreError> {
        let parts: (String, String, String, String, String, String, Option<String>) = self
            .connection
            .query_row(
                "SELECT stack_json, settings_json, card_json, command_json, version, host_json, preset
                 FROM runs WHERE id = ?1",
                [id],
                |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                        row.get(5)?,
                        row.get(6)?,
                    ))
                },
            )
            .optional()?
            .ok_or_else(|| StoreError::NoSuchRun(id.into()))?;
        let bad = |what: &str, error: serde_json::Error| StoreError::BadRecord {
            id: id.into(),
            reason: format!("{what}: {error}"),
        };
        Ok(RunRecord {
            stack: serde_json::from_str(&parts.0).map_err(|e| bad("layer stack", e))?,
            settings: serde_json::from_str(&parts.1).map_err(|e| bad("settings", e))?,
            card: serde_json::from_str(&parts.2).map_err(|e| bad("data card", e))?,
            command: serde_json::from_str(&parts.3).map_err(|e| bad("command", e))?,
            version: parts.4,
            host: serde_json::from_str(&parts.5).map_err(|e| bad("host", e))?,
            preset: parts.6,
        })
    }

    /// Everything recorded about a run.
    pub fn details(&self, id: &str) -> Result<RunDetails, StoreError> {
        let row = self.row(id)?;
        let record = self.record(id)?;
        let test: Option<String> =
            self.connection
                .query_row("SELECT test_json FROM runs WHERE id = ?1", [id], |r| {
                    r.get(0)
                })?;
        let mut statement = self.connection.prepare_cached(
            "SELECT step, kind, detail FROM run_events WHERE run_id = ?1 ORDER BY step, rowid",
        )?;
        let events = statement
            .query_map([id], |r| {
                Ok((r.get::<_, i64>(0)? as usize, r.get(1)?, r.get(2)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RunDetails {
            row,
            record,
            test: test.and_then(|t| serde_json::from_str(&t).ok()),
            checkpoints: self.checkpoints(id)?,
            events,
        })
    }

    /// The run's checkpoints, oldest first.
    pub fn checkpoints(&self, id: &str) -> Result<Vec<CheckpointRow>, StoreError> {
        list_checkpoints(&self.connection, id)
    }

    /// The newest checkpoint of run `id` at or before `step` (the newest of all without one)
    /// whose file exists and reads, with the state it holds; `skipped` says which newer ones
    /// were missing ("the checkpoint at step 400 is missing (...)").
    pub fn checkpoint_at(
        &self,
        id: &str,
        step: Option<usize>,
        skipped: &mut Vec<String>,
    ) -> Result<(CheckpointRow, crate::train::TrainState), StoreError> {
        let checkpoints = self.checkpoints(id)?;
        let mut candidates: Vec<&CheckpointRow> = checkpoints
            .iter()
            .filter(|c| step.is_none_or(|s| c.step <= s))
            .collect();
        while let Some(checkpoint) = candidates.pop() {
            let path = self.checkpoint_path(checkpoint);
            if !path.exists() {
                skipped.push(format!(
                    "the checkpoint at step {} is missing ({}); trying the one before",
                    checkpoint.step,
                    path.display()
                ));
                continue;
            }
            let state = super::read_checkpoint(&path)?;
            return Ok((checkpoint.clone(), state));
        }
        Err(StoreError::Checkpoint(match step {
            Some(step) => format!("run {id} has no checkpoint at or before step {step}"),
            None => format!(
                "run {id} has no checkpoint to continue from (it stopped before its first, \
                 written at an epoch's end): train it again instead"
            ),
        }))
    }

    /// A checkpoint's file.
    pub fn checkpoint_path(&self, checkpoint: &CheckpointRow) -> std::path::PathBuf {
        self.path
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default()
            .join(&checkpoint.file)
    }

    /// Every recorded step of a run, oldest first, handed to `each` one at a time (a long
    /// run's steps are never all in memory). A loss that was not a number is NaN here.
    pub fn for_each_step(
        &self,
        id: &str,
        mut each: impl FnMut(BatchMetrics) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut statement = self.connection.prepare(
            "SELECT step, epoch, loss, accuracy, learning_rate, samples, train_secs
             FROM steps WHERE run_id = ?1 ORDER BY step",
        )?;
        let mut rows = statement.query([id])?;
        while let Some(row) = rows.next()? {
            each(BatchMetrics {
                step: row.get::<_, i64>(0)?.max(0) as usize,
                epoch: row.get::<_, i64>(1)?.max(0) as usize,
                loss: row.get::<_, Option<f32>>(2)?.unwrap_or(f32::NAN),
                accuracy: row.get(3)?,
                learning_rate: row.get(4)?,
                samples: row.get::<_, i64>(5)?.max(0) as usize,
                train_secs: row.get(6)?,
            })?;
        }
        Ok(())
    }

    /// Every recorded epoch of a run, in order. A training loss that was not a number is NaN.
    pub fn epochs(&self, id: &str) -> Result<Vec<EpochMetrics>, StoreError> {
        let mut statement = self.connection.prepare(
            "SELECT epoch, step, train_loss, train_accuracy, train_rmse, val_loss, val_accuracy,
                val_rmse, val_mae, samples_per_sec, duration_secs
             FROM epochs WHERE run_id = ?1 ORDER BY epoch",
        )?;
        let rows = statement
            .query_map([id], |r| {
                Ok(EpochMetrics {
                    epoch: r.get::<_, i64>(0)?.max(0) as usize,
                    step: r.get::<_, i64>(1)?.max(0) as usize,
                    train_loss: r.get::<_, Option<f32>>(2)?.unwrap_or(f32::NAN),
                    train_accuracy: r.get(3)?,
                    train_rmse: r.get(4)?,
                    validation_loss: r.get(5)?,
                    validation_accuracy: r.get(6)?,
                    validation_rmse: r.get(7)?,
                    validation_mae: r.get(8)?,
                    images_per_sec: r.get::<_, Option<f64>>(9)?.unwrap_or(f64::NAN),
                    duration_secs: r.get::<_, Option<f64>>(10)?.unwrap_or(0.0),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Every step's metrics as CSV: `step,epoch,loss,accuracy,learning_rate,samples,train_secs`
    /// (a loss that was not a number is an empty cell).
    pub fn steps_csv(&self, id: &str, out: &mut dyn std::io::Write) -> Result<(), StoreError> {
        let header = "step,epoch,loss,accuracy,learning_rate,samples,train_secs";
        writeln!(out, "{header}").map_err(StoreError::io("cannot write the metrics"))?;
        self.for_each_step(id, |b| {
            let loss = if b.loss.is_finite() {
                b.loss.to_string()
            } else {
                String::new()
            };
            let accuracy = b.accuracy.map(|a| a.to_string()).unwrap_or_default();
            writeln!(
                out,
                "{},{},{loss},{accuracy},{},{},{}",
                b.step, b.epoch, b.learning_rate, b.samples, b.train_secs
            )
            .map_err(StoreError::io("cannot write the metrics"))
        })
    }

    pub fn rename(&self, id: &str, name: &str) -> Result<(), StoreError> {
        self.edit("UPDATE runs SET name = ?2 WHERE id = ?1", id, name)
    }

    pub fn set_note(&self, id: &str, note: &str) -> Result<(), StoreError> {
        self.edit("UPDATE runs SET note = ?2 WHERE id = ?1", id, note)
    }

    pub fn tag(&self, id: &str, tag: &str) -> Result<(), StoreError> {
        self.row(id)?;
        self.connection.execute(
            "INSERT OR IGNORE INTO tags (run_id, tag) VALUES (?1, ?2)",
            params![id, tag],
        )?;
        Ok(())
    }

    pub fn untag(&self, id: &str, tag: &str) -> Result<(), StoreError> {
        self.connection.execute(
            "DELETE FROM tags WHERE run_id = ?1 AND tag = ?2",
            params![id, tag],
        )?;
        Ok(())
    }

    fn edit(&self, sql: &str, id: &str, value: &str) -> Result<(), StoreError> {
        match self.connection.execute(sql, params![id, value])? {
            0 => Err(StoreError::NoSuchRun(id.into())),
            _ => Ok(()),
        }
    }

    /// Removes a run, its metrics and its files; refused while its process is training it.
    pub fn delete(&mut self, id: &str) -> Result<(), StoreError> {
        let dir = self.run_dir(id);
        let lock = super::liveness::try_hold(&dir)?.ok_or(StoreError::Busy(id.into()))?;
        let transaction = self
            .connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for table in [
            "steps",
            "epochs",
            "health",
            "run_events",
            "tags",
            "checkpoints",
        ] {
            transaction.execute(&format!("DELETE FROM {table} WHERE run_id = ?1"), [id])?;
        }
        if transaction.execute("DELETE FROM runs WHERE id = ?1", [id])? == 0 {
            return Err(StoreError::NoSuchRun(id.into()));
        }
        transaction.commit()?;
        drop(lock);
        std::fs::remove_dir_all(&dir)
            .map_err(StoreError::io(format!("cannot remove {}", dir.display())))?;
        Ok(())
    }
}
