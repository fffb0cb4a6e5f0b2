//! What the window draws: the panels and their widgets, the dialogs, the notifications,
//! and the design tokens they share. Each file draws; none runs heavy work.

pub(super) mod augmentation_panel;
pub(super) mod canvas;
pub(super) mod charts;
pub(super) mod data_panel;
pub(super) mod designer_panel;
pub(super) mod dialogs;
pub(super) mod evaluation_panel;
pub(super) mod file_dialog;
pub(super) mod health_panel;
pub(super) mod inside_panel;
pub(super) mod inside_pictures;
pub(super) mod lr_finder_panel;
pub(super) mod notifications;
pub(super) mod optimizer_panel;
pub(super) mod panels;
pub(super) mod plot_axes;
pub(super) mod prediction_panel;
pub(super) mod row_form;
pub(super) mod run_curves;
pub(super) mod run_hparams;
pub(super) mod runs_panel;
pub(super) mod stack_editor;
pub(super) mod table_import;
pub(super) mod text_measure;
pub(super) mod tokens;
pub(super) mod top_bar;
pub(super) mod window_geometry;
