//! The Runs tab's data: the store's runs, and for the runs selected their epochs and what
//! differs between them, each read on a thread of its own (the store is never opened on the
//! UI thread). The tab draws whatever has arrived.

use std::collections::BTreeSet;

use crate::app::tasks::background::{BackgroundTask, Polled, Waker};
use crate::store::{compare_runs, Comparison, RunFilter, RunRow, RunStore};
use crate::train::EpochMetrics;

/// Runs listed at most (newest first): the list is drawn as a virtual list, but a store of
/// a million runs need not be read whole to show its newest.
pub const MAX_LISTED_RUNS: usize = 5_000;

/// What the selected runs need: each one's epochs, and their comparison when two or more.
pub struct SelectionData {
    pub epochs: Vec<(RunRow, Vec<EpochMetrics>)>,
    pub comparison: Option<Comparison>,
}

#[derive(Default)]
pub struct RunsBrowser {
    listing: Option<BackgroundTask<Result<Vec<RunRow>, String>>>,
    /// The newest list read, or why it could not be.
    pub runs: Option<Result<Vec<RunRow>, String>>,
    pub selected: BTreeSet<String>,
    loading_selection: Option<BackgroundTask<Result<SelectionData, String>>>,
    pub selection: Option<Result<SelectionData, String>>,
}

impl RunsBrowser {
    /// Reads the store's runs again (the tab opened, a run ended, Refresh).
    pub fn refresh(&mut self, waker: Waker) {
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
            Ok(runs)
        });
        match task {
            Ok(task) => self.listing = Some(task),
            Err(error) => self.runs = Some(Err(format!("cannot start a thread: {error}"))),
        }
        self.load_selection(waker);
    }

    /// Selects or unselects run `id`, and reads what the selection needs.
    pub fn toggle(&mut self, id: String, waker: Waker) {
        if !self.selected.remove(&id) {
            self.selected.insert(id);
        }
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
            let mut epochs = Vec::with_capacity(ids.len());
            for id in &ids {
                let row = store.row(id).map_err(|e| e.to_string())?;
                epochs.push((row, store.epochs(id).map_err(|e| e.to_string())?));
            }
            let comparison = if ids.len() >= 2 {
                Some(compare_runs(&store, &ids).map_err(|e| e.to_string())?)
            } else {
                None
            };
            Ok(SelectionData { epochs, comparison })
        });
        if let Ok(task) = task {
            self.loading_selection = Some(task);
        }
    }

    /// Takes what the threads have sent; true when something arrived.
    pub fn poll(&mut self) -> bool {
        let mut arrived = false;
        if let Some(task) = &self.listing {
            match task.poll() {
                Polled::Pending => {}
                Polled::Done(runs) => {
                    // Runs deleted elsewhere leave the selection.
                    if let Ok(rows) = &runs {
                        self.selected.retain(|id| rows.iter().any(|r| &r.id == id));
                    }
                    self.runs = Some(runs);
                    self.listing = None;
                    arrived = true;
                }
                Polled::Lost => {
                    self.runs = Some(Err("reading the run store failed".into()));
                    self.listing = None;
                    arrived = true;
                }
            }
        }
        if let Some(task) = &self.loading_selection {
            match task.poll() {
                Polled::Pending => {}
                Polled::Done(data) => {
                    self.selection = Some(data);
                    self.loading_selection = None;
                    arrived = true;
                }
                Polled::Lost => {
                    self.selection = Some(Err("reading the selected runs failed".into()));
                    self.loading_selection = None;
                    arrived = true;
                }
            }
        }
        arrived
    }

    pub fn is_loading(&self) -> bool {
        self.listing.is_some() || self.loading_selection.is_some()
    }
}
