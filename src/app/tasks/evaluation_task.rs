//! "Evaluate on test set" for the current model (a stopped run, a loaded file), on a thread
//! of its own, with progress and Cancel. The engine's `evaluate_with_progress` does the work.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::app::tasks::background::{BackgroundTask, Polled, Waker};

use crate::data::Dataset;
use crate::export::SavedModel;
use crate::train::{evaluate_with_progress, in_compute_pool, Evaluation, LossKind};

pub struct EvaluationTask {
    pub model: Arc<SavedModel>,
    pub total: usize,
    done: Arc<AtomicUsize>,
    cancel: Arc<AtomicBool>,
    result: BackgroundTask<Result<Evaluation, String>>,
}

/// How a task ended.
pub enum TaskEnd {
    Done(Evaluation),
    Failed(String),
    Cancelled,
}

impl EvaluationTask {
    /// Evaluates `model` on the first `limit` test samples of `dataset` (all if `None`).
    pub fn start(
        model: Arc<SavedModel>,
        dataset: Arc<Dataset>,
        limit: Option<usize>,
        waker: Waker,
    ) -> std::io::Result<Self> {
        let total = limit.map_or(dataset.test.len(), |l| l.min(dataset.test.len()));
        let done = Arc::new(AtomicUsize::new(0));
        let cancel = Arc::new(AtomicBool::new(false));
        let (thread_done, thread_cancel, thread_model) =
            (done.clone(), cancel.clone(), model.clone());
        let result = BackgroundTask::spawn("evaluate", waker.clone(), move || {
            SavedModel::clone(&thread_model)
                .into_model(&Default::default(), "the model")
                .map_err(|e| e.to_string())
                .and_then(|model| {
                    let indices: Vec<u32> = (0..total as u32).collect();
                    in_compute_pool(|| {
                        evaluate_with_progress(
                            &model,
                            &dataset.card,
                            &dataset.test,
                            &indices,
                            LossKind::default_for(dataset.task()),
                            &mut |n, _| {
                                thread_done.store(n, Ordering::Relaxed);
                                waker();
                                !thread_cancel.load(Ordering::Relaxed)
                            },
                        )
                    })
                    .ok_or_else(|| "cancelled".to_string())
                })
        })?;
        Ok(Self {
            model,
            total,
            done,
            cancel,
            result,
        })
    }

    pub fn done(&self) -> usize {
        self.done.load(Ordering::Relaxed)
    }

    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// The end of the task, once it has come.
    pub fn poll(&self) -> Option<TaskEnd> {
        match self.result.poll() {
            Polled::Done(Ok(evaluation)) => Some(TaskEnd::Done(evaluation)),
            Polled::Done(Err(_)) if self.cancel.load(Ordering::Relaxed) => Some(TaskEnd::Cancelled),
            Polled::Done(Err(message)) => Some(TaskEnd::Failed(message)),
            Polled::Pending => None,
            Polled::Lost => Some(TaskEnd::Failed("the evaluation thread stopped".into())),
        }
    }
}
