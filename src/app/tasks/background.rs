//! One-shot work off the UI thread: a named thread computes one value and wakes the window;
//! the UI polls for it each frame. Dropping the task abandons the result (the thread finishes
//! on its own and its send goes nowhere).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, TryRecvError};

pub use crate::train::Waker;

/// The waker of every task the window starts: a repaint of `ctx`.
pub fn repaint_waker(ctx: &eframe::egui::Context) -> Waker {
    let ctx = ctx.clone();
    std::sync::Arc::new(move || ctx.request_repaint())
}

pub struct BackgroundTask<T> {
    receiver: Receiver<T>,
}

/// What polling found.
pub enum Polled<T> {
    Pending,
    Done(T),
    /// The thread ended without a value (it panicked).
    Lost,
}

impl<T: Send + 'static> BackgroundTask<T> {
    /// Runs `work` on a thread named `layerlab-{name}`, then calls `waker`.
    pub fn spawn(
        name: &str,
        waker: Waker,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> std::io::Result<Self> {
        let (sender, receiver) = bounded(1);
        std::thread::Builder::new()
            .name(format!("layerlab-{name}"))
            .spawn(move || {
                let _ = sender.send(work());
                waker();
            })?;
        Ok(Self { receiver })
    }

    /// The value, once the thread has sent it.
    pub fn poll(&self) -> Polled<T> {
        match self.receiver.try_recv() {
            Ok(value) => Polled::Done(value),
            Err(TryRecvError::Empty) => Polled::Pending,
            Err(TryRecvError::Disconnected) => Polled::Lost,
        }
    }
}

/// Polls the task in `slot`, whose answer is a value or why there is none: once it has
/// answered, empties the slot and gives the answer (a thread that ended without one as
/// `Err(lost)`); `None` while it works or when there is no task.
pub fn take_answer<T: Send + 'static>(
    slot: &mut Option<BackgroundTask<Result<T, String>>>,
    lost: &str,
) -> Option<Result<T, String>> {
    let answer = match slot.as_ref()?.poll() {
        Polled::Pending => return None,
        Polled::Done(answer) => answer,
        Polled::Lost => Err(lost.to_string()),
    };
    *slot = None;
    Some(answer)
}

/// `wake`, called at most once per `interval` however often the result is called: for a
/// worker that reports thousands of times a second. Safe when `wake` schedules a repaint at
/// least `interval` ahead (`request_repaint_after`): that repaint sees what the skipped calls
/// had to report.
pub fn throttled(interval: Duration, wake: impl Fn() + Send + Sync + 'static) -> Waker {
    let base = Instant::now();
    let interval = interval.as_nanos() as u64;
    // Nanoseconds after `base` of the last call that went through (+1, so 0 means never).
    let last = AtomicU64::new(0);
    std::sync::Arc::new(move || {
        let now = base.elapsed().as_nanos() as u64 + 1;
        let previous = last.load(Ordering::Relaxed);
        if previous == 0 || now.saturating_sub(previous) >= interval {
            last.store(now, Ordering::Relaxed);
            wake();
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_taken_once_and_a_lost_thread_becomes_its_reason() {
        let waker: Waker = std::sync::Arc::new(|| {});
        let mut slot = Some(BackgroundTask::spawn("t", waker.clone(), || Ok(7)).unwrap());
        let started = Instant::now();
        let answer = loop {
            if let Some(answer) = take_answer(&mut slot, "lost") {
                break answer;
            }
            assert!(started.elapsed().as_secs() < 10);
            std::thread::yield_now();
        };
        assert_eq!(answer, Ok(7));
        assert!(slot.is_none());
        assert_eq!(take_answer(&mut slot, "lost"), None);
        let mut lost: Option<BackgroundTask<Result<u8, String>>> =
            Some(BackgroundTask::spawn("t", waker, || panic!("on purpose")).unwrap());
        let answer = loop {
            if let Some(answer) = take_answer(&mut lost, "the thread stopped") {
                break answer;
            }
            assert!(started.elapsed().as_secs() < 10);
            std::thread::yield_now();
        };
        assert_eq!(answer, Err("the thread stopped".to_string()));
    }

    #[test]
    fn the_value_arrives_and_a_lost_thread_is_reported() {
        let woken = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = woken.clone();
        let task = BackgroundTask::spawn(
            "test",
            std::sync::Arc::new(move || flag.store(true, std::sync::atomic::Ordering::SeqCst)),
            || 6 * 7,
        )
        .unwrap();
        let started = std::time::Instant::now();
        let value = loop {
            match task.poll() {
                Polled::Done(value) => break value,
                Polled::Pending if started.elapsed().as_secs() < 10 => std::thread::yield_now(),
                Polled::Pending | Polled::Lost => panic!("no value"),
            }
        };
        assert_eq!(value, 42);
        // The waker runs after the send; give it a moment.
        while !woken.load(std::sync::atomic::Ordering::SeqCst) {
            assert!(started.elapsed().as_secs() < 10);
            std::thread::yield_now();
        }
        let lost: BackgroundTask<u8> =
            BackgroundTask::spawn("test-panics", std::sync::Arc::new(|| {}), || {
                panic!("on purpose")
            })
            .unwrap();
        let started = std::time::Instant::now();
        loop {
            match lost.poll() {
                Polled::Lost => break,
                Polled::Pending if started.elapsed().as_secs() < 10 => std::thread::yield_now(),
                Polled::Pending | Polled::Done(_) => panic!("expected a lost task"),
            }
        }
    }

    #[test]
    fn a_throttled_waker_passes_the_first_call_and_then_one_per_interval() {
        let calls = std::sync::Arc::new(AtomicU64::new(0));
        let counted = calls.clone();
        let wake = throttled(Duration::from_millis(40), move || {
            counted.fetch_add(1, Ordering::Relaxed);
        });
        for _ in 0..10_000 {
            wake();
        }
        assert_eq!(calls.load(Ordering::Relaxed), 1);
        std::thread::sleep(Duration::from_millis(50));
        wake();
        wake();
        assert_eq!(calls.load(Ordering::Relaxed), 2);
    }
}
