//! Messages for the person at the window: results of background work and errors. Each
//! expires (errors stay longer), a repeated message is shown once with a count, and each
//! has a dismiss button.

use std::time::{Duration, Instant};

use eframe::egui;

use crate::app::views::tokens;

/// How long a message stays on screen.
const INFO_FOR: Duration = Duration::from_secs(8);
const ERROR_FOR: Duration = Duration::from_secs(30);
/// Messages shown at once, newest last.
const MAX_SHOWN: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

#[derive(Clone, Debug)]
pub struct Notification {
    pub level: Level,
    pub text: String,
    /// How many times this message was raised while shown.
    pub count: usize,
    pub shown_at: Instant,
    /// What the message is about, when a newer message on it replaces it (the checkpoint
    /// being tried: stepping through twenty leaves one line, not twenty).
    pub topic: Option<&'static str>,
}

impl Notification {
    fn expired(&self, now: Instant) -> bool {
        let lifetime = match self.level {
            Level::Info => INFO_FOR,
            Level::Error => ERROR_FOR,
        };
        now.duration_since(self.shown_at) >= lifetime
    }
}

#[derive(Default)]
pub struct Notifications {
    items: Vec<Notification>,
}

impl Notifications {
    pub fn info(&mut self, text: impl Into<String>) {
        self.push(Level::Info, text.into(), Instant::now());
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.push(Level::Error, text.into(), Instant::now());
    }

    /// An info that replaces the one shown on the same `topic`, if any.
    pub fn info_on(&mut self, topic: &'static str, text: impl Into<String>) {
        self.items.retain(|n| n.topic != Some(topic));
        self.push(Level::Info, text.into(), Instant::now());
        if let Some(newest) = self.items.last_mut() {
            newest.topic = Some(topic);
        }
    }

    /// Dismisses every message.
    pub fn clear(&mut self) {
        self.items.clear();
    }

    fn push(&mut self, level: Level, text: String, now: Instant) {
        // The same message again: one line, counted, shown afresh as the newest.
        if let Some(i) = self
            .items
            .iter()
            .position(|n| n.level == level && n.text == text)
        {
            let mut item = self.items.remove(i);
            item.count += 1;
            item.shown_at = now;
            self.items.push(item);
        } else {
            self.items.push(Notification {
                level,
                text,
                count: 1,
                shown_at: now,
                topic: None,
            });
        }
        let len = self.items.len();
        if len > MAX_SHOWN {
            self.items.drain(..len - MAX_SHOWN);
        }
    }

    fn expire(&mut self, now: Instant) {
        self.items.retain(|n| !n.expired(now));
    }

    /// All messages still on screen, newest last.
    pub fn current(&self) -> impl Iterator<Item = &Notification> {
        let now = Instant::now();
        self.items.iter().filter(move |n| !n.expired(now))
    }

    /// Shows the messages, errors in red, each with a dismiss button; a message longer than
    /// the window wraps onto more lines instead of running off its edge.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        self.expire(Instant::now());
        let mut dismissed = None;
        for (i, item) in self.items.iter().enumerate() {
            ui.horizontal_top(|ui| {
                if ui
                    .small_button("x")
                    .on_hover_text("Dismiss this message")
                    .clicked()
                {
                    dismissed = Some(i);
                }
                let text = if item.count > 1 {
                    format!("{} (x{})", item.text, item.count)
                } else {
                    item.text.clone()
                };
                let text = match item.level {
                    Level::Info => egui::RichText::new(text),
                    Level::Error => egui::RichText::new(text).color(tokens::ERROR),
                };
                ui.add(egui::Label::new(text).wrap());
            });
        }
        if let Some(i) = dismissed {
            self.items.remove(i);
        }
        // Wake up when the oldest message is due to go.
        let now = Instant::now();
        if let Some(next) = self
            .items
            .iter()
            .map(|n| {
                let lifetime = if n.level == Level::Info {
                    INFO_FOR
                } else {
                    ERROR_FOR
                };
                (n.shown_at + lifetime).saturating_duration_since(now)
            })
            .min()
        {
            ui.ctx().request_repaint_after(next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_expire_repeat_as_one_and_keep_the_newest() {
        let mut notifications = Notifications::default();
        let t0 = Instant::now();
        notifications.push(Level::Error, "Nothing to export yet".into(), t0);
        notifications.push(Level::Error, "Nothing to export yet".into(), t0);
        notifications.push(Level::Info, "Saved a.safetensors".into(), t0);
        assert_eq!(notifications.items.len(), 2);
        assert_eq!(notifications.items[0].count, 2);
        // The info goes after 8 s, the error after 30 s.
        notifications.expire(t0 + Duration::from_secs(9));
        assert_eq!(notifications.items.len(), 1);
        assert_eq!(notifications.items[0].level, Level::Error);
        notifications.expire(t0 + Duration::from_secs(31));
        assert!(notifications.items.is_empty());
        for i in 0..5 {
            notifications.push(Level::Info, format!("message {i}"), t0);
        }
        let texts: Vec<&str> = notifications
            .items
            .iter()
            .map(|n| n.text.as_str())
            .collect();
        assert_eq!(texts, ["message 2", "message 3", "message 4"]);
    }

    #[test]
    fn a_message_on_a_topic_replaces_the_last_one_on_it() {
        let mut notifications = Notifications::default();
        notifications.info("Saved a.safetensors");
        notifications.info_on("try", "Trying run a at epoch 1");
        notifications.info_on("try", "Trying run a at epoch 2");
        notifications.info_on("try", "Trying run a at epoch 3");
        let texts: Vec<&str> = notifications.current().map(|n| n.text.as_str()).collect();
        assert_eq!(texts, ["Saved a.safetensors", "Trying run a at epoch 3"]);
    }
}
