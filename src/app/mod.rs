//! The LayerLab window (eframe/egui): a client of the engine like the CLI is.
//!
//! The UI thread only draws and sends commands. Training runs on the engine's worker thread,
//! prediction on the predictor's, evaluation, file dialogs and file I/O on threads of their
//! own; results come back over channels, drained in `logic()` on a time budget. Widgets emit
//! [`AppCommand`]s that `LayerLabApp::run_command` (in `logic.rs`) runs in one `match`.
//!
//! - `logic.rs`: commands, training events, background results, shortcuts.
//! - `top_bar.rs`: menus, run controls and the status line.
//! - one file per panel: `designer_panel`, `data_panel`, `optimizer_panel`, `charts`,
//!   `evaluation_panel`, `prediction_panel` (with `canvas`), `notifications`.
//! - `training_session`, `predictor`, `evaluation_task`, `model_files`, `file_dialog`:
//!   the background work the window drives.

mod background_results;
mod command;
mod command_handling;
mod data_loading;
mod frame_stats;
mod huge_pages;
mod input;
mod logic;
mod persistence;
mod run_continuation;
mod tasks;
mod training_events;
mod views;

pub use crate::display::{format_secs, thousands};
pub use command::AppCommand;
pub use persistence::models_folder::{models_dir, LAST_TRAINED};
pub use persistence::saved_state::repair_storage_file;
pub use persistence::state::{Design, PersistedState};
pub use tasks::predictor::LivePrediction;
pub use tasks::runs_browser::{RunColumn, MAX_CURVE_POINTS};
pub use tasks::training_session::{status_line, Progress, RunStatus};
pub use views::canvas::{canvas_id, Canvas};
pub use views::charts::{ChartSettings, XAxis};
pub use views::evaluation_panel::per_class_scores;
pub use views::file_dialog::FilePurpose;
pub use views::inside_panel::{InsidePanel, InsideView};
pub use views::run_curves::{CurveAxis, CurveMetric};
pub use views::stack_editor::StackEditor;
pub use views::table_import::TableImport;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui;

use crate::data::{default_mnist_dir, Dataset};
use crate::export::SavedModel;
use crate::train::MetricsHistory;
use frame_stats::FrameStats;
use tasks::background::{BackgroundTask, Polled};
use tasks::evaluation_task::EvaluationTask;
use tasks::model_files::FileTasks;
use tasks::predictor::Predictor;
use tasks::training_session::TrainingSession;
use views::charts::ChartCache;
use views::data_panel::DataPreview;
use views::designer_panel::DesignerChoices;
use views::evaluation_panel::EvaluationView;
use views::file_dialog::FileDialog;
use views::notifications::Notifications;
pub use views::prediction_panel::{InputMode, PredictionPanel};

/// Longest a frame spends taking in training events (rerun's `receive_messages` budget).
const EVENT_BUDGET: Duration = Duration::from_millis(4);
/// Most training events taken in one frame, and the room the frame's buffer keeps for them
/// (2 MiB). Uncapped, a frame took in up to 46,000 events from a small model and the buffer
/// grew by doubling inside frames, the slowest of them at 19-22 ms of CPU time; a backlog
/// makes the next frame come at once instead.
const MAX_EVENTS_PER_FRAME: usize = 16_384;

/// Opens the window. `cargo run --release` (no subcommand) lands here.
pub fn run_native() -> eframe::Result {
    // Frames stay short: no 2 MiB page zeroed inside a page fault on the UI thread.
    huge_pages::disable_for_this_process();
    // Before eframe reads it: a bad zoom factor in there panics inside winit at launch.
    let repaired = persistence::saved_state::storage_file()
        .filter(|path| path.exists())
        .and_then(|path| persistence::saved_state::repair_storage_file(&path));
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("LayerLab")
            .with_inner_size([1440.0, 900.0])
            .with_min_inner_size(views::window_geometry::SMALLEST_WINDOW),
        ..Default::default()
    };
    eframe::run_native(
        "LayerLab",
        options,
        Box::new(move |cc| {
            let mut app = LayerLabApp::new(cc);
            if let Some(message) = repaired {
                app.notifications.error(message);
            }
            Ok(Box::new(app))
        }),
    )
}

enum DatasetSlot {
    Loading {
        name: String,
        task: BackgroundTask<Result<Dataset, String>>,
        progress: crate::data::LoadProgress,
    },
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
    /// Activations, filters, saliency and training health.
    Inside,
    /// Every run in the store: overlaid curves and what differs.
    Runs,
}

/// The model the canvas predicts with and export saves: the newest weights of the current
/// run, or a loaded file. It carries its own stack, so editing the designer cannot break it.
struct CurrentModel {
    model: Arc<SavedModel>,
    /// What it is, in words, for the window ("this run, step 350", "loaded from …").
    origin: String,
    /// Trained here and not yet saved by the person (the automatic copy does not count:
    /// the next run replaces it).
    unsaved: bool,
    /// The point of a recorded run these weights are (a run's end, a checkpoint tried):
    /// "Continue training" goes on from there in the record.
    run_point: Option<tasks::continuation::RunPoint>,
}

/// A run's checkpoint being tried: the model it replaced, which "Back to live" returns to
/// (while that run trains, its newest weights).
struct Scrub {
    live: Option<CurrentModel>,
}

/// A question the window is asking before it does something that loses work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Confirm {
    /// Starting a run would replace a trained model that was never saved.
    ReplaceUnsavedModel,
    /// The window was asked to close while a run goes on.
    CloseWhileTraining,
}

pub struct LayerLabApp {
    state: PersistedState,
    editor: StackEditor,
    dataset: DatasetSlot,
    session: Option<TrainingSession>,
    /// What the charts show: the current run, or the previous one until the new run's first
    /// batch arrives.
    history: MetricsHistory,
    /// The new run's history while the previous run is still on show.
    next_history: Option<MetricsHistory>,
    chart_cache: ChartCache,
    current: Option<CurrentModel>,
    prediction: PredictionPanel,
    files: FileTasks,
    file_dialog: Option<FileDialog>,
    evaluation: Option<EvaluationView>,
    evaluation_task: Option<EvaluationTask>,
    notifications: Notifications,
    confirm: Option<Confirm>,
    close_confirmed: bool,
    frame_stats: FrameStats,
    /// The UI thread's CPU time per frame (its wall time less the time it waited for a core).
    frame_cpu_stats: FrameStats,
    frame_cpu_started: Option<Duration>,
    /// Training events taken in this frame (kept to reuse its memory).
    event_buffer: Vec<crate::train::TrainEvent>,
    frame_started: Option<Instant>,
    frame_log_at: Instant,
    commands: Vec<AppCommand>,
    setup_tab: SetupTab,
    main_tab: MainTab,
    designer: DesignerChoices,
    /// What the designer and the Train button check the stack against: the newest dataset
    /// loaded (kept while another one loads).
    data_shape: DataShape,
    /// Where MNIST is read from (tests point it elsewhere).
    mnist_dir: PathBuf,
    /// An import in progress.
    import: Option<ImportTask>,
    /// A loaded model waiting for its built-in dataset to load.
    pending_model: Option<(PathBuf, Box<SavedModel>)>,
    /// The model the last session trained, read at launch and waiting for the data to load.
    pending_last_trained: Option<background_results::LastTrained>,
    /// Whether the window was checked against its monitor (once, when the size is known).
    window_fitted: bool,
    /// A CSV read and waiting for the person to check its columns.
    table_import: Option<views::table_import::TableImport>,
    /// How often to repaint while training (less on a software renderer).
    repaint: logic::RepaintRates,
    /// The Inside tab's choices and pictures.
    inside: views::inside_panel::InsidePanel,
    /// The Runs tab's list, ticked runs and their comparison, read off the UI thread.
    runs: tasks::runs_browser::RunsBrowser,
    /// The augmentation preview grid on show.
    augment_preview: views::augmentation_panel::AugmentPreview,
    /// "Find learning rate": the sweep going on, or its curve.
    lr_finder: tasks::lr_finder::LrFinder,
    /// File > Export as PyTorch training script, in progress.
    torch_export: tasks::torch_export::TorchExport,
    /// Set while a run's checkpoint is the current model.
    scrub: Option<Scrub>,
    /// A run being read from the store to resume or fork it.
    continuing: Option<BackgroundTask<Result<tasks::continuation::Continuation, String>>>,
    /// A fork "Fork from here" prepared: Train starts it.
    pending_fork: Option<Box<tasks::continuation::Continuation>>,
    /// Health warnings already shown for this run: (kind, layer).
    health_warned: std::collections::HashSet<(crate::train::WarningKind, Option<usize>)>,
}

/// What an import gives back, or why not.
type ImportOutcome = Result<Imported, String>;

/// An import in progress: its file name, where the result arrives, and how far it got.
struct ImportTask {
    name: String,
    task: BackgroundTask<ImportOutcome>,
    progress: crate::data::LoadProgress,
}

/// A finished import step.
enum Imported {
    /// A CSV file read, to be checked before it becomes a dataset.
    Table(crate::data::RawTable),
    /// A dataset, with notes on what was guessed or left out.
    Dataset(Box<Dataset>, Vec<String>),
}

/// The input shape and outputs of the dataset the window trains on, and its names.
#[derive(Clone, Debug, PartialEq)]
pub struct DataShape {
    pub input: crate::spec::ActivationShape,
    pub outputs: usize,
    /// The built-in's name ("ames-housing").
    pub name: String,
    /// "Ames housing, regression of Sale_Price (USD)".
    pub description: String,
    /// The presets that suit the data, best first ([`crate::presets::presets_for_data`]).
    pub presets: Vec<&'static str>,
}

impl DataShape {
    fn mnist() -> Self {
        Self {
            input: crate::data::MNIST_INPUT,
            outputs: crate::data::MNIST_CLASSES,
            name: "mnist".into(),
            description: "MNIST, 10-class classification".into(),
            presets: crate::presets::presets_for("mnist")
                .iter()
                .map(|p| p.name)
                .collect(),
        }
    }

    fn of(dataset: &Dataset) -> Self {
        Self {
            input: dataset.input_shape(),
            outputs: dataset.outputs(),
            name: dataset.card.dataset.clone(),
            description: format!("{}, {}", dataset.name, dataset.task().describe()),
            presets: crate::presets::presets_for_data(&dataset.card)
                .iter()
                .map(|p| p.name)
                .collect(),
        }
    }
}

/// Loads built-in dataset `name` prepared with `options` on a thread (MNIST from
/// `mnist_dir`).
fn start_loading(
    name: &str,
    options: crate::data::DataOptions,
    mnist_dir: PathBuf,
    waker: tasks::background::Waker,
) -> DatasetSlot {
    let thread_name = name.to_string();
    let progress = crate::data::LoadProgress::default();
    let reporting = progress.clone();
    let task = BackgroundTask::spawn("data", waker, move || {
        reporting.run(|| {
            let loaded = if thread_name == "mnist" {
                Dataset::mnist(&mnist_dir)
            } else {
                crate::data::load_builtin(&thread_name, &options)
            };
            loaded.map_err(|e| e.to_string())
        })
    });
    match task {
        Ok(task) => DatasetSlot::Loading {
            name: name.to_string(),
            task,
            progress,
        },
        Err(e) => DatasetSlot::Failed(format!("cannot start the data loader: {e}")),
    }
}

impl LayerLabApp {
    pub fn new(cc: &eframe::CreationContext<'_>) -> Self {
        let state = cc
            .storage
            .and_then(|storage| eframe::get_value::<PersistedState>(storage, eframe::APP_KEY))
            .unwrap_or_default()
            .sanitised()
            .0;
        let mut app = Self::with_state(&cc.egui_ctx, state, default_mnist_dir());
        // A CPU adapter (lavapipe, llvmpipe, WARP) rasterises on the training cores.
        let software = cc.wgpu_render_state.as_ref().is_some_and(|render| {
            render.adapter.get_info().device_type == eframe::egui_wgpu::wgpu::DeviceType::Cpu
        });
        app.repaint = logic::RepaintRates::for_renderer(software);
        if let Ok(dir) = persistence::models_folder::models_dir() {
            app.commands.push(AppCommand::OfferLastTrained(
                dir.join(persistence::models_folder::LAST_TRAINED),
            ));
        }
        app
    }

    /// Builds the app around `state`, loading MNIST from `data_dir` in the background.
    pub fn with_state(ctx: &egui::Context, state: PersistedState, data_dir: PathBuf) -> Self {
        let repaint = tasks::background::repaint_waker(ctx);
        let dataset = start_loading(
            &state.dataset,
            state.data_options(),
            data_dir.clone(),
            repaint.clone(),
        );
        let mut notifications = Notifications::default();
        // Without its thread the window still designs and trains; it only cannot predict.
        let predictor = match Predictor::spawn(repaint.clone()) {
            Ok(predictor) => Some(predictor),
            Err(e) => {
                notifications.error(format!("Live prediction is unavailable: {e}"));
                None
            }
        };
        let mut app = Self {
            editor: StackEditor::new(&state.design()),
            state,
            dataset,
            session: None,
            history: MetricsHistory::default(),
            next_history: None,
            chart_cache: ChartCache::default(),
            current: None,
            prediction: PredictionPanel::new(predictor),
            files: FileTasks::new(repaint),
            file_dialog: None,
            evaluation: None,
            evaluation_task: None,
            notifications,
            confirm: None,
            close_confirmed: false,
            frame_stats: FrameStats::default(),
            frame_cpu_stats: FrameStats::default(),
            frame_cpu_started: None,
            event_buffer: Vec::new(),
            frame_started: None,
            frame_log_at: Instant::now(),
            commands: Vec::new(),
            setup_tab: SetupTab::Model,
            main_tab: MainTab::Charts,
            designer: DesignerChoices::default(),
            data_shape: DataShape::mnist(),
            mnist_dir: data_dir,
            import: None,
            table_import: None,
            pending_model: None,
            pending_last_trained: None,
            window_fitted: false,
            repaint: logic::RepaintRates::for_renderer(false),
            health_warned: Default::default(),
            inside: Default::default(),
            runs: Default::default(),
            lr_finder: Default::default(),
            torch_export: Default::default(),
            augment_preview: Default::default(),
            scrub: None,
            continuing: None,
            pending_fork: None,
        };
        // The store is read once at launch, on a thread: a run the window or the CLI was
        // training when it was killed is found and said.
        app.runs.refresh(tasks::background::repaint_waker(ctx));
        app
    }

    // ---- read-only views for tests and the status bar ----

    /// The shape the stack must fit: the dataset's input and outputs.
    pub fn data_shape(&self) -> &DataShape {
        &self.data_shape
    }

    /// The preset the designer's preset box shows.
    pub fn shown_preset(&self) -> &'static str {
        let outputs = self.data_shape.outputs;
        crate::presets::PRESET_NAMES
            .iter()
            .copied()
            .find(|name| {
                crate::presets::preset(name)
                    .is_some_and(|p| p.with_outputs(outputs).spec == self.state.stack)
            })
            .unwrap_or(views::designer_panel::CUSTOM_STACK)
    }

    /// Training and test samples of the dataset in use, once loaded.
    pub fn dataset_sizes(&self) -> Option<(usize, usize)> {
        self.dataset().map(|d| (d.train.len(), d.test.len()))
    }

    /// Whether an import is being read.
    pub fn importing(&self) -> bool {
        self.import.is_some()
    }

    /// The CSV whose columns the window is asking the person to check.
    pub fn table_import(&self) -> Option<&views::table_import::TableImport> {
        self.table_import.as_ref()
    }

    /// The Runs tab's list, ticked runs and their comparison.
    pub fn runs_browser(&self) -> &tasks::runs_browser::RunsBrowser {
        &self.runs
    }

    pub fn dataset_ready(&self) -> bool {
        matches!(self.dataset, DatasetSlot::Ready(..))
    }

    pub fn run_status(&self) -> Option<&RunStatus> {
        self.session.as_ref().map(|s| &s.status)
    }

    pub fn progress(&self) -> Option<&Progress> {
        self.session.as_ref().map(|s| &s.progress)
    }

    /// The top bar's status line, as shown.
    pub fn status_text(&self) -> Option<String> {
        self.session.as_ref().map(TrainingSession::status_line)
    }

    /// The metrics the charts show.
    pub fn history(&self) -> &MetricsHistory {
        &self.history
    }

    /// The id in the store of the run training (or trained last) in the window.
    pub fn run_id(&self) -> Option<&str> {
        self.session.as_ref()?.run_id()
    }

    pub fn has_model(&self) -> bool {
        self.current.is_some()
    }

    pub fn model_origin(&self) -> Option<&str> {
        self.current.as_ref().map(|c| c.origin.as_str())
    }

    /// Whether the live model (the current one, or the one a checkpoint tried stands in
    /// for) was trained here and never saved by the person.
    pub fn model_unsaved(&self) -> bool {
        self.live_model().is_some_and(|c| c.unsaved)
    }

    /// The learning-rate sweep's steps done while it goes on.
    pub fn lr_find_progress(&self) -> Option<usize> {
        self.lr_finder.progress()
    }

    /// The last learning-rate sweep's curve and suggestions, or why it failed.
    pub fn lr_find_result(&self) -> Option<&Result<crate::train::LrFindResult, String>> {
        self.lr_finder.result.as_ref()
    }

    /// Whether a checkpoint of a recorded run is being tried ("Back to live" returns).
    pub fn trying_checkpoint(&self) -> bool {
        self.scrub.is_some()
    }

    /// Test accuracy shown in the Evaluation tab (only results of the current model count).
    pub fn evaluation_accuracy(&self) -> Option<f32> {
        self.shown_evaluation().map(|e| e.test_accuracy)
    }

    /// RMSE, MAE and R² shown in the Evaluation tab, for a regression model.
    pub fn evaluation_regression(&self) -> Option<crate::train::RegressionMetrics> {
        self.shown_evaluation()
            .and_then(|e| e.regression.as_ref().map(|r| r.metrics))
    }

    /// The try-it panel: its input mode and fields (the text box, the row form).
    pub fn try_panel(&self) -> &PredictionPanel {
        &self.prediction
    }

    /// What the window remembers and the next run uses: the stack, the settings, the data.
    pub fn settings(&self) -> &PersistedState {
        &self.state
    }

    /// The mistakes the Evaluation tab lists now `(test index, true, predicted)`.
    pub fn shown_mistakes(&self) -> Vec<(usize, u8, u8)> {
        self.shown_evaluation()
            .map(EvaluationView::shown_mistakes)
            .unwrap_or_default()
    }

    /// `(done, total)` of a test evaluation in progress (a run's end or "Evaluate").
    pub fn evaluation_progress(&self) -> Option<(usize, usize)> {
        if let Some(task) = &self.evaluation_task {
            return Some((task.done(), task.total));
        }
        match self.run_status() {
            Some(RunStatus::Evaluating { done, total }) => Some((*done, *total)),
            _ => None,
        }
    }

    pub fn drawn_chart_points(&self) -> usize {
        self.chart_cache.drawn_batch_points()
    }

    pub fn inside(&self) -> &InsidePanel {
        &self.inside
    }

    pub fn canvas(&self) -> &Canvas {
        &self.prediction.canvas
    }

    pub fn prediction(&self) -> Option<&Result<LivePrediction, String>> {
        self.prediction.prediction.as_ref()
    }

    /// Whether `prediction` answers the canvas (or image) as it is now.
    pub fn prediction_is_current(&self) -> bool {
        self.prediction.is_current()
    }

    pub fn notifications(&self) -> Vec<String> {
        self.notifications
            .current()
            .map(|n| n.text.clone())
            .collect()
    }

    /// Dismisses every message in the status bar (as their buttons do one by one).
    pub fn dismiss_notifications(&mut self) {
        self.notifications.clear();
    }

    /// Whether the window is asking the person to confirm something.
    pub fn is_asking(&self) -> bool {
        self.confirm.is_some()
    }

    /// What a file dialog open now is for.
    pub fn file_dialog_open(&self) -> Option<FilePurpose> {
        self.file_dialog.as_ref().map(FileDialog::purpose)
    }

    pub fn file_tasks_in_flight(&self) -> usize {
        self.files.in_flight()
    }

    /// Queues a command as a widget would (tests use this for dialog-free paths).
    pub fn send(&mut self, command: AppCommand) {
        self.commands.push(command);
    }

    fn training_active(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.is_active())
    }

    /// The dataset the window trains on, once loaded.
    pub fn dataset(&self) -> Option<&Arc<Dataset>> {
        match &self.dataset {
            DatasetSlot::Ready(dataset, _) => Some(dataset),
            DatasetSlot::Loading { .. } | DatasetSlot::Failed(_) => None,
        }
    }

    /// The evaluation, if it belongs to the current model.
    fn shown_evaluation(&self) -> Option<&EvaluationView> {
        let current = self.current.as_ref()?;
        self.evaluation
            .as_ref()
            .filter(|e| Arc::ptr_eq(&e.model, &current.model))
    }

    /// [`Self::shown_evaluation`], to change (the confusion-cell filter).
    fn shown_evaluation_mut(&mut self) -> Option<&mut EvaluationView> {
        let current = self.current.as_ref()?;
        self.evaluation
            .as_mut()
            .filter(|e| Arc::ptr_eq(&e.model, &current.model))
    }
}
