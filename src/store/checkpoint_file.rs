//! Checkpoints as safetensors files: the weights under PyTorch's names (so
//! `model.load_state_dict` takes them, the `optimizer.` tensors left out) plus the optimizer's
//! state as `optimizer.<parameter>.<PyTorch's state name>` tensors, early stopping's best
//! weights so far as `best.<name>`, and the rest of the
//! [`TrainState`] (position, optimizer settings and step count) as JSON in the metadata.
//!
//! Written off the training thread, to a temporary file renamed into place: a failed write
//! (a full disk) leaves the previous checkpoint valid. Retention keeps the first, the best
//! (by validation), the last, and at most [`MAX_CHECKPOINTS`] in all, spread over the run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::export::{tensors_from_safetensors, tensors_to_safetensors, write_atomically};
use crate::model::{is_running_statistic, NamedTensor, Weights};
use crate::optim::{OptimizerConfig, OptimizerState};
use crate::train::{Position, TrainState};

/// Checkpoints kept per run at most.
pub const MAX_CHECKPOINTS: usize = 20;
const STATE_KEY: &str = "layerlab_checkpoint";
const OPTIMIZER_PREFIX: &str = "optimizer.";
/// Early stopping's best weights so far, beside the current ones.
const BEST_PREFIX: &str = "best.";

/// The metadata part of a checkpoint.
#[derive(Serialize, Deserialize)]
struct StateJson {
    format: u32,
    position: Position,
    optimizer: OptimizerConfig,
    optimizer_step: i32,
}

/// A checkpoint as the store lists it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckpointRow {
    pub step: usize,
    pub epoch: usize,
    /// The file, relative to the store's folder.
    pub file: String,
    pub validation_score: Option<f64>,
}

/// Writes one run's checkpoints and applies the retention policy.
pub(super) struct CheckpointWriter {
    store_dir: PathBuf,
    run_id: String,
}

impl CheckpointWriter {
    pub(super) fn new(store: &Path, run_id: &str) -> Self {
        Self {
            store_dir: store.parent().map(Path::to_path_buf).unwrap_or_default(),
            run_id: run_id.to_string(),
        }
    }

    /// Writes `state` and records it; `score` is the validation metric of the epoch that
    /// ended at its step (higher is better), if one did.
    pub(super) fn write(
        &self,
        connection: &Connection,
        state: &TrainState,
        score: Option<f64>,
    ) -> Result<(), StoreError> {
        let step = state.position.step;
        let relative = format!("runs/{}/step-{step:08}.safetensors", self.run_id);
        write_checkpoint(&self.store_dir.join(&relative), state)?;
        connection.execute(
            "INSERT OR REPLACE INTO checkpoints (run_id, step, epoch, file, validation_score, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                self.run_id,
                step as i64,
                state.position.epoch as i64,
                relative,
                score,
                super::now()
            ],
        )?;
        self.retain(connection)
    }

    /// Keeps the first, the best, the last and at most [`MAX_CHECKPOINTS`]: while there are
    /// too many, the one closest to its predecessor goes (the rest stay spread out).
    fn retain(&self, connection: &Connection) -> Result<(), StoreError> {
        let mut rows = list_checkpoints(connection, &self.run_id)?;
        let best = rows
            .iter()
            .filter_map(|r| r.validation_score.map(|s| (r.step, s)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(step, _)| step);
        while rows.len() > MAX_CHECKPOINTS {
            let victim = (1..rows.len() - 1)
                .filter(|&i| Some(rows[i].step) != best)
                .min_by_key(|&i| rows[i].step - rows[i - 1].step);
            let Some(victim) = victim else { break };
            let row = rows.remove(victim);
            connection.execute(
                "DELETE FROM checkpoints WHERE run_id = ?1 AND step = ?2",
                params![self.run_id, row.step as i64],
            )?;
            let _ = std::fs::remove_file(self.store_dir.join(&row.file));
        }
        Ok(())
    }
}

/// A run's checkpoints, oldest first.
pub(super) fn list_checkpoints(
    connection: &Connection,
    run_id: &str,
) -> Result<Vec<CheckpointRow>, StoreError> {
    let mut statement = connection.prepare_cached(
        "SELECT step, epoch, file, validation_score FROM checkpoints WHERE run_id = ?1 ORDER BY step",
    )?;
    let rows = statement
        .query_map([run_id], |row| {
            Ok(CheckpointRow {
                step: row.get::<_, i64>(0)? as usize,
                epoch: row.get::<_, i64>(1)? as usize,
                file: row.get(2)?,
                validation_score: row.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Writes `state` as a checkpoint file at `path`, atomically (a temporary file renamed into
/// place).
pub fn write_checkpoint(path: &Path, state: &TrainState) -> Result<(), StoreError> {
    let bytes = checkpoint_bytes(state)?;
    write_atomically(path, &bytes).map_err(|e| StoreError::Checkpoint(e.to_string()))
}

fn checkpoint_bytes(state: &TrainState) -> Result<Vec<u8>, StoreError> {
    let bad = |reason: String| StoreError::Checkpoint(reason);
    let mut tensors = state.weights.tensors.clone();
    let parameters: Vec<&NamedTensor> = state
        .weights
        .tensors
        .iter()
        .filter(|t| !is_running_statistic(&t.name))
        .collect();
    if parameters.len() != state.optimizer.buffers.len() {
        return Err(bad(
            "the optimizer state does not match the parameters".into()
        ));
    }
    let names = state.optimizer.config.state_names();
    for (parameter, buffers) in parameters.iter().zip(&state.optimizer.buffers) {
        for (name, buffer) in names.iter().zip(buffers) {
            if let Some(name) = name {
                tensors.push(NamedTensor {
                    name: format!("{OPTIMIZER_PREFIX}{}.{name}", parameter.name),
                    shape: parameter.shape.clone(),
                    values: buffer.clone(),
                });
            }
        }
    }
    if let Some(best) = &state.best_weights {
        tensors.extend(best.tensors.iter().map(|t| NamedTensor {
            name: format!("{BEST_PREFIX}{}", t.name),
            ..t.clone()
        }));
    }
    let json = StateJson {
        format: 1,
        position: state.position.clone(),
        optimizer: state.optimizer.config.clone(),
        optimizer_step: state.optimizer.step,
    };
    let metadata = HashMap::from([(
        STATE_KEY.to_string(),
        serde_json::to_string(&json).map_err(|e| bad(e.to_string()))?,
    )]);
    tensors_to_safetensors(&tensors, metadata).map_err(|e| bad(e.to_string()))
}

/// Reads a checkpoint file back into the state it was written from.
pub fn read_checkpoint(path: &Path) -> Result<TrainState, StoreError> {
    let name = path.display().to_string();
    let bad = |reason: String| StoreError::Checkpoint(format!("checkpoint {name}: {reason}"));
    let bytes =
        std::fs::read(path).map_err(StoreError::io(format!("cannot read checkpoint {name}")))?;
    let (_, header) =
        safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| bad(e.to_string()))?;
    let json = header
        .metadata()
        .as_ref()
        .and_then(|m| m.get(STATE_KEY))
        .ok_or_else(|| bad("no LayerLab checkpoint state in its metadata".into()))?;
    let json: StateJson = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
    let mut tensors = tensors_from_safetensors(&bytes).map_err(bad)?;
    // The file's order is not the stack's: weights in stack order (as a model lists them),
    // then each parameter's optimizer buffers by name.
    let mut optimizer_tensors: HashMap<String, Vec<f32>> = HashMap::new();
    let mut best = Vec::new();
    tensors.retain(|t| {
        if let Some(rest) = t.name.strip_prefix(OPTIMIZER_PREFIX) {
            optimizer_tensors.insert(rest.to_string(), t.values.clone());
            false
        } else if let Some(rest) = t.name.strip_prefix(BEST_PREFIX) {
            best.push(NamedTensor {
                name: rest.to_string(),
                ..t.clone()
            });
            false
        } else {
            true
        }
    });
    tensors.sort_by_key(|t| stack_order(&t.name));
    best.sort_by_key(|t| stack_order(&t.name));
    let names = json.optimizer.state_names();
    let mut buffers = Vec::new();
    for parameter in tensors.iter().filter(|t| !is_running_statistic(&t.name)) {
        let mut buffer = |slot: usize| -> Result<Vec<f32>, StoreError> {
            match names[slot] {
                Some(state) => optimizer_tensors
                    .remove(&format!("{}.{state}", parameter.name))
                    .ok_or_else(|| bad(format!("no {state} for {}", parameter.name))),
                None => Ok(vec![0.0; parameter.values.len()]),
            }
        };
        buffers.push([buffer(0)?, buffer(1)?, buffer(2)?]);
    }
    Ok(TrainState {
        position: json.position,
        best_weights: (!best.is_empty()).then(|| Arc::new(Weights { tensors: best })),
        weights: Arc::new(Weights { tensors }),
        optimizer: OptimizerState {
            config: json.optimizer,
            step: json.optimizer_step,
            buffers,
        },
    })
}

/// (layer index, rank within the layer) of a tensor name, the order a model lists them in.
fn stack_order(name: &str) -> (usize, usize) {
    let (index, kind) = name.split_once('.').unwrap_or((name, ""));
    let rank = [
        "weight",
        "bias",
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    .iter()
    .position(|k| *k == kind)
    .unwrap_or(usize::MAX);
    (index.parse().unwrap_or(usize::MAX), rank)
}
