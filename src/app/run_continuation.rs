//! Going on from a recorded run in the window: "Continue training" on a run's model, Resume
//! of a stopped or interrupted run, and "Fork from here". The store is read on a thread
//! ([`continuation::read`]); the run starts when the answer arrives, resumed in its own record
//! or as a child whose steps go on from its parent's, and the charts go on from the run's
//! curves instead of starting empty.

use eframe::egui;

use super::command_handling::other_card;
use super::tasks::background::{repaint_waker, take_answer, BackgroundTask};
use super::tasks::continuation::{self, Continuation, ContinueHow, RunPoint};
use super::LayerLabApp;
use crate::train::TrainJob;

impl LayerLabApp {
    /// Reads what going on from `point` needs, off the UI thread; the run starts (or, for a
    /// fork, the settings are filled in) when it has arrived.
    pub(super) fn read_continuation(
        &mut self,
        ctx: &egui::Context,
        point: RunPoint,
        how: ContinueHow,
    ) {
        if self.training_active() || self.continuing.is_some() {
            return;
        }
        let Ok(store) = crate::store::default_store_path() else {
            self.notifications
                .error("There is no data folder for the run store.");
            return;
        };
        match BackgroundTask::spawn("continuation", repaint_waker(ctx), move || {
            continuation::read(store, point, how)
        }) {
            Ok(task) => self.continuing = Some(task),
            Err(error) => self
                .notifications
                .error(format!("Cannot start a thread: {error}")),
        }
    }

    /// Whether a continuation is being read (Train and Continue wait for it).
    pub fn continuation_pending(&self) -> bool {
        self.continuing.is_some()
    }

    /// The fork "Fork from here" prepared, which Train starts: "run x at epoch 2, step 120".
    pub fn pending_fork(&self) -> Option<String> {
        self.pending_fork.as_ref().map(|fork| fork.label())
    }

    /// Takes a continuation read from the store, once it has arrived.
    pub(super) fn poll_continuation(&mut self, ctx: &egui::Context) {
        let Some(answer) = take_answer(&mut self.continuing, "reading the run failed") else {
            return;
        };
        match answer {
            Ok(continuation) => {
                for note in &continuation.notes {
                    self.notifications.info(format!("Note: {note}"));
                }
                if continuation.fork_asked {
                    self.prepare_fork(continuation);
                } else {
                    self.start_continued(ctx, continuation);
                }
            }
            Err(why) => self
                .notifications
                .error(format!("Cannot continue the run: {why}")),
        }
    }

    /// "Fork from here": the designer and settings become the run's at that checkpoint; the
    /// person may change them, and Train starts the child run.
    fn prepare_fork(&mut self, fork: Continuation) {
        self.editor.commit(&self.state.design());
        self.state.stack = fork.record.stack.clone();
        if !self.training_active() {
            self.state.training = fork.record.settings.clone();
        }
        self.editor.commit(&self.state.design());
        self.notifications.info(format!(
            "Forking {}: change what you want to try in the settings, then Train starts the \
             child run (its steps go on from {}).",
            fork.label(),
            crate::display::thousands(fork.step)
        ));
        self.pending_fork = Some(Box::new(fork));
    }

    /// Forgets the fork "Fork from here" prepared: Train starts a new run again.
    pub(super) fn forget_fork(&mut self) {
        if self.pending_fork.take().is_some() {
            self.notifications
                .info("Fork forgotten: Train starts a new run.");
        }
    }

    /// Starts the run `continuation` describes: resumed as recorded, a child with the
    /// window's settings (a fork asked for), or a child trained the window's epochs further
    /// ("Continue training" on a finished run). False, with a message, when it cannot.
    pub(super) fn start_continued(
        &mut self,
        ctx: &egui::Context,
        continuation: Continuation,
    ) -> bool {
        let Some(dataset) = self.dataset().cloned() else {
            self.notifications
                .error("The dataset is still loading; try again in a moment.");
            return false;
        };
        let whose = format!("Run {}", continuation.run_name);
        let what = if continuation.resume {
            "resume it"
        } else {
            "continue from it"
        };
        let problem = if continuation.resume && continuation.record.card != dataset.card {
            other_card(&continuation.record.card, &dataset, &whose, what).or_else(|| {
                Some(format!(
                    "{whose}'s data changed since it trained (its files or options): fork it \
                     from a checkpoint to train on the data as it is now."
                ))
            })
        } else {
            other_card(&continuation.record.card, &dataset, &whose, what)
        };
        if let Some(problem) = problem {
            self.notifications.error(problem);
            return false;
        }
        let (spec, config) = if continuation.resume {
            (
                continuation.record.stack.clone(),
                continuation.record.settings.clone(),
            )
        } else if continuation.fork_asked {
            (self.state.stack.clone(), self.state.training.clone())
        } else {
            // Trained further: the window's settings, for that many epochs more.
            let mut config = self.state.training.clone();
            config.epochs += continuation.state.position.epochs_completed;
            (continuation.record.stack.clone(), config)
        };
        let target = continuation.target();
        let label = continuation.label();
        let resume = continuation.resume;
        let job = TrainJob {
            spec,
            config,
            dataset,
            initial_weights: None,
            resume_from: Some(continuation.state),
        };
        let started = self.launch_run(ctx, job, target, Some(continuation.history));
        if started {
            self.notifications.info(if resume {
                format!("Resuming {label}.")
            } else {
                format!("Training a fork of {label}.")
            });
        }
        started
    }
}
