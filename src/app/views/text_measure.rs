//! How wide a text is drawn, for layouts that choose between beside and under before drawing.

use eframe::egui;

/// The width of `text` laid out on one line in `style`, in points.
pub(super) fn text_width(ui: &egui::Ui, text: &str, style: egui::TextStyle) -> f32 {
    let font = style.resolve(ui.style());
    ui.fonts_mut(|fonts| {
        fonts
            .layout_no_wrap(text.to_owned(), font, egui::Color32::WHITE)
            .size()
            .x
    })
}
