//! Saving and loading models and opening images off the UI thread; results come back as
//! messages the App turns into notifications.

use std::path::PathBuf;
use std::sync::Arc;

use image::DynamicImage;

use crate::app::tasks::background::{BackgroundTask, Polled};
use crate::export::SavedModel;

pub enum FileOutcome {
    /// `auto`: the automatic copy of a trained model, not the person's own save.
    Exported {
        path: PathBuf,
        model: Arc<SavedModel>,
        auto: bool,
    },
    ModelLoaded(PathBuf, Box<SavedModel>),
    /// The model the last session trained, read at launch (with when it was written).
    LastTrainedLoaded(PathBuf, Box<SavedModel>, Option<std::time::SystemTime>),
    ImageOpened(PathBuf, Arc<DynamicImage>),
    MetricsExported(PathBuf),
    OnnxExported(PathBuf),
    Failed(String),
}

/// Runs file work as background tasks, one short-lived named thread each.
pub struct FileTasks {
    tasks: Vec<BackgroundTask<FileOutcome>>,
    /// Outcomes known before any thread ran (a thread that could not start).
    ready: Vec<FileOutcome>,
    waker: crate::train::Waker,
}

impl FileTasks {
    pub fn new(waker: crate::train::Waker) -> Self {
        Self {
            tasks: Vec::new(),
            ready: Vec::new(),
            waker,
        }
    }

    pub fn in_flight(&self) -> usize {
        self.tasks.len()
    }

    fn spawn(&mut self, name: &str, work: impl FnOnce() -> FileOutcome + Send + 'static) {
        match BackgroundTask::spawn(name, self.waker.clone(), work) {
            Ok(task) => self.tasks.push(task),
            Err(e) => self
                .ready
                .push(FileOutcome::Failed(format!("cannot start a thread: {e}"))),
        }
    }

    pub fn export(&mut self, path: PathBuf, model: Arc<SavedModel>, auto: bool) {
        self.spawn("export", move || match model.save(&path) {
            Ok(()) => FileOutcome::Exported { path, model, auto },
            Err(e) => FileOutcome::Failed(e.to_string()),
        });
    }

    /// Writes `model` as ONNX.
    pub fn export_onnx(&mut self, path: PathBuf, model: Arc<SavedModel>) {
        self.spawn("onnx", move || {
            match crate::onnx::save_onnx(&model, &path) {
                Ok(()) => FileOutcome::OnnxExported(path),
                Err(e) => FileOutcome::Failed(e.to_string()),
            }
        });
    }

    /// Writes the run's figures as CSV.
    pub fn export_metrics(&mut self, path: PathBuf, history: crate::train::MetricsHistory) {
        self.spawn("metrics", move || {
            let written = std::fs::File::create(&path)
                .map_err(|e| e.to_string())
                .and_then(|file| {
                    history
                        .write_csv(std::io::BufWriter::new(file))
                        .map_err(|e| e.to_string())
                });
            match written {
                Ok(()) => FileOutcome::MetricsExported(path),
                Err(e) => FileOutcome::Failed(format!("cannot write {}: {e}", path.display())),
            }
        });
    }

    pub fn load_model(&mut self, path: PathBuf) {
        self.spawn("import", move || match SavedModel::load(&path) {
            Ok(saved) => FileOutcome::ModelLoaded(path, Box::new(saved)),
            Err(e) => FileOutcome::Failed(e.to_string()),
        });
    }

    /// Reads the model the last session trained; a missing file is no news, so nothing comes
    /// back for it.
    pub fn load_last_trained(&mut self, path: PathBuf) {
        self.spawn("last-trained", move || {
            let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
            match SavedModel::load(&path) {
                Ok(saved) => FileOutcome::LastTrainedLoaded(path, Box::new(saved), modified),
                Err(e) => FileOutcome::Failed(format!(
                    "The model trained last time cannot be read back: {e}"
                )),
            }
        });
    }

    pub fn open_image(&mut self, path: PathBuf) {
        self.spawn("image", move || {
            match crate::preprocess::read_image(&path) {
                Ok(image) => FileOutcome::ImageOpened(path, Arc::new(image)),
                Err(e) => FileOutcome::Failed(e.to_string()),
            }
        });
    }

    /// Outcomes that have arrived since the last call.
    pub fn poll(&mut self) -> Vec<FileOutcome> {
        let mut outcomes = std::mem::take(&mut self.ready);
        self.tasks.retain(|task| match task.poll() {
            Polled::Pending => true,
            Polled::Done(outcome) => {
                outcomes.push(outcome);
                false
            }
            Polled::Lost => {
                outcomes.push(FileOutcome::Failed(
                    "a file task ended without an answer (its thread panicked)".into(),
                ));
                false
            }
        });
        outcomes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file thread that panicked once left the window counting it as running forever.
    #[test]
    fn a_task_that_panics_is_reported_and_no_longer_counted() {
        let mut files = FileTasks::new(Arc::new(|| {}));
        files.spawn("test-panics", || panic!("on purpose"));
        files.spawn("test-answers", || FileOutcome::Failed("an answer".into()));
        let started = std::time::Instant::now();
        let mut outcomes = Vec::new();
        while files.in_flight() > 0 {
            assert!(started.elapsed().as_secs() < 10, "the tasks never ended");
            outcomes.extend(files.poll());
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let messages: Vec<String> = outcomes
            .iter()
            .filter_map(|o| {
                if let FileOutcome::Failed(message) = o {
                    Some(message.clone())
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages.iter().any(|m| m.contains("panicked")),
            "{messages:?}"
        );
        assert!(messages.iter().any(|m| m == "an answer"), "{messages:?}");
    }
}
