//! What the window does with each event of a training run: charts, the run's model, the
//! messages, the evaluation at its end.

use std::sync::Arc;

use super::persistence::models_folder::{ensure_models_dir, LAST_TRAINED};
use super::{CurrentModel, EvaluationView, LayerLabApp};
use crate::export::SavedModel;
use crate::model::Weights;
use crate::train::TrainEvent;

impl LayerLabApp {
    pub(super) fn handle_training_event(&mut self, event: TrainEvent) {
        match &mut self.next_history {
            Some(next) => {
                next.record(&event);
                if matches!(event, TrainEvent::Batch(_)) {
                    // The new run has something to draw: it replaces the previous one.
                    self.history = self.next_history.take().unwrap_or_default();
                }
            }
            None => self.history.record(&event),
        }
        match event {
            TrainEvent::Snapshot { step, weights } => {
                let origin = if step == 0 {
                    "this run's starting weights (step 0)".to_string()
                } else {
                    format!(
                        "this run, live weights from step {}",
                        super::thousands(step)
                    )
                };
                self.set_run_weights(&weights, origin, false);
            }
            TrainEvent::Finished(summary) => self.on_run_finished(&summary),
            TrainEvent::Failed { message } => {
                self.notifications
                    .error(format!("Training failed: {message}"));
            }
            TrainEvent::Health(report) => {
                // Each warning once per run and layer, one message per report (the status
                // bar keeps three); the Inside tab lists them all.
                let new: Vec<_> = report
                    .warnings
                    .iter()
                    .filter(|w| self.health_warned.insert((w.kind, w.layer)))
                    .collect();
                if let Some(first) = new.first() {
                    let more = match new.len() - 1 {
                        0 => String::new(),
                        n => format!(" ({n} more in Inside, Training health)"),
                    };
                    self.notifications.error(format!(
                        "Training health, step {}: {first}{more}",
                        super::thousands(report.step)
                    ));
                }
            }
            TrainEvent::RolledBack {
                step,
                restored_step,
                loss,
                cause,
            } => {
                self.notifications.error(format!(
                    "The loss became {loss} at step {}: the weights went back to step {} and \
                     training paused. {cause}. Change it in Optimizer, then Resume.",
                    super::thousands(step),
                    super::thousands(restored_step),
                ));
            }
            TrainEvent::Epoch(epoch) => {
                // For measurements: the worker's own figure, as the CLI prints it.
                if std::env::var_os("LAYERLAB_FRAME_STATS").is_some() {
                    eprintln!(
                        "epoch {} images_per_sec={:.0} duration_secs={:.2}",
                        epoch.epoch + 1,
                        epoch.images_per_sec,
                        epoch.duration_secs
                    );
                }
            }
            TrainEvent::Started { .. }
            | TrainEvent::Batch(_)
            | TrainEvent::Checkpoint { .. }
            | TrainEvent::Paused { .. }
            | TrainEvent::Resumed { .. }
            | TrainEvent::LearningRateChanged { .. }
            | TrainEvent::Evaluating { .. } => {}
        }
    }

    /// The run's weights become the current model (and are kept on disk); its test
    /// evaluation, if it had one, is shown.
    fn on_run_finished(&mut self, summary: &crate::train::RunSummary) {
        let origin = if summary.stopped_early {
            format!(
                "this run, stopped at step {}",
                super::thousands(summary.steps)
            )
        } else {
            format!(
                "this run, finished after {} steps",
                super::thousands(summary.steps)
            )
        };
        self.set_run_weights(&summary.weights, origin, true);
        // Its end in the record (the newest checkpoint at or before it).
        let point = self.session.as_ref().and_then(|session| {
            Some(super::tasks::continuation::RunPoint {
                run_id: session.run_id()?.to_string(),
                step: summary.steps,
            })
        });
        self.set_live_run_point(point);
        self.keep_last_trained();
        if std::env::var_os("LAYERLAB_FRAME_STATS").is_some() {
            // Compared with `layerlab train --json`'s duration (measurements).
            eprintln!(
                "run_finished duration_secs={:.3} steps={} {}",
                summary.duration_secs,
                summary.steps,
                self.frame_times_line()
            );
        }
        if let Some(warning) = &summary.warning {
            self.notifications
                .error(format!("Training finished, but {warning}"));
        }
        match (&summary.test, self.live_model(), self.dataset()) {
            (Some(test), Some(current), Some(dataset)) => {
                self.evaluation = Some(EvaluationView::new(current.model.clone(), test, dataset));
                self.notifications.info(format!(
                    "Training finished: {} after {} steps",
                    describe_test(test),
                    summary.steps
                ));
            }
            _ => self.notifications.info(format!(
                "Training stopped at step {}; its weights are kept. \"Evaluate on test set\" \
                 measures them.",
                summary.steps
            )),
        }
    }

    /// Makes weights of the running session the current model (or, while a checkpoint is
    /// tried, the live model "Back to live" returns to).
    pub(super) fn set_run_weights(&mut self, weights: &Weights, origin: String, trained: bool) {
        let Some(session) = &self.session else {
            return;
        };
        let model = SavedModel {
            spec: session.spec.clone(),
            input_shape: SavedModel::input_shape_of(session.card.input_shape()),
            classes: session.card.task.outputs(),
            weights: weights.clone(),
            card: Some(session.card.clone()),
            training: Some(session.config.clone()),
        };
        match &mut self.scrub {
            Some(scrub) => {
                scrub.live = Some(CurrentModel {
                    model: Arc::new(model),
                    origin,
                    unsaved: trained,
                    run_point: None,
                });
            }
            None => self.set_current(model, origin, trained),
        }
    }

    /// `model` becomes the model the window uses (a checkpoint tried is let go).
    pub(super) fn set_current(&mut self, model: SavedModel, origin: String, unsaved: bool) {
        self.scrub = None;
        self.current = Some(CurrentModel {
            model: Arc::new(model),
            origin,
            unsaved,
            run_point: None,
        });
        self.request_prediction();
    }

    /// A checkpoint of a recorded run becomes the model the window uses, the model it
    /// replaces kept for "Back to live" (and kept up to date while its run trains).
    pub(super) fn try_checkpoint(
        &mut self,
        model: SavedModel,
        label: String,
        point: super::tasks::continuation::RunPoint,
    ) {
        let live = match self.scrub.take() {
            Some(scrub) => scrub.live,
            None => self.current.take(),
        };
        self.set_current(model, label, false);
        if let Some(current) = &mut self.current {
            current.run_point = Some(point);
        }
        self.scrub = Some(super::Scrub { live });
    }

    /// Back from a checkpoint tried to the live model (the run's newest weights).
    pub(super) fn back_to_live(&mut self) {
        if let Some(scrub) = self.scrub.take() {
            self.current = scrub.live;
            self.evaluation = None;
            self.request_prediction();
        }
    }

    /// The model "Back to live" returns to while a checkpoint is tried, else the current one.
    pub(super) fn live_model(&self) -> Option<&CurrentModel> {
        match &self.scrub {
            Some(scrub) => scrub.live.as_ref(),
            None => self.current.as_ref(),
        }
    }

    /// Says which point of a recorded run the live model is ("Continue training" goes on
    /// from there).
    pub(super) fn set_live_run_point(
        &mut self,
        point: Option<super::tasks::continuation::RunPoint>,
    ) {
        let model = match &mut self.scrub {
            Some(scrub) => scrub.live.as_mut(),
            None => self.current.as_mut(),
        };
        if let Some(model) = model {
            model.run_point = point;
        }
    }

    /// Keeps a copy of the newest trained model in the models folder, so closing the window
    /// never loses it.
    pub(super) fn keep_last_trained(&mut self) {
        let Some(current) = self.live_model() else {
            return;
        };
        match ensure_models_dir() {
            Ok(dir) => self
                .files
                .export(dir.join(LAST_TRAINED), current.model.clone(), true),
            Err(why) => self
                .notifications
                .error(format!("Cannot keep a copy of the trained model: {why}")),
        }
    }
}

/// "test accuracy 98.12% (loss 0.0601)" or "test RMSE 26,717.75, MAE 15,475.25, R² 0.899".
pub(super) fn describe_test(test: &crate::train::Evaluation) -> String {
    match (test.accuracy, test.regression) {
        (_, Some(r)) => format!(
            "test RMSE {}, MAE {}, R² {:.3}",
            crate::display::decimal(f64::from(r.rmse), 2),
            crate::display::decimal(f64::from(r.mae), 2),
            r.r2
        ),
        (Some(accuracy), None) => format!(
            "test accuracy {:.2}% (loss {:.4})",
            accuracy * 100.0,
            test.loss
        ),
        (None, None) => format!("test loss {:.4}", test.loss),
    }
}
