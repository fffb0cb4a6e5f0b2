//! eframe's side of the window: `logic` (background results, before drawing) and `ui` (the
//! panels, then the commands they pushed), and how often the window repaints.

use std::time::{Duration, Instant};

use eframe::egui::{self};

use super::{frame_stats, views::tokens};
use super::{DatasetSlot, LayerLabApp};

/// How often the window repaints while training.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RepaintRates {
    /// Least interval between repaints caused by training events (the charts).
    pub charts: Duration,
    /// Interval while nothing new came (the status line's clock).
    pub status: Duration,
}

impl RepaintRates {
    /// 4 Hz charts and a 2 Hz status line on a GPU. On a software renderer (Mesa's lavapipe,
    /// a VM) every frame is rasterised on the CPU cores training needs, about 100 ms of CPU
    /// time for a 1440x900 frame: at 4 Hz `perf` put its threads at 30% of the samples during
    /// a cnn epoch (2,990 img/s against the CLI's 4,325), at 1 Hz at 7% (the window 8-16%
    /// behind the CLI). There the window repaints every 2 seconds while training: 5-8% behind
    /// (`scripts/measure_window_training.sh cnn`). Input still repaints at once.
    pub fn for_renderer(software: bool) -> Self {
        if software {
            Self {
                charts: Duration::from_secs(2),
                status: Duration::from_secs(2),
            }
        } else {
            Self {
                charts: Duration::from_millis(250),
                status: Duration::from_millis(500),
            }
        }
    }
}

impl LayerLabApp {
    /// A window restored or first placed partly off its monitor (1440x900 content on a
    /// 1440x900 screen puts the message bar below it) is shrunk and moved onto it, once, as
    /// soon as the monitor's size is known.
    fn fit_window_on_monitor(&mut self, ctx: &egui::Context) {
        if self.window_fitted {
            return;
        }
        let (outer, inner, monitor) = ctx.input(|i| {
            let viewport = i.viewport();
            (
                viewport.outer_rect,
                viewport.inner_rect,
                viewport.monitor_size,
            )
        });
        let (Some(outer), Some(inner), Some(monitor)) = (outer, inner, monitor) else {
            return;
        };
        self.window_fitted = true;
        use super::views::window_geometry::{fit_on_monitor, SMALLEST_WINDOW};
        if let Some((size, corner)) = fit_on_monitor(outer, inner.size(), SMALLEST_WINDOW, monitor)
        {
            ctx.send_viewport_cmd(egui::ViewportCommand::InnerSize(size));
            ctx.send_viewport_cmd(egui::ViewportCommand::OuterPosition(corner));
        }
    }
}

impl eframe::App for LayerLabApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.frame_started = Some(Instant::now());
        self.frame_cpu_started = frame_stats::thread_cpu_time();
        self.poll_background(ctx);
        self.handle_close_request(ctx);
        self.fit_window_on_monitor(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.handle_shortcuts(&ctx);
        self.handle_dropped_files(&ctx);
        egui::Panel::top("top_bar").show(ui, |ui| self.top_bar_ui(ui));
        egui::Panel::bottom("status_bar").show(ui, |ui| self.notifications.ui(ui));
        // Collapsible: drag a panel's edge shut, or use the View menu.
        let (mut show_setup, mut show_draw) =
            (self.state.show_setup_panel, self.state.show_draw_panel);
        // Side panels start narrower in a small window, leaving the charts room.
        let width = ctx.content_rect().width();
        let (setup_max, try_max) = super::views::window_geometry::side_panel_max_widths(width);
        egui::Panel::left("setup")
            .resizable(true)
            .default_size(
                (width * 0.3).clamp(tokens::SIDE_PANEL_MIN_WIDTH, tokens::SIDE_PANEL_WIDTH),
            )
            .min_size(tokens::SIDE_PANEL_MIN_WIDTH)
            .max_size(setup_max)
            .show_collapsible(ui, &mut show_setup, |ui| self.setup_panel_ui(ui));
        egui::Panel::right("canvas")
            .resizable(true)
            .default_size(tokens::CANVAS_PANEL_WIDTH)
            .min_size(tokens::CANVAS_PANEL_WIDTH)
            .max_size(try_max)
            .show_collapsible(ui, &mut show_draw, |ui| {
                // Both ways: a wide row form scrolls inside the panel. Content wider than a
                // right panel otherwise makes egui 0.37 report the panel narrower than it is
                // (it keeps the overflowing edge), and the centre is drawn over the panel.
                egui::ScrollArea::both().show(ui, |ui| {
                    let origin = self.current.as_ref().map(|c| c.origin.as_str());
                    let dataset = match &self.dataset {
                        DatasetSlot::Ready(dataset, _) => Some(dataset.as_ref()),
                        DatasetSlot::Loading { .. } | DatasetSlot::Failed(_) => None,
                    };
                    self.prediction.ui(
                        ui,
                        dataset,
                        origin,
                        &mut self.state.brush_radius,
                        &mut self.commands,
                    );
                });
            });
        (self.state.show_setup_panel, self.state.show_draw_panel) = (show_setup, show_draw);
        egui::CentralPanel::default().show(ui, |ui| self.main_panel_ui(ui));
        self.frame_stats_ui(ui);
        self.dialogs_ui(&ctx);

        // Finished edits become undo steps once no pointer button is held.
        if !ctx.input(|i| i.pointer.any_down()) {
            self.editor.commit(&self.state.design());
        }
        let commands = std::mem::take(&mut self.commands);
        for command in commands {
            self.run_command(&ctx, command);
        }
        if let Some(started) = self.frame_started.take() {
            self.frame_stats
                .record(started.elapsed().as_secs_f32() * 1000.0);
        }
        if let (Some(started), Some(now)) = (
            self.frame_cpu_started.take(),
            frame_stats::thread_cpu_time(),
        ) {
            self.frame_cpu_stats
                .record(now.saturating_sub(started).as_secs_f32() * 1000.0);
        }
        self.log_frame_stats();
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_software_renderer_repaints_less_while_training() {
        let gpu = RepaintRates::for_renderer(false);
        assert_eq!(gpu.charts, Duration::from_millis(250));
        let cpu = RepaintRates::for_renderer(true);
        assert!(cpu.charts >= Duration::from_secs(2) && cpu.status >= Duration::from_secs(2));
    }
}
