//! How training uses rayon's global pool, the pool the matrix products and the per-image
//! kernels split their work in.

use std::sync::atomic::{AtomicBool, Ordering};

/// Runs `work` on a thread of rayon's global pool. From inside the pool a parallel product
/// runs partly on the calling thread and wakes one helper; from outside, every product is
/// handed to the pool and the caller sleeps until it is done. Measured on the cnn preset,
/// 2 cores: 2,607 -> 3,098 training img/s.
///
/// The pool's threads outlive the run, so the working buffers the ops lent on this one are
/// freed when `work` ends, also by a panic.
pub fn in_compute_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| {
        let _release = ReleaseScratchOnDrop;
        work()
    })
}

/// Frees the thread's pooled working buffers when dropped.
struct ReleaseScratchOnDrop;

impl Drop for ReleaseScratchOnDrop {
    fn drop(&mut self) {
        crate::ops::release_scratch_buffers();
    }
}

/// Idle polls between two `sched_yield`s while a helper waits for work: the spinning thread
/// gives its core to any other thread that wants it (the window's, say) this often.
const POLLS_PER_OS_YIELD: u32 = 64;

/// Runs `work` (one training step) on this thread while the pool's other threads wait for
/// the jobs it splits off by polling, not sleeping.
///
/// A step hands work to the pool a few times (each matrix product, each per-image kernel),
/// with serial work between. An idle rayon thread goes to sleep after a few dozen
/// microseconds, and waking it again costs about as much, every time: `perf` showed ~17% of
/// the mlp preset's time in the scheduler. PyTorch's OpenMP threads spin between parallel
/// regions for the same reason. Outside the pool, or with one thread, `work` just runs.
pub(crate) fn with_helpers_polling<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    let Some(owner) = rayon::current_thread_index() else {
        return work();
    };
    let helpers = rayon::current_num_threads().saturating_sub(1);
    if helpers == 0 {
        return work();
    }
    let done = AtomicBool::new(false);
    rayon::scope(|scope| {
        for _ in 0..helpers {
            scope.spawn(|_| poll_for_jobs(owner, &done));
        }
        // Set even if `work` panics, so the helpers stop and the scope can unwind.
        let _finished = SetOnDrop(&done);
        work()
    })
}

/// Runs whatever jobs the pool has until `done`.
fn poll_for_jobs(owner: usize, done: &AtomicBool) {
    // The owner can pick this job up itself while it waits for one of its own: polling
    // there would stop `work` from ever finishing.
    if rayon::current_thread_index() == Some(owner) {
        return;
    }
    let mut idle_polls = 0u32;
    while !done.load(Ordering::Acquire) {
        match rayon::yield_now() {
            Some(rayon::Yield::Executed) => idle_polls = 0,
            _ => {
                idle_polls += 1;
                if idle_polls.is_multiple_of(POLLS_PER_OS_YIELD) {
                    std::thread::yield_now();
                } else {
                    std::hint::spin_loop();
                }
            }
        }
    }
}

struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;

    #[test]
    fn work_with_parallel_parts_finishes_and_returns_its_value() {
        let sum = in_compute_pool(|| {
            with_helpers_polling(|| {
                (0..10)
                    .map(|_| (0..100_000u64).into_par_iter().sum::<u64>())
                    .sum::<u64>()
            })
        });
        assert_eq!(sum, 10 * (100_000 * 99_999 / 2));
        // Outside the pool it runs directly.
        assert_eq!(with_helpers_polling(|| 7), 7);
    }

    #[test]
    fn a_panicking_step_stops_the_helpers_and_propagates() {
        let outcome = std::panic::catch_unwind(|| {
            in_compute_pool(|| with_helpers_polling(|| panic!("step failed")))
        });
        assert!(outcome.is_err());
        // The pool still works afterwards.
        assert_eq!(in_compute_pool(|| with_helpers_polling(|| 1 + 1)), 2);
    }
}
