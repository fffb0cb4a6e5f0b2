//! "Find learning rate" in the window: the engine's range test ([`crate::train::lr_find`]) on
//! a thread of its own, on the designed stack, the data and the optimizer as set, with its
//! progress and Cancel. Nothing is trained: the sweep's model is thrown away.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use super::background::{take_answer, BackgroundTask, Waker};
use crate::data::Dataset;
use crate::spec::ModelSpec;
use crate::train::{LrFindResult, LrFindSettings, TrainConfig, TrainError, TrainJob};

/// The window's range test: the sweep going on, or the last one's curve.
#[derive(Default)]
pub struct LrFinder {
    sweep: Option<BackgroundTask<Result<LrFindResult, String>>>,
    /// Steps the sweep going on has done.
    done: Arc<AtomicUsize>,
    cancel: Arc<AtomicBool>,
    /// The last sweep's curve and suggestions, or why it failed.
    pub result: Option<Result<LrFindResult, String>>,
    /// The sweep's steps (fastai's 100).
    pub steps: usize,
}

impl LrFinder {
    /// Starts a sweep of `spec` on `dataset` with `config`'s optimizer and batch size.
    pub fn start(
        &mut self,
        spec: ModelSpec,
        config: TrainConfig,
        dataset: Arc<Dataset>,
        waker: Waker,
    ) -> Result<(), String> {
        let settings = LrFindSettings::default();
        // Fresh counters: a sweep cancelled earlier may still be finishing its batch.
        self.done = Arc::new(AtomicUsize::new(0));
        self.cancel = Arc::new(AtomicBool::new(false));
        let (counting, cancelled, wake) = (self.done.clone(), self.cancel.clone(), waker.clone());
        let task = BackgroundTask::spawn("lr-find", waker, move || {
            let mut job = TrainJob {
                spec,
                config,
                dataset,
                initial_weights: None,
                resume_from: None,
            }
            .prepare()
            .map_err(|e| e.to_string())?;
            let mut each = |_: &crate::train::LrFindPoint| {
                counting.fetch_add(1, Ordering::Relaxed);
                wake();
                !cancelled.load(Ordering::Relaxed)
            };
            crate::train::in_compute_pool(|| {
                crate::train::lr_find_observed(&mut job, settings, &mut each)
            })
            .map_err(|e| {
                if matches!(e, TrainError::Cancelled) {
                    "cancelled".to_string()
                } else {
                    e.to_string()
                }
            })
        })
        .map_err(|e| format!("cannot start a thread: {e}"))?;
        self.steps = settings.steps;
        self.result = None;
        self.sweep = Some(task);
        Ok(())
    }

    /// Asks the sweep to stop after its current batch.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// Steps done, while a sweep goes on.
    pub fn progress(&self) -> Option<usize> {
        self.sweep
            .as_ref()
            .map(|_| self.done.load(Ordering::Relaxed))
    }

    /// Takes the sweep's answer once it has come; a cancelled sweep leaves no result.
    pub fn poll(&mut self) {
        if let Some(answer) = take_answer(&mut self.sweep, "the learning-rate sweep failed") {
            self.result = match answer {
                Err(why) if why == "cancelled" => None,
                other => Some(other),
            };
        }
    }
}
