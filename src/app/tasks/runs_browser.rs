//! The Runs tab's data: the store's runs, and for the runs selected their epochs and what
//! differs between them, each read on a thread of its own (the store is never opened on the
//! UI thread). The tab draws whatever has arrived.

use std::collections::BTreeSet;

use crate::app::tasks::background::{take_answer, BackgroundTask, Polled, Waker};
use crate::export::SavedModel;
use crate::store::{compare_runs, CheckpointRow, Comparison, RunFilter, RunRow, RunStore};

/// How long a deletion can be undone before the runs leave the store.
pub const UNDO_DELETE: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs listed at most (newest first): the list is drawn as a virtual list, but a store of
/// a million runs need not be read whole to show its newest.
pub const MAX_LISTED_RUNS: usize = 5_000;

/// A column the list can be sorted by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RunColumn {
    #[default]
    Created,
    Name,
    Status,
    Dataset,
    Epochs,
    BestValidation,
    Test,
    Time,
}

/// A run's name, tags and note as saved from the tab (an empty name keeps the old one).
#[derive(Clone, Debug, PartialEq)]
pub struct RunEdit {
    pub name: String,
    pub tags: Vec<String>,
    pub note: String,
}

pub use crate::store::{RunCurves, MAX_CURVE_POINTS};

/// What the selected runs need: each one's curves, and their comparison when two or more.
pub struct SelectionData {
    pub runs: Vec<RunCurves>,
    pub comparison: Option<Comparison>,
    /// The checkpoints of the one ticked run, oldest first (none for two or more).
    pub checkpoints: Vec<CheckpointRow>,
    /// Where the one ticked run trained when PyTorch trained it from an export ("PyTorch
    /// 2.5.1, 2 processes (gloo) on cpu"); none for LayerLab's own runs.
    pub trained_by: Option<String>,
}

/// A checkpoint's weights as a model to try, how to label it ("run mnist cnn 7f3a at epoch 2,
/// step 3,438"), and which point of which run it is.
pub type CheckpointModel = (String, Box<SavedModel>, super::continuation::RunPoint);

#[derive(Default)]
pub struct RunsBrowser {
    listing: Option<BackgroundTask<Result<Listing, String>>>,
    /// What opening the store found (runs whose process died, now interrupted), not yet
    /// said to the person.
    pub notes: Vec<String>,
    /// The newest list read, or why it could not be.
    pub runs: Option<Result<Vec<RunRow>, String>>,
    pub selected: BTreeSet<String>,
    loading_selection: Option<BackgroundTask<Result<SelectionData, String>>>,
    pub selection: Option<Result<SelectionData, String>>,
    /// Shown are the runs whose name, dataset, status, stack or tags contain this.
    pub filter: String,
    /// The column sorted by, and whether ascending (the default: newest first).
    pub sort: (RunColumn, bool),
    editing: Option<BackgroundTask<Result<(), String>>>,
    /// Why the last edit failed.
    pub edit_error: Option<String>,
    /// The name, tags and note of the one ticked run, as being edited.
    pub form: Option<EditForm>,
    /// The list's shown rows for (filter, sort, list generation): filtered and sorted once
    /// per change, not every frame.
    shown: Option<ShownRows>,
    generation: u64,
    /// When the list was last asked for.
    read_at: Option<std::time::Instant>,
    loading_checkpoint: Option<BackgroundTask<Result<CheckpointModel, String>>>,
    /// What the chart draws, against what.
    pub curves: crate::app::views::run_curves::CurveChoice,
    /// The setting against the result, for three runs or more.
    pub hparams: crate::app::views::run_hparams::HParamChoice,
    /// Runs deleted in the tab, hidden from it until [`UNDO_DELETE`] has passed (then they
    /// leave the store); Undo brings them back. Closing the window before then keeps them.
    pub deleted: Option<Deleted>,
    /// Why the last deletion failed (a run training in another process, say).
    pub delete_error: Option<String>,
    deleting: Option<BackgroundTask<Result<(), String>>>,
}

/// Runs being deleted, while the deletion can be undone.
#[derive(Clone, Debug)]
pub struct Deleted {
    pub ids: BTreeSet<String>,
    pub at: std::time::Instant,
}

/// The store's runs, and what opening it found.
type Listing = (Vec<RunRow>, Vec<String>);

/// The rows shown for a filter, a sort and a generation of the list.
struct ShownRows {
    filter: String,
    sort: (RunColumn, bool),
    generation: u64,
    hidden: usize,
    rows: Vec<usize>,
}

/// The one ticked run's record, as the person edits it.
#[derive(Clone, Debug, PartialEq)]
pub struct EditForm {
    pub id: String,
    pub name: String,
    /// Comma-separated.
    pub tags: String,
    pub note: String,
}

impl RunColumn {
    /// How a first click sorts: names A to Z, numbers largest (best, newest, longest) first.
    pub fn ascending_first(self) -> bool {
        matches!(self, Self::Name | Self::Status | Self::Dataset)
    }

    /// Compares two runs by this column (unknown metrics last).
    fn compare(self, a: &RunRow, b: &RunRow) -> std::cmp::Ordering {
        let metric = |accuracy: Option<f64>, rmse: Option<f64>| {
            accuracy.or(rmse.map(|r| -r)).unwrap_or(f64::NEG_INFINITY)
        };
        match self {
            Self::Created => a.created_at.total_cmp(&b.created_at),
            Self::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            Self::Status => a.status.cmp(&b.status),
            Self::Dataset => a.dataset.cmp(&b.dataset),
            Self::Epochs => a.epochs_completed.cmp(&b.epochs_completed),
            Self::BestValidation => metric(a.best_validation_accuracy, a.best_validation_rmse)
                .total_cmp(&metric(b.best_validation_accuracy, b.best_validation_rmse)),
            Self::Test => metric(a.test_accuracy, a.test_rmse)
                .total_cmp(&metric(b.test_accuracy, b.test_rmse)),
            Self::Time => a.train_secs.total_cmp(&b.train_secs),
        }
    }
}

/// The runs to show: those matching `filter` (any case), sorted by `sort` (a column, and
/// whether ascending); indices into `runs`.
pub fn shown_runs(runs: &[RunRow], filter: &str, sort: (RunColumn, bool)) -> Vec<usize> {
    let needle = filter.trim().to_lowercase();
    let mut shown: Vec<usize> = (0..runs.len())
        .filter(|&i| {
            let run = &runs[i];
            needle.is_empty()
                || [&run.name, &run.dataset, &run.status, &run.stack, &run.id]
                    .iter()
                    .any(|field| field.to_lowercase().contains(&needle))
                || run
                    .tags
                    .iter()
                    .any(|tag| tag.to_lowercase().contains(&needle))
        })
        .collect();
    let (column, ascending) = sort;
    shown.sort_by(|&a, &b| {
        let order = column.compare(&runs[a], &runs[b]);
        if ascending {
            order
        } else {
            order.reverse()
        }
    });
    shown
}

impl RunsBrowser {
    /// Reads the store's runs again (the tab opened, a run ended, Refresh).
    pub fn refresh(&mut self, waker: Waker) {
        self.read_at = Some(std::time::Instant::now());
        let Ok(path) = crate::store::default_store_path() else {
            self.runs = Some(Err("there is no data folder for the run store".into()));
            return;
        };
        let task = BackgroundTask::spawn("runs", waker.clone(), move || {
            let store = RunStore::open(&path).map_err(|e| e.to_string())?;
            let mut runs = store
                .list(&RunFilter::default())
                .map_err(|e| e.to_string())?;
            runs.truncate(MAX_LISTED_RUNS);
            Ok((runs, store.notes().to_vec()))
        });
        match task {
            Ok(task) => self.listing = Some(task),
            Err(error) => self.runs = Some(Err(format!("cannot start a thread: {error}"))),
        }
        self.load_selection(waker);
    }

    /// Writes `edit` to run `id`'s record on a thread, then reads the list again.
    pub fn edit(&mut self, id: String, edit: RunEdit, waker: Waker) {
        let Ok(path) = crate::store::default_store_path() else {
            return;
        };
        let task = BackgroundTask::spawn("run-edit", waker, move || {
            let store = RunStore::open(&path).map_err(|e| e.to_string())?;
            let old = store.row(&id).map_err(|e| e.to_string())?;
            let name = edit.name.trim();
            (if name.is_empty() || name == old.name {
                Ok(())
            } else {
                store.rename(&id, name)
            })
            .and_then(|()| {
                old.tags
                    .iter()
                    .filter(|t| !edit.tags.contains(t))
                    .try_for_each(|t| store.untag(&id, t))
            })
            .and_then(|()| edit.tags.iter().try_for_each(|t| store.tag(&id, t)))
            .and_then(|()| store.set_note(&id, &edit.note))
            .map_err(|e| e.to_string())
        });
        match task {
            Ok(task) => self.editing = Some(task),
            Err(error) => self.edit_error = Some(format!("cannot start a thread: {error}")),
        }
    }

    /// Reads run `id`'s checkpoint at `step` on a thread, as a model to try.
    pub fn load_checkpoint(&mut self, id: String, step: usize, waker: Waker) {
        let Ok(path) = crate::store::default_store_path() else {
            return;
        };
        let task = BackgroundTask::spawn("run-checkpoint", waker, move || {
            let fail = |e: crate::store::StoreError| e.to_string();
            let store = RunStore::open(&path).map_err(fail)?;
            let row = store.row(&id).map_err(fail)?;
            let record = store.record(&id).map_err(fail)?;
            let checkpoint = store
                .checkpoints(&id)
                .map_err(fail)?
                .into_iter()
                .find(|c| c.step == step)
                .ok_or_else(|| format!("run {} has no checkpoint at step {step}", row.name))?;
            let state =
                crate::store::read_checkpoint(&store.checkpoint_path(&checkpoint)).map_err(fail)?;
            let model = SavedModel {
                spec: record.stack,
                input_shape: SavedModel::input_shape_of(record.card.input_shape()),
                classes: record.card.task.outputs(),
                weights: (*state.weights).clone(),
                card: Some(record.card),
                training: Some(record.settings),
            };
            let label = format!(
                "run {} at epoch {}, step {}",
                row.name,
                checkpoint.epoch,
                crate::display::thousands(checkpoint.step)
            );
            let point = super::continuation::RunPoint {
                run_id: id,
                step: checkpoint.step,
            };
            Ok((label, Box::new(model), point))
        });
        if let Ok(task) = task {
            self.loading_checkpoint = Some(task);
        }
    }

    /// A checkpoint read for trying, once it has arrived.
    pub fn take_checkpoint_model(&mut self) -> Option<Result<CheckpointModel, String>> {
        take_answer(
            &mut self.loading_checkpoint,
            "reading the checkpoint failed",
        )
    }

    /// Hides the ticked runs and deletes them once [`UNDO_DELETE`] has passed without Undo
    /// (a deletion still waiting is carried out first).
    pub fn delete_ticked(&mut self, waker: Waker) {
        self.finish_deletion(waker.clone());
        let ids = std::mem::take(&mut self.selected);
        if ids.is_empty() {
            return;
        }
        self.deleted = Some(Deleted {
            ids,
            at: std::time::Instant::now(),
        });
        self.form = None;
        self.load_selection(waker);
    }

    /// Brings back the runs deleted last, ticked as they were.
    pub fn undo_delete(&mut self, waker: Waker) {
        if let Some(deleted) = self.deleted.take() {
            self.selected = deleted.ids;
            self.fill_form();
            self.load_selection(waker);
        }
    }

    /// Deletes the hidden runs from the store on a thread, then reads the list again.
    fn finish_deletion(&mut self, waker: Waker) {
        let Some(deleted) = self.deleted.take() else {
            return;
        };
        let Ok(path) = crate::store::default_store_path() else {
            return;
        };
        let task = BackgroundTask::spawn("run-delete", waker, move || {
            let mut store = RunStore::open(&path).map_err(|e| e.to_string())?;
            let failed: Vec<String> = deleted
                .ids
                .iter()
                .filter_map(|id| store.delete(id).err().map(|e| e.to_string()))
                .collect();
            match failed.as_slice() {
                [] => Ok(()),
                [one] => Err(one.clone()),
                [first, ..] => Err(format!("{first} (and {} more)", failed.len() - 1)),
            }
        });
        match task {
            Ok(task) => self.deleting = Some(task),
            Err(error) => {
                self.delete_error = Some(format!("Not deleted: cannot start a thread: {error}"))
            }
        }
    }

    /// Carries out a deletion whose time to undo has passed; how long until the next one is
    /// due, for a repaint then.
    pub fn tick_deletion(&mut self, waker: Waker) -> Option<std::time::Duration> {
        let due = self.deleted.as_ref()?.at + UNDO_DELETE;
        let now = std::time::Instant::now();
        if now >= due {
            self.finish_deletion(waker);
            None
        } else {
            Some(due - now)
        }
    }

    /// Selects or unselects run `id`, and reads what the selection needs.
    pub fn toggle(&mut self, id: String, waker: Waker) {
        if !self.selected.remove(&id) {
            self.selected.insert(id);
        }
        self.form = None;
        self.fill_form();
        self.load_selection(waker);
    }

    /// Ticks (or unticks) every run shown under the filter, and reads what that needs.
    pub fn tick_shown(&mut self, tick: bool, waker: Waker) {
        let ids: Vec<String> = match &self.runs {
            Some(Ok(runs)) => {
                let runs: &[RunRow] = runs;
                self.shown
                    .as_ref()
                    .map(|shown| shown.rows.iter().map(|&i| runs[i].id.clone()).collect())
                    .unwrap_or_default()
            }
            Some(Err(_)) | None => Vec::new(),
        };
        for id in ids {
            if tick {
                self.selected.insert(id);
            } else {
                self.selected.remove(&id);
            }
        }
        self.form = None;
        self.fill_form();
        self.load_selection(waker);
    }

    fn load_selection(&mut self, waker: Waker) {
        if self.selected.is_empty() {
            self.loading_selection = None;
            self.selection = None;
            return;
        }
        let Ok(path) = crate::store::default_store_path() else {
            return;
        };
        let ids: Vec<String> = self.selected.iter().cloned().collect();
        let task = BackgroundTask::spawn("run-selection", waker, move || {
            let store = RunStore::open(&path).map_err(|e| e.to_string())?;
            let mut runs = Vec::with_capacity(ids.len());
            for id in &ids {
                let row = store.row(id).map_err(|e| e.to_string())?;
                runs.push(store.curves(row).map_err(|e| e.to_string())?);
            }
            let comparison = if ids.len() >= 2 {
                Some(compare_runs(&store, &ids).map_err(|e| e.to_string())?)
            } else {
                None
            };
            let (checkpoints, trained_by) = match ids.as_slice() {
                [one] => (
                    store.checkpoints(one).map_err(|e| e.to_string())?,
                    store
                        .record(one)
                        .map_err(|e| e.to_string())?
                        .host
                        .torch
                        .map(|torch| torch.describe()),
                ),
                _ => (Vec::new(), None),
            };
            Ok(SelectionData {
                runs,
                comparison,
                checkpoints,
                trained_by,
            })
        });
        if let Ok(task) = task {
            self.loading_selection = Some(task);
        }
    }

    /// Takes what the threads have sent; true when the list should be read again (an edit
    /// was written).
    pub fn poll(&mut self) -> bool {
        let mut edited = false;
        if let Some(task) = &self.editing {
            // A lost thread is told apart from a refused write: only an answer is read back.
            match task.poll() {
                Polled::Pending => {}
                Polled::Done(result) => {
                    self.edit_error = result.err();
                    self.editing = None;
                    edited = true;
                }
                Polled::Lost => {
                    self.edit_error = Some("writing the run store failed".into());
                    self.editing = None;
                }
            }
        }
        if let Some(done) = take_answer(&mut self.deleting, "deleting runs failed") {
            self.delete_error = done.err().map(|why| format!("Not deleted: {why}"));
            edited = true;
        }
        if let Some(listing) = take_answer(&mut self.listing, "reading the run store failed") {
            let runs = listing.map(|(runs, notes)| {
                self.notes.extend(notes);
                runs
            });
            // Runs deleted elsewhere leave the selection.
            if let Ok(rows) = &runs {
                self.selected.retain(|id| rows.iter().any(|r| &r.id == id));
            }
            self.runs = Some(runs);
            self.generation += 1;
            self.fill_form();
        }
        if let Some(data) = take_answer(
            &mut self.loading_selection,
            "reading the selected runs failed",
        ) {
            self.selection = Some(data);
        }
        edited
    }

    /// The rows to show (indices into the list), filtered and sorted as chosen.
    pub fn shown(&mut self) -> &[usize] {
        let hidden = self.deleted.as_ref().map_or(0, |d| d.ids.len());
        let fresh = self.shown.as_ref().is_some_and(|shown| {
            shown.filter == self.filter
                && shown.sort == self.sort
                && shown.generation == self.generation
                && shown.hidden == hidden
        });
        if !fresh {
            let mut rows = match &self.runs {
                Some(Ok(runs)) => shown_runs(runs, &self.filter, self.sort),
                Some(Err(_)) | None => Vec::new(),
            };
            if let (Some(deleted), Some(Ok(runs))) = (&self.deleted, &self.runs) {
                rows.retain(|&i| !deleted.ids.contains(&runs[i].id));
            }
            self.shown = Some(ShownRows {
                filter: self.filter.clone(),
                sort: self.sort,
                generation: self.generation,
                hidden,
                rows,
            });
        }
        self.shown.as_ref().map_or(&[], |shown| &shown.rows)
    }

    /// With one run ticked, its name, tags and note in the form (kept while it is edited).
    fn fill_form(&mut self) {
        let one = match (self.selected.len(), &self.runs) {
            (1, Some(Ok(runs))) => runs.iter().find(|r| self.selected.contains(&r.id)),
            _ => None,
        };
        self.form = match one {
            Some(run) if self.form.as_ref().is_some_and(|f| f.id == run.id) => self.form.take(),
            Some(run) => Some(EditForm {
                id: run.id.clone(),
                name: run.name.clone(),
                tags: run.tags.join(", "),
                note: run.note.clone(),
            }),
            None => None,
        };
    }

    /// Whether a run in the list is being trained (here or by the CLI).
    pub fn has_live_run(&self) -> bool {
        matches!(&self.runs, Some(Ok(runs)) if runs.iter().any(|r| r.status == "running"))
    }

    /// Whether the list should be read again: older than `live` while a run in it is being
    /// trained (its status and curves move on), else older than `idle` (a run the CLI
    /// started since).
    pub fn is_stale(&self, live: std::time::Duration, idle: std::time::Duration) -> bool {
        let interval = if self.has_live_run() { live } else { idle };
        !self.is_loading() && self.read_at.is_none_or(|at| at.elapsed() >= interval)
    }

    pub fn is_loading(&self) -> bool {
        self.listing.is_some()
            || self.loading_selection.is_some()
            || self.editing.is_some()
            || self.deleting.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, dataset: &str, created_at: f64, test_accuracy: Option<f64>) -> RunRow {
        RunRow {
            id: format!("id-{name}"),
            name: name.into(),
            status: "finished".into(),
            message: None,
            dataset: dataset.into(),
            preset: None,
            stack: "Dense64 ReLU Dense10".into(),
            parent_id: None,
            parent_step: None,
            created_at,
            epochs: 1,
            epochs_completed: 1,
            last_step: 10,
            train_secs: 1.0,
            best_validation_accuracy: None,
            best_validation_rmse: None,
            test_accuracy,
            test_rmse: None,
            tags: vec!["baseline".into()],
            note: String::new(),
        }
    }

    #[test]
    fn a_list_with_a_run_in_training_is_read_again_after_the_interval() {
        let interval = std::time::Duration::from_secs(2);
        let mut browser = RunsBrowser {
            runs: Some(Ok(vec![run("a", "iris", 1.0, None)])),
            ..RunsBrowser::default()
        };
        let idle = 5 * interval;
        let ago = |d| std::time::Instant::now().checked_sub(d);
        // Every run finished: read again only after the idle interval.
        browser.read_at = ago(interval);
        assert!(!browser.is_stale(interval, idle));
        browser.read_at = ago(idle);
        assert!(browser.is_stale(interval, idle));
        // A run in training: after the short one.
        if let Some(Ok(runs)) = &mut browser.runs {
            runs[0].status = "running".into();
        }
        browser.read_at = Some(std::time::Instant::now());
        assert!(!browser.is_stale(interval, idle));
        browser.read_at = ago(interval);
        assert!(browser.is_stale(interval, idle));
    }

    #[test]
    fn the_list_filters_by_any_field_and_sorts_by_a_column() {
        let mut runs = vec![
            run("b", "mnist", 1.0, Some(0.97)),
            run("a", "iris", 3.0, None),
            run("c", "mnist", 2.0, Some(0.99)),
        ];
        runs[1].tags = vec!["wide".into()];
        // Newest first by default.
        assert_eq!(
            shown_runs(&runs, "", (RunColumn::Created, false)),
            [1, 2, 0]
        );
        assert_eq!(shown_runs(&runs, "MNIST", (RunColumn::Name, true)), [0, 2]);
        assert_eq!(shown_runs(&runs, "wid", (RunColumn::Created, false)), [1]);
        // Best test first; a run without a test result last.
        assert_eq!(shown_runs(&runs, " ", (RunColumn::Test, false)), [2, 0, 1]);
    }
}
