//! The LayerLab window (eframe/egui): a client of the engine like the CLI is.
//!
//! The UI thread only draws and sends commands. Training runs on the engine's worker thread,
//! prediction on the predictor's, file I/O on short-lived threads; results come back over
//! channels, drained in `logic()` on a time budget. Widgets emit [`AppCommand`]s that
//! `LayerLabApp::run_command` runs in one `match`.

mod canvas;
mod charts;
mod command;
mod data_panel;
mod designer_panel;
mod evaluation_panel;
mod frame_stats;
mod model_files;
mod notifications;
mod optimizer_panel;
mod predictor;
mod stack_editor;
mod state;
mod tokens;
mod training_session;

pub use canvas::Canvas;
pub use charts::{ChartSettings, XAxis};
pub use command::AppCommand;
pub use predictor::Prediction;
pub use stack_editor::StackEditor;
pub use state::PersistedState;
pub use training_session::{Progress, RunStatus};

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use eframe::egui::{self, Key, TextureHandle, TextureOptions};
use image::DynamicImage;

use crate::data::{default_mnist_dir, Dataset, MNIST_CLASSES, MNIST_INPUT};
use crate::export::SavedModel;
use crate::spec::preset;
use crate::train::{MetricsHistory, TrainCommand, TrainEvent, TrainJob};
use charts::ChartCache;
use data_panel::DataPreview;
use designer_panel::DesignerChoices;
use evaluation_panel::EvaluationView;
use frame_stats::FrameStats;
use model_files::{FileOutcome, FileTasks};
use notifications::Notifications;
use predictor::{PredictInput, Predictor};
use training_session::TrainingSession;

/// Longest a frame spends taking in training events (rerun's `receive_messages` budget).
const EVENT_BUDGET: Duration = Duration::from_millis(10);
/// A dialog that answers "cancelled" faster than a person could was never shown.
const DIALOG_NEVER_SHOWN: Duration = Duration::from_millis(300);
/// Repaint interval while training, for the ETA and throughput figures between events.
const TRAINING_REPAINT: Duration = Duration::from_millis(100);

/// Opens the window. `cargo run --release` (no subcommand) lands here.
pub fn run_native() -> eframe::Result {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("LayerLab")
            .with_inner_size([1440.0, 900.0])
            .with_min_inner_size([1000.0, 640.0]),
        ..Default::default()
    };
    eframe::run_native(
        "LayerLab",
        options,
        Box::new(|cc| Ok(Box::new(LayerLabApp::new(cc)))),
    )
}

enum DatasetSlot {
    Loading(Receiver<Result<Dataset, String>>),
    Ready(Arc<Dataset>, DataPreview),
    Failed(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetupTab {
    Model,
    Data,
    Optimizer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MainTab {
    Charts,
    Evaluation,
}

/// The model the canvas predicts with and export saves: the newest weights of the current
/// run, or a loaded file. It carries its own stack, so editing the designer cannot break it.
struct CurrentModel {
    model: Arc<SavedModel>,
    origin: String,
}

pub struct LayerLabApp {
    pub state: PersistedState,
    pub editor: StackEditor,
    dataset: DatasetSlot,
    session: Option<TrainingSession>,
    /// The stack of the run in progress (snapshots are weights for it).
    run_spec: Option<crate::spec::ModelSpec>,
    pub history: MetricsHistory,
    chart_cache: ChartCache,
    current: Option<CurrentModel>,
    pub canvas: Canvas,
    opened_image: Option<(PathBuf, Arc<DynamicImage>)>,
    pub prediction: Option<Result<Prediction, String>>,
    prediction_texture: Option<TextureHandle>,
    predictor: Option<Predictor>,
    files: FileTasks,
    evaluation: Option<EvaluationView>,
    notifications: Notifications,
    frame_stats: FrameStats,
    frame_started: Option<Instant>,
    frame_log_at: Instant,
    commands: Vec<AppCommand>,
    pub setup_tab: SetupTab,
    pub main_tab: MainTab,
    designer: DesignerChoices,
}

impl LayerLabApp {
    pub fn new(cc: &eframe::CreationContext<'_>) -> Self {
        let state = cc
            .storage
            .and_then(|storage| eframe::get_value::<PersistedState>(storage, eframe::APP_KEY))
            .unwrap_or_default();
        Self::with_state(&cc.egui_ctx, state, default_mnist_dir())
    }

    /// Builds the app around `state`, loading MNIST from `data_dir` in the background.
    pub fn with_state(ctx: &egui::Context, state: PersistedState, data_dir: PathBuf) -> Self {
        let repaint = {
            let ctx = ctx.clone();
            move || ctx.request_repaint()
        };
        let (data_tx, data_rx) = crossbeam_channel::bounded(1);
        let data_waker = repaint.clone();
        let loader = std::thread::Builder::new()
            .name("layerlab-data".into())
            .spawn(move || {
                let _ = data_tx.send(Dataset::mnist(&data_dir).map_err(|e| e.to_string()));
                data_waker();
            });
        let dataset = match loader {
            Ok(_) => DatasetSlot::Loading(data_rx),
            Err(e) => DatasetSlot::Failed(format!("cannot start the data loader: {e}")),
        };
        let mut notifications = Notifications::default();
        // Without its thread the window still designs and trains; it only cannot predict.
        let predictor = match Predictor::spawn(Box::new(repaint.clone())) {
            Ok(predictor) => Some(predictor),
            Err(e) => {
                notifications.error(format!("Live prediction is unavailable: {e}"));
                None
            }
        };
        Self {
            editor: StackEditor::new(&state.stack),
            state,
            dataset,
            session: None,
            run_spec: None,
            history: MetricsHistory::default(),
            chart_cache: ChartCache::default(),
            current: None,
            canvas: Canvas::default(),
            opened_image: None,
            prediction: None,
            prediction_texture: None,
            predictor,
            files: FileTasks::new(Arc::new(repaint)),
            evaluation: None,
            notifications,
            frame_stats: FrameStats::default(),
            frame_started: None,
            frame_log_at: Instant::now(),
            commands: Vec::new(),
            setup_tab: SetupTab::Model,
            main_tab: MainTab::Charts,
            designer: DesignerChoices::default(),
        }
    }

    // ---- read-only views for tests and the status bar ----

    pub fn dataset_ready(&self) -> bool {
        matches!(self.dataset, DatasetSlot::Ready(..))
    }

    pub fn run_status(&self) -> Option<&RunStatus> {
        self.session.as_ref().map(|s| &s.status)
    }

    pub fn progress(&self) -> Option<&Progress> {
        self.session.as_ref().map(|s| &s.progress)
    }

    pub fn has_model(&self) -> bool {
        self.current.is_some()
    }

    pub fn model_origin(&self) -> Option<&str> {
        self.current.as_ref().map(|c| c.origin.as_str())
    }

    pub fn evaluation_accuracy(&self) -> Option<f32> {
        self.evaluation.as_ref().map(|e| e.test_accuracy)
    }

    pub fn drawn_chart_points(&self) -> usize {
        self.chart_cache.drawn_batch_points()
    }

    /// Whether `prediction` answers the canvas (or image) as it is now.
    pub fn prediction_is_current(&self) -> bool {
        !self.predictor.as_ref().is_some_and(Predictor::is_pending)
    }

    pub fn notifications(&self) -> Vec<String> {
        self.notifications
            .current()
            .map(|n| n.text.clone())
            .collect()
    }

    pub fn file_tasks_in_flight(&self) -> usize {
        self.files.in_flight()
    }

    /// Queues a command as a widget would (tests use this for dialog-free paths).
    pub fn send(&mut self, command: AppCommand) {
        self.commands.push(command);
    }

    // ---- commands ----

    fn run_command(&mut self, ctx: &egui::Context, command: AppCommand) {
        match command {
            AppCommand::StartTraining => self.start_training(ctx),
            AppCommand::PauseTraining => self.send_training(TrainCommand::Pause),
            AppCommand::ResumeTraining => self.send_training(TrainCommand::Resume),
            AppCommand::StopTraining => self.send_training(TrainCommand::Stop),
            AppCommand::SetLearningRate(lr) => {
                self.send_training(TrainCommand::SetLearningRate(lr))
            }
            AppCommand::LoadPreset(name) => {
                if let Some(preset) = preset(name) {
                    self.editor.commit(&self.state.stack);
                    self.state.stack = preset.spec;
                    self.editor.commit(&self.state.stack);
                    if !self.training_active() {
                        self.state.training.optimizer = preset.optimizer;
                        self.state.training.batch_size = preset.batch_size;
                    }
                    self.notifications
                        .info(format!("Loaded preset {name}: {}", preset.description));
                }
            }
            AppCommand::Undo => self.editor.undo(&mut self.state.stack),
            AppCommand::Redo => self.editor.redo(&mut self.state.stack),
            AppCommand::ExportWeightsDialog => {
                if self.current.is_none() {
                    self.notifications
                        .error("Nothing to export yet: train or load a model first.");
                } else {
                    let dialog = rfd::FileDialog::new()
                        .add_filter("safetensors", &["safetensors"])
                        .set_file_name("layerlab-model.safetensors");
                    if let Some(path) = self.run_dialog(|| dialog.save_file()) {
                        self.commands.push(AppCommand::ExportWeightsTo(path));
                    }
                }
            }
            AppCommand::ExportWeightsTo(path) => match &self.current {
                Some(current) => self.files.export(path, current.model.clone()),
                None => self
                    .notifications
                    .error("Nothing to export yet: train or load a model first."),
            },
            AppCommand::LoadModelDialog => {
                let dialog = rfd::FileDialog::new().add_filter("safetensors", &["safetensors"]);
                if let Some(path) = self.run_dialog(|| dialog.pick_file()) {
                    self.commands.push(AppCommand::LoadModelFrom(path));
                }
            }
            AppCommand::LoadModelFrom(path) => self.files.load_model(path),
            AppCommand::OpenImageDialog => {
                let dialog = rfd::FileDialog::new()
                    .add_filter("images", &["png", "jpg", "jpeg", "bmp", "gif"]);
                if let Some(path) = self.run_dialog(|| dialog.pick_file()) {
                    self.commands.push(AppCommand::OpenImageFrom(path));
                }
            }
            AppCommand::OpenImageFrom(path) => self.files.open_image(path),
            AppCommand::ClearCanvas => {
                self.canvas.clear();
                self.opened_image = None;
                self.prediction = None;
                self.prediction_texture = None;
            }
            AppCommand::PredictCanvas => {
                self.opened_image = None;
                self.request_prediction();
            }
        }
    }

    /// Runs a native dialog on the UI thread (as dialogs must). rfd's default backend asks
    /// the XDG desktop portal; where none runs it answers "cancelled" at once and the click
    /// would seem to do nothing, so say why.
    fn run_dialog(&mut self, dialog: impl FnOnce() -> Option<PathBuf>) -> Option<PathBuf> {
        let opened = Instant::now();
        let path = dialog();
        if path.is_none() && opened.elapsed() < DIALOG_NEVER_SHOWN {
            self.notifications.error(
                "No file dialog could open (is xdg-desktop-portal running?). The command line \
                 can export and load: layerlab train --export FILE, layerlab predict --model FILE.",
            );
        }
        path
    }

    fn training_active(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.is_active())
    }

    fn send_training(&mut self, command: TrainCommand) {
        if let Some(session) = &mut self.session {
            session.send(command);
        }
    }

    fn start_training(&mut self, ctx: &egui::Context) {
        if self.training_active() {
            return;
        }
        let DatasetSlot::Ready(dataset, _) = &self.dataset else {
            self.notifications
                .error("MNIST is still loading; try again in a moment.");
            return;
        };
        let job = TrainJob {
            spec: self.state.stack.clone(),
            config: self.state.training.clone(),
            dataset: dataset.clone(),
            initial_weights: None,
        };
        let prepared = match job.prepare() {
            Ok(prepared) => prepared,
            Err(error) => {
                self.notifications.error(format!("Cannot train: {error}"));
                return;
            }
        };
        let waker = {
            let ctx = ctx.clone();
            Box::new(move || ctx.request_repaint())
        };
        match TrainingSession::start(prepared, waker) {
            Ok(session) => {
                self.history = MetricsHistory::default();
                self.evaluation = None;
                self.run_spec = Some(self.state.stack.clone());
                self.session = Some(session);
                self.main_tab = MainTab::Charts;
            }
            Err(e) => self
                .notifications
                .error(format!("Cannot start the training thread: {e}")),
        }
    }

    fn handle_training_event(&mut self, ctx: &egui::Context, event: TrainEvent) {
        self.history.record(&event);
        match event {
            TrainEvent::Snapshot { step, weights } => {
                self.set_weights((*weights).clone(), format!("live weights from step {step}"));
            }
            TrainEvent::Finished(summary) => {
                self.set_weights((*summary.weights).clone(), "trained in this session".into());
                if let DatasetSlot::Ready(dataset, _) = &self.dataset {
                    self.evaluation = Some(EvaluationView::new(ctx, &summary, dataset));
                }
                self.notifications.info(format!(
                    "Training {}: test accuracy {:.2}% (loss {:.4}) after {} steps",
                    if summary.stopped_early {
                        "stopped"
                    } else {
                        "finished"
                    },
                    summary.test_accuracy * 100.0,
                    summary.test_loss,
                    summary.steps
                ));
            }
            TrainEvent::Failed { message } => {
                self.notifications
                    .error(format!("Training failed: {message}"));
            }
            _ => {}
        }
    }

    fn set_weights(&mut self, weights: crate::model::Weights, origin: String) {
        let Some(spec) = self.run_spec.clone() else {
            return;
        };
        self.current = Some(CurrentModel {
            model: Arc::new(SavedModel {
                spec,
                input_shape: SavedModel::input_shape_of(MNIST_INPUT),
                classes: MNIST_CLASSES,
                weights,
            }),
            origin,
        });
        self.request_prediction();
    }

    fn request_prediction(&mut self) {
        let Some(current) = &self.current else {
            return;
        };
        let input = match &self.opened_image {
            Some((_, image)) => PredictInput::Image(image.clone()),
            None if self.canvas.is_empty() => return,
            None => PredictInput::Strokes {
                strokes: self.canvas.strokes.clone(),
                brush_radius: self.state.brush_radius,
            },
        };
        if let Some(predictor) = &mut self.predictor {
            predictor.request(current.model.clone(), input);
        }
    }

    fn handle_file_outcome(&mut self, outcome: FileOutcome) {
        match outcome {
            FileOutcome::Exported(path) => {
                self.notifications.info(format!("Saved {}", path.display()))
            }
            FileOutcome::ModelLoaded(path, saved) => {
                let origin = format!("loaded from {}", path.display());
                // The stack goes into the editor as an undoable edit.
                self.editor.commit(&self.state.stack);
                self.state.stack = saved.spec.clone();
                self.editor.commit(&self.state.stack);
                self.current = Some(CurrentModel {
                    model: Arc::new(saved),
                    origin,
                });
                self.notifications
                    .info(format!("Loaded {}", path.display()));
                self.request_prediction();
            }
            FileOutcome::ImageOpened(path, image) => {
                self.opened_image = Some((path, image));
                self.canvas.clear();
                if self.current.is_none() {
                    self.notifications
                        .error("Train or load a model to classify this image.");
                }
                self.request_prediction();
            }
            FileOutcome::Failed(message) => self.notifications.error(message),
        }
    }

    fn poll_dataset(&mut self, ctx: &egui::Context) {
        if let DatasetSlot::Loading(receiver) = &self.dataset {
            match receiver.try_recv() {
                Ok(Ok(dataset)) => {
                    let preview = DataPreview::new(ctx, &dataset.train);
                    self.dataset = DatasetSlot::Ready(Arc::new(dataset), preview);
                }
                Ok(Err(message)) => {
                    self.notifications
                        .error(format!("Cannot load MNIST: {message}"));
                    self.dataset = DatasetSlot::Failed(message);
                }
                Err(crossbeam_channel::TryRecvError::Empty) => {}
                Err(crossbeam_channel::TryRecvError::Disconnected) => {
                    self.dataset = DatasetSlot::Failed("the data loader stopped".into());
                }
            }
        }
    }

    fn handle_shortcuts(&mut self, ctx: &egui::Context) {
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        let (space, delete, undo, redo) = ctx.input(|i| {
            (
                i.key_pressed(Key::Space),
                i.key_pressed(Key::Delete) || i.key_pressed(Key::Backspace),
                i.modifiers.command && !i.modifiers.shift && i.key_pressed(Key::Z),
                i.modifiers.command
                    && (i.key_pressed(Key::Y) || (i.modifiers.shift && i.key_pressed(Key::Z))),
            )
        });
        if space {
            let command = match self.run_status() {
                Some(RunStatus::Running) => AppCommand::PauseTraining,
                Some(RunStatus::Paused) => AppCommand::ResumeTraining,
                Some(RunStatus::Stopping) => return,
                _ => AppCommand::StartTraining,
            };
            self.commands.push(command);
        }
        if delete {
            self.commands.push(AppCommand::ClearCanvas);
        }
        if undo {
            self.commands.push(AppCommand::Undo);
        }
        if redo {
            self.commands.push(AppCommand::Redo);
        }
    }

    // ---- drawing ----

    fn top_bar_ui(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Load model…").clicked() {
                    self.commands.push(AppCommand::LoadModelDialog);
                }
                if ui.button("Export weights…").clicked() {
                    self.commands.push(AppCommand::ExportWeightsDialog);
                }
                if ui.button("Open image…").clicked() {
                    self.commands.push(AppCommand::OpenImageDialog);
                }
            });
            ui.menu_button("View", |ui| {
                egui::widgets::global_theme_preference_buttons(ui);
                ui.checkbox(&mut self.state.show_frame_stats, "Frame times");
            });
        });
        ui.horizontal(|ui| {
            let status = self.run_status().cloned();
            let active = self.training_active();
            let stack_problem =
                crate::spec::validate(&self.state.stack, MNIST_INPUT, MNIST_CLASSES)
                    .err()
                    .map(|e| e.to_string())
                    .or_else(|| self.state.training.optimizer.validate().err());
            let can_start = !active && self.dataset_ready() && stack_problem.is_none();
            let train = ui.add_enabled(can_start, egui::Button::new("Train"));
            let train = match &stack_problem {
                Some(problem) => train.on_disabled_hover_text(format!("Cannot train: {problem}")),
                None => train.on_hover_text("Start training (Space)"),
            };
            if train.clicked() {
                self.commands.push(AppCommand::StartTraining);
            }
            let pause_or_resume = match status {
                Some(RunStatus::Running) => Some(("Pause", AppCommand::PauseTraining)),
                Some(RunStatus::Paused) => Some(("Resume", AppCommand::ResumeTraining)),
                _ => None,
            };
            if let Some((label, command)) = pause_or_resume {
                if ui.button(label).on_hover_text("Space").clicked() {
                    self.commands.push(command);
                }
            }
            if ui.add_enabled(active, egui::Button::new("Stop")).clicked() {
                self.commands.push(AppCommand::StopTraining);
            }
            if let Some(session) = &self.session {
                let p = &session.progress;
                let eta = p
                    .eta_secs
                    .map_or(String::new(), |s| format!(", ETA {}", format_secs(s)));
                let text = format!(
                    "{} · epoch {}/{} · step {}/{} · {:.0} img/s{eta}",
                    status_word(&session.status),
                    p.epoch().max(1),
                    self.state.training.epochs,
                    p.step,
                    p.total_steps,
                    p.images_per_sec
                );
                ui.add(egui::ProgressBar::new(p.fraction()).text(text));
            } else if !self.dataset_ready() {
                ui.spinner();
                ui.label("Loading MNIST…");
            }
        });
    }

    fn setup_panel_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.setup_tab, SetupTab::Model, "Model");
            ui.selectable_value(&mut self.setup_tab, SetupTab::Data, "Data");
            ui.selectable_value(&mut self.setup_tab, SetupTab::Optimizer, "Optimizer");
        });
        ui.separator();
        let active = self.training_active();
        egui::ScrollArea::vertical().show(ui, |ui| match self.setup_tab {
            SetupTab::Model => designer_panel::designer_ui(
                ui,
                &mut self.state.stack,
                MNIST_INPUT,
                MNIST_CLASSES,
                &self.editor,
                &mut self.designer,
                &mut self.commands,
            ),
            SetupTab::Data => {
                let dataset = match &self.dataset {
                    DatasetSlot::Ready(dataset, preview) => Ok((dataset.as_ref(), preview)),
                    DatasetSlot::Loading(_) => Err("Loading MNIST…"),
                    DatasetSlot::Failed(message) => Err(message.as_str()),
                };
                data_panel::data_ui(ui, dataset, &mut self.state.training, active);
            }
            SetupTab::Optimizer => optimizer_panel::optimizer_ui(
                ui,
                &mut self.state.training,
                active,
                &mut self.commands,
            ),
        });
    }

    fn canvas_panel_ui(&mut self, ui: &mut egui::Ui) {
        ui.heading("Draw a digit");
        canvas::canvas_ui(
            ui,
            &mut self.canvas,
            self.state.brush_radius,
            &mut self.commands,
        );
        ui.horizontal(|ui| {
            if ui
                .button("Clear")
                .on_hover_text("Clear the canvas (Delete)")
                .clicked()
            {
                self.commands.push(AppCommand::ClearCanvas);
            }
            if ui.button("Open image…").clicked() {
                self.commands.push(AppCommand::OpenImageDialog);
            }
        });
        let before = self.state.brush_radius;
        ui.add(egui::Slider::new(&mut self.state.brush_radius, 0.015..=0.09).text("Brush size"));
        if before != self.state.brush_radius && !self.canvas.is_empty() {
            self.commands.push(AppCommand::PredictCanvas);
        }
        match &self.current {
            Some(current) => ui.label(format!("Model: {}", current.origin)),
            None => ui.label("Train or load a model to see predictions."),
        };
        if let Some((path, _)) = &self.opened_image {
            ui.label(format!("Image: {}", path.display()));
        }
        ui.separator();
        match &self.prediction {
            Some(Ok(prediction)) => {
                let texture = self.prediction_texture.get_or_insert_with(|| {
                    let image = prediction.input.to_image();
                    ui.ctx().load_texture(
                        "model-input",
                        egui::ColorImage::from_gray(
                            [image.width() as usize, image.height() as usize],
                            image.as_raw(),
                        ),
                        TextureOptions::NEAREST,
                    )
                });
                ui.horizontal(|ui| {
                    ui.vertical(|ui| {
                        ui.label("What the model sees (28x28)");
                        ui.add(
                            egui::Image::new(&*texture).fit_to_exact_size(egui::Vec2::splat(112.0)),
                        );
                    });
                    ui.vertical(|ui| {
                        ui.label(
                            egui::RichText::new(format!("Prediction: {}", prediction.class()))
                                .heading(),
                        );
                        ui.label(format!(
                            "{:.1}% sure",
                            prediction.probabilities[prediction.class()] * 100.0
                        ));
                    });
                });
                for (digit, p) in prediction.probabilities.iter().enumerate() {
                    ui.horizontal(|ui| {
                        ui.label(digit.to_string());
                        ui.add(
                            egui::ProgressBar::new(*p)
                                .desired_width(220.0)
                                .fill(tokens::PREDICTED_BAR)
                                .text(format!("{:.1}%", p * 100.0)),
                        );
                    });
                }
            }
            Some(Err(message)) => {
                ui.colored_label(tokens::ERROR, message);
            }
            None => {}
        }
    }

    fn main_panel_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.main_tab, MainTab::Charts, "Charts");
            ui.selectable_value(&mut self.main_tab, MainTab::Evaluation, "Evaluation");
        });
        ui.separator();
        match self.main_tab {
            MainTab::Charts => {
                charts::chart_controls_ui(ui, &mut self.state.charts);
                if self.history.batches.is_empty() {
                    ui.label("Press Train (or Space) to start; loss and accuracy appear here as the model learns.");
                }
                charts::charts_ui(ui, &self.history, &self.state.charts, &mut self.chart_cache);
            }
            MainTab::Evaluation => {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    evaluation_panel::evaluation_ui(ui, self.evaluation.as_ref());
                });
            }
        }
    }

    fn frame_stats_ui(&mut self, ui: &mut egui::Ui) {
        if !self.state.show_frame_stats {
            return;
        }
        let (p50, p99) = (
            self.frame_stats.percentile(0.5).unwrap_or(0.0),
            self.frame_stats.percentile(0.99).unwrap_or(0.0),
        );
        egui::Area::new(egui::Id::unique("layerlab-frame-stats"))
            .anchor(egui::Align2::RIGHT_BOTTOM, [-8.0, -30.0])
            .show(ui.ctx(), |ui| {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.monospace(format!(
                        "frame cpu p50 {p50:.2} ms  p99 {p99:.2} ms  ({} frames)\nchart points drawn {}",
                        self.frame_stats.len(),
                        self.chart_cache.drawn_batch_points()
                    ));
                });
            });
    }

    fn log_frame_stats(&mut self) {
        // LAYERLAB_FRAME_STATS=1 prints frame-time percentiles every 5 s (for measurements).
        if std::env::var_os("LAYERLAB_FRAME_STATS").is_some()
            && self.frame_log_at.elapsed() > Duration::from_secs(5)
        {
            self.frame_log_at = Instant::now();
            eprintln!(
                "frame_ms p50={:.2} p99={:.2} frames={} training={}",
                self.frame_stats.percentile(0.5).unwrap_or(0.0),
                self.frame_stats.percentile(0.99).unwrap_or(0.0),
                self.frame_stats.len(),
                self.training_active()
            );
        }
    }
}

fn status_word(status: &RunStatus) -> &'static str {
    match status {
        RunStatus::Running => "Training",
        RunStatus::Paused => "Paused",
        RunStatus::Stopping => "Stopping",
        RunStatus::Finished => "Finished",
        RunStatus::Failed(_) => "Failed",
    }
}

fn format_secs(secs: f64) -> String {
    let secs = secs.max(0.0).round() as u64;
    if secs >= 60 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    }
}

impl eframe::App for LayerLabApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.frame_started = Some(Instant::now());
        self.poll_dataset(ctx);
        let events = match &mut self.session {
            Some(session) => session.drain(EVENT_BUDGET),
            None => Vec::new(),
        };
        let had_events = !events.is_empty();
        for event in events {
            self.handle_training_event(ctx, event);
        }
        for outcome in self.files.poll() {
            self.handle_file_outcome(outcome);
        }
        if let Some(response) = self.predictor.as_mut().and_then(Predictor::poll) {
            self.prediction = Some(response.result);
            self.prediction_texture = None;
        }
        if self.training_active() {
            // Events wake the window; this keeps ETA/throughput moving between them, and
            // picks up events left over when the budget ran out.
            if had_events {
                ctx.request_repaint_after(Duration::from_millis(10));
            } else {
                ctx.request_repaint_after(TRAINING_REPAINT);
            }
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.handle_shortcuts(&ctx);
        egui::Panel::top("top_bar").show(ui, |ui| self.top_bar_ui(ui));
        egui::Panel::bottom("status_bar").show(ui, |ui| self.notifications.ui(ui));
        egui::Panel::left("setup")
            .resizable(true)
            .default_size(tokens::SIDE_PANEL_WIDTH)
            .max_size(tokens::SIDE_PANEL_MAX_WIDTH)
            .show(ui, |ui| self.setup_panel_ui(ui));
        egui::Panel::right("canvas")
            .resizable(false)
            .exact_size(tokens::CANVAS_PANEL_WIDTH)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| self.canvas_panel_ui(ui));
            });
        egui::CentralPanel::default().show(ui, |ui| self.main_panel_ui(ui));
        self.frame_stats_ui(ui);

        // Finished edits become undo steps once no pointer button is held.
        if !ctx.input(|i| i.pointer.any_down()) {
            self.editor.commit(&self.state.stack);
        }
        let commands = std::mem::take(&mut self.commands);
        for command in commands {
            self.run_command(&ctx, command);
        }
        if let Some(started) = self.frame_started.take() {
            self.frame_stats
                .record(started.elapsed().as_secs_f32() * 1000.0);
        }
        self.log_frame_stats();
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.state);
    }
}
