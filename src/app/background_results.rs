//! Results of the window's background work, taken in once a frame: file dialogs, model
//! files, evaluations, imports and dataset loads.

use std::sync::Arc;
use std::time::Duration;

use eframe::egui::{self};

use super::tasks::evaluation_task::TaskEnd;
use super::tasks::model_files::FileOutcome;
use super::tasks::training_session::TrainingSession;
use super::training_events::describe_test;
use super::views::file_dialog::{DialogOutcome, FilePurpose};
use super::{
    AppCommand, DatasetSlot, EvaluationView, LayerLabApp, EVENT_BUDGET, MAX_EVENTS_PER_FRAME,
};
use crate::export::SavedModel;
use crate::train::TrainEvent;

/// The model the last session trained, read back at launch.
pub(super) struct LastTrained {
    path: std::path::PathBuf,
    saved: Box<SavedModel>,
    modified: Option<std::time::SystemTime>,
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

impl LayerLabApp {
    pub(super) fn handle_file_outcome(&mut self, ctx: &egui::Context, outcome: FileOutcome) {
        match outcome {
            FileOutcome::Exported { path, model, auto } => {
                if auto {
                    return; // the automatic copy is quiet; the File menu says where it is
                }
                if let Some(current) = &mut self.current {
                    if Arc::ptr_eq(&current.model, &model) {
                        current.unsaved = false;
                    }
                }
                self.notifications.info(format!("Saved {}", path.display()));
            }
            FileOutcome::ModelLoaded(path, saved) => self.take_loaded_model(ctx, path, saved, true),
            FileOutcome::LastTrainedLoaded(path, saved, modified) => {
                let last = LastTrained {
                    path,
                    saved,
                    modified,
                };
                if matches!(self.dataset, DatasetSlot::Ready(..)) {
                    self.take_last_trained(last);
                } else {
                    self.pending_last_trained = Some(last);
                }
            }
            FileOutcome::ImageOpened(path, image) => {
                self.prediction.set_image(path, image);
                if self.current.is_none() {
                    self.notifications
                        .error("Train or load a model to classify this image.");
                }
                self.request_prediction();
            }
            FileOutcome::MetricsExported(path) => self
                .notifications
                .info(format!("Saved the metrics to {}", path.display())),
            FileOutcome::OnnxExported(path) => self.notifications.info(format!(
                "Saved the model as ONNX (opset {}, input \"{}\", output \"{}\") to {}",
                crate::onnx::OPSET,
                crate::onnx::INPUT_NAME,
                crate::onnx::OUTPUT_NAME,
                path.display()
            )),
            FileOutcome::Failed(message) => self.notifications.error(message),
        }
    }

    /// Takes in what background work has sent since the last frame.
    pub(super) fn poll_background(&mut self, ctx: &egui::Context) {
        self.poll_dataset(ctx);
        self.poll_import(ctx);
        // One buffer for every frame's events: a fresh one per frame (20,000 events of a
        // small model) showed up as page faults in the UI thread's profile.
        let mut events = std::mem::take(&mut self.event_buffer);
        if let Some(session) = &mut self.session {
            // Room for a full frame's worth, kept from frame to frame.
            events.reserve(MAX_EVENTS_PER_FRAME);
            session.drain(EVENT_BUDGET, MAX_EVENTS_PER_FRAME, &mut events);
        }
        let had_events = !events.is_empty();
        // Of the weight snapshots taken in this frame only the newest is predicted with (a
        // small model sends hundreds a frame).
        let newest_snapshot = events
            .iter()
            .rposition(|e| matches!(e, TrainEvent::Snapshot { .. }));
        for (index, event) in events.drain(..).enumerate() {
            if matches!(event, TrainEvent::Snapshot { .. }) && Some(index) != newest_snapshot {
                continue;
            }
            self.handle_training_event(event);
        }
        self.event_buffer = events;
        for outcome in self.files.poll() {
            self.handle_file_outcome(ctx, outcome);
        }
        self.prediction.poll();
        self.inside.poll();
        self.poll_evaluation_task();
        self.poll_file_dialog(ctx);
        if self.runs.deleted.is_some() {
            let waker = super::tasks::background::repaint_waker(ctx);
            if let Some(due) = self.runs.tick_deletion(waker) {
                ctx.request_repaint_after(due);
            }
        }
        if self.runs.poll() {
            // An edit was written: the list as the store now has it.
            self.runs
                .refresh(super::tasks::background::repaint_waker(ctx));
        }
        if let Some(checkpoint) = self.runs.take_checkpoint_model() {
            self.take_checkpoint_model(checkpoint);
        }
        self.poll_continuation(ctx);
        self.lr_finder.poll();
        match self.torch_export.poll() {
            Some(Ok(report)) => self.notifications.info(format!(
                "Wrote {}: `python train.py` there trains it with PyTorch, `layerlab runs import` on the folder brings it back.",
                report.folder.display(),
            )),
            Some(Err(why)) => self.notifications.error(format!("Export as PyTorch training script: {why}")),
            None => {}
        }
        for note in std::mem::take(&mut self.runs.notes) {
            // A run the window (or the CLI) was training when it was killed.
            let note = match note.split_once("; `layerlab runs resume") {
                Some((what, _)) => {
                    format!("The run store: {what}. To go on with it: Runs tab, tick it, Resume.")
                }
                None => format!("The run store: {note}"),
            };
            self.notifications.info(note);
        }
        if self.training_active() {
            // Events wake the window at most at the chart rate; between them the status
            // line ticks at its own. A backlog is drained at once instead: a worker whose
            // event channel fills waits for the window (a small model's steps outrun a
            // 1 Hz repaint: the spiral set trained 3x slower in the window than in the CLI).
            let backlog = self.session.as_ref().map_or(0, TrainingSession::backlog);
            let next = if backlog > crate::train::EVENT_CAPACITY / 8 {
                Duration::ZERO
            } else if had_events {
                self.repaint.charts
            } else {
                self.repaint.status
            };
            ctx.request_repaint_after(next);
        }
    }

    pub(super) fn poll_evaluation_task(&mut self) {
        let Some(task) = &self.evaluation_task else {
            return;
        };
        let Some(end) = task.poll() else {
            return;
        };
        let model = task.model.clone();
        self.evaluation_task = None;
        match end {
            TaskEnd::Done(evaluation) => {
                if let Some(dataset) = self.dataset() {
                    self.evaluation = Some(EvaluationView::new(model, &evaluation, dataset));
                }
                self.notifications
                    .info(format!("Evaluated: {}", describe_test(&evaluation)));
            }
            TaskEnd::Failed(message) => self
                .notifications
                .error(format!("Evaluation failed: {message}")),
            TaskEnd::Cancelled => self.notifications.info("Evaluation cancelled."),
        }
    }

    pub(super) fn poll_file_dialog(&mut self, ctx: &egui::Context) {
        let Some(dialog) = &mut self.file_dialog else {
            return;
        };
        let Some(outcome) = dialog.update(ctx) else {
            return;
        };
        match outcome {
            DialogOutcome::Chosen(purpose, path) => {
                self.file_dialog = None;
                // The next dialog opens where this one ended: the folder holding the file (or
                // the folder) chosen.
                self.state.last_folder = path
                    .parent()
                    .filter(|f| !f.as_os_str().is_empty())
                    .map(std::path::Path::to_path_buf);
                let command = match purpose {
                    FilePurpose::ExportWeights => AppCommand::ExportWeightsTo(path),
                    FilePurpose::LoadModel => AppCommand::LoadModelFrom(path),
                    FilePurpose::OpenImage => AppCommand::OpenImageFrom(path),
                    FilePurpose::ImportCsv => AppCommand::ImportCsvFrom(path),
                    FilePurpose::ImportFolder => AppCommand::ImportFolderFrom(path),
                    FilePurpose::ExportMetrics => AppCommand::ExportMetricsTo(path),
                    FilePurpose::ExportOnnx => AppCommand::ExportOnnxTo(path),
                    FilePurpose::ExportTorch => AppCommand::ExportTorchTo(path),
                };
                self.commands.push(command);
            }
            DialogOutcome::Cancelled => self.file_dialog = None,
            DialogOutcome::FellBack => {
                // Remembered: no later open waits for a dialog that never comes.
                self.state.in_window_file_picker = true;
                self.notifications.info(
                    "No desktop file dialog answered (is xdg-desktop-portal running?); \
                     LayerLab's own file picker opens from now on (View menu to change).",
                );
            }
        }
    }

    /// A run's checkpoint read from the Runs tab: the model to try, labelled with the run and
    /// step, when it is a model of the data in use (the designer's stack is left alone).
    fn take_checkpoint_model(
        &mut self,
        checkpoint: Result<super::tasks::runs_browser::CheckpointModel, String>,
    ) {
        match checkpoint {
            Ok((label, saved, point)) => {
                let card = saved.card_or_mnist();
                if card.dataset == self.data_shape.name && self.fits_data(&saved) {
                    self.notifications.info_on(
                        "tried checkpoint",
                        format!("Trying {label}: the try panel, Inside and Evaluation use it."),
                    );
                    self.evaluation = None;
                    self.try_checkpoint(*saved, label, point);
                } else {
                    self.notifications.error(format!(
                        "{label} is a model of {}, but the window has {} loaded: pick {} in the \
                         Data tab first",
                        card.dataset, self.data_shape.name, card.dataset
                    ));
                }
            }
            Err(why) => self
                .notifications
                .error(format!("Cannot read the checkpoint: {why}")),
        }
    }

    /// A model file read: it becomes the current model if it is a model of the data in use.
    /// A model of another built-in has that dataset loaded for it first (when
    /// `may_load_data`, and not during a run); any other is refused with what it needs.
    pub(super) fn take_loaded_model(
        &mut self,
        ctx: &egui::Context,
        path: std::path::PathBuf,
        saved: Box<SavedModel>,
        may_load_data: bool,
    ) {
        let card = saved.card_or_mnist();
        let builtin = crate::data::builtin(&card.dataset).is_some();
        // Fashion-MNIST's model fits MNIST's shapes but not its meaning.
        let other_builtin = builtin && card.dataset != self.data_shape.name;
        if self.fits_data(&saved) && !other_builtin {
            let origin = format!("loaded from {}", path.display());
            // The stack goes into the editor as an undoable edit.
            self.editor.commit(&self.state.design());
            self.state.stack = saved.spec.clone();
            self.editor.commit(&self.state.design());
            self.set_current(*saved, origin, false);
            self.notifications
                .info(format!("Loaded {}", path.display()));
            return;
        }
        if builtin && may_load_data && !self.training_active() {
            // Its data, prepared as the model's was (vocabulary, split seed, points), then
            // the model.
            let name = card.dataset;
            self.notifications.info(format!(
                "{} is a model of {name}: loading {name} for it",
                path.display()
            ));
            let options = card
                .builtin_options
                .unwrap_or_else(|| self.state.data_options());
            self.load_builtin_dataset(ctx, name, options);
            self.pending_model = Some((path, saved));
            return;
        }
        // A model of other data would be fed the wrong inputs: say which data it needs.
        let remedy = if !builtin {
            format!("import {} first", card.dataset)
        } else if self.training_active() {
            format!("stop the run and pick {} in the Data tab", card.dataset)
        } else {
            format!("pick {} in the Data tab first", card.dataset)
        };
        self.notifications.error(format!(
            "{} is a model of {} ({}, inputs {}) but the window trains on {}: {remedy}",
            path.display(),
            card.dataset,
            card.task.describe(),
            saved.input(),
            self.data_shape.description,
        ));
    }

    /// Carries on with the model the last session trained when nothing else is in hand and
    /// it is a model of the data in use; otherwise says where it is. Either way the designer
    /// keeps the stack the person left in it.
    fn take_last_trained(&mut self, last: LastTrained) {
        let card = last.saved.card_or_mnist();
        let when = last
            .modified
            .map(|at| {
                let stamp = humantime::format_rfc3339_seconds(at).to_string();
                format!(", {} UTC", stamp[..16].replace('T', " "))
            })
            .unwrap_or_default();
        let what = format!("the model trained last time (on {}{when})", card.dataset);
        let fits = card.dataset == self.data_shape.name && self.fits_data(&last.saved);
        if fits && self.current.is_none() && !self.training_active() {
            self.set_current(*last.saved, what.clone(), false);
            self.notifications.info(format!(
                "Carrying on with {what}: it predicts, evaluates and exports. Train starts a new \
                 run; Continue training trains it further."
            ));
        } else {
            self.notifications.info(format!(
                "{} is kept at {}: File > Load model opens it.",
                capitalise(&what),
                last.path.display()
            ));
        }
    }

    /// Whether `saved` takes the inputs and gives the outputs of the data in use.
    pub(super) fn fits_data(&self, saved: &SavedModel) -> bool {
        saved.input() == self.data_shape.input && saved.classes == self.data_shape.outputs
    }

    pub(super) fn poll_import(&mut self, ctx: &egui::Context) {
        let Some(super::ImportTask { name, task, .. }) = &self.import else {
            return;
        };
        let outcome = match task.poll() {
            super::Polled::Done(outcome) => outcome,
            super::Polled::Pending => return,
            super::Polled::Lost => Err("the import stopped".to_string()),
        };
        let name = name.clone();
        self.import = None;
        match outcome {
            Ok(super::Imported::Table(table)) => {
                self.table_import = Some(super::TableImport::new(name, table));
            }
            Ok(super::Imported::Dataset(dataset, notes)) => {
                let mut message = format!(
                    "Imported {name}: {} training and {} test samples, {}",
                    dataset.train.len(),
                    dataset.test.len(),
                    dataset.task().describe(),
                );
                if !notes.is_empty() {
                    message = format!("{message}; {}", notes.join("; "));
                }
                self.notifications.info(message);
                self.evaluation = None;
                self.adopt_dataset(ctx, *dataset, true);
            }
            // A failed import changes nothing.
            // The loaders' messages start with the file's name already.
            Err(message) => {
                let reason = message
                    .strip_prefix(name.as_str())
                    .and_then(|rest| rest.strip_prefix(": "))
                    .unwrap_or(&message);
                self.notifications
                    .error(format!("Cannot import {name}: {reason}"));
            }
        }
    }

    pub(super) fn poll_dataset(&mut self, ctx: &egui::Context) {
        if let DatasetSlot::Loading { name, task, .. } = &self.dataset {
            match task.poll() {
                super::Polled::Done(Ok(dataset)) => {
                    let changed = dataset.card.dataset != self.data_shape.name;
                    if changed {
                        self.notifications.info(format!(
                            "Loaded {}: {} training and {} test samples; the stack must take {} and end with {} outputs",
                            dataset.name,
                            dataset.train.len(),
                            dataset.test.len(),
                            dataset.input_shape(),
                            dataset.outputs()
                        ));
                    }
                    self.adopt_dataset(ctx, dataset, changed);
                    // A loaded model that waited for its data.
                    if let Some((path, saved)) = self.pending_model.take() {
                        self.take_loaded_model(ctx, path, saved, false);
                    }
                    if let Some(last) = self.pending_last_trained.take() {
                        self.take_last_trained(last);
                    }
                }
                super::Polled::Done(Err(message)) => {
                    self.pending_model = None;
                    self.notifications
                        .error(format!("Cannot load {name}: {message}"));
                    self.dataset = DatasetSlot::Failed(message);
                }
                super::Polled::Pending => {}
                super::Polled::Lost => {
                    self.dataset = DatasetSlot::Failed("the data loader stopped".into());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::views::file_dialog::FileDialog;
    use crate::app::PersistedState;

    #[test]
    fn once_no_desktop_dialog_answers_none_is_waited_for_again() {
        let ctx = egui::Context::default();
        let data = tempfile::tempdir().unwrap();
        let state = PersistedState {
            dataset: "iris".into(),
            ..PersistedState::default()
        };
        let mut app = LayerLabApp::with_state(&ctx, state, data.path().into());
        assert!(!app.state.in_window_file_picker);
        // The portal's answer: nothing chosen, faster than a person could cancel.
        let (sender, answer) = crossbeam_channel::bounded(1);
        sender.send((None, Duration::from_millis(5))).unwrap();
        app.file_dialog = Some(FileDialog::Native {
            purpose: FilePurpose::LoadModel,
            start_dir: None,
            answer,
        });
        app.poll_file_dialog(&ctx);
        assert!(matches!(app.file_dialog, Some(FileDialog::InWindow(_))));
        // Remembered (and saved with the settings): the next open goes straight to the picker.
        assert!(app.state.in_window_file_picker);
    }
}
