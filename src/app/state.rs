//! What the window remembers between launches (eframe persistence).

use serde::{Deserialize, Serialize};

use crate::spec::{preset, ModelSpec};
use crate::train::TrainConfig;

use super::charts::ChartSettings;

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
        }
    }
}
