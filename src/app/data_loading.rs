//! Datasets in the window: picking a built-in, importing a CSV or a folder, adding points
//! to a 2-D set, and adopting what was loaded.

use std::sync::Arc;

use eframe::egui::{self};

use super::tasks::background::repaint_waker;
use super::{DataPreview, DatasetSlot, LayerLabApp};

impl LayerLabApp {
    /// Switches to built-in dataset `name`: loaded in the background; the old one stays in
    /// use until it arrives.
    pub(super) fn pick_dataset(&mut self, ctx: &egui::Context, name: String) {
        let options = self.state.data_options();
        self.load_builtin_dataset(ctx, name, options);
    }

    /// [`Self::pick_dataset`] with the preparation given (a loaded model's own).
    pub(super) fn load_builtin_dataset(
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
        self.dataset =
            super::start_loading(&name, options, self.mnist_dir.clone(), repaint_waker(ctx));
    }

    /// Runs one import step on a thread; the current dataset stays until it works.
    pub(super) fn start_import(
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
        let progress = crate::data::LoadProgress::default();
        let reporting = progress.clone();
        // The bar redraws itself while shown; the task wakes the window when it is done.
        let waker = repaint_waker(ctx);
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
    pub(super) fn import_csv(&mut self, ctx: &egui::Context, path: std::path::PathBuf) {
        let name = crate::data::file_label(&path);
        self.start_import(ctx, name, move || {
            crate::data::RawTable::read(&path)
                .map(super::Imported::Table)
                .map_err(|e| e.to_string())
        });
    }

    /// Turns the CSV under review into a dataset with the person's choices.
    pub(super) fn import_table(&mut self, ctx: &egui::Context, options: crate::data::TableOptions) {
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
    pub(super) fn import_folder(&mut self, ctx: &egui::Context, path: std::path::PathBuf) {
        let name = crate::data::file_label(&path);
        self.start_import(ctx, name, move || {
            crate::data::folder_dataset(&path, None, crate::data::ImageFolderOptions::default())
                .map(|(dataset, notes)| super::Imported::Dataset(Box::new(dataset), notes))
                .map_err(|e| e.to_string())
        });
    }

    /// Adds a training point to the 2-D set in use (not while a run reads it).
    pub(super) fn add_point(&mut self, ctx: &egui::Context, point: [f32; 2], class: u8) {
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
            Err(why) => self.notifications.error(why.to_string()),
        }
    }

    /// Makes a loaded dataset the one the window trains on. When it is other data than
    /// before (`changed`), the settings that only fit the old data are reset (the preset box
    /// then lists the presets made for the new data first).
    pub(super) fn adopt_dataset(
        &mut self,
        ctx: &egui::Context,
        dataset: crate::data::Dataset,
        changed: bool,
    ) {
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
        let preview = DataPreview::new(ctx, &dataset);
        self.dataset = DatasetSlot::Ready(Arc::new(dataset), preview);
    }
}
