//! The window's commands (`AppCommand`), each handled in one place: the match in
//! `run_command`, and the training, evaluation and dialog starts it leads to.

use std::sync::Arc;

use eframe::egui::{self};

use super::persistence::models_folder::{ensure_models_dir, timestamped_path, LAST_TRAINED};
use super::tasks::background::repaint_waker;
use super::tasks::evaluation_task::EvaluationTask;
use super::tasks::predictor::ExplainRequest;
use super::tasks::training_session::TrainingSession;
use super::views::file_dialog::{FileDialog, FilePurpose};
use super::{AppCommand, Confirm, LayerLabApp, MainTab, RunStatus};
use crate::export::SavedModel;
use crate::presets::preset;
use crate::train::{MetricsHistory, TrainCommand, TrainJob};

impl LayerLabApp {
    pub(super) fn run_command(&mut self, ctx: &egui::Context, command: AppCommand) {
        match command {
            AppCommand::StartTraining => self.start_training_unless_unsaved(ctx),
            AppCommand::StartTrainingConfirmed => self.start_training(ctx, None),
            AppCommand::ContinueTraining => self.continue_training(ctx),
            AppCommand::PauseTraining => self.send_training(TrainCommand::Pause),
            AppCommand::ResumeTraining => self.send_training(TrainCommand::Resume),
            AppCommand::StopTraining => self.send_training(TrainCommand::Stop),
            AppCommand::SetLearningRate(lr) => {
                self.send_training(TrainCommand::SetLearningRate(lr))
            }
            AppCommand::LoadPreset(name) => self.load_preset(name),
            AppCommand::PickDataset(name) => self.pick_dataset(ctx, name),
            AppCommand::SetToyOptions(options) => self.set_toy_options(ctx, options),
            AppCommand::SetTrainingSettings(config) => self.set_training_settings(*config),
            AppCommand::SetStack(stack) => self.state.stack = stack,
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
            AppCommand::FitOutputs => self.fit_outputs(),
            AppCommand::Undo => self.undo_design(false),
            AppCommand::Redo => self.undo_design(true),
            AppCommand::ExportWeightsDialog => {
                self.open_export_dialog(ctx, FilePurpose::ExportWeights)
            }
            AppCommand::ExportOnnxDialog => self.open_export_dialog(ctx, FilePurpose::ExportOnnx),
            AppCommand::ExportTorchDialog(id) => {
                self.torch_export.run = Some(id);
                self.open_file_dialog(ctx, FilePurpose::ExportTorch);
            }
            AppCommand::ExportTorchTo(folder) => {
                let waker = super::tasks::background::repaint_waker(ctx);
                if let Err(why) = self.torch_export.start(&folder, waker) {
                    self.notifications.error(why);
                }
            }
            AppCommand::ExportOnnxTo(path) => self.export_model(path, true),
            AppCommand::ExportWeightsTo(path) => self.export_model(path, false),
            AppCommand::SaveToModelsFolder => self.save_to_models_folder(),
            AppCommand::LoadModelDialog => self.open_file_dialog(ctx, FilePurpose::LoadModel),
            AppCommand::LoadModelFrom(path) => self.files.load_model(path),
            AppCommand::OfferLastTrained(path) => {
                if path.exists() {
                    self.files.load_last_trained(path);
                }
            }
            AppCommand::OpenImageDialog => self.open_file_dialog(ctx, FilePurpose::OpenImage),
            AppCommand::OpenImageFrom(path) => self.files.open_image(path),
            AppCommand::EvaluateModel => self.start_evaluation(ctx),
            AppCommand::CancelEvaluation => self.cancel_evaluation(),
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
            AppCommand::CloseConfirmed => self.close_confirmed(ctx),
            AppCommand::Quit => self.quit(ctx),
            AppCommand::FindLearningRate => self.find_learning_rate(ctx),
            AppCommand::CancelLrFind => self.lr_finder.cancel(),
            AppCommand::RefreshRuns => self.runs.refresh(repaint_waker(ctx)),
            AppCommand::ToggleRun(id) => self.runs.toggle(id, repaint_waker(ctx)),
            AppCommand::TickShown(tick) => self.runs.tick_shown(tick, repaint_waker(ctx)),
            AppCommand::DeleteTickedRuns => self.runs.delete_ticked(repaint_waker(ctx)),
            AppCommand::UndoDeleteRuns => self.runs.undo_delete(repaint_waker(ctx)),
            AppCommand::SortRuns(column, ascending) => self.runs.sort = (column, ascending),
            AppCommand::EditRunForm(form) => self.runs.form = Some(*form),
            AppCommand::EditRun(id, edit) => self.runs.edit(id, edit, repaint_waker(ctx)),
            AppCommand::ResumeRun(id) => self.read_continuation(
                ctx,
                super::tasks::continuation::RunPoint {
                    run_id: id,
                    step: usize::MAX,
                },
                super::tasks::continuation::ContinueHow::Resume,
            ),
            AppCommand::ForkFrom(id, step) => self.read_continuation(
                ctx,
                super::tasks::continuation::RunPoint { run_id: id, step },
                super::tasks::continuation::ContinueHow::Fork,
            ),
            AppCommand::ForgetFork => self.forget_fork(),
            AppCommand::BackToLive => self.back_to_live(),
            AppCommand::TryCheckpoint(id, step) => {
                self.runs.load_checkpoint(id, step, repaint_waker(ctx));
            }
        }
    }

    /// Starts a run, asking first when it would replace a model not yet saved.
    fn start_training_unless_unsaved(&mut self, ctx: &egui::Context) {
        if self.model_unsaved() && !self.training_active() {
            self.confirm = Some(Confirm::ReplaceUnsavedModel);
        } else {
            self.start_training(ctx, None);
        }
    }

    /// Starts the range test on the designed stack and the data, unless a run goes on.
    fn find_learning_rate(&mut self, ctx: &egui::Context) {
        if self.training_active() || self.lr_finder.progress().is_some() {
            return;
        }
        let Some(dataset) = self.dataset().cloned() else {
            self.notifications
                .error("The dataset is still loading; try again in a moment.");
            return;
        };
        let started = self.lr_finder.start(
            self.state.stack.clone(),
            self.state.training.clone(),
            dataset,
            repaint_waker(ctx),
        );
        if let Err(why) = started {
            self.notifications.error(why);
        }
    }

    /// Trains the model in hand further: a point of a recorded run goes on in the record
    /// (resumed, or a fork whose steps go on from it); a model file starts a new run from its
    /// weights.
    fn continue_training(&mut self, ctx: &egui::Context) {
        match &self.current {
            Some(current) => match current.run_point.clone() {
                Some(point) => {
                    // Said at once, before the store is read.
                    let problem = self
                        .dataset()
                        .and_then(|data| other_data(&current.model, data, "continue training"));
                    if let Some(problem) = problem {
                        self.notifications.error(problem);
                        return;
                    }
                    self.read_continuation(
                        ctx,
                        point,
                        super::tasks::continuation::ContinueHow::Further,
                    );
                }
                None => {
                    let model = current.model.clone();
                    self.start_training(ctx, Some(model));
                }
            },
            None => self
                .notifications
                .error("Nothing to continue: train or load a model first."),
        }
    }

    /// A new draw of the same 2-D set: regenerated in the background.
    fn set_toy_options(&mut self, ctx: &egui::Context, options: crate::data::ToyOptions) {
        self.state.toy = options;
        if crate::data::ToyShape::named(&self.state.dataset).is_some() {
            let name = self.state.dataset.clone();
            self.pick_dataset(ctx, name);
        }
    }

    /// The next run's settings; a run going on keeps its own.
    fn set_training_settings(&mut self, config: crate::train::TrainConfig) {
        if self.training_active() {
            self.notifications
                .error("Stop the run before changing its settings.");
        } else {
            self.state.training = config;
        }
    }

    /// Undo (or redo) of the layer stack and its settings.
    fn undo_design(&mut self, redo: bool) {
        let mut design = self.state.design();
        if redo {
            self.editor.redo(&mut design);
        } else {
            self.editor.undo(&mut design);
        }
        self.state.set_design(design);
    }

    /// Writes the model in hand as ONNX or as safetensors.
    fn export_model(&mut self, path: std::path::PathBuf, onnx: bool) {
        match &self.current {
            Some(current) if onnx => self.files.export_onnx(path, current.model.clone()),
            Some(current) => self.files.export(path, current.model.clone(), false),
            None => self
                .notifications
                .error("Nothing to export yet: train or load a model first."),
        }
    }

    /// Stops the evaluation going on, on its own task or at the end of a run.
    fn cancel_evaluation(&mut self) {
        if let Some(task) = &self.evaluation_task {
            task.cancel();
        } else if matches!(self.run_status(), Some(RunStatus::Evaluating { .. })) {
            self.send_training(TrainCommand::Stop);
        }
    }

    /// Closes the window, asking first while a run is going on.
    fn quit(&mut self, ctx: &egui::Context) {
        if self.training_active() {
            self.confirm = Some(super::Confirm::CloseWhileTraining);
        } else {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }

    /// Loads a preset's stack (sized for this dataset) and, unless a run is going, its
    /// training settings.
    fn load_preset(&mut self, name: &'static str) {
        if let Some(preset) = preset(name) {
            // A preset is a template: its last layer is sized for this dataset.
            let preset = preset.with_outputs(self.data_shape.outputs);
            self.editor.commit(&self.state.design());
            self.state.stack = preset.spec;
            if !self.training_active() {
                self.state.training.optimizer = preset.optimizer;
                self.state.training.batch_size = preset.batch_size;
                self.state.training.epochs = preset.epochs;
                self.state.training.schedule = preset.schedule.clone();
                self.state.training.augmentation = preset.augmentation;
                if let Some(loss) = preset.loss {
                    self.state.training.loss = loss;
                }
            }
            self.editor.commit(&self.state.design());
            self.notifications
                .info(format!("Loaded preset {name}: {}", preset.description));
        }
    }

    /// Ends the stack on as many outputs as the data has.
    fn fit_outputs(&mut self) {
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

    /// Opens the export dialog of `purpose`, or says there is nothing to export.
    fn open_export_dialog(&mut self, ctx: &egui::Context, purpose: FilePurpose) {
        if self.current.is_none() {
            self.notifications
                .error("Nothing to export yet: train or load a model first.");
        } else {
            self.open_file_dialog(ctx, purpose);
        }
    }

    /// Saves the current model under a timestamped name in the models folder.
    fn save_to_models_folder(&mut self) {
        match &self.current {
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
        }
    }

    /// Keeps the run's newest weights, then closes the window.
    fn close_confirmed(&mut self, ctx: &egui::Context) {
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

    pub(super) fn open_file_dialog(&mut self, ctx: &egui::Context, purpose: FilePurpose) {
        if self.file_dialog.is_some() {
            return; // one at a time; the open one keeps its place
        }
        // Where the last dialog ended; else models go to and come from the models folder,
        // and everything else starts at home (never the program's working directory).
        let last = self.state.last_folder.clone().filter(|f| f.is_dir());
        let start_dir = last.or_else(|| match purpose {
            FilePurpose::ExportWeights | FilePurpose::LoadModel | FilePurpose::ExportOnnx => {
                ensure_models_dir().ok()
            }
            FilePurpose::OpenImage
            | FilePurpose::ExportTorch
            | FilePurpose::ImportCsv
            | FilePurpose::ImportFolder
            | FilePurpose::ExportMetrics => None,
        });
        let waker = repaint_waker(ctx);
        self.file_dialog = Some(FileDialog::open(
            purpose,
            self.state.in_window_file_picker,
            start_dir,
            waker,
        ));
    }

    pub(super) fn send_training(&mut self, command: TrainCommand) {
        if let Some(session) = &mut self.session {
            session.send(command);
        }
    }

    /// Starts a run: of the designed stack, or of `from`'s stack starting at its weights
    /// (a model file: a new run in the record). A fork prepared with "Fork from here" is
    /// started instead, with the settings as they are now.
    pub(super) fn start_training(&mut self, ctx: &egui::Context, from: Option<Arc<SavedModel>>) {
        if self.training_active() {
            return;
        }
        if from.is_none() {
            if let Some(fork) = self.pending_fork.take() {
                // Kept when it cannot start (a stack its weights do not fit, other data).
                if !self.start_continued(ctx, (*fork).clone()) {
                    self.pending_fork = Some(fork);
                }
                return;
            }
        }
        let Some(dataset) = self.dataset().cloned() else {
            self.notifications
                .error("The dataset is still loading; try again in a moment.");
            return;
        };
        if let Some(problem) = from
            .as_ref()
            .and_then(|model| other_data(model, &dataset, "continue training"))
        {
            self.notifications.error(problem);
            return;
        }
        let (spec, initial_weights) = match &from {
            Some(model) => (model.spec.clone(), Some(Arc::new(model.weights.clone()))),
            None => (self.state.stack.clone(), None),
        };
        let job = TrainJob {
            spec,
            config: self.state.training.clone(),
            dataset,
            initial_weights,
            resume_from: None,
        };
        self.launch_run(ctx, job, crate::store::RunTarget::fresh(), None);
    }

    /// Starts `job` in the window, recorded where `target` says; the charts start from
    /// `history` (a continued run's curves so far), else empty.
    pub(super) fn launch_run(
        &mut self,
        ctx: &egui::Context,
        mut job: TrainJob,
        target: crate::store::RunTarget,
        history: Option<MetricsHistory>,
    ) -> bool {
        // A NaN loss in the window rolls back and pauses: the person is there to resume.
        // Checkpoints at each epoch's end and on Stop go to the run store.
        job.config.on_divergence = crate::train::OnDivergence::RollBackAndPause;
        job.config.checkpoints = crate::train::CheckpointPolicy {
            enabled: true,
            every_steps: 0,
        };
        let recorder = run_recorder(&job.spec, &job.config, &job.dataset.card, target);
        let spec = job.spec.clone();
        let prepared = match job.prepare() {
            Ok(prepared) => prepared,
            Err(error) => {
                self.notifications.error(format!("Cannot train: {error}"));
                return false;
            }
        };
        // Events wake the window, but no sooner than the chart rate, and the window is told
        // at most once per interval: a call per batch (30,000 a second for a small model)
        // woke the UI thread each time, on a core the training needs.
        let waker = {
            let ctx = ctx.clone();
            let charts = self.repaint.charts;
            super::tasks::background::throttled(charts / 4, move || {
                ctx.request_repaint_after(charts)
            })
        };
        if let Some(task) = self.evaluation_task.take() {
            task.cancel();
        }
        match TrainingSession::start(prepared, spec, waker, recorder) {
            Ok(session) => {
                // The frame times shown from now on are this run's.
                self.frame_stats.clear();
                self.frame_cpu_stats.clear();
                // The previous run stays on show until this one has points to draw.
                self.next_history = Some(history.unwrap_or_default());
                self.session = Some(session);
                self.health_warned.clear();
                // Train means "show me this run": a checkpoint tried goes back, and the try
                // panel follows the new run's weights (not "at epoch 2" of the old one).
                self.back_to_live();
                // The Inside tab stays open to watch the run from inside.
                if self.main_tab != MainTab::Inside {
                    self.main_tab = MainTab::Charts;
                }
                true
            }
            Err(e) => {
                self.notifications
                    .error(format!("Cannot start the training thread: {e}"));
                false
            }
        }
    }

    pub(super) fn start_evaluation(&mut self, ctx: &egui::Context) {
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
        // The same shape is not the same data: an MNIST model scored on Fashion-MNIST with
        // Fashion's class names reported "Test accuracy 12.12%".
        if let Some(problem) = other_data(&current.model, dataset, "evaluate it") {
            self.notifications.error(problem);
            return;
        }
        let waker = repaint_waker(ctx);
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

    /// Enlarges `unit` of `layer` and looks for the training samples exciting it most.
    pub(super) fn inspect_unit(&mut self, ctx: &egui::Context, layer: usize, unit: usize) {
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
        let waker = repaint_waker(ctx);
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
}

/// Why `model` cannot be used with `dataset` for `what` ("evaluate it"): its data card
/// names another dataset, or the same one prepared otherwise. `None` when it fits (or the
/// file has no card: models saved before cards were MNIST's).
fn other_data(model: &SavedModel, dataset: &crate::data::Dataset, what: &str) -> Option<String> {
    other_card(model.card.as_ref()?, dataset, "The current model", what)
}

/// Why something trained on `card` (`whose`: "The current model", "Run x") cannot be used
/// with `dataset` for `what`.
pub(super) fn other_card(
    card: &crate::data::DataCard,
    dataset: &crate::data::Dataset,
    whose: &str,
    what: &str,
) -> Option<String> {
    if card.dataset != dataset.card.dataset {
        return Some(format!(
            "{whose} was trained on {}, not {}: pick {} in the Data tab to {what}.",
            card.dataset, dataset.card.dataset, card.dataset
        ));
    }
    (!card
        .preprocessing
        .same_samples_as(&dataset.card.preprocessing))
    .then(|| {
        format!(
            "{whose} was trained on {} prepared otherwise (another split, vocabulary \
             or scaling): load that data again to {what}.",
            card.dataset
        )
    })
}

/// Records the window's runs in the run store, as `layerlab train` does (the store is opened
/// on the training thread, never on the UI thread); `None` without a data folder.
fn run_recorder(
    spec: &crate::spec::ModelSpec,
    config: &crate::train::TrainConfig,
    card: &crate::data::DataCard,
    target: crate::store::RunTarget,
) -> Option<(crate::train::Observer, crate::store::RunIdSlot)> {
    let store = crate::store::default_store_path().ok()?;
    let record = crate::store::RunRecord {
        stack: spec.clone(),
        settings: config.clone(),
        card: card.clone(),
        preset: None,
        command: Vec::new(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        host: crate::store::Host::unknown(),
    };
    Some(crate::store::recording_observer(store, record, target))
}
