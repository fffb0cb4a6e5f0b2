//! A learnable tensor: its values, owned here, and the dfdx tensor that names its gradient.

use std::sync::Arc;

use dfdx::prelude::*;

/// A flat tensor in PyTorch's memory layout (`[out, in]`, `[out, in, k, k]`, `[out]`).
pub type FlatTensor<T> = Tensor<(usize,), f32, Cpu, T>;

/// One learnable tensor, stored flat in PyTorch's layout under PyTorch's name.
///
/// The values live in a plain buffer, not in a dfdx tensor: dfdx 0.13 gives no slice access
/// to a tensor's data, so every forward pass and optimizer step copied each weight in and out
/// (three copies of the 400 KB first-layer weight per mlp step). The ops read the values
/// through a shared pointer and the optimizer updates them in place.
///
/// dfdx still does the bookkeeping: the ops record their backward passes on its tape, and the
/// gradient it accumulates for this parameter is keyed by `handle`'s id. The handle is a
/// tensor of zeros of the parameter's length whose values are never read (a large one is
/// zeroed memory from the allocator that nothing touches, so it costs address space rather
/// than memory). A clone shares the values until either side updates them (copy on write)
/// and shares the handle, so a clone's gradients belong on a tape of its own.
#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    pub shape: Vec<usize>,
    values: Arc<Vec<f32>>,
    handle: FlatTensor<NoneTape>,
}

impl Param {
    /// A parameter holding `values`; panics if their number does not fit `shape`.
    pub fn new(name: String, shape: Vec<usize>, values: Vec<f32>, device: &Cpu) -> Self {
        let len = values.len();
        assert_eq!(
            shape.iter().product::<usize>(),
            len,
            "{name}: shape and values"
        );
        Self {
            name,
            shape,
            values: Arc::new(values),
            handle: device.zeros_like(&(len,)),
        }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// The values to update in place. Copies them first only if a forward pass still holds
    /// them (a step's tape is gone by the time its optimizer runs, so normally it does not).
    pub fn values_mut(&mut self) -> &mut [f32] {
        Arc::make_mut(&mut self.values).as_mut_slice()
    }

    /// The values, shared with an op that needs them again in its backward pass.
    pub(crate) fn shared_values(&self) -> Arc<Vec<f32>> {
        Arc::clone(&self.values)
    }

    /// The tensor whose id keys this parameter's gradient in dfdx's [`Gradients`].
    pub fn handle(&self) -> &FlatTensor<NoneTape> {
        &self.handle
    }

    /// This parameter's gradient in `grads` (zeros if nothing contributed to it).
    pub fn gradient<'g>(
        &self,
        grads: &'g mut Gradients<f32, Cpu>,
    ) -> Result<&'g mut [f32], CpuError> {
        Ok(grads.get_or_alloc_mut(&self.handle)?.as_mut_slice())
    }
}
