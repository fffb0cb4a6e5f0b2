//! The driver's commands, read between batches: pause, resume, stop, cancel and a new
//! learning rate. While paused the loop blocks here until the next command.

use crossbeam_channel::{Receiver, TryRecvError};

use super::clock::TrainClock;
use super::event_sink::EventSink;
use super::{TrainCommand, TrainError, TrainEvent};
use crate::optim::{check_learning_rate, Optimizer};

/// What the loop does after the commands waiting between two batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Flow {
    Continue,
    /// End the run now with the weights so far (no test evaluation).
    Stop,
}

/// Whether the run is paused, and its clock (which leaves paused time out).
pub(super) struct Controls {
    paused: bool,
    clock: TrainClock,
}

impl Controls {
    /// Running, its clock at `secs` (0 for a new run, where a checkpoint stood for a
    /// resumed one).
    pub(super) fn start_at(secs: f64) -> Self {
        Self {
            paused: false,
            clock: TrainClock::start_at(secs),
        }
    }

    /// Seconds of training so far, paused time left out.
    pub(super) fn train_secs(&self) -> f64 {
        self.clock.seconds()
    }

    /// Applies every command waiting before the next batch; blocks while paused.
    pub(super) fn between_batches(
        &mut self,
        commands: &Receiver<TrainCommand>,
        optimizer: &mut Optimizer,
        step: usize,
        events: &mut EventSink,
    ) -> Result<Flow, TrainError> {
        loop {
            let command = if self.paused {
                commands.recv().map_err(|_| TryRecvError::Disconnected)
            } else {
                commands.try_recv()
            };
            let command = match command {
                Ok(command) => command,
                Err(TryRecvError::Empty) => return Ok(Flow::Continue),
                Err(TryRecvError::Disconnected) => return Err(TrainError::Cancelled),
            };
            if self.apply(command, optimizer, step, events)? == Flow::Stop {
                return Ok(Flow::Stop);
            }
            events.still_listening()?;
        }
    }

    fn apply(
        &mut self,
        command: TrainCommand,
        optimizer: &mut Optimizer,
        step: usize,
        events: &mut EventSink,
    ) -> Result<Flow, TrainError> {
        match command {
            TrainCommand::Pause => {
                if !self.paused {
                    self.pause(step, events);
                }
            }
            TrainCommand::Resume => {
                if self.paused {
                    self.paused = false;
                    self.clock.resume();
                    events.send(TrainEvent::Resumed { step });
                }
            }
            TrainCommand::Stop => return Ok(Flow::Stop),
            TrainCommand::Cancel => return Err(TrainError::Cancelled),
            TrainCommand::SetLearningRate(lr) => {
                // Drivers check first; a bad value here is ignored rather than fatal.
                if check_learning_rate(lr).is_ok() {
                    optimizer.set_learning_rate(lr);
                    events.send(TrainEvent::LearningRateChanged {
                        step,
                        learning_rate: lr,
                    });
                }
            }
        }
        Ok(Flow::Continue)
    }

    /// Pauses the run (a command, or the divergence guard waiting for the person).
    pub(super) fn pause(&mut self, step: usize, events: &mut EventSink) {
        self.paused = true;
        self.clock.pause();
        events.send(TrainEvent::Paused { step });
    }
}

/// What a command means once training is over and the test split is being evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AfterTraining {
    Continue,
    /// Skip the rest of the test evaluation.
    Stop,
    Cancel,
}

/// Reads one waiting command during the final evaluation.
pub(super) fn command_after_training(commands: &Receiver<TrainCommand>) -> AfterTraining {
    match commands.try_recv() {
        Ok(TrainCommand::Stop) => AfterTraining::Stop,
        Ok(TrainCommand::Cancel) | Err(TryRecvError::Disconnected) => AfterTraining::Cancel,
        // Pause, resume and learning rates mean nothing once training is over.
        Ok(TrainCommand::Pause | TrainCommand::Resume | TrainCommand::SetLearningRate(_))
        | Err(TryRecvError::Empty) => AfterTraining::Continue,
    }
}
