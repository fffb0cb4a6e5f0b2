//! The drawing canvas: strokes are data in [0, 1] coordinates, painted through a
//! `RectTransform`, rasterised and preprocessed by the engine (the same code `predict` uses).
//!
//! Strokes are built from the frame's input events, not from the pointer's position once a
//! frame: the press point, every `PointerMoved` egui reports and the release point all land
//! in the stroke, so a fast flick or a slow frame loses no ink, and a click is a dot.

use eframe::egui::{self, emath::RectTransform, Event, PointerButton, Pos2, Rect, Sense, Vec2};

use crate::app::command::AppCommand;
use crate::app::views::tokens;
use crate::preprocess::{Stroke, ERASER_SCALE};

/// Accessible name of the canvas (screen readers, UI tests).
pub const CANVAS_LABEL: &str = "Drawing canvas";

/// The canvas's widget id: keyboard shortcuts act on the drawing while it has focus.
pub fn canvas_id() -> egui::Id {
    egui::Id::unique("layerlab-drawing-canvas")
}

/// Strokes drawn so far; the last one grows while a button is held.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Canvas {
    pub strokes: Vec<Stroke>,
    /// Primary-button strokes erase instead of drawing (the right button always erases).
    pub eraser: bool,
    /// The button drawing the last stroke, while it is held.
    drawing_with: Option<PointerButton>,
    /// The drawing the last Clear removed, for undo to bring back.
    cleared: Vec<Stroke>,
}

impl Canvas {
    /// Clear (the button, Delete): the drawing goes, and undo brings it back.
    pub fn clear(&mut self) {
        if !self.strokes.is_empty() {
            self.cleared = std::mem::take(&mut self.strokes);
        }
        self.drawing_with = None;
    }

    /// Empties the canvas for good (an opened image takes its place).
    pub fn reset(&mut self) {
        self.strokes.clear();
        self.cleared.clear();
        self.drawing_with = None;
    }

    /// Whether undo has something to take back: a stroke, or a cleared drawing.
    pub fn can_undo(&self) -> bool {
        !self.strokes.is_empty() || !self.cleared.is_empty()
    }

    /// Whether any ink is left (erasing strokes alone leave none).
    pub fn is_empty(&self) -> bool {
        self.strokes.iter().all(|s| s.erase || s.points.is_empty())
    }

    pub fn is_drawing(&self) -> bool {
        self.drawing_with.is_some()
    }

    /// Removes the last stroke (ink or eraser); false when there was none.
    pub fn undo_stroke(&mut self) -> bool {
        self.drawing_with = None;
        if self.strokes.is_empty() && !self.cleared.is_empty() {
            self.strokes = std::mem::take(&mut self.cleared);
            return true;
        }
        self.strokes.pop().is_some()
    }

    /// Feeds one input event; `to_canvas` maps screen points into [0, 1]. Returns whether the
    /// ink changed. `pressed_here` says whether a press at that point hits the canvas.
    #[allow(clippy::wildcard_enum_match_arm)] // egui::Event is foreign and large.
    fn take_event(
        &mut self,
        event: &Event,
        to_canvas: RectTransform,
        pressed_here: impl Fn(Pos2) -> bool,
    ) -> bool {
        let point = |pos: Pos2| {
            let p = to_canvas * pos;
            [p.x.clamp(0.0, 1.0), p.y.clamp(0.0, 1.0)]
        };
        match *event {
            Event::PointerButton {
                pos,
                button: button @ (PointerButton::Primary | PointerButton::Secondary),
                pressed: true,
                ..
            } if self.drawing_with.is_none() && pressed_here(pos) => {
                self.drawing_with = Some(button);
                self.strokes.push(Stroke {
                    points: vec![point(pos)],
                    erase: self.eraser || button == PointerButton::Secondary,
                });
                true
            }
            Event::PointerMoved(pos) if self.drawing_with.is_some() => self.extend(point(pos)),
            Event::PointerButton {
                pos,
                button,
                pressed: false,
                ..
            } if self.drawing_with == Some(button) => {
                let changed = self.extend(point(pos));
                self.drawing_with = None;
                changed
            }
            Event::PointerGone => {
                self.drawing_with = None;
                false
            }
            // egui's events are many and grow between versions; the canvas needs only these.
            _ => false,
        }
    }

    fn extend(&mut self, point: [f32; 2]) -> bool {
        match self.strokes.last_mut() {
            Some(stroke) if stroke.points.last() != Some(&point) => {
                stroke.points.push(point);
                true
            }
            _ => false,
        }
    }
}

/// Shows the canvas; emits `PredictCanvas` whenever the ink changes.
pub fn canvas_ui(
    ui: &mut egui::Ui,
    canvas: &mut Canvas,
    brush_radius: f32,
    commands: &mut Vec<AppCommand>,
) -> egui::Response {
    let (rect, _) = ui.allocate_exact_size(Vec2::splat(tokens::CANVAS_SIDE), Sense::hover());
    let response = ui.interact(rect, canvas_id(), Sense::click_and_drag());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Canvas, true, CANVAS_LABEL));
    let to_screen = RectTransform::from_to(Rect::from_min_size(Pos2::ZERO, Vec2::splat(1.0)), rect);
    let to_canvas = to_screen.inverse();

    // Only presses that land on the canvas itself start a stroke (not a menu above it).
    let layer = ui.layer_id();
    let clip = ui.clip_rect();
    let ctx = ui.ctx().clone();
    let pressed_here =
        |pos: Pos2| rect.contains(pos) && clip.contains(pos) && ctx.layer_id_at(pos) == Some(layer);
    let events = ui.input(|i| i.events.clone());
    let mut changed = false;
    for event in &events {
        changed |= canvas.take_event(event, to_canvas, pressed_here);
    }
    // Drawing focuses the canvas (so Ctrl+Z undoes a stroke), also when the whole stroke
    // came and went within one frame and egui saw no press "on" the widget.
    if changed {
        commands.push(AppCommand::PredictCanvas);
        response.request_focus();
    }
    if response.is_pointer_button_down_on() || response.clicked() || response.secondary_clicked() {
        response.request_focus();
    }
    // The focused canvas keeps left and right (they step through a run's checkpoints while
    // one is tried) instead of egui moving the focus to a neighbouring widget with them.
    ui.memory_mut(|m| {
        m.set_focus_lock_filter(
            canvas_id(),
            egui::EventFilter {
                horizontal_arrows: true,
                ..Default::default()
            },
        );
    });
    let response = response.on_hover_text(
        "Draw a digit: left button draws, right button erases. Ctrl+Z undoes the last stroke.",
    );

    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 4.0, tokens::CANVAS_BACKGROUND);
    if response.has_focus() {
        painter.rect_stroke(
            rect,
            4.0,
            ui.visuals().selection.stroke,
            egui::StrokeKind::Inside,
        );
    }
    let brush_width = brush_radius * 2.0 * rect.width();
    // Spline points about a screen point apart.
    let step = 1.0 / rect.width().max(1.0);
    for stroke in &canvas.strokes {
        let (colour, width) = if stroke.erase {
            (tokens::CANVAS_BACKGROUND, brush_width * ERASER_SCALE)
        } else {
            (tokens::CANVAS_INK, brush_width)
        };
        let points: Vec<Pos2> = stroke
            .smoothed(step)
            .iter()
            .map(|p| to_screen * Pos2::new(p[0], p[1]))
            .collect();
        match points.len() {
            0 => {}
            1 => {
                painter.circle_filled(points[0], width / 2.0, colour);
            }
            _ => {
                // Round caps and joins: a dot at both ends, the line between.
                painter.circle_filled(points[0], width / 2.0, colour);
                painter.circle_filled(points[points.len() - 1], width / 2.0, colour);
                painter.add(egui::Shape::line(points, egui::Stroke::new(width, colour)));
            }
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(x: f32, y: f32, button: PointerButton, pressed: bool) -> Event {
        Event::PointerButton {
            pos: Pos2::new(x, y),
            button,
            pressed,
            modifiers: egui::Modifiers::NONE,
        }
    }

    #[test]
    fn one_frame_of_events_makes_one_whole_stroke_and_a_click_a_dot() {
        // A 100x100 canvas at (10, 10).
        let to_canvas = RectTransform::from_to(
            Rect::from_min_size(Pos2::new(10.0, 10.0), Vec2::splat(100.0)),
            Rect::from_min_size(Pos2::ZERO, Vec2::splat(1.0)),
        );
        let inside = |p: Pos2| (10.0..=110.0).contains(&p.x) && (10.0..=110.0).contains(&p.y);
        let mut canvas = Canvas::default();
        for event in [
            Event::PointerMoved(Pos2::new(20.0, 60.0)), // hovering: no ink
            press(20.0, 60.0, PointerButton::Primary, true),
            Event::PointerMoved(Pos2::new(50.0, 60.0)),
            Event::PointerMoved(Pos2::new(90.0, 60.0)),
            Event::PointerMoved(Pos2::new(200.0, 60.0)), // off the canvas: clamped
            press(200.0, 60.0, PointerButton::Primary, false),
            Event::PointerMoved(Pos2::new(60.0, 60.0)), // released: no ink
            press(60.0, 30.0, PointerButton::Primary, true),
            press(60.0, 30.0, PointerButton::Primary, false),
            press(300.0, 30.0, PointerButton::Primary, true), // outside: nothing
        ] {
            canvas.take_event(&event, to_canvas, inside);
        }
        assert_eq!(canvas.strokes.len(), 2);
        assert_eq!(
            canvas.strokes[0].points,
            [[0.1, 0.5], [0.4, 0.5], [0.8, 0.5], [1.0, 0.5]]
        );
        assert_eq!(canvas.strokes[1].points, [[0.5, 0.2]]);
        assert!(!canvas.is_drawing());
        assert!(canvas.undo_stroke());
        assert_eq!(canvas.strokes.len(), 1);

        // Clear is undone whole: the drawing comes back, then strokes go one by one.
        let drawing = canvas.strokes.clone();
        canvas.clear();
        assert!(canvas.strokes.is_empty() && canvas.can_undo());
        assert!(canvas.undo_stroke());
        assert_eq!(canvas.strokes, drawing);
        assert!(canvas.undo_stroke());
        assert!(!canvas.can_undo() && !canvas.undo_stroke());
        // An opened image replaces the drawing for good.
        canvas.strokes = drawing;
        canvas.reset();
        assert!(!canvas.can_undo());
    }

    #[test]
    fn the_right_button_and_the_eraser_tool_erase() {
        let to_canvas = RectTransform::from_to(
            Rect::from_min_size(Pos2::ZERO, Vec2::splat(100.0)),
            Rect::from_min_size(Pos2::ZERO, Vec2::splat(1.0)),
        );
        let mut canvas = Canvas::default();
        canvas.take_event(
            &press(50.0, 50.0, PointerButton::Secondary, true),
            to_canvas,
            |_| true,
        );
        // The primary button's release does not end a right-button stroke.
        canvas.take_event(
            &press(50.0, 50.0, PointerButton::Primary, false),
            to_canvas,
            |_| true,
        );
        assert!(canvas.is_drawing());
        canvas.take_event(
            &press(60.0, 50.0, PointerButton::Secondary, false),
            to_canvas,
            |_| true,
        );
        assert!(canvas.strokes[0].erase);
        assert!(canvas.is_empty(), "an eraser alone leaves no ink");
        canvas.eraser = true;
        canvas.take_event(
            &press(50.0, 50.0, PointerButton::Primary, true),
            to_canvas,
            |_| true,
        );
        assert!(canvas.strokes[1].erase);
    }
}
