//! LayerLab's engine: layer stacks as data, trained with dfdx on MNIST, headless.
//!
//! The engine (everything but `app`) never draws; the command line and the window (`app`,
//! behind the `gui` feature) are both clients of it.

#[cfg(feature = "gui")]
pub mod app;
pub mod bench;
pub mod config_error;
pub mod data;
pub mod display;
pub mod explain;
pub mod export;
pub mod model;
pub mod onnx;
pub mod ops;
pub mod optim;
pub mod plot;
pub mod preprocess;
pub mod presets;
pub mod spec;
pub mod store;
pub mod train;
