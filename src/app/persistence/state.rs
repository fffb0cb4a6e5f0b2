//! What the window remembers between launches (eframe persistence).

use serde::{Deserialize, Serialize};

use crate::optim::OptimizerConfig;
use crate::presets::preset;
use crate::spec::ModelSpec;
use crate::train::TrainConfig;

use crate::app::views::charts::ChartSettings;

/// The preset a first launch starts from: the CNN users come for (98%+ on MNIST).
pub const FIRST_PRESET: &str = "cnn";
/// Brush radius as a fraction of the canvas side: strokes as thick as MNIST's pen.
pub const DEFAULT_BRUSH_RADIUS: f32 = 0.045;

/// Settings and the layer stack. Runtime handles live in the App, not here.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PersistedState {
    pub stack: ModelSpec,
    pub training: TrainConfig,
    pub charts: ChartSettings,
    pub brush_radius: f32,
    pub show_frame_stats: bool,
    /// Use LayerLab's in-window file picker instead of the desktop's dialog (set for good
    /// once no desktop dialog answered, so no later open waits for one again).
    pub in_window_file_picker: bool,
    /// The folder of the file or folder chosen last in a file dialog: the next one opens there.
    pub last_folder: Option<std::path::PathBuf>,
    /// The side panels can be hidden (View menu) to give the charts room.
    pub show_setup_panel: bool,
    pub show_draw_panel: bool,
    /// The built-in dataset picked in the Data tab.
    pub dataset: String,
    /// Points and noise of the generated 2-D sets.
    pub toy: crate::data::ToyOptions,
}

impl Default for PersistedState {
    fn default() -> Self {
        let start = preset(FIRST_PRESET).map(|p| (p.spec, p.optimizer, p.batch_size));
        let mut training = TrainConfig::default();
        let stack = match start {
            Some((spec, optimizer, batch_size)) => {
                training.optimizer = optimizer;
                training.batch_size = batch_size;
                spec
            }
            None => ModelSpec::new(Vec::new()),
        };
        Self {
            stack,
            training,
            charts: ChartSettings::default(),
            brush_radius: DEFAULT_BRUSH_RADIUS,
            show_frame_stats: false,
            in_window_file_picker: false,
            last_folder: None,
            show_setup_panel: true,
            show_draw_panel: true,
            dataset: "mnist".into(),
            toy: crate::data::ToyOptions::default(),
        }
    }
}

/// What the designer edits and undo restores: the stack and the settings a preset sets.
#[derive(Clone, Debug, PartialEq)]
pub struct Design {
    pub stack: ModelSpec,
    pub optimizer: OptimizerConfig,
    pub batch_size: usize,
}

impl PersistedState {
    pub fn design(&self) -> Design {
        Design {
            stack: self.stack.clone(),
            optimizer: self.training.optimizer.clone(),
            batch_size: self.training.batch_size,
        }
    }

    /// How built-in data is prepared for the window: the defaults, with the 2-D sets' points
    /// and noise as the person set them.
    pub fn data_options(&self) -> crate::data::DataOptions {
        crate::data::DataOptions {
            toy: self.toy,
            ..Default::default()
        }
    }

    /// The state with every value a launch could trip over put back to its default: a stack
    /// longer than LayerLab builds, hyperparameters training refuses, a brush or smoothing that
    /// is not a number. Returns whether anything changed.
    pub fn sanitised(mut self) -> (Self, bool) {
        let defaults = Self::default();
        let mut changed = false;
        let mut reset = |bad: bool| {
            changed |= bad;
            bad
        };
        if reset(self.stack.layers.len() > crate::spec::MAX_LAYERS) {
            self.stack = defaults.stack.clone();
        }
        if reset(self.training.optimizer.validate().is_err()) {
            self.training.optimizer = defaults.training.optimizer.clone();
        }
        let t = &self.training;
        if reset(t.batch_size == 0 || t.batch_size > crate::train::MAX_BATCH_SIZE) {
            self.training.batch_size = defaults.training.batch_size;
        }
        if reset(self.training.epochs == 0 || self.training.epochs > crate::train::MAX_EPOCHS) {
            self.training.epochs = defaults.training.epochs;
        }
        if reset(self.training.validation_size > 50_000) {
            self.training.validation_size = defaults.training.validation_size;
        }
        if reset(self.training.train_limit == Some(0) || self.training.test_limit == Some(0)) {
            self.training.train_limit = None;
            self.training.test_limit = None;
        }
        if reset(!(self.brush_radius.is_finite() && (0.005..=0.2).contains(&self.brush_radius))) {
            self.brush_radius = defaults.brush_radius;
        }
        let toy = self.toy;
        if reset(
            !((10..=crate::data::MAX_TOY_SAMPLES).contains(&toy.samples)
                && toy.noise.is_finite()
                && (0.0..=1.0).contains(&toy.noise)),
        ) {
            self.toy = defaults.toy;
        }
        if reset(crate::data::builtin(&self.dataset).is_none()) {
            self.dataset = defaults.dataset.clone();
        }
        if reset(
            !(self.charts.smoothing.is_finite() && (0.0..1.0).contains(&self.charts.smoothing)),
        ) {
            self.charts.smoothing = defaults.charts.smoothing;
        }
        (self, changed)
    }

    pub fn set_design(&mut self, design: Design) {
        self.stack = design.stack;
        self.training.optimizer = design.optimizer;
        self.training.batch_size = design.batch_size;
    }
}
