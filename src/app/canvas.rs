//! The drawing canvas: strokes are data in [0, 1] coordinates, painted through a
//! `RectTransform`, rasterised and preprocessed by the engine (the same code `predict` uses).

use eframe::egui::{self, emath::RectTransform, Pos2, Rect, Sense, Stroke, Vec2};

use super::command::AppCommand;
use super::tokens;
use crate::preprocess::Stroke as InkStroke;

/// Accessible name of the canvas (screen readers, UI tests).
pub const CANVAS_LABEL: &str = "Drawing canvas";

/// Strokes drawn so far; the last one grows while the mouse is held.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Canvas {
    pub strokes: Vec<InkStroke>,
}

impl Canvas {
    pub fn clear(&mut self) {
        self.strokes.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.strokes.iter().all(|s| s.is_empty())
    }
}

/// Shows the canvas; emits `PredictCanvas` whenever the ink changes.
pub fn canvas_ui(
    ui: &mut egui::Ui,
    canvas: &mut Canvas,
    brush_radius: f32,
    commands: &mut Vec<AppCommand>,
) -> egui::Response {
    let (response, painter) = ui.allocate_painter(Vec2::splat(tokens::CANVAS_SIDE), Sense::drag());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Canvas, true, CANVAS_LABEL));
    let response = response.on_hover_text("Draw a digit with the mouse");
    let to_screen = RectTransform::from_to(
        Rect::from_min_size(Pos2::ZERO, Vec2::splat(1.0)),
        response.rect,
    );
    let from_screen = to_screen.inverse();

    if response.drag_started() {
        canvas.strokes.push(Vec::new());
    }
    if response.dragged() {
        if let Some(pointer) = response.interact_pointer_pos() {
            let p = from_screen * pointer;
            let point = [p.x.clamp(0.0, 1.0), p.y.clamp(0.0, 1.0)];
            if let Some(stroke) = canvas.strokes.last_mut() {
                if stroke.last() != Some(&point) {
                    stroke.push(point);
                    commands.push(AppCommand::PredictCanvas);
                }
            }
        }
    }

    painter.rect_filled(response.rect, 4.0, tokens::CANVAS_BACKGROUND);
    let width = brush_radius * 2.0 * response.rect.width();
    for stroke in &canvas.strokes {
        let points: Vec<Pos2> = stroke
            .iter()
            .map(|p| to_screen * Pos2::new(p[0], p[1]))
            .collect();
        match points.len() {
            0 => {}
            1 => {
                painter.circle_filled(points[0], width / 2.0, tokens::CANVAS_INK);
            }
            _ => {
                for &p in &points {
                    painter.circle_filled(p, width / 2.0, tokens::CANVAS_INK);
                }
                painter.add(egui::Shape::line(
                    points,
                    Stroke::new(width, tokens::CANVAS_INK),
                ));
            }
        }
    }
    response
}
