//! Working buffers the ops reuse from one training step to the next.
//!
//! Batch norm keeps a copy of its input until the backward pass, and the pooling ops copy
//! theirs: the largest activations of a step, allocated afresh and zero-filled each time
//! (memset was 4% of a cnn-bn step in `perf`). A [`Scratch`] comes from a small pool instead
//! and goes back to it when dropped, so the next step overwrites memory already mapped.
//! (Tried for the convolutions' im2col columns and gradients as well: 1.8% slower on the cnn
//! over four alternating pairs, so those allocate as before.)
//!
//! Each thread has its own pool (the ops lend buffers on the thread that trains; no lock),
//! bounded (a few buffers, [`MAX_POOLED_BYTES`] in all) and freed when the thread ends or
//! [`release`] empties it, as a run does when it ends.

use std::cell::RefCell;
use std::ops::{Deref, DerefMut};

use dfdx::prelude::*;

/// Buffers kept for reuse at most.
const MAX_POOLED: usize = 24;
/// Bytes kept for reuse at most (a larger buffer is freed on drop as usual).
const MAX_POOLED_BYTES: usize = 512 << 20;

thread_local! {
    static POOL: RefCell<Vec<Vec<f32>>> = const { RefCell::new(Vec::new()) };
}

/// A `Vec<f32>` on loan from the pool: derefs to its values, returns to the pool on drop.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    values: Vec<f32>,
}

impl Scratch {
    /// `len` values whose contents are whatever the buffer held last (all initialised: a
    /// fresh buffer is zeroed). For buffers the caller overwrites completely.
    pub(crate) fn for_overwrite(len: usize) -> Self {
        let mut values = take(len);
        if values.len() >= len {
            values.truncate(len);
        } else {
            values.resize(len, 0.0);
        }
        Self { values }
    }

    /// `len` zeros.
    pub(crate) fn zeroed(len: usize) -> Self {
        let mut values = take(len);
        values.clear();
        values.resize(len, 0.0);
        Self { values }
    }

    /// A copy of a tensor's values.
    pub(crate) fn copy_of<S: Shape, T>(tensor: &Tensor<S, f32, Cpu, T>) -> Self {
        let mut scratch = Self::for_overwrite(tensor.shape().num_elements());
        tensor.copy_into(&mut scratch);
        scratch
    }
}

impl Deref for Scratch {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        &self.values
    }
}

impl DerefMut for Scratch {
    fn deref_mut(&mut self) -> &mut [f32] {
        &mut self.values
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let values = std::mem::take(&mut self.values);
        if values.capacity() == 0 {
            return;
        }
        // `try_with`: a Scratch dropped while its thread shuts down is simply freed.
        let _ = POOL.try_with(|pool| {
            let mut pool = pool.borrow_mut();
            let pooled: usize = pool.iter().map(|v| v.capacity() * 4).sum();
            if pool.len() < MAX_POOLED && pooled + values.capacity() * 4 <= MAX_POOLED_BYTES {
                pool.push(values);
            }
        });
    }
}

/// The pooled buffer that fits `len` most tightly, or a new empty one.
fn take(len: usize) -> Vec<f32> {
    POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        let best = pool
            .iter()
            .enumerate()
            .filter(|(_, v)| v.capacity() >= len)
            .min_by_key(|(_, v)| v.capacity())
            .map(|(index, _)| index);
        best.map(|index| pool.swap_remove(index))
    })
    .ok()
    .flatten()
    .unwrap_or_else(|| Vec::with_capacity(len))
}

/// Frees every buffer this thread's pool holds (a run has ended).
pub fn release() {
    let _ = POOL.try_with(|pool| pool.borrow_mut().clear());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_buffer_is_lent_again_and_zeroed_means_zeroed() {
        let len = 12_345;
        let mut first = Scratch::for_overwrite(len);
        first.fill(7.0);
        let address = first.as_ptr();
        drop(first);
        let again = Scratch::for_overwrite(len - 5);
        assert_eq!(again.len(), len - 5);
        assert_eq!(again.as_ptr(), address, "the pooled buffer is reused");
        assert!(
            again.iter().all(|v| *v == 7.0),
            "for_overwrite keeps the contents"
        );
        drop(again);
        let zeroed = Scratch::zeroed(len);
        assert_eq!(zeroed.as_ptr(), address);
        assert!(zeroed.iter().all(|v| *v == 0.0));
    }

    #[test]
    fn a_buffer_lent_shorter_is_filled_with_zeros_when_lent_longer_again() {
        let mut full = Scratch::for_overwrite(100);
        full.fill(1.0);
        drop(full);
        drop(Scratch::for_overwrite(40));
        let again = Scratch::for_overwrite(100);
        assert_eq!(again.len(), 100);
        assert!(again[..40].iter().all(|v| *v == 1.0));
        assert!(again[40..].iter().all(|v| *v == 0.0));
    }

    #[test]
    fn release_empties_the_pool_and_the_pool_is_bounded() {
        for _ in 0..MAX_POOLED + 5 {
            drop(Scratch::for_overwrite(8));
        }
        let pooled = || POOL.with(|pool| pool.borrow().len());
        assert_eq!(pooled(), 1, "one buffer, lent and returned again and again");
        let many: Vec<Scratch> = (0..MAX_POOLED + 5)
            .map(|_| Scratch::for_overwrite(8))
            .collect();
        drop(many);
        assert_eq!(pooled(), MAX_POOLED);
        release();
        assert_eq!(pooled(), 0);
    }
}
