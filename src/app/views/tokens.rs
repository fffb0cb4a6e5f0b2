//! Named colours and sizes, so widgets do not carry literals.

use eframe::egui::Color32;

pub const TRAIN_LOSS: Color32 = Color32::from_rgb(0x4e, 0x9a, 0xf1);
/// The raw per-batch series is drawn faint behind its smoothed line.
pub const RAW_SERIES_OPACITY: f32 = 0.3;
pub const EPOCH_POINT_RADIUS: f32 = 4.0;
pub const VALIDATION: Color32 = Color32::from_rgb(0xf1, 0x8f, 0x3b);
pub const EPOCH_TRAIN: Color32 = Color32::from_rgb(0x59, 0xc2, 0x6b);
pub const EPOCH_MARK: Color32 = Color32::from_rgba_premultiplied(0x40, 0x40, 0x40, 0x60);
/// Where early stopping ended a run.
pub const STOPPED_MARK: Color32 = Color32::from_rgb(0xe0, 0x4f, 0x4f);
/// Checkpoints: triangles on a chart's x axis.
pub const CHECKPOINT_MARK: Color32 = Color32::from_rgb(0x9a, 0x6e, 0xd8);
pub const CHECKPOINT_MARK_RADIUS: f32 = 5.0;
pub const ERROR: Color32 = Color32::from_rgb(0xe0, 0x4f, 0x4f);
pub const OK: Color32 = Color32::from_rgb(0x59, 0xc2, 0x6b);
pub const PREDICTED_BAR: Color32 = Color32::from_rgb(0x4e, 0x9a, 0xf1);
pub const CANVAS_BACKGROUND: Color32 = Color32::BLACK;
pub const CANVAS_INK: Color32 = Color32::WHITE;

/// Width of the left (setup) and right (canvas) panels, in points.
pub const SIDE_PANEL_WIDTH: f32 = 420.0;
pub const SIDE_PANEL_MIN_WIDTH: f32 = 300.0;
pub const SIDE_PANEL_MAX_WIDTH: f32 = 560.0;
pub const CANVAS_PANEL_WIDTH: f32 = 300.0;
pub const CANVAS_PANEL_MAX_WIDTH: f32 = 420.0;
/// Side of the drawing canvas in points.
pub const CANVAS_SIDE: f32 = 280.0;
/// Side of one preview thumbnail (MNIST's 28 pixels at 2x).
pub const THUMBNAIL_SIDE: f32 = 42.0;
/// Least width of a confusion-matrix cell.
pub const CONFUSION_CELL_WIDTH: f32 = 34.0;

/// The two classes of the 2-D sets, as TensorFlow Playground colours them.
pub const CLASS_ZERO: Color32 = Color32::from_rgb(245, 147, 34);
pub const CLASS_ONE: Color32 = Color32::from_rgb(8, 119, 189);
/// Advice that does not stop training.
pub const WARNING: Color32 = Color32::from_rgb(0xe0, 0xb0, 0x3f);

/// Colours of successive series: a layer's in the health view, a ticked run's in the Runs tab.
pub const SERIES_COLOURS: [Color32; 6] = [
    Color32::from_rgb(0x4e, 0x9a, 0xf1),
    Color32::from_rgb(0xf1, 0x8f, 0x3b),
    Color32::from_rgb(0x59, 0xc2, 0x6b),
    Color32::from_rgb(0xe0, 0x4f, 0x4f),
    Color32::from_rgb(0xb0, 0x7a, 0xe0),
    Color32::from_rgb(0xe0, 0xb0, 0x3f),
];
