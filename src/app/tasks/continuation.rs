//! Training that goes on from a recorded run: "Continue training" on a run's model, Resume of
//! a stopped or interrupted run, "Fork from here" at one of its checkpoints. What that needs
//! (the run's record, the checkpoint's state, the run's curves up to that point) is read from
//! the store on a thread; the window starts the run once it has arrived. The record keeps the
//! step numbering: a resumed run goes on in its own record, a fork is a child run whose steps
//! go on from its parent's.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::store::{Parent, RunRecord, RunStore, RunTarget};
use crate::train::{MetricsHistory, TrainState};

/// How long a read waits for a run that has just ended in this window to be written as ended
/// (its recorder finishes a moment after the window hears of the end).
const SETTLE: Duration = Duration::from_secs(3);

/// A point of a recorded run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunPoint {
    pub run_id: String,
    pub step: usize,
}

/// What the person asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContinueHow {
    /// Train the run's model further ("Continue training"): the run itself resumed when it
    /// stopped or was interrupted at that point, else a child run trained for the window's
    /// epochs more.
    Further,
    /// The run itself from its last checkpoint, as it was recorded (Resume in the Runs tab).
    Resume,
    /// A child run from that checkpoint, with the settings the person then chooses ("Fork
    /// from here", then Train).
    Fork,
}

/// A run to go on from, read from the store.
#[derive(Clone)]
pub struct Continuation {
    /// The same run goes on (resume), or a child starts (fork).
    pub resume: bool,
    /// Asked as a fork from a checkpoint: Train starts it with the window's settings.
    pub fork_asked: bool,
    pub run_id: String,
    pub run_name: String,
    /// The checkpoint's step and 1-based epoch (the nearest at or before the point asked).
    pub step: usize,
    pub epoch: usize,
    pub record: RunRecord,
    pub state: TrainState,
    /// The run's curves up to the checkpoint, so the charts go on from them.
    pub history: MetricsHistory,
    /// Checkpoints newer than the one used whose files were missing.
    pub notes: Vec<String>,
}

impl Continuation {
    /// Where the record goes: the run itself, or a child of it at the checkpoint's step.
    pub fn target(&self) -> RunTarget {
        if self.resume {
            RunTarget::Continue {
                id: self.run_id.clone(),
                step: self.step,
            }
        } else {
            RunTarget::New {
                name: None,
                parent: Some(Parent {
                    run: self.run_id.clone(),
                    step: self.step,
                }),
            }
        }
    }

    /// "run xor mlp 3f2a at epoch 2, step 120".
    pub fn label(&self) -> String {
        format!(
            "run {} at epoch {}, step {}",
            self.run_name,
            self.epoch,
            crate::display::thousands(self.step)
        )
    }
}

/// Reads what going on from `point` of a run needs, as `how` asks.
pub fn read(store: PathBuf, point: RunPoint, how: ContinueHow) -> Result<Continuation, String> {
    let fail = |e: crate::store::StoreError| e.to_string();
    let store = RunStore::open(&store).map_err(fail)?;
    let id = point.run_id;
    let mut row = store.row(&id).map_err(fail)?;
    let waited = Instant::now();
    while row.status == "running" && how != ContinueHow::Fork && waited.elapsed() < SETTLE {
        std::thread::sleep(Duration::from_millis(50));
        row = store.row(&id).map_err(fail)?;
    }
    let unfinished = matches!(row.status.as_str(), "stopped" | "interrupted");
    if how == ContinueHow::Resume && !unfinished {
        return Err(match row.status.as_str() {
            "running" => format!("run {} is still training", row.name),
            "finished" => format!(
                "run {} finished: to train it further, try its last checkpoint and press \
                 Continue training, or fork it",
                row.name
            ),
            other => format!(
                "run {} {other}: fork it from a checkpoint instead",
                row.name
            ),
        });
    }
    let step = (how != ContinueHow::Resume).then_some(point.step);
    let mut notes = Vec::new();
    let (checkpoint, state) = store.checkpoint_at(&id, step, &mut notes).map_err(fail)?;
    let newest = store.checkpoints(&id).map_err(fail)?.last().map(|c| c.step);
    let resume = match how {
        ContinueHow::Resume => true,
        ContinueHow::Further => unfinished && newest == Some(checkpoint.step),
        ContinueHow::Fork => false,
    };
    let record = store.record(&id).map_err(fail)?;
    let mut history = MetricsHistory::default();
    store
        .for_each_step(&id, |batch| {
            if batch.step <= checkpoint.step {
                history.batches.push(batch);
            }
            Ok(())
        })
        .map_err(fail)?;
    history.epochs = store
        .epochs(&id)
        .map_err(fail)?
        .into_iter()
        .filter(|e| e.step <= checkpoint.step)
        .collect();
    // A run going on in its own record keeps its earlier checkpoints' marks (a child's
    // would be its parent's, which its own record cannot open).
    if resume {
        history.checkpoints = store
            .checkpoints(&id)
            .map_err(fail)?
            .into_iter()
            .map(|c| c.step)
            .filter(|&step| step <= checkpoint.step)
            .collect();
    }
    Ok(Continuation {
        resume,
        fork_asked: how == ContinueHow::Fork,
        run_id: id,
        run_name: row.name,
        step: checkpoint.step,
        epoch: checkpoint.epoch,
        record,
        state,
        history,
        notes,
    })
}
