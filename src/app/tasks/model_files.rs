//! Saving and loading models and opening images off the UI thread; results come back as
//! messages the App turns into notifications.

use std::path::PathBuf;
use std::sync::Arc;

use crossbeam_channel::{unbounded, Receiver, Sender};
use image::DynamicImage;

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

/// Runs file work on short-lived named threads.
pub struct FileTasks {
    sender: Sender<FileOutcome>,
    receiver: Receiver<FileOutcome>,
    waker: crate::train::Waker,
    in_flight: usize,
}

impl FileTasks {
    pub fn new(waker: crate::train::Waker) -> Self {
        let (sender, receiver) = unbounded();
        Self {
            sender,
            receiver,
            waker,
            in_flight: 0,
        }
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    fn spawn(&mut self, name: &str, work: impl FnOnce() -> FileOutcome + Send + 'static) {
        let sender = self.sender.clone();
        let waker = self.waker.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("layerlab-{name}"))
            .spawn(move || {
                let _ = sender.send(work());
                waker();
            });
        match spawned {
            Ok(_) => self.in_flight += 1,
            Err(e) => {
                let _ = self
                    .sender
                    .send(FileOutcome::Failed(format!("cannot start a thread: {e}")));
            }
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
        let outcomes: Vec<FileOutcome> = self.receiver.try_iter().collect();
        self.in_flight = self.in_flight.saturating_sub(outcomes.len());
        outcomes
    }
}
