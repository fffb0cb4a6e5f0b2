//! What the window does: commands from widgets, training events, background results,
//! keyboard shortcuts. Drawing lives in the panel files.

use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui::{self, Key, KeyboardShortcut, Modifiers};

use super::evaluation_task::{EvaluationTask, TaskEnd};
use super::file_dialog::{DialogOutcome, FileDialog, FilePurpose};
use super::model_files::FileOutcome;
use super::models_folder::{ensure_models_dir, timestamped_path, LAST_TRAINED};
use super::predictor::ExplainRequest;
use super::training_session::TrainingSession;
use super::{
    AppCommand, Confirm, CurrentModel, DataPreview, DatasetSlot, EvaluationView, LayerLabApp,
    MainTab, RunStatus, EVENT_BUDGET, MAX_EVENTS_PER_FRAME,
};
use crate::export::SavedModel;
use crate::model::Weights;
use crate::presets::preset;
use crate::train::{MetricsHistory, TrainCommand, TrainEvent, TrainJob};

/// How often the window repaints while training.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RepaintRates {
    /// Least interval between repaints caused by training events (the charts).
    pub charts: Duration,
    /// Interval while nothing new came (the status line's clock).
    pub status: Duration,
}

impl RepaintRates {
    /// 4 Hz charts and a 2 Hz status line on a GPU. On a software renderer (Mesa's lavapipe,
    /// a VM) every frame is rasterised on the CPU cores training needs, about 100 ms of CPU
    /// time for a 1440x900 frame: at 4 Hz `perf` put its threads at 30% of the samples during
    /// a cnn epoch (2,990 img/s against the CLI's 4,325), at 1 Hz at 7% (the window 8-16%
    /// behind the CLI). There the window repaints every 2 seconds while training: 5-8% behind
    /// (`scripts/measure_window_training.sh cnn`). Input still repaints at once.
    pub fn for_renderer(software: bool) -> Self {
        if software {
            Self {
                charts: Duration::from_secs(2),
                status: Duration::from_secs(2),
            }
        } else {
            Self {
                charts: Duration::from_millis(250),
                status: Duration::from_millis(500),
            }
        }
    }
}

impl LayerLabApp {
    pub(super) fn run_command(&mut self, ctx: &egui::Context, command: AppCommand) {
        match command {
            AppCommand::StartTraining => {
                if self.model_unsaved() && !self.training_active() {
                    self.confirm = Some(Confirm::ReplaceUnsavedModel);
                } else {
                    self.start_training(ctx, None);
                }
            }
            AppCommand::StartTrainingConfirmed => self.start_training(ctx, None),
            AppCommand::ContinueTraining => match &self.current {
                Some(current) => {
                    let model = current.model.clone();
                    self.start_training(ctx, Some(model));
                }
                None => self
                    .notifications
                    .error("Nothing to continue: train or load a model first."),
            },
            AppCommand::PauseTraining => self.send_training(TrainCommand::Pause),
            AppCommand::ResumeTraining => self.send_training(TrainCommand::Resume),
            AppCommand::StopTraining => self.send_training(TrainCommand::Stop),
            AppCommand::SetLearningRate(lr) => {
                self.send_training(TrainCommand::SetLearningRate(lr))
            }
            AppCommand::LoadPreset(name) => {
                if let Some(preset) = preset(name) {
                    if let Some(index) =
                        crate::presets::PRESET_NAMES.iter().position(|n| *n == name)
                    {
                        self.designer.preset = index;
                    }
                    // A preset is a template: its last layer is sized for this dataset.
                    let preset = preset.with_outputs(self.data_shape.outputs);
                    self.editor.commit(&self.state.design());
                    self.state.stack = preset.spec;
                    if !self.training_active() {
                        self.state.training.optimizer = preset.optimizer;
                        self.state.training.batch_size = preset.batch_size;
                        self.state.training.epochs = preset.epochs;
                        if let Some(loss) = preset.loss {
                            self.state.training.loss = loss;
                        }
                    }
                    self.editor.commit(&self.state.design());
                    self.notifications
                        .info(format!("Loaded preset {name}: {}", preset.description));
                }
            }
            AppCommand::PickDataset(name) => self.pick_dataset(ctx, name),
            AppCommand::SetToyOptions(options) => {
                // A new draw of the same 2-D set: regenerated in the background.
                self.state.toy = options;
                if crate::data::ToyShape::named(&self.state.dataset).is_some() {
                    let name = self.state.dataset.clone();
                    self.pick_dataset(ctx, name);
                }
            }
            AppCommand::ImportCsvDialog => self.open_file_dialog(ctx, FilePurpose::ImportCsv),
            AppCommand::ExportMetricsDialog => {
                self.open_file_dialog(ctx, FilePurpose::ExportMetrics)
            }
            AppCommand::ExportMetricsTo(path) => {
                self.files.export_metrics(path, self.history.clone())
            }
            AppCommand::ImportCsvFrom(path) => self.import_csv(ctx, path),
            AppCommand::ImportTable(options) => self.import_table(ctx, options),
            AppCommand::ImportFolderDialog => self.open_file_dialog(ctx, FilePurpose::ImportFolder),
            AppCommand::ImportFolderFrom(path) => self.import_folder(ctx, path),
            AppCommand::AddPoint { x, y, class } => self.add_point(ctx, [x, y], class),
            AppCommand::CancelImport => {
                if self.import.take().is_some() {
                    self.notifications.info("Import cancelled.");
                }
            }
            AppCommand::FitOutputs => {
                let outputs = self.data_shape.outputs;
                self.editor.commit(&self.state.design());
                // The last layer is resized when it is a Linear; anything else gets one after it.
                if let Some(crate::spec::Layer::Linear { out_features }) =
                    self.state.stack.layers.last_mut()
                {
                    *out_features = outputs;
                } else {
                    self.state.stack.layers.push(crate::spec::Layer::Linear {
                        out_features: outputs,
                    });
                }
                self.editor.commit(&self.state.design());
            }
            AppCommand::Undo => {
                let mut design = self.state.design();
                self.editor.undo(&mut design);
                self.state.set_design(design);
                self.show_matching_preset();
            }
            AppCommand::Redo => {
                let mut design = self.state.design();
                self.editor.redo(&mut design);
                self.state.set_design(design);
                self.show_matching_preset();
            }
            AppCommand::ExportWeightsDialog => {
                if self.current.is_none() {
                    self.notifications
                        .error("Nothing to export yet: train or load a model first.");
                } else {
                    self.open_file_dialog(ctx, FilePurpose::ExportWeights);
                }
            }
            AppCommand::ExportOnnxDialog => {
                if self.current.is_none() {
                    self.notifications
                        .error("Nothing to export yet: train or load a model first.");
                } else {
                    self.open_file_dialog(ctx, FilePurpose::ExportOnnx);
                }
            }
            AppCommand::ExportOnnxTo(path) => match &self.current {
                Some(current) => self.files.export_onnx(path, current.model.clone()),
                None => self
                    .notifications
                    .error("Nothing to export yet: train or load a model first."),
            },
            AppCommand::ExportWeightsTo(path) => match &self.current {
                Some(current) => self.files.export(path, current.model.clone(), false),
                None => self
                    .notifications
                    .error("Nothing to export yet: train or load a model first."),
            },
            AppCommand::SaveToModelsFolder => match &self.current {
                None => self
                    .notifications
                    .error("Nothing to save yet: train or load a model first."),
                Some(current) => match ensure_models_dir() {
                    Ok(dir) => {
                        let path = timestamped_path(&dir, std::time::SystemTime::now());
                        self.files.export(path, current.model.clone(), false);
                    }
                    Err(why) => self.notifications.error(why),
                },
            },
            AppCommand::LoadModelDialog => self.open_file_dialog(ctx, FilePurpose::LoadModel),
            AppCommand::LoadModelFrom(path) => self.files.load_model(path),
            AppCommand::OpenImageDialog => self.open_file_dialog(ctx, FilePurpose::OpenImage),
            AppCommand::OpenImageFrom(path) => self.files.open_image(path),
            AppCommand::EvaluateModel => self.start_evaluation(ctx),
            AppCommand::CancelEvaluation => {
                if let Some(task) = &self.evaluation_task {
                    task.cancel();
                } else if matches!(self.run_status(), Some(RunStatus::Evaluating { .. })) {
                    self.send_training(TrainCommand::Stop);
                }
            }
            AppCommand::ClearCanvas => self.prediction.clear(),
            AppCommand::UndoStroke => {
                if self.prediction.canvas.undo_stroke() {
                    self.request_prediction();
                }
            }
            AppCommand::PredictCanvas => {
                self.prediction.drawing_changed();
                self.request_prediction();
            }
            AppCommand::LookInside => self.request_prediction(),
            AppCommand::InspectUnit { layer, unit } => self.inspect_unit(ctx, layer, unit),
            AppCommand::CloseUnit => self.inside.selected = None,
            AppCommand::CloseConfirmed => {
                // The run's newest weights are written before the window goes.
                if let Some(current) = &self.current {
                    let kept = ensure_models_dir().and_then(|dir| {
                        let path = dir.join(LAST_TRAINED);
                        current.model.save(&path).map_err(|e| e.to_string())
                    });
                    if let Err(e) = kept {
                        eprintln!("layerlab: could not keep the trained model: {e}");
                    }
                }
                self.close_confirmed = true;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
        }
    }

    fn open_file_dialog(&mut self, ctx: &egui::Context, purpose: FilePurpose) {
        if self.file_dialog.is_some() {
            return; // one at a time; the open one keeps its place
        }
        let start_dir = match purpose {
            // Models are saved to and loaded from the models folder unless the person goes
            // elsewhere.
            FilePurpose::ExportWeights | FilePurpose::LoadModel | FilePurpose::ExportOnnx => {
                ensure_models_dir().ok()
            }
            FilePurpose::OpenImage
            | FilePurpose::ImportCsv
            | FilePurpose::ImportFolder
            | FilePurpose::ExportMetrics => None,
        };
        let waker = {
            let ctx = ctx.clone();
            move || ctx.request_repaint()
        };
        self.file_dialog = Some(FileDialog::open(
            purpose,
            self.state.in_window_file_picker,
            start_dir,
            waker,
        ));
    }

    fn send_training(&mut self, command: TrainCommand) {
        if let Some(session) = &mut self.session {
            session.send(command);
        }
    }

    /// Starts a run: of the designed stack, or of `from`'s stack starting at its weights.
    fn start_training(&mut self, ctx: &egui::Context, from: Option<Arc<SavedModel>>) {
        if self.training_active() {
            return;
        }
        let Some(dataset) = self.dataset().cloned() else {
            self.notifications
                .error("The dataset is still loading; try again in a moment.");
            return;
        };
        let (spec, initial_weights) = match &from {
            Some(model) => (model.spec.clone(), Some(Arc::new(model.weights.clone()))),
            None => (self.state.stack.clone(), None),
        };
        // A NaN loss in the window rolls back and pauses: the person is there to resume.
        let config = crate::train::TrainConfig {
            on_divergence: crate::train::OnDivergence::RollBackAndPause,
            ..self.state.training.clone()
        };
        let job = TrainJob {
            spec: spec.clone(),
            config,
            dataset,
            initial_weights,
        };
        let prepared = match job.prepare() {
            Ok(prepared) => prepared,
            Err(error) => {
                self.notifications.error(format!("Cannot train: {error}"));
                return;
            }
        };
        // Events wake the window, but no sooner than the chart rate, and the window is told
        // at most once per interval: a call per batch (30,000 a second for a small model)
        // woke the UI thread each time, on a core the training needs.
        let waker = {
            let ctx = ctx.clone();
            let charts = self.repaint.charts;
            super::background::throttled(charts / 4, move || ctx.request_repaint_after(charts))
        };
        if let Some(task) = self.evaluation_task.take() {
            task.cancel();
        }
        match TrainingSession::start(prepared, spec, waker) {
            Ok(session) => {
                // The frame times shown from now on are this run's.
                self.frame_stats.clear();
                self.frame_cpu_stats.clear();
                // The previous run stays on show until this one has points to draw.
                self.next_history = Some(MetricsHistory::default());
                self.session = Some(session);
                self.health_warned.clear();
                // The Inside tab stays open to watch the run from inside.
                if self.main_tab != MainTab::Inside {
                    self.main_tab = MainTab::Charts;
                }
            }
            Err(e) => self
                .notifications
                .error(format!("Cannot start the training thread: {e}")),
        }
    }

    fn start_evaluation(&mut self, ctx: &egui::Context) {
        if self.training_active() || self.evaluation_task.is_some() {
            return;
        }
        let (Some(current), Some(dataset)) = (&self.current, self.dataset()) else {
            self.notifications
                .error("Evaluation needs a model and the test set: train or load a model.");
            return;
        };
        if current.model.input() != dataset.input_shape()
            || current.model.classes != dataset.outputs()
        {
            self.notifications.error(format!(
                "The current model takes {} and gives {} outputs, but {} has {} and {}: pick the dataset it was trained on",
                current.model.input(),
                current.model.classes,
                dataset.name,
                dataset.input_shape(),
                dataset.outputs()
            ));
            return;
        }
        let waker = {
            let ctx = ctx.clone();
            move || ctx.request_repaint()
        };
        match EvaluationTask::start(
            current.model.clone(),
            dataset.clone(),
            self.state.training.test_limit,
            waker,
        ) {
            Ok(task) => {
                self.evaluation_task = Some(task);
                self.main_tab = MainTab::Evaluation;
            }
            Err(e) => self
                .notifications
                .error(format!("Cannot start the evaluation thread: {e}")),
        }
    }

    fn handle_training_event(&mut self, event: TrainEvent) {
        match &mut self.next_history {
            Some(next) => {
                next.record(&event);
                if matches!(event, TrainEvent::Batch(_)) {
                    // The new run has something to draw: it replaces the previous one.
                    self.history = self.next_history.take().unwrap_or_default();
                }
            }
            None => self.history.record(&event),
        }
        match event {
            TrainEvent::Snapshot { step, weights } => {
                let origin = if step == 0 {
                    "this run's starting weights (step 0)".to_string()
                } else {
                    format!(
                        "this run, live weights from step {}",
                        super::thousands(step)
                    )
                };
                self.set_run_weights(&weights, origin, false);
            }
            TrainEvent::Finished(summary) => {
                let origin = if summary.stopped_early {
                    format!(
                        "this run, stopped at step {}",
                        super::thousands(summary.steps)
                    )
                } else {
                    format!(
                        "this run, finished after {} steps",
                        super::thousands(summary.steps)
                    )
                };
                self.set_run_weights(&summary.weights, origin, true);
                self.keep_last_trained();
                if std::env::var_os("LAYERLAB_FRAME_STATS").is_some() {
                    // Compared with `layerlab train --json`'s duration (measurements).
                    eprintln!(
                        "run_finished duration_secs={:.3} steps={} {}",
                        summary.duration_secs,
                        summary.steps,
                        self.frame_times_line()
                    );
                }
                if let Some(warning) = &summary.warning {
                    self.notifications
                        .error(format!("Training finished, but {warning}"));
                }
                match (&summary.test, &self.current, self.dataset()) {
                    (Some(test), Some(current), Some(dataset)) => {
                        self.evaluation = Some(EvaluationView::new(
                            current.model.clone(),
                            test,
                            dataset,
                        ));
                        self.notifications.info(format!(
                            "Training finished: {} after {} steps",
                            describe_test(test),
                            summary.steps
                        ));
                    }
                    _ => self.notifications.info(format!(
                        "Training stopped at step {}; its weights are kept. \"Evaluate on test set\" \
                         measures them.",
                        summary.steps
                    )),
                }
            }
            TrainEvent::Failed { message } => {
                self.notifications
                    .error(format!("Training failed: {message}"));
            }
            TrainEvent::Health(report) => {
                // Each warning once per run and layer, one message per report (the status
                // bar keeps three); the Inside tab lists them all.
                let new: Vec<_> = report
                    .warnings
                    .iter()
                    .filter(|w| self.health_warned.insert((w.kind, w.layer)))
                    .collect();
                if let Some(first) = new.first() {
                    let more = match new.len() - 1 {
                        0 => String::new(),
                        n => format!(" ({n} more in Inside, Training health)"),
                    };
                    self.notifications.error(format!(
                        "Training health, step {}: {first}{more}",
                        super::thousands(report.step)
                    ));
                }
            }
            TrainEvent::RolledBack {
                step,
                restored_step,
                loss,
                cause,
            } => {
                self.notifications.error(format!(
                    "The loss became {loss} at step {}: the weights went back to step {} and \
                     training paused. {cause}. Change it in Optimizer, then Resume.",
                    super::thousands(step),
                    super::thousands(restored_step),
                ));
            }
            TrainEvent::Epoch(epoch) => {
                // For measurements: the worker's own figure, as the CLI prints it.
                if std::env::var_os("LAYERLAB_FRAME_STATS").is_some() {
                    eprintln!(
                        "epoch {} images_per_sec={:.0} duration_secs={:.2}",
                        epoch.epoch + 1,
                        epoch.images_per_sec,
                        epoch.duration_secs
                    );
                }
            }
            TrainEvent::Started { .. }
            | TrainEvent::Batch(_)
            | TrainEvent::Paused { .. }
            | TrainEvent::Resumed { .. }
            | TrainEvent::LearningRateChanged { .. }
            | TrainEvent::Evaluating { .. } => {}
        }
    }

    /// Makes weights of the running session the current model.
    fn set_run_weights(&mut self, weights: &Weights, origin: String, trained: bool) {
        let Some(session) = &self.session else {
            return;
        };
        let model = SavedModel {
            spec: session.spec.clone(),
            input_shape: SavedModel::input_shape_of(session.card.input_shape()),
            classes: session.card.task.outputs(),
            weights: weights.clone(),
            card: Some(session.card.clone()),
        };
        self.set_current(model, origin, trained);
    }

    fn set_current(&mut self, model: SavedModel, origin: String, unsaved: bool) {
        self.current = Some(CurrentModel {
            model: Arc::new(model),
            origin,
            unsaved,
        });
        self.request_prediction();
    }

    /// Keeps a copy of the newest trained model in the models folder, so closing the window
    /// never loses it.
    fn keep_last_trained(&mut self) {
        let Some(current) = &self.current else {
            return;
        };
        match ensure_models_dir() {
            Ok(dir) => self
                .files
                .export(dir.join(LAST_TRAINED), current.model.clone(), true),
            Err(why) => self
                .notifications
                .error(format!("Cannot keep a copy of the trained model: {why}")),
        }
    }

    /// Enlarges `unit` of `layer` and looks for the training samples exciting it most.
    fn inspect_unit(&mut self, ctx: &egui::Context, layer: usize, unit: usize) {
        let Some(current) = &self.current else {
            return;
        };
        let units = current
            .model
            .spec
            .layers
            .get(layer)
            .and_then(|_| self.inside.shown())
            .and_then(|shown| shown.activations.get(layer))
            .map_or(0, |a| match a.shape {
                crate::spec::ActivationShape::Spatial { channels, .. } => channels,
                crate::spec::ActivationShape::Flat { features } => features,
            });
        if unit >= units {
            return; // a click on the padding of a grid of units
        }
        self.inside.selected = Some((layer, unit));
        // The enlarged map needs only the model; the search needs the training images.
        let Some(dataset) = self.dataset().cloned() else {
            self.notifications.info(
                "The training images that excite this unit can be searched once the dataset has loaded: click it again then.",
            );
            return;
        };
        let waker: super::background::Waker = {
            let ctx = ctx.clone();
            Box::new(move || ctx.request_repaint())
        };
        self.inside
            .find_exciting(current.model.clone(), dataset, (layer, unit), waker);
    }

    pub(super) fn request_prediction(&mut self) {
        let explain = (self.main_tab == MainTab::Inside).then_some(ExplainRequest {
            class: self.inside.class,
            maps: self.inside.shows_maps(),
        });
        if let Some(current) = &self.current {
            self.prediction
                .request(&current.model, self.state.brush_radius, explain);
        }
    }

    fn handle_file_outcome(&mut self, ctx: &egui::Context, outcome: FileOutcome) {
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

    fn poll_evaluation_task(&mut self) {
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

    fn poll_file_dialog(&mut self, ctx: &egui::Context) {
        let Some(dialog) = &mut self.file_dialog else {
            return;
        };
        let Some(outcome) = dialog.update(ctx) else {
            return;
        };
        match outcome {
            DialogOutcome::Chosen(purpose, path) => {
                self.file_dialog = None;
                let command = match purpose {
                    FilePurpose::ExportWeights => AppCommand::ExportWeightsTo(path),
                    FilePurpose::LoadModel => AppCommand::LoadModelFrom(path),
                    FilePurpose::OpenImage => AppCommand::OpenImageFrom(path),
                    FilePurpose::ImportCsv => AppCommand::ImportCsvFrom(path),
                    FilePurpose::ImportFolder => AppCommand::ImportFolderFrom(path),
                    FilePurpose::ExportMetrics => AppCommand::ExportMetricsTo(path),
                    FilePurpose::ExportOnnx => AppCommand::ExportOnnxTo(path),
                };
                self.commands.push(command);
            }
            DialogOutcome::Cancelled => self.file_dialog = None,
            DialogOutcome::FellBack => {
                self.notifications.info(
                    "No desktop file dialog answered (is xdg-desktop-portal running?); using \
                     LayerLab's own file picker.",
                );
            }
        }
    }

    /// After undo or redo: the preset box shows the preset the stack now is, if it is one.
    fn show_matching_preset(&mut self) {
        let outputs = self.data_shape.outputs;
        if let Some(index) = crate::presets::PRESET_NAMES.iter().position(|name| {
            preset(name).is_some_and(|p| p.with_outputs(outputs).spec == self.state.stack)
        }) {
            self.designer.preset = index;
        }
    }

    /// A model file read: it becomes the current model if it is a model of the data in use.
    /// A model of another built-in has that dataset loaded for it first (when
    /// `may_load_data`, and not during a run); any other is refused with what it needs.
    fn take_loaded_model(
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

    /// Whether `saved` takes the inputs and gives the outputs of the data in use.
    fn fits_data(&self, saved: &SavedModel) -> bool {
        saved.input() == self.data_shape.input && saved.classes == self.data_shape.outputs
    }

    /// Switches to built-in dataset `name`: loaded in the background; the old one stays in
    /// use until it arrives.
    fn pick_dataset(&mut self, ctx: &egui::Context, name: String) {
        let options = self.state.data_options();
        self.load_builtin_dataset(ctx, name, options);
    }

    /// [`Self::pick_dataset`] with the preparation given (a loaded model's own).
    fn load_builtin_dataset(
        &mut self,
        ctx: &egui::Context,
        name: String,
        options: crate::data::DataOptions,
    ) {
        if self.training_active() {
            self.notifications
                .error("Stop the run before picking another dataset.");
            return;
        }
        if crate::data::builtin(&name).is_none() {
            return;
        }
        let ctx = ctx.clone();
        self.state.dataset = name.clone();
        // A model waiting for other data waits no more.
        self.pending_model = None;
        // Results of the old data mean nothing on the new.
        self.evaluation = None;
        // A 2-D set's points and noise are what the Data tab shows; another dataset's
        // options (a loaded model's card) leave the person's settings alone.
        if crate::data::ToyShape::named(&name).is_some() {
            self.state.toy = options.toy;
        }
        self.dataset = super::start_loading(
            &name,
            options,
            self.mnist_dir.clone(),
            Box::new(move || ctx.request_repaint()),
        );
    }

    /// Runs one import step on a thread; the current dataset stays until it works.
    fn start_import(
        &mut self,
        ctx: &egui::Context,
        name: String,
        work: impl FnOnce() -> super::ImportOutcome + Send + 'static,
    ) {
        if self.training_active() {
            self.notifications
                .error("Stop the run before importing a dataset.");
            return;
        }
        let ctx = ctx.clone();
        let progress = crate::data::LoadProgress::default();
        let reporting = progress.clone();
        // The bar redraws itself while shown; the task wakes the window when it is done.
        let waker: super::background::Waker = Box::new(move || ctx.request_repaint());
        let work = move || reporting.run(work);
        match super::BackgroundTask::spawn("import", waker, work) {
            Ok(task) => {
                self.import = Some(super::ImportTask {
                    name,
                    task,
                    progress,
                })
            }
            Err(e) => self
                .notifications
                .error(format!("Cannot start the import: {e}")),
        }
    }

    /// Reads a CSV of the person's own; its columns are shown for checking before import.
    fn import_csv(&mut self, ctx: &egui::Context, path: std::path::PathBuf) {
        let name = crate::data::file_label(&path);
        self.start_import(ctx, name, move || {
            crate::data::RawTable::read(&path)
                .map(super::Imported::Table)
                .map_err(|e| e.to_string())
        });
    }

    /// Turns the CSV under review into a dataset with the person's choices.
    fn import_table(&mut self, ctx: &egui::Context, options: crate::data::TableOptions) {
        let Some(review) = self.table_import.take() else {
            return;
        };
        let table = review.table.clone();
        self.start_import(ctx, review.name.clone(), move || {
            crate::data::table_dataset(&table.source, &table, None, &options)
                .map(|(dataset, report)| {
                    let mut notes = vec![format!(
                        "target {}; columns {}",
                        report.target,
                        report.columns_line()
                    )];
                    notes.extend(report.notes);
                    super::Imported::Dataset(Box::new(dataset), notes)
                })
                .map_err(|e| e.to_string())
        });
        if self.import.is_none() {
            // Not started: the person's choices stay on screen.
            self.table_import = Some(review);
        }
    }

    /// Reads a folder of IDX files or of class sub-folders of images.
    fn import_folder(&mut self, ctx: &egui::Context, path: std::path::PathBuf) {
        let name = crate::data::file_label(&path);
        self.start_import(ctx, name, move || {
            crate::data::folder_dataset(&path, None, crate::data::ImageFolderOptions::default())
                .map(|(dataset, notes)| super::Imported::Dataset(Box::new(dataset), notes))
                .map_err(|e| e.to_string())
        });
    }

    fn poll_import(&mut self, ctx: &egui::Context) {
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
            Err(message) => self
                .notifications
                .error(format!("Cannot import {name}: {message}")),
        }
    }

    /// Adds a training point to the 2-D set in use (not while a run reads it).
    fn add_point(&mut self, ctx: &egui::Context, point: [f32; 2], class: u8) {
        if self.training_active() {
            self.notifications
                .error("Stop the run before adding points: the run trains on its own copy.");
            return;
        }
        let DatasetSlot::Ready(dataset, _) = &self.dataset else {
            return;
        };
        let mut dataset = crate::data::Dataset::clone(dataset);
        match dataset.add_training_point(&point, class) {
            Ok(()) => {
                let preview = DataPreview::new(ctx, &dataset);
                self.dataset = DatasetSlot::Ready(Arc::new(dataset), preview);
            }
            Err(why) => self.notifications.error(why),
        }
    }

    /// Makes a loaded dataset the one the window trains on. When it is other data than
    /// before (`changed`), the settings that only fit the old data are reset and the preset
    /// offered is the one made for the new data.
    fn adopt_dataset(&mut self, ctx: &egui::Context, dataset: crate::data::Dataset, changed: bool) {
        self.data_shape = super::DataShape::of(&dataset);
        let config = &mut self.state.training;
        if changed || config.validation_size >= dataset.train.len() {
            config.validation_size = dataset.default_validation_size();
            config.train_limit = None;
            config.test_limit = None;
        }
        if changed
            || (dataset.task().is_regression()
                && config.loss == crate::train::LossKind::CrossEntropy)
        {
            config.loss = crate::train::LossKind::default_for(dataset.task());
        }
        if let Some(index) = crate::data::builtin(&dataset.card.dataset)
            .filter(|_| changed)
            .and_then(|b| {
                crate::presets::PRESET_NAMES
                    .iter()
                    .position(|n| *n == b.preset)
            })
        {
            self.designer.preset = index;
        } else if !changed {
            // The stack restored at launch: the box names its preset once the outputs are known.
            self.show_matching_preset();
        }
        let preview = DataPreview::new(ctx, &dataset);
        self.dataset = DatasetSlot::Ready(Arc::new(dataset), preview);
    }

    fn poll_dataset(&mut self, ctx: &egui::Context) {
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

    /// Closing the window while a run goes on asks first.
    pub(super) fn handle_close_request(&mut self, ctx: &egui::Context) {
        if ctx.input(|i| i.viewport().close_requested())
            && self.training_active()
            && !self.close_confirmed
        {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.confirm = Some(Confirm::CloseWhileTraining);
        }
    }

    /// Files dropped on the window open as what they are: an image in the try-it panel, a
    /// CSV or a folder as a dataset, weights as the model. While files hover, a hint says so.
    pub(super) fn handle_dropped_files(&mut self, ctx: &egui::Context) {
        let (hovering, dropped) = ctx.input(|i| {
            (
                !i.raw.hovered_files.is_empty(),
                i.raw
                    .dropped_files
                    .iter()
                    .map(|f| f.path().to_path_buf())
                    .collect::<Vec<_>>(),
            )
        });
        if hovering {
            let rect = ctx.content_rect();
            let painter = ctx.layer_painter(egui::LayerId::new(
                egui::Order::Foreground,
                egui::Id::unique("layerlab-drop-hint"),
            ));
            painter.rect_filled(rect, 0.0, egui::Color32::from_black_alpha(160));
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                "Drop an image to try the model, a CSV or folder to train on, or a .safetensors model",
                egui::FontId::proportional(18.0),
                egui::Color32::WHITE,
            );
        }
        // One file at a time: the first one dropped that LayerLab can open.
        for path in dropped {
            match command_for_dropped(&path) {
                Some(command) => {
                    self.commands.push(command);
                    break;
                }
                None => self.notifications.error(format!(
                    "Cannot open {}: drop an image (PNG, JPEG, BMP, GIF), a CSV, a folder or a .safetensors model",
                    crate::data::file_label(&path)
                )),
            }
        }
    }

    /// Keys, read from the frame's key events (so a press and release within one frame
    /// still count) with egui's shortcut matching.
    pub(super) fn handle_shortcuts(&mut self, ctx: &egui::Context) {
        if ctx.text_edit_focused() || self.confirm.is_some() {
            return;
        }
        let focused = ctx.memory(|m| m.focused());
        let canvas_focused = focused == Some(super::canvas_id());
        // Space and Delete belong to a focused button or slider, unless it is the canvas.
        let free = focused.is_none() || canvas_focused;
        let redo = KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
        let redo_y = KeyboardShortcut::new(Modifiers::COMMAND, Key::Y);
        let undo = KeyboardShortcut::new(Modifiers::COMMAND, Key::Z);
        let (redo, undo, space, delete) = ctx.input_mut(|i| {
            // Redo first: Ctrl+Z's pattern would also match Ctrl+Shift+Z.
            let redo = i.consume_shortcut(&redo) || i.consume_shortcut(&redo_y);
            let undo = i.consume_shortcut(&undo);
            let space = free && i.consume_key(Modifiers::NONE, Key::Space);
            let delete = free
                && (i.consume_key(Modifiers::NONE, Key::Delete)
                    || i.consume_key(Modifiers::NONE, Key::Backspace));
            (redo, undo, space, delete)
        });
        if space {
            let command = match self.run_status() {
                Some(RunStatus::Running) => AppCommand::PauseTraining,
                Some(RunStatus::Paused) => AppCommand::ResumeTraining,
                Some(RunStatus::Stopping | RunStatus::Evaluating { .. }) => return,
                Some(RunStatus::Finished | RunStatus::Stopped | RunStatus::Failed(_)) | None => {
                    AppCommand::StartTraining
                }
            };
            self.commands.push(command);
        }
        if delete {
            self.commands.push(AppCommand::ClearCanvas);
        }
        if undo {
            // While the canvas has focus, Ctrl+Z takes back the last stroke.
            self.commands.push(if canvas_focused {
                AppCommand::UndoStroke
            } else {
                AppCommand::Undo
            });
        }
        if redo && !canvas_focused {
            self.commands.push(AppCommand::Redo);
        }
    }

    /// The questions asked before losing work, as modal dialogs.
    pub(super) fn dialogs_ui(&mut self, ctx: &egui::Context) {
        if let Some(review) = &mut self.table_import {
            match review.ui(ctx) {
                Some(super::table_import::TableImportAnswer::Import(options)) => {
                    self.commands.push(AppCommand::ImportTable(options));
                }
                Some(super::table_import::TableImportAnswer::Cancel) => self.table_import = None,
                None => {}
            }
        }
        let Some(confirm) = self.confirm else {
            return;
        };
        let mut answer: Option<Option<AppCommand>> = None;
        egui::Modal::new(egui::Id::unique("layerlab-confirm")).show(ctx, |ui| {
            ui.set_max_width(420.0);
            match confirm {
                Confirm::ReplaceUnsavedModel => {
                    ui.heading("Start a new run?");
                    ui.label(
                        "The model trained in the last run has not been saved. A new run \
                         replaces it (the automatic copy in the models folder too).",
                    );
                    ui.horizontal(|ui| {
                        if ui.button("Save it, then train").clicked() {
                            self.commands.push(AppCommand::SaveToModelsFolder);
                            answer = Some(Some(AppCommand::StartTrainingConfirmed));
                        }
                        if ui.button("Train without saving").clicked() {
                            answer = Some(Some(AppCommand::StartTrainingConfirmed));
                        }
                        if ui.button("Cancel").clicked() {
                            answer = Some(None);
                        }
                    });
                }
                Confirm::CloseWhileTraining => {
                    ui.heading("Quit while training?");
                    ui.label(
                        "A run is going on. Quitting stops it; its newest weights are kept in \
                         the models folder as last-trained.safetensors.",
                    );
                    ui.horizontal(|ui| {
                        if ui.button("Quit").clicked() {
                            answer = Some(Some(AppCommand::CloseConfirmed));
                        }
                        if ui.button("Keep training").clicked() {
                            answer = Some(None);
                        }
                    });
                }
            }
            if ui.input(|i| i.key_pressed(Key::Escape)) {
                answer = Some(None);
            }
        });
        if let Some(command) = answer {
            self.confirm = None;
            if let Some(command) = command {
                self.commands.push(command);
            }
        }
    }

    pub(super) fn log_frame_stats(&mut self) {
        // LAYERLAB_FRAME_STATS=1 prints frame-time percentiles every 5 s (for measurements).
        if std::env::var_os("LAYERLAB_FRAME_STATS").is_some()
            && self.frame_log_at.elapsed() > Duration::from_secs(5)
        {
            self.frame_log_at = Instant::now();
            eprintln!(
                "{} training={}",
                self.frame_times_line(),
                self.training_active()
            );
        }
    }

    /// "frame_ms p50=… p99=… frame_cpu_ms p50=… p99=… frames=…": wall and CPU time of the
    /// recent frames, for the measurement lines.
    fn frame_times_line(&self) -> String {
        let (wall, cpu) = (&self.frame_stats, &self.frame_cpu_stats);
        format!(
            "frame_ms p50={:.2} p99={:.2} frame_cpu_ms p50={:.2} p99={:.2} frames={}",
            wall.percentile(0.5).unwrap_or(0.0),
            wall.percentile(0.99).unwrap_or(0.0),
            cpu.percentile(0.5).unwrap_or(0.0),
            cpu.percentile(0.99).unwrap_or(0.0),
            wall.len(),
        )
    }
}

/// "test accuracy 98.12% (loss 0.0601)" or "test RMSE 26717.75, MAE 15475.25, R² 0.899".
fn describe_test(test: &crate::train::Evaluation) -> String {
    match (test.accuracy, test.regression) {
        (_, Some(r)) => format!("test RMSE {:.2}, MAE {:.2}, R² {:.3}", r.rmse, r.mae, r.r2),
        (Some(accuracy), None) => format!(
            "test accuracy {:.2}% (loss {:.4})",
            accuracy * 100.0,
            test.loss
        ),
        (None, None) => format!("test loss {:.4}", test.loss),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_software_renderer_repaints_less_while_training() {
        let gpu = RepaintRates::for_renderer(false);
        assert_eq!(gpu.charts, Duration::from_millis(250));
        let cpu = RepaintRates::for_renderer(true);
        assert!(cpu.charts >= Duration::from_secs(2) && cpu.status >= Duration::from_secs(2));
    }
}

/// What a file dropped on the window opens as, by its kind.
pub(super) fn command_for_dropped(path: &std::path::Path) -> Option<AppCommand> {
    if path.is_dir() {
        return Some(AppCommand::ImportFolderFrom(path.to_path_buf()));
    }
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)?;
    let path = path.to_path_buf();
    match extension.as_str() {
        "png" | "jpg" | "jpeg" | "bmp" | "gif" => Some(AppCommand::OpenImageFrom(path)),
        "csv" | "tsv" | "gz" => Some(AppCommand::ImportCsvFrom(path)),
        "safetensors" => Some(AppCommand::LoadModelFrom(path)),
        _ => None,
    }
}

#[cfg(test)]
mod drop_tests {
    use super::*;

    #[test]
    fn a_dropped_file_opens_as_what_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        assert_eq!(
            command_for_dropped(&path("seven.PNG")),
            Some(AppCommand::OpenImageFrom(path("seven.PNG")))
        );
        assert_eq!(
            command_for_dropped(&path("houses.csv")),
            Some(AppCommand::ImportCsvFrom(path("houses.csv")))
        );
        assert_eq!(
            command_for_dropped(&path("m.safetensors")),
            Some(AppCommand::LoadModelFrom(path("m.safetensors")))
        );
        assert_eq!(
            command_for_dropped(dir.path()),
            Some(AppCommand::ImportFolderFrom(dir.path().to_path_buf()))
        );
        assert_eq!(command_for_dropped(&path("notes.txt")), None);
        assert_eq!(command_for_dropped(&path("README")), None);
    }
}
