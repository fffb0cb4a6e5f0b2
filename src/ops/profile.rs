//! Where a training step's time goes, op by op: `LAYERLAB_PROFILE_OPS=1 layerlab bench
//! --only cnn` prints the wall time each kind of op took (an op splits its work over the
//! pool, so its wall time on the calling thread is what the step waits for).
//!
//! Off unless the variable is set: then a timed op costs one relaxed load of a flag.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

/// The kinds of work a step is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    ConvForward,
    ConvBackwardWeight,
    ConvBackwardInput,
    LinearForward,
    LinearBackward,
    PoolForward,
    PoolBackward,
    BatchNormForward,
    BatchNormBackward,
    /// ReLU and the other activations' forward pass (dfdx's ops; their backward is not timed).
    ActivationForward,
    /// im2col and col2im (inside the conv figures).
    Unfold,
    /// The whole forward pass (the ops above are inside it, dfdx's own ops too).
    Forward,
    /// The loss and the whole backward pass.
    Backward,
    Optimizer,
    /// Filling a batch's inputs and targets.
    Batching,
}

const KINDS: [OpKind; 15] = [
    OpKind::ConvForward,
    OpKind::ConvBackwardWeight,
    OpKind::ConvBackwardInput,
    OpKind::LinearForward,
    OpKind::LinearBackward,
    OpKind::PoolForward,
    OpKind::PoolBackward,
    OpKind::BatchNormForward,
    OpKind::BatchNormBackward,
    OpKind::ActivationForward,
    OpKind::Unfold,
    OpKind::Forward,
    OpKind::Backward,
    OpKind::Optimizer,
    OpKind::Batching,
];

impl OpKind {
    fn index(self) -> usize {
        match self {
            Self::ConvForward => 0,
            Self::ConvBackwardWeight => 1,
            Self::ConvBackwardInput => 2,
            Self::LinearForward => 3,
            Self::LinearBackward => 4,
            Self::PoolForward => 5,
            Self::PoolBackward => 6,
            Self::BatchNormForward => 7,
            Self::BatchNormBackward => 8,
            Self::ActivationForward => 9,
            Self::Unfold => 10,
            Self::Forward => 11,
            Self::Backward => 12,
            Self::Optimizer => 13,
            Self::Batching => 14,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::ConvForward => "conv forward",
            Self::ConvBackwardWeight => "conv backward (weights, bias)",
            Self::ConvBackwardInput => "conv backward (input)",
            Self::LinearForward => "linear forward",
            Self::LinearBackward => "linear backward",
            Self::PoolForward => "pool forward",
            Self::PoolBackward => "pool backward",
            Self::BatchNormForward => "batch norm forward",
            Self::BatchNormBackward => "batch norm backward",
            Self::ActivationForward => "activation forward",
            Self::Unfold => "  of which im2col and col2im",
            Self::Forward => "forward pass, all",
            Self::Backward => "loss and backward pass, all",
            Self::Optimizer => "optimizer step",
            Self::Batching => "batching",
        }
    }
}

static NANOS: [AtomicU64; KINDS.len()] = [const { AtomicU64::new(0) }; KINDS.len()];
static COUNTING: AtomicBool = AtomicBool::new(false);

fn enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| {
        let on = std::env::var_os("LAYERLAB_PROFILE_OPS").is_some_and(|v| v != "0");
        COUNTING.store(on, Ordering::Relaxed);
        on
    })
}

/// Runs `work`, adding its wall time to `kind` when profiling is on.
#[inline]
pub fn timed<R>(kind: OpKind, work: impl FnOnce() -> R) -> R {
    if !enabled() {
        return work();
    }
    let started = Instant::now();
    let result = work();
    add_elapsed(kind, started);
    result
}

/// Adds the time since `started` to `kind` (for work that borrows across a `?`).
#[inline]
pub fn add_elapsed(kind: OpKind, started: Instant) {
    if enabled() && COUNTING.load(Ordering::Relaxed) {
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        NANOS[kind.index()].fetch_add(nanos, Ordering::Relaxed);
    }
}

/// Whether `LAYERLAB_PROFILE_OPS` is set.
pub fn profiling() -> bool {
    enabled()
}

/// Clears the totals (after warm-up, say).
pub fn reset() {
    for n in &NANOS {
        n.store(0, Ordering::Relaxed);
    }
}

/// Each kind's total so far, in seconds, in a fixed order.
pub fn totals() -> Vec<(OpKind, f64)> {
    KINDS
        .iter()
        .map(|&k| (k, NANOS[k.index()].load(Ordering::Relaxed) as f64 * 1e-9))
        .collect()
}
