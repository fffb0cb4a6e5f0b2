//! LayerLab's engine: layer stacks as data, trained with dfdx on MNIST, headless.
//!
//! Nothing in this library draws; the command line and the window are both clients of it.

pub mod bench;
pub mod data;
pub mod export;
pub mod model;
pub mod ops;
pub mod optim;
pub mod preprocess;
pub mod spec;
pub mod train;
