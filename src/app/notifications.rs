//! Messages for the person at the window: results of background work and errors.

use std::time::{Duration, Instant};

use eframe::egui;

use super::tokens;

/// How long a message stays on screen.
const SHOW_FOR: Duration = Duration::from_secs(8);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

#[derive(Clone, Debug)]
pub struct Notification {
    pub level: Level,
    pub text: String,
    pub shown_at: Instant,
}

#[derive(Default)]
pub struct Notifications {
    items: Vec<Notification>,
}

impl Notifications {
    pub fn info(&mut self, text: impl Into<String>) {
        self.push(Level::Info, text.into());
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.push(Level::Error, text.into());
    }

    fn push(&mut self, level: Level, text: String) {
        self.items.push(Notification {
            level,
            text,
            shown_at: Instant::now(),
        });
    }

    /// All messages still on screen, newest last.
    pub fn current(&self) -> impl Iterator<Item = &Notification> {
        self.items.iter()
    }

    /// Shows the newest messages in one line each; errors in red.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        self.items
            .retain(|n| n.shown_at.elapsed() < SHOW_FOR || n.level == Level::Error);
        // Errors stay until the next message replaces them.
        let len = self.items.len();
        if len > 3 {
            self.items.drain(..len - 3);
        }
        for item in &self.items {
            match item.level {
                Level::Info => ui.label(&item.text),
                Level::Error => ui.colored_label(tokens::ERROR, &item.text),
            };
        }
        if self.items.iter().any(|n| n.level == Level::Info) {
            ui.ctx().request_repaint_after(Duration::from_millis(500));
        }
    }
}
