//! Layer stacks as data: what a model is, before it becomes tensors.
//!
//! A [`ModelSpec`] is plain serde data (the JSON users save, the metadata in exported
//! weights). [`validate`] turns it into a [`Plan`] with every layer's output shape and
//! parameter count, or a [`SpecError`] naming the first layer that does not fit. Nothing in
//! this module touches dfdx: shapes are checked here so that dfdx (which panics on bad
//! shapes) only ever sees stacks that fit.

mod layer;
mod shape;
mod validate;

pub use layer::{
    Layer, ModelSpec, StackJsonError, DEFAULT_BATCH_NORM_EPS, DEFAULT_BATCH_NORM_MOMENTUM,
    SPEC_VERSION,
};
pub use shape::ActivationShape;
pub use validate::{
    check_layers, check_training_memory, estimate_training_bytes, stack_warnings, validate,
    LayerPlan, Plan, SpecError, MAX_DIMENSION, MAX_LAYERS, MAX_PARAMETERS, MAX_TRAINING_BYTES,
};
