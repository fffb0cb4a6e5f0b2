//! How much of the window each part may take, and a first window that fits the screen.

use eframe::egui::{Pos2, Rect, Vec2};

use crate::app::views::tokens;

/// The smallest window LayerLab is laid out for.
pub const SMALLEST_WINDOW: Vec2 = Vec2::new(1000.0, 640.0);

/// Share of the window's width the setup panel (left) and the try panel (right) may grow to:
/// together they leave the centre (charts, evaluation, inside) at least 38% of it.
const SETUP_SHARE: f32 = 0.34;
const TRY_SHARE: f32 = 0.28;

/// Room kept free below a first window for a desktop's panels and task bar, which the
/// monitor's size does not tell apart from the work area.
const DESKTOP_RESERVE: f32 = 48.0;

/// The widest the setup and try panels may be in a window `width` points wide: a wide
/// dataset's form or an opened section scrolls inside its panel instead of covering the
/// centre (at 1000 points: 340 and 300, leaving the centre 360).
pub fn side_panel_max_widths(width: f32) -> (f32, f32) {
    let setup =
        (width * SETUP_SHARE).clamp(tokens::SIDE_PANEL_MIN_WIDTH, tokens::SIDE_PANEL_MAX_WIDTH);
    let try_panel =
        (width * TRY_SHARE).clamp(tokens::CANVAS_PANEL_WIDTH, tokens::CANVAS_PANEL_MAX_WIDTH);
    (setup, try_panel)
}

/// Where a window whose frame is `outer` (its content `inner` points) should go so that it
/// fits on a `monitor`: `None` when it already does, else the new content size (no smaller
/// than `min_inner`) and the frame's top-left corner, centred.
pub fn fit_on_monitor(
    outer: Rect,
    inner: Vec2,
    min_inner: Vec2,
    monitor: Vec2,
) -> Option<(Vec2, Pos2)> {
    let usable = Rect::from_min_size(Pos2::ZERO, monitor - Vec2::new(0.0, DESKTOP_RESERVE));
    if usable.contains_rect(outer) {
        return None;
    }
    let frame = (outer.size() - inner).max(Vec2::ZERO);
    let fitted = (usable.size() - frame).min(inner).max(min_inner);
    let corner = ((usable.size() - fitted - frame) * 0.5).max(Vec2::ZERO);
    Some((fitted, corner.to_pos2()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_panels_leave_the_centre_room_at_the_smallest_window() {
        let (setup, try_panel) = side_panel_max_widths(1000.0);
        assert!(1000.0 - setup - try_panel >= 360.0, "{setup} {try_panel}");
        assert_eq!(
            side_panel_max_widths(3000.0),
            (tokens::SIDE_PANEL_MAX_WIDTH, tokens::CANVAS_PANEL_MAX_WIDTH)
        );
    }

    #[test]
    fn a_first_window_taller_than_the_screen_is_shrunk_and_moved_onto_it() {
        // 1440x900 content with a 30-point title bar placed at y=20 on a 1440x900 screen.
        let outer = Rect::from_min_size(Pos2::new(0.0, 20.0), Vec2::new(1440.0, 930.0));
        let (inner, corner) = fit_on_monitor(
            outer,
            Vec2::new(1440.0, 900.0),
            Vec2::new(1000.0, 640.0),
            Vec2::new(1440.0, 900.0),
        )
        .unwrap();
        assert_eq!(inner, Vec2::new(1440.0, 900.0 - DESKTOP_RESERVE - 30.0));
        assert_eq!(corner, Pos2::ZERO);
        let moved = Rect::from_min_size(corner, inner + Vec2::new(0.0, 30.0));
        assert!(moved.max.y <= 900.0 - DESKTOP_RESERVE);
        // A window that fits stays where the person put it.
        let fits = Rect::from_min_size(Pos2::new(100.0, 50.0), Vec2::new(1000.0, 670.0));
        let screen = Vec2::new(1920.0, 1080.0);
        assert_eq!(
            fit_on_monitor(fits, Vec2::new(1000.0, 640.0), Vec2::ZERO, screen),
            None
        );
        // Never below the smallest size the window allows.
        let tiny = fit_on_monitor(
            outer,
            Vec2::new(1440.0, 900.0),
            Vec2::new(1000.0, 640.0),
            Vec2::new(800.0, 600.0),
        );
        assert_eq!(tiny.unwrap().0, Vec2::new(1000.0, 640.0));
    }
}
